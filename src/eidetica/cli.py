"""The ``eidetica`` command: add, search and manage memories from a shell.

Each memory command is a thin shell over one ``Memory`` method of the contract in ``api``: the
same parameters (``user_id`` is ``--user``, ``kinds`` is ``--kind``, ``budget_tokens`` is
``--budget``), the same defaults, and with ``--json`` exactly what the method returns, in the one
JSON form of ``wire.to_wire``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast, get_args

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from . import __version__, wire
from .api import DEFAULT_ANSWER_BUDGET, DEFAULT_CONTEXT_BUDGET, DEFAULT_K, DEFAULT_LIST_LIMIT, split_commas
from .config import resolve_db
from .errors import EideticaError, UsageError
from .ingest.formats import FORMATS
from .memory import EXTRACTION_FAILED, Memory
from .model import Hit, MemoryUnit, UnitKind

if TYPE_CHECKING:
    from rich.progress import TaskID

    from .eval.datasets import Question
    from .eval.qa import AnswerEvalSettings
    from .eval.runner import Ingest
    from .llms.base import LLMSettings

app = typer.Typer(
    help="Eidetica: long-term memory for LLM agents, offline, in one SQLite file.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)


class _LogToConsole(logging.Handler):
    """Library warnings as one yellow line each, except those a command prints from its result
    already (``memory.REPORTED``): one message per event, in the CLI's words."""

    def emit(self, record: logging.LogRecord) -> None:
        if not getattr(record, "reported", False):
            err.print(
                f"[yellow]warning:[/yellow] {escape(record.getMessage())}", highlight=False, soft_wrap=True
            )


_library_log = logging.getLogger("eidetica")
_library_log.addHandler(_LogToConsole(logging.WARNING))
_library_log.propagate = False
F = TypeVar("F", bound=Callable[..., Any])
KINDS: tuple[str, ...] = get_args(UnitKind)
ROLES = ("user", "assistant", "system")


def _kinds(values: list[str] | None) -> list[str] | None:
    """Read ``--kind`` given several times, comma-separated, or both; each one a known kind."""
    if not values:
        return None
    kinds = split_commas(values)
    for kind in kinds or [""]:
        if kind not in KINDS:
            raise typer.BadParameter(f"{kind!r} is not one of {', '.join(map(repr, KINDS))}.")
    return list(dict.fromkeys(kinds))


def _one_of(choices: Sequence[str]) -> Callable[[str | None], str | None]:
    """A callback that refuses an option value outside ``choices``, listing them."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(map(repr, choices))}.")
        return value

    return check


def _metadata(value: str | None) -> dict[str, Any] | None:
    """Read ``--metadata`` as a JSON object."""
    if value is None:
        return None
    example = 'write an object, like \'{"source": "chat"}\''
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(
            f"not JSON ({exc.msg}, column {exc.colno}); {example}", param_hint="'--metadata'"
        ) from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{value!r} is not a JSON object; {example}", param_hint="'--metadata'")
    return data


DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database file (default: $EIDETICA_DB or the user data dir)."),
]
UserOption = Annotated[str | None, typer.Option("--user", "-u", help="Whose memory (user id).")]
AgentOption = Annotated[str | None, typer.Option("--agent", help="Agent id within the user.")]
SessionOption = Annotated[str | None, typer.Option("--session", help="Session id.")]
KindOption = Annotated[
    list[str] | None,
    typer.Option(
        "--kind",
        metavar="KIND",
        callback=_kinds,
        help=f"Only units of this kind: {', '.join(KINDS)} (repeat, or separate with commas).",
    ),
]
InferOption = Annotated[
    bool,
    typer.Option(
        "--infer/--no-infer",
        help="Derive facts and events from the turns (--no-infer: store the turns verbatim only).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Answer from what memory held at this time (ISO 8601).")
]

#: Python parameter names that library messages use, as the CLI spells them (a longer form first).
_CLI_WORDS = {
    "pass Memory(llm=...) or, on the command line and servers, set": "set",
    "skip_invalid=True": "--skip-invalid",
    "skip_invalid": "--skip-invalid",
    "format=": "--format",
    "budget_tokens": "--budget",
    "user_id": "--user",
    "agent_id": "--agent",
    "session_id": "--session",
    "user_name": "--user-name",
    "as_of": "--as-of",
    "unit_id": "UNIT_ID",
    "page with offset": "page with --offset",
}
#: Names too plain to replace anywhere ("offset" is also a byte's): only as a message's subject.
_CLI_SUBJECTS = {
    "k": "-k",
    "limit": "--limit",
    "offset": "--offset",
    "kinds": "--kind",
    "since": "--since",
    "until": "--until",
    "metadata": "--metadata",
}
_WORDS = re.compile("|".join(rf"(?<![\w-]){re.escape(word)}(?!\w)" for word in _CLI_WORDS))
_SUBJECT = re.compile(rf"^({'|'.join(map(re.escape, _CLI_SUBJECTS))}) ")


def _cli_words(message: str) -> str:
    """A library message with the Python parameters it names turned into the CLI's options."""
    message = _WORDS.sub(lambda match: _CLI_WORDS[match.group()], message)
    return _SUBJECT.sub(lambda match: f"{_CLI_SUBJECTS[match.group(1)]} ", message)


def _handled(func: F) -> F:
    """Turn Eidetica errors into one red line and exit code 1 (the CLI's one error handler)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EideticaError as exc:
            message = _cli_words(str(exc)) if isinstance(exc, UsageError) else str(exc)
            err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from exc

    return wrapper  # type: ignore[return-value]


def _warn(warnings: list[str], llm: bool) -> None:
    """Print a result's warnings; exit 1 (what was read is stored) when ``--llm`` extraction failed."""
    for warning in warnings:
        err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False, soft_wrap=True)
    if llm and any(w.startswith(EXTRACTION_FAILED) for w in warnings):
        raise typer.Exit(1)


def _version(value: bool) -> None:
    """Print the version and stop, before any command runs (``--version`` is eager)."""
    if value:
        print(f"eidetica {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Eidetica: long-term memory for LLM agents, offline, in one SQLite file."""


def _open(db: str | None, *, llm_extract: bool = False) -> Memory:
    """Open the memory; the LLM from ``EIDETICA_LLM_*`` answers, and with ``--llm`` also extracts
    and reconciles (the rules back it up where it fails)."""
    from .config import embedder_name, llm_settings

    embedder = embedder_name()
    settings = llm_settings()
    if settings is None:
        if llm_extract:
            raise UsageError(
                "--llm needs a chat model: set EIDETICA_LLM_MODEL, plus EIDETICA_LLM_BASE_URL for a "
                "server other than OpenAI's and EIDETICA_LLM_API_KEY if it needs a key"
            )
        return Memory(resolve_db(db), embedder=embedder)
    from .ingest.llm_extract import LLMExtractor
    from .ingest.llm_reconcile import LLMReconciler
    from .llms.openai import OpenAICompatibleClient

    client = OpenAICompatibleClient(settings)
    extractor = LLMExtractor(client) if llm_extract else None
    reconciler = LLMReconciler(client) if llm_extract else None
    return Memory(resolve_db(db), embedder=embedder, llm=client, extractor=extractor, reconciler=reconciler)


LLMOption = Annotated[
    bool,
    typer.Option(
        "--llm",
        help="Derive facts and events with the LLM set in EIDETICA_LLM_BASE_URL / EIDETICA_LLM_MODEL "
        "instead of rules, and let it decide which stored ones they update, delete or restate (the "
        "turns are stored either way; the rules decide wherever it fails).",
    ),
]


def _print_json(value: Any) -> None:
    """Print what the library returned in the one JSON form (``wire.to_wire``)."""
    print(json.dumps(wire.to_wire(value), ensure_ascii=False, indent=2, default=str))


def _said(unit: MemoryUnit) -> Text:
    """A unit's text after its speaker, as a table cell."""
    return Text(f"{unit.speaker}: {unit.text}" if unit.speaker else unit.text)


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else ""


def _hits_table(hits: list[Hit], title: str) -> Table:
    """Hits readable at 80 columns: each memory with its speaker and date, and under it its kind,
    its id and the turns it came from, ids never cut (they are for copying)."""
    table = Table(title=escape(title), show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("when", no_wrap=True)
    table.add_column("memory", overflow="fold", ratio=1)
    for i, hit in enumerate(hits, 1):
        unit = hit.unit
        cell = _said(unit)
        origin = [] if unit.kind == "turn" else ["from", *unit.sources]
        cell.append("\n" + " ".join([unit.kind, unit.id, *origin]), style="dim")
        table.add_row(str(i), f"{hit.score:.3f}", _day(unit.occurred_at or unit.recorded_at), cell)
    return table


@app.command()
@_handled
def add(
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
    infer: InferOption = True,
    llm: LLMOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remember one message: store it verbatim and derive facts and events from it."""
    message: dict[str, Any] = {"role": role, "content": text}
    if speaker:
        message["name"] = speaker
    with _open(db, llm_extract=llm) as memory:
        result = memory.add(
            [message],
            user_id=user,
            agent_id=agent,
            session_id=session,
            timestamp=timestamp,
            infer=infer,
            user_name=user_name,
        )
    if as_json:
        _print_json(result)
    else:
        out.print(f"stored {len(result.turns)} turn(s) and {len(result.derived)} derived unit(s)")
        for unit in result.units:
            out.print(f"  [dim]{unit.id}[/dim] {unit.kind:5} {escape(unit.text)}", highlight=False)
        for unit in result.revised:
            change = "superseded" if unit.valid_to else "said again"
            out.print(f"  [dim]{unit.id}[/dim] {change}: {escape(unit.text)}", highlight=False)
    _warn(result.warnings, llm)


@app.command()
@_handled
def search(
    query: Annotated[str, typer.Argument(help="A question or keywords.")],
    user: UserOption = None,
    agent: AgentOption = None,
    session: SessionOption = None,
    k: Annotated[int, typer.Option("-k", help="How many hits.")] = DEFAULT_K,
    kind: KindOption = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only what happened at or after this time (ISO 8601).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only what happened at or before this time (ISO 8601).")
    ] = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find the memories that best answer a question."""
    with _open(db) as memory:
        hits = memory.search(
            query,
            user_id=user,
            agent_id=agent,
            session_id=session,
            k=k,
            kinds=cast("list[UnitKind] | None", kind),
            since=since,
            until=until,
            as_of=as_of,
        )
    if as_json:
        _print_json(hits)
    elif not hits:
        out.print("no memories match")
    else:
        out.print(_hits_table(hits, f"{query}"))


@app.command()
@_handled
def context(
    query: Annotated[str, typer.Argument(help="A question.")],
    user: UserOption = None,
    agent: AgentOption = None,
    session: SessionOption = None,
    budget: Annotated[int, typer.Option(help="Token budget.")] = DEFAULT_CONTEXT_BUDGET,
    as_of: AsOfOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the evidence for a question packed into a token budget, ready for a prompt."""
    with _open(db) as memory:
        ctx = memory.context(
            query, user_id=user, agent_id=agent, session_id=session, budget_tokens=budget, as_of=as_of
        )
    if as_json:
        _print_json(ctx)
        return
    out.print(ctx.text, markup=False, highlight=False)
    err.print(f"[dim]{ctx.tokens}/{budget} tokens, {len(ctx.hits)} units[/dim]")


@app.command()
@_handled
def answer(
    question: Annotated[str, typer.Argument(help="A question about what was said.")],
    user: UserOption = None,
    agent: AgentOption = None,
    session: SessionOption = None,
    budget: Annotated[
        int, typer.Option(help="Token budget of the evidence the model reads.")
    ] = DEFAULT_ANSWER_BUDGET,
    as_of: AsOfOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer from memory with the LLM in EIDETICA_LLM_*, citing the turns it used."""
    with _open(db) as memory:
        reply = memory.answer(
            question, user_id=user, agent_id=agent, session_id=session, budget_tokens=budget, as_of=as_of
        )
    if as_json:
        _print_json(reply)
        return
    out.print(escape(reply.text), highlight=False)
    if reply.sources:
        err.print(f"[dim]sources: {escape(', '.join(reply.sources))}; {reply.tokens} tokens[/dim]")


@app.command("import")
@_handled
def import_(
    file: Annotated[Path, typer.Argument(help="A .jsonl, .json (messages or LoCoMo) or .txt file.")],
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
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import conversations from a file, with a progress bar; re-running skips stored turns."""
    with (
        _open(db, llm_extract=llm) as memory,
        Progress(
            TextColumn("[bold]importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=as_json,
            disable=not err.is_terminal,
        ) as bar,
    ):
        task = bar.add_task("import", total=None)
        report = memory.import_file(
            file,
            user_id=user,
            agent_id=agent,
            format=format,
            skip_invalid=skip_invalid,
            infer=infer,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        _print_json(report)
    else:
        out.print(
            f"imported {report.turns} turns, derived {report.derived} units, "
            f"skipped {report.skipped_refs} already stored"
        )
        for problem in report.errors:
            err.print(f"[yellow]skipped:[/yellow] {escape(problem)}", highlight=False, soft_wrap=True)
    _warn(report.warnings, llm)


@app.command("list")
@_handled
def list_(
    user: UserOption = None,
    agent: AgentOption = None,
    session: SessionOption = None,
    kind: KindOption = None,
    limit: Annotated[int, typer.Option(help="How many units.")] = DEFAULT_LIST_LIMIT,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a user's memories in time order."""
    with _open(db) as memory:
        units = memory.list(
            user_id=user,
            agent_id=agent,
            session_id=session,
            kinds=cast("list[UnitKind] | None", kind),
            limit=limit,
            offset=offset,
        )
    if as_json:
        _print_json(units)
        return
    table = Table()
    table.add_column("id", no_wrap=True)  # whole, to copy into show, update or delete
    table.add_column("kind")
    table.add_column("when", no_wrap=True)
    table.add_column("text", overflow="fold", ratio=1)
    for u in units:
        table.add_row(u.id, u.kind, _day(u.occurred_at), _said(u))
    out.print(table)


@app.command()
@_handled
def show(
    unit_id: Annotated[str, typer.Argument(help="A unit id.")],
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one memory unit with its provenance."""
    with _open(db) as memory:
        unit = memory.get(unit_id, user_id=user)
    if as_json:
        _print_json(unit)
        return
    table = Table(show_header=False)
    for key, value in wire.to_wire(unit).items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        table.add_row(key, Text(shown))
    out.print(table)


@app.command()
@_handled
def history(
    unit_id: Annotated[str, typer.Argument(help="A unit id.")],
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show every version of a unit: added, updated, deleted."""
    with _open(db) as memory:
        entries = memory.history(unit_id, user_id=user)
    if as_json:
        _print_json(entries)
        return
    table = Table()
    for column in ("version", "op", "at", "text"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(str(e.version), e.op, e.at.isoformat(timespec="seconds"), Text(e.text))
    out.print(table)


@app.command()
@_handled
def update(
    unit_id: Annotated[str, typer.Argument(help="A derived unit's id.")],
    text: Annotated[str, typer.Argument(help="The new text.")],
    user: UserOption = None,
    metadata: Annotated[
        str | None,
        typer.Option(
            "--metadata",
            help='Replace the unit\'s metadata with this JSON object, like \'{"source": "chat"}\'.',
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give a fact or event a new version (the old one stays in its history)."""
    fields = _metadata(metadata)  # read before the store is opened: a typo changes nothing
    with _open(db) as memory:
        unit = memory.update(unit_id, text, user_id=user, metadata=fields)
    if as_json:
        _print_json(unit)
    else:
        out.print(f"{unit.id} is now at version {unit.version}")


@app.command()
@_handled
def delete(
    unit_id: Annotated[str, typer.Argument(help="A unit id.")],
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete a unit (soft: hidden from reads, recorded in its history)."""
    with _open(db) as memory:
        unit = memory.delete(unit_id, user_id=user)
    if as_json:
        _print_json(unit)
    else:
        out.print(f"deleted {unit.id}")


@app.command()
@_handled
def forget(
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
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Erase everything stored for one user, derived units and history included, from the files too."""
    if not yes:
        typer.confirm(f"Erase all memories of user {user!r}?", abort=True)
    with _open(db) as memory:
        removed = memory.forget(user_id=user, compact=compact)
    if as_json:
        _print_json({"user": user, "removed": removed})
    else:
        out.print(f"removed {removed} units of user {user!r}")


@app.command()
@_handled
def stats(
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Count stored units by kind, users, sessions, bytes on disk, and units awaiting vectors."""
    with _open(db) as memory:
        s = memory.stats(user_id=user)
    if as_json:
        _print_json(s)
        return
    table = Table(show_header=False)
    for kind_name, count in sorted(s.units_by_kind.items()):
        table.add_row(f"{kind_name} units", str(count))
    table.add_row("deleted", str(s.deleted))
    table.add_row("users", str(s.users))
    table.add_row("sessions", str(s.sessions))
    table.add_row("bytes on disk", "" if s.bytes_on_disk is None else f"{s.bytes_on_disk:,}")
    if s.unembedded:
        table.add_row("awaiting vectors", str(s.unembedded))
    out.print(table)


@app.command()
@_handled
def users(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List the users with memories in the store, one id per line: what --user takes."""
    with _open(db) as memory:
        ids = memory.users()
    if as_json:
        _print_json(ids)
    elif not ids:
        err.print("no users yet: add a message with --user NAME")
    else:
        for user_id in ids:
            out.print(user_id, markup=False, highlight=False)


@app.command()
@_handled
def rebuild(
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
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Derive a user's facts and events again from the stored turns (all at once: a failure
    changes nothing), after embedding the turns stored while the embedder failed."""
    with _open(db, llm_extract=llm) as memory:
        count = memory.rebuild(user_id=user)
    if as_json:
        _print_json({"derived": count})
    else:
        out.print(f"rebuilt {count} derived units")


#: What --api-keys takes, for serve and mcp alike.
_API_KEYS_HELP = (
    "key=tenant pairs, comma-separated (k1=acme,k2=globex), or @path to a file of them (one per "
    "line, # comments); prefer @path, since the command line is visible in ps"
)
AllowedHostOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allowed-host",
        help="Without API keys, answer this Host name too (repeatable; name or name:port), besides "
        "localhost, 127.0.0.1 and [::1]; default $EIDETICA_ALLOWED_HOSTS (comma-separated).",
    ),
]


@app.command()
@_handled
def serve(
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Database path or postgresql:// URL (default: $EIDETICA_DB or the user data dir)."
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes sharing the port.", min=1)] = 1,
    api_keys: Annotated[
        str | None,
        typer.Option(
            "--api-keys",
            help=f"API keys: {_API_KEYS_HELP}. Default $EIDETICA_API_KEYS; no keys at all: no auth.",
        ),
    ] = None,
    allowed_host: AllowedHostOption = None,
    max_body_mb: Annotated[
        float | None,
        typer.Option(
            "--max-body-mb", help="Largest request body in MiB (default $EIDETICA_MAX_BODY_MB or 8)."
        ),
    ] = None,
) -> None:
    """Serve the REST API (and its OpenAPI document) over HTTP until interrupted."""
    from .config import redact, redacted_errors, server_settings
    from .server.launch import exposure_warning, require_server_extra
    from .server.launch import serve as run_server

    with redacted_errors():
        require_server_extra()
        settings = server_settings(db, api_keys, max_body_mb, allowed_host_names=allowed_host)
        tenants = sorted(set(settings.api_keys.values()))
        auth = (
            f"on: {len(settings.api_keys)} API key(s) for tenant(s) {', '.join(tenants)}"
            if settings.api_keys
            else "off: every caller is in the default tenant (set --api-keys @keys.txt to require keys)"
        )
        shown_host = f"[{host}]" if ":" in host else host
        lines = (
            f"serving {redact(settings.db)} on http://{shown_host}:{port} with {workers} worker(s)",
            f"authentication {auth}",
            f"API document: http://{shown_host}:{port}/docs",
        )
        for line in lines:
            out.print(line, markup=False, highlight=False, soft_wrap=True)
        warning = exposure_warning(host, bool(settings.api_keys), settings.allowed_hosts)
        if warning:
            err.print(f"[bold red]WARNING:[/bold red] {escape(warning)}", highlight=False, soft_wrap=True)
        run_server(settings, host=host, port=port, workers=workers)


@app.command()
@_handled
def demo(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Keep the demo memory in this file (default: temporary)."),
    ] = None,
) -> None:
    """Ingest bundled sample conversations and answer questions from memory."""
    from .demo import run_demo

    run_demo(out, db)


@app.command()
@_handled
def bench(
    units: Annotated[
        str, typer.Option(help="Store sizes to measure search at, comma-separated.")
    ] = "10000,100000",
    users: Annotated[int, typer.Option(help="Users the units are spread over.")] = 1000,
    queries: Annotated[int, typer.Option(help="Searches timed per size.")] = 500,
    report: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path("bench-report.json"),
    defer_embedding: Annotated[
        bool, typer.Option(help="Embed in the background, as a server with EIDETICA_DEFER_EMBEDDING does.")
    ] = False,
    history: Annotated[
        str,
        typer.Option(help="Sizes (units) of ONE user's history to measure at, comma-separated; empty: skip."),
    ] = "1000,10000,100000",
    lancedb: Annotated[
        bool, typer.Option(help="Measure LanceDB on the same units beside the long history (if installed).")
    ] = True,
    history_db: Annotated[
        str | None,
        typer.Option(help="Hold the long history here (a postgresql:// URL) instead of a temporary file."),
    ] = None,
) -> None:
    """Measure ingest throughput, search latency and bytes per unit; print and write JSON.

    Two cases: units spread over many users (--units, --users), and one user's long history
    (--history), with LanceDB beside it when installed (pip install lancedb). The embedder is
    EIDETICA_EMBEDDER's (wordllama unless set).
    """
    from .config import embedder_name
    from .eval.bench import print_report, run_bench

    sizes = [int(part) for part in units.split(",") if part.strip()]
    result = run_bench(
        sizes=sizes,
        users=users,
        queries=queries,
        console=err,
        embedder=embedder_name(),
        defer_embedding=defer_embedding,
        history=[int(part) for part in history.split(",") if part.strip()],
        lancedb=lancedb,
        history_db=history_db,
    )
    report.write_text(json.dumps(result, indent=2))
    print_report(result, out)
    out.print(f"report written to {report}")


@app.command("mcp")
@_handled
def mcp_(
    transport: Annotated[
        str, typer.Option(help="stdio (the host starts this command) or http (streamable HTTP at /mcp).")
    ] = "stdio",
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database path or URL (default: $EIDETICA_DB or the user data dir)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (http).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (http).")] = 8765,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant to serve (stdio; over http the API key picks it).")
    ] = None,
    user_id: Annotated[
        str | None,
        typer.Option("--user-id", help="Serve this user only; tools then cannot name another user."),
    ] = None,
    agent_id: Annotated[str | None, typer.Option("--agent-id", help="Agent id stamped on writes.")] = None,
    api_keys: Annotated[
        str | None,
        typer.Option(
            "--api-keys",
            help=f"API keys (http): {_API_KEYS_HELP}. Default $EIDETICA_API_KEYS.",
        ),
    ] = None,
    allowed_host: AllowedHostOption = None,
    session_idle_minutes: Annotated[
        float,
        typer.Option("--session-idle-minutes", help="Close an MCP session idle this long (http).", min=0.01),
    ] = 30.0,
    max_sessions: Annotated[
        int,
        typer.Option("--max-sessions", help="Most MCP sessions open at once; more get 503 (http).", min=1),
    ] = 1000,
) -> None:
    """Serve memory to LLM agents as MCP tools, over stdio or streamable HTTP."""
    import contextlib
    import sys

    from .config import allowed_hosts, redacted_errors
    from .config import api_keys as read_api_keys
    from .model import DEFAULT_TENANT

    try:
        from .server.launch import exposure_warning
        from .server.mcp import McpSettings, run_http, run_stdio
        from .server.tenants import Tenants
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("mcp", "pydantic", "starlette", "uvicorn", "fastapi"):
            raise
        raise UsageError(f"eidetica mcp needs {exc.name}: pip install 'eidetica[server]'") from exc
    if transport not in ("stdio", "http"):
        raise UsageError(f"--transport must be stdio or http, got {transport!r}")
    if transport == "http" and tenant is not None:
        raise UsageError("--tenant is for stdio; over http each API key maps to its tenant (--api-keys)")
    if transport == "stdio" and api_keys is not None:
        raise UsageError("--api-keys is for http; over stdio use --tenant")
    settings = McpSettings(tenant=tenant or DEFAULT_TENANT, user_id=user_id, agent_id=agent_id)
    with redacted_errors():
        keys = read_api_keys(api_keys) if transport == "http" else {}
        hosts = allowed_hosts(allowed_host) if transport == "http" else ()
        # Over stdio, stdout carries the protocol only: anything printed while loading goes to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            tenants = Tenants.open(resolve_db(db), api_keys=keys)
    try:
        if transport == "stdio":
            run_stdio(tenants, settings)
        else:
            err.print(f"serving MCP at http://{host}:{port}/mcp", highlight=False)
            warning = exposure_warning(host, bool(keys), hosts)
            if warning:
                err.print(f"[bold red]WARNING:[/bold red] {escape(warning)}", highlight=False, soft_wrap=True)
            run_http(
                tenants,
                settings,
                host=host,
                port=port,
                allowed_hosts=hosts,
                session_idle_s=session_idle_minutes * 60,
                max_sessions=max_sessions,
            )
    except KeyboardInterrupt:
        pass
    finally:
        tenants.close()


# -- eval ---------------------------------------------------------------------------------------

eval_app = typer.Typer(
    help="Measure evidence recall on LoCoMo or LongMemEval, against BM25 and dense baselines.",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")

BudgetsOption = Annotated[
    str, typer.Option("--budgets", help="Context token budgets to score at, comma-separated.")
]
OutOption = Annotated[Path, typer.Option("--out", help="Folder for report.json, report.md and recall.png.")]
EvalDbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Keep the ingested memory here: a file or postgresql:// URL (default: a temporary file)."
    ),
]
NoBaselinesOption = Annotated[
    bool, typer.Option("--no-baselines", help="Score Eidetica alone, without the baselines.")
]
TokenizerOption = Annotated[
    str,
    typer.Option(
        "--tokenizer",
        help="Count budgets in BERT WordPiece tokens (wordpiece, the unit LoCoMo budgets are usually "
        "stated in) or in the Llama-2 BPE tokens Memory counts by default (llama2).",
    ),
]


def _budgets(text: str) -> list[int]:
    try:
        budgets = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        budgets = []
    if not budgets or budgets[0] < 1:
        raise UsageError(f"--budgets takes positive integers separated by commas, like 200,400; got {text!r}")
    return budgets


def _bar(label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )


def _run_eval(
    dataset: str,
    path: Path,
    ingest: Ingest,
    load_questions: Callable[[Path], Sequence[Question]],
    budgets_text: str,
    out_dir: Path,
    db: str | None,
    no_baselines: bool,
    limit: int | None,
    tokenizer: str,
) -> None:
    """Run an evaluation with progress bars, print the table and write the reports."""
    from .config import embedder_name
    from .eval.report import markdown_table, write_reports
    from .eval.runner import run_evaluation

    with _bar(f"ingesting {dataset}") as ingest_bar, _bar("asking") as ask_bar:
        ingest_task = ingest_bar.add_task("ingest", total=None)
        ask_task = ask_bar.add_task("ask", total=None)
        results, meta = run_evaluation(
            dataset, path, ingest, load_questions,
            budgets=_budgets(budgets_text), db=db, baselines=not no_baselines, limit=limit,
            embedder=embedder_name(), tokenizer=tokenizer,
            ingest_progress=lambda done, total: ingest_bar.update(ingest_task, completed=done, total=total),
            ask_progress=lambda done, total: ask_bar.update(ask_task, completed=done, total=total),
        )  # fmt: skip
    paths = write_reports(results, meta, out_dir)
    out.print(markdown_table(results), markup=False, highlight=False, soft_wrap=True)
    for path_written in paths.values():
        out.print(f"wrote {path_written}", markup=False, highlight=False, soft_wrap=True)


def _advance(bar: Progress, task: TaskID) -> Callable[[int, int], None]:
    """A progress callback that moves ``task`` on ``bar``."""
    return lambda done, total: bar.update(task, completed=done, total=total)


def _llm_endpoint(
    base_url: str | None, model: str | None, api_key: str | None, timeout: float
) -> LLMSettings:
    """The chat model from the options or ``EIDETICA_LLM_*``; an error saying what to set if none."""
    import dataclasses

    from .config import llm_settings

    resolved = llm_settings(base_url, model, api_key)
    if resolved is None:
        raise UsageError(
            "--llm needs a chat model: set EIDETICA_LLM_MODEL, plus EIDETICA_LLM_BASE_URL for a server "
            "other than OpenAI's and EIDETICA_LLM_API_KEY if it needs a key (or pass --llm-model, "
            "--llm-base-url and --llm-api-key)"
        )
    return dataclasses.replace(resolved, timeout=timeout)


def _run_answer_eval(
    path: Path, out_dir: Path, db: str | None, settings: AnswerEvalSettings, endpoint: LLMSettings
) -> None:
    """Answer LoCoMo questions with a chat model, with progress bars; print the table, write reports."""
    import contextlib
    import dataclasses

    from .eval.answer_report import answers_table, summarise, token_ratio, write_answer_reports
    from .eval.qa import run_answer_evaluation
    from .llms.openai import OpenAICompatibleClient

    progress_path = out_dir / "answers.progress.jsonl"
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(OpenAICompatibleClient(endpoint))
        judge = None
        if settings.judge_model and settings.judge_model != endpoint.model:
            judge_settings = dataclasses.replace(endpoint, model=settings.judge_model)
            judge = stack.enter_context(OpenAICompatibleClient(judge_settings))
        ingest_bar = stack.enter_context(_bar("ingesting LoCoMo"))
        ask_bar = stack.enter_context(_bar("answering"))
        try:
            run = run_answer_evaluation(
                path,
                progress_path,
                client,
                settings,
                db=db or out_dir / "answers.db",
                judge_client=judge,
                ingest_progress=_advance(ingest_bar, ingest_bar.add_task("ingest", total=None)),
                ask_progress=_advance(ask_bar, ask_bar.add_task("ask", total=None)),
            )
        except KeyboardInterrupt:
            err.print(
                f"interrupted: the answers so far are kept in {progress_path}; "
                "run the same command again to resume",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(130) from None
    results = summarise(run.records, run.systems)
    paths = write_answer_reports(results, run.meta, out_dir, run.records)
    out.print(answers_table(results), markup=False, highlight=False, soft_wrap=True)
    ratio = token_ratio(results)
    if ratio is not None:
        out.print(f"full-context answer tokens per question: {ratio:g}x Eidetica's", highlight=False)
    for path_written in (*paths.values(), progress_path):
        out.print(f"wrote {path_written}", markup=False, highlight=False, soft_wrap=True)


@eval_app.command("locomo")
@_handled
def eval_locomo(
    path: Annotated[Path, typer.Argument(help="A LoCoMo JSON file such as locomo10.json.")],
    budgets: BudgetsOption = "200,400,1000,2000",
    out_dir: OutOption = Path("eval-report"),
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Keep the ingested memory here, a file or postgresql:// URL (default: a temporary "
            "file; with --llm, answers.db in --out, so that a re-run resumes).",
        ),
    ] = None,
    no_baselines: Annotated[
        bool,
        typer.Option(
            "--no-baselines",
            help="Score Eidetica alone, without the baselines (with --llm: the full context).",
        ),
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N conversations, for quick runs.")
    ] = None,
    tokenizer: TokenizerOption = "wordpiece",
    llm: Annotated[
        bool,
        typer.Option(
            "--llm",
            help="Score answers instead: a chat model answers from Eidetica's context and from the whole "
            "conversation; F1, BLEU-1 and two LLM judges; writes answers.json and answers.md.",
        ),
    ] = False,
    budget: Annotated[
        int, typer.Option("--budget", help="With --llm: Eidetica's context budget per question, in tokens.")
    ] = 1000,
    limit_questions: Annotated[
        int | None,
        typer.Option("--limit-questions", help="With --llm: only the first N questions, for quick runs."),
    ] = None,
    llm_extract: Annotated[
        bool,
        typer.Option(
            "--llm-extract",
            help="With --llm: derive facts and events with the model at ingestion, not rules.",
        ),
    ] = False,
    llm_base_url: Annotated[
        str | None,
        typer.Option(
            "--llm-base-url",
            help="OpenAI-compatible base URL, like http://localhost:11434/v1 "
            "(default $EIDETICA_LLM_BASE_URL, else OpenAI's).",
        ),
    ] = None,
    llm_model: Annotated[
        str | None, typer.Option("--llm-model", help="Model that answers (default $EIDETICA_LLM_MODEL).")
    ] = None,
    llm_api_key: Annotated[
        str | None,
        typer.Option("--llm-api-key", help="API key of the endpoint (default $EIDETICA_LLM_API_KEY)."),
    ] = None,
    judge_model: Annotated[
        str | None,
        typer.Option(
            "--judge-model", help="Model that judges the answers, same endpoint (default: --llm-model)."
        ),
    ] = None,
    llm_timeout: Annotated[
        float, typer.Option("--llm-timeout", help="With --llm: seconds to wait for each model reply.")
    ] = 300.0,
) -> None:
    """Score evidence recall on LoCoMo conversations; each conversation is its own user.

    With --llm, score answers instead: F1, BLEU-1 and two LLM judges, against the full conversation.
    """
    from .eval.datasets import locomo_questions

    if llm:
        from .config import embedder_name
        from .eval.qa import AnswerEvalSettings

        endpoint = _llm_endpoint(llm_base_url, llm_model, llm_api_key, llm_timeout)
        settings = AnswerEvalSettings(
            model=endpoint.model,
            judge_model=judge_model,
            budget=budget,
            full_context=not no_baselines,
            llm_extract=llm_extract,
            limit=limit,
            limit_questions=limit_questions,
            embedder=embedder_name(),
        )
        if tokenizer != "wordpiece":
            raise UsageError("--tokenizer applies to recall evaluation only; answers count with Memory's")
        _run_answer_eval(path, out_dir, db, settings, endpoint)
        return
    given = {
        "--limit-questions": limit_questions is not None,
        "--llm-extract": llm_extract,
        "--llm-base-url": llm_base_url is not None,
        "--llm-model": llm_model is not None,
        "--llm-api-key": llm_api_key is not None,
        "--judge-model": judge_model is not None,
        "--budget": budget != 1000,
        "--llm-timeout": llm_timeout != 300.0,
    }
    if any(given.values()):
        named = ", ".join(name for name, used in given.items() if used)
        raise UsageError(f"{named} only apply to answer evaluation: add --llm")

    def ingest(memory: Memory, source: Path, progress: Callable[[int, int], None]) -> object:
        return memory.import_file(source, format="locomo", progress=progress)

    _run_eval("LoCoMo", path, ingest, locomo_questions, budgets, out_dir, db, no_baselines, limit, tokenizer)


@eval_app.command("longmemeval")
@_handled
def eval_longmemeval(
    path: Annotated[Path, typer.Argument(help="A LongMemEval JSON file such as longmemeval_s.json.")],
    budgets: BudgetsOption = "200,400,1000,2000",
    out_dir: OutOption = Path("eval-report"),
    db: EvalDbOption = None,
    no_baselines: NoBaselinesOption = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N items (questions), for quick runs.")
    ] = None,
    tokenizer: TokenizerOption = "wordpiece",
) -> None:
    """Score evidence recall on LongMemEval; each item's haystack is its own user."""
    from .eval.longmemeval import ingest_longmemeval, longmemeval_questions

    _run_eval(
        "LongMemEval",
        path,
        ingest_longmemeval,
        longmemeval_questions,
        budgets,
        out_dir,
        db,
        no_baselines,
        limit,
        tokenizer,
    )


@eval_app.command("truth")
@_handled
def eval_truth(
    db_dir: Annotated[
        Path | None,
        typer.Option("--db-dir", help="Keep each scenario's SQLite file here (default: temporary files)."),
    ] = None,
    postgres: Annotated[
        str | None,
        typer.Option(
            "--postgres",
            help="Run on this PostgreSQL server instead: a postgresql:// URL whose user may create "
            "databases; each scenario gets a fresh database, dropped after.",
        ),
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option("--category", help="Only this category (repeat, or separate with commas)."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for truth.json.")] = Path("eval-report"),
    scenarios_file: Annotated[
        Path | None,
        typer.Option("--scenarios", help="Run these scenarios (JSONL, the bundled file's format) instead."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check that memory keeps the truth over time: changes, corrections, deletions, as_of, forgetting.

    Runs the bundled scenarios, each in a fresh memory, through the public API; prints scenarios
    and checks passed per category and writes every check's result to truth.json.
    """
    from .config import embedder_name
    from .embedders import load_embedder
    from .eval import truth

    scenarios = truth.select(truth.load_scenarios(scenarios_file), category)
    with (
        truth.memories(load_embedder(embedder_name()), db_dir=db_dir, postgres=postgres) as make,
        _bar("truth scenarios") as bar,
    ):
        report = truth.run_scenarios(make, scenarios, progress=_advance(bar, bar.add_task("run", total=None)))
    path = truth.write_report(report, out_dir)
    if as_json:
        _print_json(truth.report_json(report))
        return
    out.print(truth.truth_table(report))
    out.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)


def main() -> None:
    """Console entry point."""
    app()
