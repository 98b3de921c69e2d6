"""Ablation of the retriever on LoCoMo: switch off one technique at a time, same store, same path.

    python benchmarks/ablation.py [PATH_TO_LOCOMO_JSON] [--out benchmarks/results]

Writes ``ablation.json`` and ``ablation.md``. Every variant answers through ``Memory.context``
over one ingest of the data, so the differences are the retriever's alone.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from eidetica import Memory
from eidetica.eval.datasets import locomo_questions
from eidetica.eval.harness import evaluate
from eidetica.retrieve.baselines import BASELINES
from eidetica.retrieve.hybrid import FusionWeights, HybridRetriever
from eidetica.tokens import TOKEN_COUNTERS, load_token_counter

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo" / "locomo10_dev.json"
BUDGETS = (400, 2000)
FULL = HybridRetriever()
VARIANTS = [
    FULL,
    replace(FULL, name="- session prior", weights=replace(FULL.weights, session=0.0)),
    replace(FULL, name="- speaker channel", weights=replace(FULL.weights, speaker=0.0)),
    replace(FULL, name="- preceding-turn words", weights=replace(FULL.weights, context=0.0)),
    replace(FULL, name="- time channel", weights=replace(FULL.weights, time=0.0)),
    replace(FULL, name="- graph channel", weights=replace(FULL.weights, graph=0.0)),
    replace(FULL, name="- attribute boost", weights=replace(FULL.weights, attribute=0.0)),
    replace(FULL, name="- dense channel", weights=replace(FULL.weights, dense=0.0)),
    replace(FULL, name="- derived units", derived=False),
    replace(
        FULL,
        name="lexical + dense only",
        weights=FusionWeights(time=0.0, speaker=0.0, session=0.0, graph=0.0, context=0.0, attribute=0.0),
    ),
    *BASELINES,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--tokenizer", choices=sorted(TOKEN_COUNTERS), default="wordpiece")
    args = parser.parse_args()
    console = Console(stderr=True)
    questions = locomo_questions(args.data)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Memory(Path(tmp) / "ablation.db", token_counter=load_token_counter(args.tokenizer)) as memory,
    ):
        started = time.perf_counter()
        report = memory.import_file(args.data)
        console.print(f"ingested {report.turns} turns, {report.derived} derived units")
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("asking", total=None)
            results = evaluate(
                memory, questions, VARIANTS, BUDGETS,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )  # fmt: skip
        seconds = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "data": args.data.name,
        "questions": len(questions),
        "budgets": BUDGETS,
        "tokenizer": args.tokenizer,
        "seconds": seconds,
    }
    (args.out / "ablation.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    table = ablation_table(results)
    (args.out / "ablation.md").write_text(table + "\n")
    print(table)


def ablation_table(results: dict[str, dict[str, dict[str, dict[str, float]]]]) -> str:
    """Recall and all-evidence rate per variant, with the change against the full retriever."""
    full = results[FULL.name]
    lines = [
        "| variant | recall@400 | Δ | all-evidence@400 | recall@2000 | Δ | answer words@400 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, per in results.items():
        r400, r2000 = per["400"]["overall"], per["2000"]["overall"]
        d400 = r400["evidence_recall"] - full["400"]["overall"]["evidence_recall"]
        d2000 = r2000["evidence_recall"] - full["2000"]["overall"]["evidence_recall"]
        lines.append(
            f"| {name} | {r400['evidence_recall']:.3f} | {d400:+.3f} | {r400['all_evidence']:.3f} | "
            f"{r2000['evidence_recall']:.3f} | {d2000:+.3f} | {r400['answer_word_recall']:.3f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
