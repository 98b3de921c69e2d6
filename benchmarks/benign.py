"""Measure how often the poisoning defence holds back ordinary messages (its false positives).

The LoCoMo clean run (``attacks.py``) is casual chat; what a careless defence mistakes for an
attack is rarer there than in what agents are sent: pasted code, logs, tables and JSON, quoted
emails and transcripts, talk about AI and prompts, standing preferences for the assistant
("always answer in Spanish"), other languages, a name said over and over, role-play and games.
This runs hand-written conversations of those kinds, one JSON object a line: ``id``,
``category``, ``user_id`` and ``sessions`` (each ``timestamp``, ``session_id``, ``messages``),
each in a fresh store, session by session as ``attacks.py --scenarios`` adds them, and reports the
share of stored turns and units quarantined, per category, with every turn held and why.

    python benchmarks/benign.py --scenarios benchmarks/scenarios/benign_probe.jsonl
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from attacks import QUARANTINE, add_session
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from eidetica import Memory

DEFAULT_SCENARIOS = Path(__file__).parent / "scenarios" / "benign_probe.jsonl"
DEFAULT_OUT = Path(__file__).parent / "results" / "benign.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenarios", type=Path, default=DEFAULT_SCENARIOS, help="benign conversations (JSONL)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON report to write")
    args = parser.parse_args()
    console = Console()
    scenarios = [
        json.loads(line) for line in args.scenarios.read_text(encoding="utf-8").split("\n") if line.strip()
    ]
    held: list[dict[str, Any]] = []
    counts: dict[str, dict[str, int]] = {}
    embedder = None  # loaded by the first store, shared by the rest
    with tempfile.TemporaryDirectory() as tmp, Progress(console=console, transient=True) as progress:
        task = progress.add_task("ingesting", total=len(scenarios))
        for i, scenario in enumerate(scenarios):
            with Memory(Path(tmp) / f"benign-{i}.db", embedder=embedder) as memory:
                embedder = memory.embedder
                for session in scenario["sessions"]:
                    add_session(memory, scenario["user_id"], session)
                units = memory.list(user_id=scenario["user_id"], limit=None)
            tally = counts.setdefault(
                scenario["category"], {"turns": 0, "turns_held": 0, "units": 0, "units_held": 0}
            )
            for unit in units:
                flagged = QUARANTINE in unit.metadata
                tally["units"] += 1
                tally["units_held"] += flagged
                if unit.kind == "turn":
                    tally["turns"] += 1
                    tally["turns_held"] += flagged
                    if flagged:
                        held.append(
                            {
                                "id": scenario["id"],
                                "text": unit.text,
                                "reasons": unit.metadata[QUARANTINE]["reasons"],
                            }
                        )
            progress.advance(task)
    counts["overall"] = {
        key: sum(c[key] for c in counts.values()) for key in ("turns", "turns_held", "units", "units_held")
    }
    table = Table(title="Ordinary messages held back as attacks (false positives)")
    for column in ("category", "turns held", "share", "units held", "share"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for category, c in counts.items():
        table.add_row(
            category,
            f"{c['turns_held']}/{c['turns']}",
            f"{c['turns_held'] / max(c['turns'], 1):.3f}",
            f"{c['units_held']}/{c['units']}",
            f"{c['units_held'] / max(c['units'], 1):.3f}",
        )
    console.print(table)
    for turn in held:
        console.print(f"held: {turn['id']}: {turn['text'][:90]!r} ({'; '.join(turn['reasons'])[:120]})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"scenarios": args.scenarios.name, "n": len(scenarios), "held": counts, "turns_held": held}
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
