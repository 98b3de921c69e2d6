"""Measure profiles on LoCoMo: how much of a speaker's single-hop answers their profile holds,
and at what size.

    python benchmarks/profiles.py [--locomo PATH_TO_LOCOMO_JSON] [--out benchmarks/results]

Each conversation is imported as its own user through ``Memory.import_file`` (rules only, no
LLM); each of its two speakers gets a ``Memory.profile(name=...)``. For every single-hop
question that names exactly one speaker, the share of its gold answer's content words found in
that speaker's profile is counted (the profile does not see the question: it is the same text
for every question about that person). Sizes are in WordPiece tokens, the unit the retrieval
figures use. Writes ``profiles.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from eidetica import Memory
from eidetica.eval.datasets import locomo_questions
from eidetica.eval.metrics import content_words
from eidetica.retrieve.query import named_speakers
from eidetica.tokens import load_token_counter

HERE = Path(__file__).resolve().parent
DEFAULT_LOCOMO = HERE.parents[1] / "shared" / "data" / "locomo" / "locomo10_dev.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locomo", type=Path, default=DEFAULT_LOCOMO)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    counter = load_token_counter("wordpiece")
    questions = [q for q in locomo_questions(args.locomo) if q.category == "single-hop"]
    shares: dict[str, list[float]] = {}
    sizes: dict[str, tuple[int, int]] = {}  # "user name" -> (lines, tokens)
    with tempfile.TemporaryDirectory() as tmp, Memory(Path(tmp) / "p.db", token_counter=counter) as memory:
        memory.import_file(args.locomo, format="locomo")
        for user in sorted({q.user_id for q in questions}):
            speakers = [e.name for e in memory.entities(user_id=user, kind="person", limit=2)]
            profiles = {name: memory.profile(user_id=user, name=name) for name in speakers}
            for name, profile in profiles.items():
                sizes[f"{user} {name}"] = (len(profile.lines), profile.tokens)
            shares[user] = []
            for q in (q for q in questions if q.user_id == user):
                named = named_speakers(q.question, speakers)
                wanted = content_words(q.answer)
                if len(named) == 1 and wanted:
                    text = "\n".join(line.text for line in profiles[named.pop()].lines)
                    shares[user].append(len(wanted & content_words(text)) / len(wanted))
    every = [share for values in shares.values() for share in values]
    overall = {
        "questions": len(every),
        "answer_words": round(statistics.fmean(every), 3),
        "mean_lines": round(statistics.fmean(lines for lines, _ in sizes.values()), 1),
        "mean_tokens": round(statistics.fmean(tokens for _, tokens in sizes.values()), 1),
    }
    table = Table(title="Profiles on LoCoMo (development conversations)")
    for column in ("", "single-hop questions", "answer words in profile", "lines", "tokens"):
        table.add_column(column, justify="right" if column else "left")
    for user, values in shares.items():
        table.add_row(user, str(len(values)), f"{statistics.fmean(values):.3f}", "", "")
        for key, (lines, tokens) in sizes.items():
            if key.startswith(f"{user} "):
                table.add_row(f"  {key.split(' ', 1)[1]}", "", "", str(lines), str(tokens))
    table.add_row(
        "all", str(overall["questions"]), f"{overall['answer_words']:.3f}",
        str(overall["mean_lines"]), str(overall["mean_tokens"]),
    )  # fmt: skip
    Console().print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "profiles.json"
    report = {
        "answer_words": {user: round(statistics.fmean(v), 3) for user, v in shares.items()},
        "profiles": {key: {"lines": lines, "tokens": tokens} for key, (lines, tokens) in sizes.items()},
        "all": overall,
    }
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
