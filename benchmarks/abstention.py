"""Calibrate and measure abstention on LoCoMo: when does ``context`` say "no relevant memory"?

    python benchmarks/abstention.py [PATH_TO_LOCOMO_JSON] [--out benchmarks/results]

Three kinds of question are asked of each conversation's memory:

- **answerable**: its own questions of categories 1–4; abstaining on one is a mistake;
- **adversarial**: its own category-5 questions, which ask about something the conversation
  never says (often what the other speaker did); abstaining is right;
- **unrelated**: the next conversation's questions, with that conversation's speaker names
  replaced by this one's (a question about the right people and the wrong life); abstaining is
  right.

A hit is confident when it covers enough of the question's content words or is similar enough
to it (``eidetica.retrieve.confidence``); ``context`` abstains when none of the hits it ranks
is. The script sweeps both thresholds and prints, for each pair, how often each kind of
question gets no context; ``abstention.json`` holds the sweep and the rates at the defaults.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from eidetica import Memory
from eidetica.eval.datasets import Question, locomo_questions
from eidetica.model import Scope
from eidetica.retrieve.confidence import MIN_COSINE, MIN_COVERAGE, coverage, question_stems
from eidetica.retrieve.query import named_speakers
from eidetica.storage import UnitFilter

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo" / "locomo10_dev.json"
#: How many hits ``context`` ranks at a 400-token budget (see ``Memory.context``).
DEPTH = 40
COVERAGES = (0.01, 0.2, 0.25, 0.34, 0.5, 0.67)
COSINES = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    console = Console()
    questions = locomo_questions(args.data)
    with tempfile.TemporaryDirectory() as tmp, Memory(Path(tmp) / "abstain.db") as memory:
        memory.import_file(args.data)
        users = list(dict.fromkeys(q.user_id for q in questions))
        speakers = {u: sorted(memory.store.speakers(UnitFilter(Scope(user_id=u)))) for u in users}
        asked = _questions(questions, users, speakers)
        signals: dict[str, list[tuple[float, float]]] = defaultdict(list)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("asking", total=len(asked))
            for kind, user, question in asked:
                signals[kind].append(_signals(memory, user, question))
                progress.advance(task)
    sweep = {
        f"{c:.2f}/{t:.2f}": {kind: _rate(values, c, t) for kind, values in signals.items()}
        for c in COVERAGES
        for t in COSINES
    }
    defaults = {kind: _rate(values, MIN_COVERAGE, MIN_COSINE) for kind, values in signals.items()}
    console.print(_table(sweep))
    console.print(f"defaults (coverage {MIN_COVERAGE}, cosine {MIN_COSINE}): {defaults}")
    args.out.mkdir(parents=True, exist_ok=True)
    counts = {kind: len(values) for kind, values in signals.items()}
    report = {
        "data": args.data.name,
        "depth": DEPTH,
        "questions": counts,
        "defaults": defaults,
        "sweep": sweep,
    }
    (args.out / "abstention.json").write_text(json.dumps(report, indent=2) + "\n")


def _questions(
    questions: list[Question], users: list[str], speakers: dict[str, list[str]]
) -> list[tuple[str, str, str]]:
    asked = []
    for q in questions:
        asked.append(("adversarial" if q.category == "adversarial" else "answerable", q.user_id, q.question))
        if q.category == "adversarial":
            continue
        other = users[(users.index(q.user_id) + 1) % len(users)]
        text = q.question
        for theirs, ours in zip(speakers[q.user_id], speakers[other], strict=False):
            text = re.sub(rf"\b{re.escape(theirs)}\b", ours, text)
        asked.append(("unrelated", other, text))
    return asked


def _signals(memory: Memory, user: str, question: str) -> tuple[float, float]:
    """The best coverage and the best cosine among the hits ``context`` would rank."""
    hits = memory.search(question, user_id=user, k=DEPTH)
    names = memory.store.speakers(UnitFilter(Scope(user_id=user)))
    stems = question_stems(question, named_speakers(question, names))
    best_coverage = max((coverage(stems, h.unit) for h in hits), default=0.0)
    best_cosine = max((h.scores.get("dense", 0.0) for h in hits), default=0.0)
    return best_coverage, best_cosine


def _rate(values: list[tuple[float, float]], min_coverage: float, min_cosine: float) -> float:
    """The share of questions with no hit confident at these thresholds (those abstained on)."""
    refused = sum(1 for cov, cos in values if cov < min_coverage and cos < min_cosine)
    return round(refused / len(values), 4) if values else 0.0


def _table(sweep: dict[str, dict[str, float]]) -> Table:
    table = Table(title="Abstention rate by thresholds (coverage / cosine)")
    table.add_column("thresholds")
    for kind in ("answerable", "adversarial", "unrelated"):
        table.add_column(kind, justify="right")
    for key, rates in sweep.items():
        table.add_row(
            key, *(f"{rates.get(kind, 0.0):.3f}" for kind in ("answerable", "adversarial", "unrelated"))
        )
    return table


if __name__ == "__main__":
    main()
