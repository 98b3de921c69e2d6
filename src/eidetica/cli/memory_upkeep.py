"""Looking after a store, one command per ``Memory`` method: quarantine and review (what the guard
held back), maintain and restore (what faded), export, forget, stats, users and rebuild."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..guard.quarantine import reasons_held
from ..model import MaintainReport, MemoryUnit, Stats
from .common import Run, _command, err, out
from .options import ArchivedIdArgument, HeldIdArgument, UserOption


@_command()
def quarantine(run: Run, user: UserOption = None) -> None:
    """List what was held back for review: messages that address the model or flood it, and what
    was derived from them. Decide on each with review."""
    with run.open() as memory:
        units = memory.quarantined(user_id=user)
    run.show(units, _print_quarantined)


def _print_quarantined(units: list[MemoryUnit]) -> None:
    """The units held back, each with why, or a line saying that none waits."""
    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("kind")
    table.add_column("why", overflow="fold", ratio=1)
    table.add_column("text", overflow="fold", ratio=1)
    for u in units:
        table.add_row(u.id, u.kind, "; ".join(reasons_held(u)), u.text)
    out.print(table if units else "nothing waits for review")


@_command()
def review(
    run: Run,
    unit_id: HeldIdArgument,
    approve: Annotated[
        bool,
        typer.Option(
            "--approve/--reject",
            help="Bring it back into every read, or reject (delete) it; a turn's derived units follow.",
        ),
    ],
    user: UserOption = None,
) -> None:
    """Decide on a quarantined unit; the decision is a version in its history."""
    with run.open() as memory:
        unit = memory.review(unit_id, approve=approve, user_id=user)
    run.done(unit, f"{'approved' if approve else 'rejected'} {unit.id}")


@_command()
def maintain(
    run: Run,
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Only this user's memory (default: every user).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be archived; change nothing.")
    ] = False,
) -> None:
    """Archive what has faded from use, with a progress bar: kept with its history, out of every
    read unless --include-archived; restore brings a unit back."""
    with run.open() as memory, run.tracking("examining", "maintain") as progress:
        report = memory.maintain(user_id=user, dry_run=dry_run, progress=progress)
    run.show(report, _print_maintained)


def _print_maintained(report: MaintainReport) -> None:
    """What maintain examined and archived (or would archive), by kind."""
    done = "to archive" if report.dry_run else "archived"
    table = Table(show_header=False)
    table.add_row("users", str(report.users))
    table.add_row("units examined", str(report.examined))
    for kind_name, count in sorted(report.archived.items()):
        table.add_row(f"{kind_name} units {done}", str(count))
    table.add_row(done, str(report.archived_total))
    if report.dry_run and report.sample:
        table.add_row(f"the first {len(report.sample)}", Text("\n".join(report.sample)))
    out.print(table)
    if report.dry_run:
        out.print("dry run: nothing was changed")


@_command()
def restore(run: Run, unit_id: ArchivedIdArgument, user: UserOption = None) -> None:
    """Bring an archived unit back into every read; the restore is a version in its history."""
    with run.open() as memory:
        unit = memory.restore(unit_id, user_id=user)
    run.done(unit, f"restored {unit.id}")


@_command()
def export(
    run: Run,
    user: UserOption = None,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="The file to write (default: standard output)."),
    ] = None,
    graphml: Annotated[
        bool, typer.Option("--graphml", help="Write the graph (entities, facts, events) as GraphML instead.")
    ] = False,
) -> None:
    """Write a user's whole memory as JSON Lines (every unit with its history, then entities and
    relations), which import reads back as it was; or its graph as GraphML, for a graph tool."""
    with run.open() as memory, run.tracking("exporting", "export") as progress:
        if out_path is None:
            report = memory.export(sys.stdout, user_id=user, graph=graphml, progress=progress)
            return
        with out_path.open("w", encoding="utf-8") as target:
            report = memory.export(target, user_id=user, graph=graphml, progress=progress)
    counts = f"{report.units} units, {report.entities} entities and {report.relations} relations"
    run.done(report, f"wrote {counts} to {out_path}")


@_command()
def forget(
    run: Run,
    user: Annotated[str, typer.Option("--user", "-u", help="The user to erase.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact",
            help="Also rewrite the storage (SQLite VACUUM; PostgreSQL VACUUM FULL, which locks the "
            "tables for every tenant meanwhile).",
        ),
    ] = False,
) -> None:
    """Erase everything stored for one user, derived units and history included, from the files too."""
    if not yes:
        typer.confirm(f"Erase all memories of user {user!r}?", abort=True)
    with run.open() as memory:
        removed = memory.forget(user_id=user, compact=compact)
    run.done({"user": user, "removed": removed}, f"removed {removed} units of user {user!r}")


@_command()
def stats(run: Run, user: UserOption = None) -> None:
    """Count stored units by kind, users, sessions, bytes on disk, and units awaiting vectors."""
    with run.open() as memory:
        s = memory.stats(user_id=user)
    run.show(s, _print_stats)


def _print_stats(s: Stats) -> None:
    """The counts, one row each; archived and awaiting vectors only when there are some."""
    table = Table(show_header=False)
    for kind_name, count in sorted(s.units_by_kind.items()):
        table.add_row(f"{kind_name} units", str(count))
    table.add_row("deleted", str(s.deleted))
    if s.archived:
        table.add_row("archived", str(s.archived))
    table.add_row("users", str(s.users))
    table.add_row("sessions", str(s.sessions))
    table.add_row("bytes on disk", "" if s.bytes_on_disk is None else f"{s.bytes_on_disk:,}")
    if s.unembedded:
        table.add_row("awaiting vectors", str(s.unembedded))
    out.print(table)


@_command()
def users(run: Run) -> None:
    """List the users with memories in the store, one id per line: what --user takes."""
    with run.open() as memory:
        ids = memory.users()
    run.show(ids, _print_users)


def _print_users(ids: list[str]) -> None:
    """One user id per line, or on stderr how to make the first."""
    if not ids:
        err.print("no users yet: add a message with --user NAME")
    for user_id in ids:
        out.print(user_id, markup=False, highlight=False)


@_command()
def rebuild(
    run: Run,
    user: UserOption = None,
    llm: Annotated[
        bool,
        typer.Option(
            "--llm",
            help="Derive facts and events with the LLM set in EIDETICA_LLM_BASE_URL / "
            "EIDETICA_LLM_MODEL, and let it decide which stored ones they update, delete or "
            "restate (the rules decide wherever it fails).",
        ),
    ] = False,
) -> None:
    """Derive a user's facts and events again from the stored turns (all at once: a failure
    changes nothing), after embedding the turns stored while the embedder failed."""
    with run.open(llm_extract=llm) as memory:
        count = memory.rebuild(user_id=user)
    run.done({"derived": count}, f"rebuilt {count} derived units")
