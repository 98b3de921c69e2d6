"""The memory commands, one per ``Memory`` method: add, search, context, answer, import, list,
show, history, update and delete (the upkeep of a store is in ``memory_upkeep``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .. import wire
from ..api import DEFAULT_ANSWER_BUDGET, DEFAULT_CONTEXT_BUDGET, DEFAULT_K, DEFAULT_LIST_LIMIT
from ..ingest.formats import FORMATS
from ..model import AddResult, Answer, Context, HistoryEntry, ImportReport, MemoryUnit, UnitKind
from .common import (
    Run,
    _command,
    _day,
    _hits_table,
    _said,
    _warn,
    err,
    out,
)
from .options import (
    ROLES,
    AgentOption,
    AsOfOption,
    DerivedIdArgument,
    IncludeArchivedOption,
    InferOption,
    KindOption,
    LLMOption,
    MetadataFilterOption,
    SessionOption,
    SinceOption,
    UnitIdArgument,
    UntilOption,
    UserOption,
    _metadata,
    _one_of,
    _scope,
)


@_command()
def add(
    run: Run,
    text: Annotated[str, typer.Argument(help="What to remember (one turn).")],
    user: UserOption = None,
    agent: AgentOption = None,
    session: SessionOption = None,
    speaker: Annotated[str | None, typer.Option(help="Who said it (defaults to the role).")] = None,
    role: Annotated[
        str, typer.Option(callback=_one_of(ROLES), help=f"Who is speaking: {', '.join(ROLES)}.")
    ] = "user",
    timestamp: Annotated[str | None, typer.Option(help="When it was said (ISO 8601).")] = None,
    user_name: Annotated[
        str | None,
        typer.Option("--user-name", help="The user's name, for their messages without --speaker."),
    ] = None,
    metadata: Annotated[
        str | None,
        typer.Option(
            "--metadata",
            help="Tag the message (and what is derived from it) with this JSON object, "
            'like \'{"project": "apollo"}\'.',
        ),
    ] = None,
    infer: InferOption = True,
    llm: LLMOption = False,
) -> None:
    """Remember one message: store it verbatim and derive facts and events from it."""
    message: dict[str, Any] = {"role": role, "content": text}
    if speaker:
        message["name"] = speaker
    tags = _metadata(metadata)
    with run.open(llm_extract=llm) as memory:
        result = memory.add(
            [message],
            **_scope(user, agent, session),
            timestamp=timestamp,
            infer=infer,
            user_name=user_name,
            metadata=tags,
        )
    run.show(result, _print_added)
    _warn(result.warnings, llm)


def _print_added(result: AddResult) -> None:
    """What add stored, then each unit it derived or revised, with its id to copy."""
    out.print(f"stored {len(result.turns)} turn(s) and {len(result.derived)} derived unit(s)")
    for unit in result.units:
        out.print(f"  [dim]{unit.id}[/dim] {unit.kind:5} {escape(unit.text)}", highlight=False)
    for unit in result.revised:
        change = "superseded" if unit.valid_to else "said again"
        out.print(f"  [dim]{unit.id}[/dim] {change}: {escape(unit.text)}", highlight=False)


@_command()
def search(
    run: Run,
    query: Annotated[str, typer.Argument(help="A question or keywords.")],
    user: UserOption = None,
    agent: AgentOption = None,
    session: SessionOption = None,
    k: Annotated[int, typer.Option("-k", help="How many hits.")] = DEFAULT_K,
    kind: KindOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    as_of: AsOfOption = None,
    metadata: MetadataFilterOption = None,
    include_archived: IncludeArchivedOption = False,
) -> None:
    """Find the memories that best answer a question."""
    tags = _metadata(metadata)
    with run.open() as memory:
        hits = memory.search(
            query,
            **_scope(user, agent, session),
            k=k,
            kinds=cast("list[UnitKind] | None", kind),
            since=since,
            until=until,
            as_of=as_of,
            metadata=tags,
            include_archived=include_archived,
        )
    run.show(hits, lambda found: out.print(_hits_table(found, query) if found else "no memories match"))


@_command()
def context(
    run: Run,
    query: Annotated[str, typer.Argument(help="A question.")],
    user: UserOption = None,
    agent: AgentOption = None,
    session: SessionOption = None,
    budget: Annotated[int, typer.Option(help="Token budget.")] = DEFAULT_CONTEXT_BUDGET,
    as_of: AsOfOption = None,
    metadata: MetadataFilterOption = None,
    include_archived: IncludeArchivedOption = False,
) -> None:
    """Print the evidence for a question packed into a token budget, ready for a prompt."""
    tags = _metadata(metadata)
    with run.open() as memory:
        ctx = memory.context(
            query,
            **_scope(user, agent, session),
            budget_tokens=budget,
            as_of=as_of,
            metadata=tags,
            include_archived=include_archived,
        )
    run.show(ctx, lambda found: _print_context(found, budget))


def _print_context(ctx: Context, budget: int) -> None:
    """The context's text, ready for a prompt, on stdout; its size on stderr."""
    out.print(ctx.text, markup=False, highlight=False)
    err.print(f"[dim]{ctx.tokens}/{budget} tokens, {len(ctx.hits)} units[/dim]")


@_command()
def answer(
    run: Run,
    question: Annotated[str, typer.Argument(help="A question about what was said.")],
    user: UserOption = None,
    agent: AgentOption = None,
    session: SessionOption = None,
    budget: Annotated[
        int, typer.Option(help="Token budget of the evidence the model reads.")
    ] = DEFAULT_ANSWER_BUDGET,
    as_of: AsOfOption = None,
    metadata: MetadataFilterOption = None,
) -> None:
    """Answer from memory with the LLM in EIDETICA_LLM_*, citing the turns it used."""
    tags = _metadata(metadata)
    with run.open() as memory:
        reply = memory.answer(
            question, **_scope(user, agent, session), budget_tokens=budget, as_of=as_of, metadata=tags
        )
    run.show(reply, _print_answer)


def _print_answer(reply: Answer) -> None:
    """The answer on stdout; the turns it cites and its size on stderr."""
    out.print(escape(reply.text), highlight=False)
    if reply.sources:
        err.print(f"[dim]sources: {escape(', '.join(reply.sources))}; {reply.tokens} tokens[/dim]")


@_command("import")
def import_(
    run: Run,
    file: Annotated[
        Path, typer.Argument(help="A .jsonl, .json (messages or LoCoMo) or .txt file, or an export.")
    ],
    user: UserOption = None,
    agent: AgentOption = None,
    format: Annotated[
        str | None,
        typer.Option(
            callback=_one_of(FORMATS), help=f"{', '.join(FORMATS)} (default: detect from the file)."
        ),
    ] = None,
    skip_invalid: Annotated[bool, typer.Option(help="Skip bad lines instead of stopping.")] = False,
    infer: InferOption = True,
    llm: LLMOption = False,
) -> None:
    """Import conversations from a file, or an export (see export) as it was, with a progress bar;
    re-running skips what is stored."""
    with (
        run.open(llm_extract=llm) as memory,
        run.tracking("importing", "import") as progress,
    ):
        report = memory.import_file(
            file,
            user_id=user,
            agent_id=agent,
            format=format,
            skip_invalid=skip_invalid,
            infer=infer,
            progress=progress,
        )
    run.show(report, _print_imported)
    _warn(report.warnings, llm)


def _print_imported(report: ImportReport) -> None:
    """What import stored and skipped on stdout; each bad line it skipped on stderr."""
    out.print(
        f"imported {report.turns} turns, derived {report.derived} units, "
        f"skipped {report.skipped_refs} already stored"
    )
    for problem in report.errors:
        err.print(f"[yellow]skipped:[/yellow] {escape(problem)}", highlight=False, soft_wrap=True)


@_command("list")
def list_(
    run: Run,
    user: UserOption = None,
    agent: AgentOption = None,
    session: SessionOption = None,
    kind: KindOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    derived_from: Annotated[
        str | None,
        typer.Option("--derived-from", help="Only units derived from this unit id (a turn's facts)."),
    ] = None,
    include_deleted: Annotated[
        bool, typer.Option("--include-deleted", help="Also list deleted units (status deleted).")
    ] = False,
    include_archived: IncludeArchivedOption = False,
    limit: Annotated[int, typer.Option(help="How many units.")] = DEFAULT_LIST_LIMIT,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    metadata: MetadataFilterOption = None,
) -> None:
    """List a user's memories in time order."""
    tags = _metadata(metadata)
    with run.open() as memory:
        units = memory.list(
            **_scope(user, agent, session),
            kinds=cast("list[UnitKind] | None", kind),
            since=since,
            until=until,
            derived_from=derived_from,
            include_deleted=include_deleted,
            include_archived=include_archived,
            limit=limit,
            offset=offset,
            metadata=tags,
        )
    with_status = include_deleted or include_archived
    run.show(units, lambda found: out.print(_units_table(found, with_status=with_status)))


def _units_table(units: list[MemoryUnit], *, with_status: bool) -> Table:
    """Listed units, one row each; ``with_status`` adds a status column, since a list that
    includes deleted or archived units is asked for to tell them apart."""
    table = Table()
    table.add_column("id", no_wrap=True)  # whole, to copy into show, update or delete
    table.add_column("kind")
    if with_status:
        table.add_column("status")
    table.add_column("when", no_wrap=True)
    table.add_column("text", overflow="fold", ratio=1)
    for u in units:
        status = [u.status] if with_status else []
        table.add_row(u.id, u.kind, *status, _day(u.occurred_at), _said(u))
    return table


@_command()
def show(run: Run, unit_id: UnitIdArgument, user: UserOption = None) -> None:
    """Show one memory unit with its provenance."""
    with run.open() as memory:
        unit = memory.get(unit_id, user_id=user)
    run.show(unit, _print_unit)


def _print_unit(unit: MemoryUnit) -> None:
    """Every field of a unit, one row each, in its JSON form."""
    table = Table(show_header=False)
    for key, value in wire.to_wire(unit).items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        table.add_row(key, Text(shown))
    out.print(table)


@_command()
def history(run: Run, unit_id: UnitIdArgument, user: UserOption = None) -> None:
    """Show every version of a unit: added, updated, deleted."""
    with run.open() as memory:
        entries = memory.history(unit_id, user_id=user)
    run.show(entries, _print_history)


def _print_history(entries: list[HistoryEntry]) -> None:
    """A unit's versions, one row each, oldest first."""
    table = Table()
    for column in ("version", "op", "at", "text"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(str(e.version), e.op, e.at.isoformat(timespec="seconds"), Text(e.text))
    out.print(table)


@_command()
def update(
    run: Run,
    unit_id: DerivedIdArgument,
    text: Annotated[str, typer.Argument(help="The new text.")],
    user: UserOption = None,
    metadata: Annotated[
        str | None,
        typer.Option(
            "--metadata",
            help='Replace the unit\'s metadata with this JSON object, like \'{"source": "chat"}\'.',
        ),
    ] = None,
) -> None:
    """Give a fact or event a new version (the old one stays in its history)."""
    fields = _metadata(metadata)  # read before the store is opened: a typo changes nothing
    with run.open() as memory:
        unit = memory.update(unit_id, text, user_id=user, metadata=fields)
    run.done(unit, f"{unit.id} is now at version {unit.version}")


@_command()
def delete(run: Run, unit_id: UnitIdArgument, user: UserOption = None) -> None:
    """Delete a unit (soft: hidden from reads, recorded in its history)."""
    with run.open() as memory:
        unit = memory.delete(unit_id, user_id=user)
    run.done(unit, f"deleted {unit.id}")
