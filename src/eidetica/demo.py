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
from rich.panel import Panel

from .memory import Memory

DEMO_USER = "maya"


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
                sources = ", ".join(sorted(covered & evidence)) or "none"
                mark = "[green]evidence found[/green]" if ok else "[yellow]evidence missed[/yellow]"
                console.print(
                    Panel(
                        ctx.text,
                        title=f"[bold]{question}[/bold]",
                        subtitle=f"{mark}: {sources} · {ctx.tokens} tokens",
                        title_align="left",
                        subtitle_align="left",
                    )
                )
            console.print(
                f"\n[bold]{found}/{len(questions)}[/bold] questions had all their evidence turns "
                f"within a {budget_tokens}-token context."
            )
    return found
