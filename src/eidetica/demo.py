"""``eidetica demo``: ingest the bundled sample conversations and answer questions from memory.

The conversations were written for this project; each question lists the turn ids that answer
it, so the demo can show whether the evidence was found.
"""

from __future__ import annotations

import json
import tempfile
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .memory import Memory
from .model import Hit
from .retrieve.pack import render

DEMO_USER = "maya"
SHOWN_HITS = 3


def _answer_table(question: str, hits: list[Hit], evidence: set[str]) -> Table:
    """The best hits for a question: what memory holds, and which turns it comes from."""
    table = Table(title=f"[bold]{escape(question)}[/bold]", title_justify="left", expand=True)
    table.add_column("kind", width=5)
    table.add_column("memory", ratio=1)
    table.add_column("from turn", width=10)
    for hit in hits:
        style = "green" if set(hit.sources) & evidence else ""
        table.add_row(hit.kind, Text(render(hit.unit)), Text(", ".join(hit.sources), style=style))
    return table


def demo_files() -> tuple[Path, list[dict[str, object]]]:
    """Return the bundled conversations file and the questions with their evidence ids."""
    data = resources.files("eidetica") / "data"
    questions = json.loads((data / "demo_questions.json").read_text(encoding="utf-8"))
    return Path(str(data / "demo_conversations.jsonl")), questions


def run_demo(console: Console, db: str | None = None, budget_tokens: int = 200) -> int:
    """Run the demo; return how many questions had all their evidence in the packed context."""
    conversations, questions = demo_files()
    with tempfile.TemporaryDirectory() as tmp:
        location = db or str(Path(tmp) / "demo.db")
        with Memory(location) as memory:
            report = memory.import_file(conversations)
            console.print(
                f"[bold]Ingested[/bold] {report.turns} turns from 4 sessions of sample "
                f"conversations; derived {report.derived} facts and events without an LLM.\n"
            )
            found = 0
            for item in questions:
                question = str(item["question"])
                evidence = {str(e) for e in item["evidence"]}  # type: ignore[attr-defined]
                ctx = memory.context(question, user_id=DEMO_USER, budget_tokens=budget_tokens)
                covered = {s for h in ctx.hits for s in h.sources}
                ok = evidence <= covered
                found += ok
                console.print(_answer_table(question, ctx.hits[:SHOWN_HITS], evidence))
                mark = "[green]evidence found[/green]" if ok else "[yellow]evidence missed[/yellow]"
                console.print(
                    f"  {mark} (expected {', '.join(sorted(evidence))}); the packed context holds "
                    f"{len(ctx.hits)} units in {ctx.tokens} tokens\n"
                )
            console.print(
                f"[bold]{found}/{len(questions)}[/bold] questions had all their evidence turns "
                f"within a {budget_tokens}-token context."
            )
    return found
