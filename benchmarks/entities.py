"""Measure entity recognition on LoCoMo: precision and recall of the people each conversation names.

    python benchmarks/entities.py [--locomo PATH_TO_LOCOMO_JSON] [--out benchmarks/results]

Each conversation is imported as its own user through ``Memory.import_file`` (rules only, no
LLM), then ``Memory.entities`` lists what its memory mentions. The people it calls ``person`` are
compared with ``benchmarks/data/locomo_people.json``, a list labelled by hand for the development
conversations: both speakers and every person they name (pets, places, brands and fictional
characters are not people). A labelled person counts as found when an entity of kind person has
their name, or one of their aliases, as its key or one of its aliases; every other person entity
is a false positive. "Mentioned" counts the labelled people found as an entity of any kind.
Pets are scored the same way. Writes ``entities.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from eidetica import Memory
from eidetica.ingest.entity_names import entity_key
from eidetica.model import Entity

HERE = Path(__file__).resolve().parent
LABELS = HERE / "data" / "locomo_people.json"
DEFAULT_LOCOMO = HERE.parents[1] / "shared" / "data" / "locomo" / "locomo10_dev.json"


@dataclass
class Score:
    """How the entities of one kind compare with the labelled beings of that kind."""

    labelled: int
    predicted: int
    right: int
    found: int
    mentioned: int
    false_positives: list[str]
    missed: list[str]

    @property
    def precision(self) -> float | None:
        return round(self.right / self.predicted, 3) if self.predicted else None

    @property
    def recall(self) -> float | None:
        return round(self.found / self.labelled, 3) if self.labelled else None

    @property
    def mentioned_share(self) -> float | None:
        return round(self.mentioned / self.labelled, 3) if self.labelled else None

    def report(self) -> dict[str, object]:
        return {
            **asdict(self),
            "precision": self.precision,
            "recall": self.recall,
            "mentioned_share": self.mentioned_share,
        }

    def __add__(self, other: Score) -> Score:
        return Score(
            labelled=self.labelled + other.labelled,
            predicted=self.predicted + other.predicted,
            right=self.right + other.right,
            found=self.found + other.found,
            mentioned=self.mentioned + other.mentioned,
            false_positives=self.false_positives + other.false_positives,
            missed=self.missed + other.missed,
        )


def score(found: list[Entity], labelled: list[list[str]], kind: str) -> Score:
    """The entities of ``kind`` against ``labelled`` (each a list of names for one being)."""
    keys = [{entity_key(n) for n in names} for names in labelled]
    predicted = [e for e in found if e.kind == kind]

    def same(entity: Entity, names: set[str]) -> bool:
        return bool(names & {entity.key, *entity.aliases})

    hits = [any(same(e, names) for e in predicted) for names in keys]
    right = [e for e in predicted if any(same(e, names) for names in keys)]
    return Score(
        labelled=len(labelled),
        predicted=len(predicted),
        right=len(right),
        found=sum(hits),
        mentioned=sum(any(same(e, names) for e in found) for names in keys),
        false_positives=[e.name for e in predicted if e not in right],
        missed=[names[0] for names, hit in zip(labelled, hits, strict=True) if not hit],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locomo", type=Path, default=DEFAULT_LOCOMO)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    labels = json.loads(LABELS.read_text())["conversations"]
    console = Console()
    scores: dict[str, dict[str, Score]] = {}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, Memory(Path(tmp) / "entities.db") as memory:
        memory.import_file(args.locomo, format="locomo")
        for user, label in labels.items():
            found = memory.entities(user_id=user, limit=None)
            sizes[user] = len(found)
            people = [[p["name"], *p.get("aliases", [])] for p in label["people"]]
            pets = [[name] for name in label.get("pets", [])]
            scores[user] = {"people": score(found, people, "person"), "pets": score(found, pets, "pet")}
    totals = {
        kind: sum((s[kind] for s in scores.values()), Score(0, 0, 0, 0, 0, [], []))
        for kind in ("people", "pets")
    }
    table = Table(title="Entities on LoCoMo (development conversations)")
    for column in ("conversation", "entities", "people P", "people R", "mentioned", "pets P", "pets R"):
        table.add_column(column, justify="left" if column == "conversation" else "right")
    rows: list[tuple[str, dict[str, Score]]] = [*scores.items(), ("all", totals)]
    for user, row in rows:
        persons, animals = row["people"], row["pets"]
        table.add_row(
            user, str(sizes.get(user, "")), _fmt(persons.precision), _fmt(persons.recall),
            _fmt(persons.mentioned_share), _fmt(animals.precision), _fmt(animals.recall),
        )  # fmt: skip
    console.print(table)
    for user, row in scores.items():
        console.print(f"{user}: false people {row['people'].false_positives}; missed {row['people'].missed}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "entities.json"
    report = {
        "conversations": {
            u: {"entities": sizes[u], **{k: v.report() for k, v in row.items()}} for u, row in scores.items()
        },
        "all": {kind: total.report() for kind, total in totals.items()},
    }
    path.write_text(json.dumps(report, indent=2) + "\n")
    console.print(f"wrote {path}")


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    main()
