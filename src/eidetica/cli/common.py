"""What every command shares: the Typer ``app`` and its ``--version`` callback, the consoles
``out`` and ``err``, the handler that prints library warnings, the one error handler ``_handled``
with the library's words turned into the CLI's (``_cli_words``), ``_command`` that registers a
command behind it, opening the memory (``_open``), progress bars, and printing results as JSON or
in a command's own form. The options the commands share are in ``options``."""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .. import __version__, wire
from ..config import resolve_db
from ..errors import EideticaError, UsageError
from ..memory import EXTRACTION_FAILED, Memory
from ..model import Hit, MemoryUnit
from .options import DbOption, JsonOption

if TYPE_CHECKING:
    from ..ingest.llm_extract import LLMExtractor
    from ..ingest.llm_reconcile import LLMReconciler
    from ..llms.openai import OpenAICompatibleClient

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
            _print_warning(record.getMessage())


def _print_warning(message: str) -> None:
    """One yellow ``warning:`` line on stderr, whether the library logged it or a result carried it."""
    err.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
#: The exit status of a run stopped with Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130
#: What ``--llm`` asks for when no chat model is configured (``eval`` adds its own options).
NEEDS_CHAT_MODEL = (
    "--llm needs a chat model: set EIDETICA_LLM_MODEL, plus EIDETICA_LLM_BASE_URL for a server "
    "other than OpenAI's and EIDETICA_LLM_API_KEY if it needs a key"
)


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
    "derived_from": "--derived-from",
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


def _command(name: str | None = None, *, group: typer.Typer = app) -> Callable[[F], F]:
    """Register a command on ``group`` (the top level unless named) behind ``_handled``: every
    command goes through this one decorator, so none misses the error handler. A command whose
    first parameter is ``run`` takes ``--db`` and ``--json`` too (see ``Run``)."""

    def register(func: F) -> F:
        return group.command(name)(_handled(_given_run(func)))

    return register


@dataclass(frozen=True)
class Run:
    """What a command that opens a store is given: the store ``--db`` names, and whether ``--json``
    asks for JSON. ``_command`` adds both options to every such command, so each states neither."""

    db: str | None = None
    as_json: bool = False

    def open(self, *, llm_extract: bool = False) -> Memory:
        """The memory in ``--db`` (see ``_open``)."""
        return _open(self.db, llm_extract=llm_extract)

    def show(self, value: T, show: Callable[[T], object]) -> None:
        """Print what the command returns: JSON with ``--json``, else as ``show`` prints it."""
        _print_shown(value, self.as_json, show)

    def done(self, value: Any, summary: str) -> None:
        """Print what the command did: JSON with ``--json``, else the one-line ``summary``."""
        _print_result(value, self.as_json, summary)

    def tracking(
        self, label: str, task: str
    ) -> contextlib.AbstractContextManager[Callable[[int, int], None]]:
        """A progress bar (see ``_tracking``), wiped when done under ``--json``."""
        return _tracking(label, task, transient=self.as_json)


#: The options every command given a ``Run`` takes, after its own.
_RUN_OPTIONS = (
    inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=DbOption),
    inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonOption),
)


def _given_run(func: F) -> F:
    """``func`` as Typer should read it: a first parameter ``run`` becomes the options ``--db``
    and ``--json`` (``_RUN_OPTIONS``), handed back to ``func`` as one ``Run``."""
    signature = inspect.signature(func, eval_str=True)
    own = list(signature.parameters.values())
    if not own or own[0].name != "run":
        return func

    @functools.wraps(func)
    def call(*args: Any, db: str | None = None, as_json: bool = False, **kwargs: Any) -> Any:
        return func(Run(db, as_json), *args, **kwargs)

    shown = signature.replace(parameters=[*own[1:], *_RUN_OPTIONS])
    call.__signature__ = shown  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in shown.parameters.values()}
    return call  # type: ignore[return-value]


def _warn(warnings: list[str], llm: bool) -> None:
    """Print a result's warnings; exit 1 (what was read is stored) when ``--llm`` extraction failed."""
    for warning in warnings:
        _print_warning(warning)
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
    # Installed when a command runs, not on import: importing the CLI leaves logging as it was.
    # With a handler on "eidetica", Python's last-resort handler stays silent: one line per event.
    library_log = logging.getLogger("eidetica")
    if not any(isinstance(h, _LogToConsole) for h in library_log.handlers):
        library_log.addHandler(_LogToConsole(logging.WARNING))


def _open(db: str | None, *, llm_extract: bool = False) -> Memory:
    """Open the memory; the LLM from ``EIDETICA_LLM_*`` answers, and with ``--llm`` also extracts
    and reconciles (the rules back it up where it fails); decay from ``EIDETICA_DECAY``."""
    from ..config import decay, embedder_name, llm_settings, personal_data
    from ..guard.policy import policy_of
    from ..model import DEFAULT_TENANT

    embedder = embedder_name()
    policy = policy_of(DEFAULT_TENANT, personal_data())
    settings = llm_settings()
    if settings is None and llm_extract:
        raise UsageError(NEEDS_CHAT_MODEL)
    client: OpenAICompatibleClient | None = None
    extractor: LLMExtractor | None = None
    reconciler: LLMReconciler | None = None
    if settings is not None:  # the LLM's modules load only when one is configured
        from ..ingest.llm_extract import LLMExtractor
        from ..ingest.llm_reconcile import LLMReconciler
        from ..llms.openai import OpenAICompatibleClient

        client = OpenAICompatibleClient(settings)
        if llm_extract:
            extractor, reconciler = LLMExtractor(client), LLMReconciler(client)
    return Memory(
        resolve_db(db),
        embedder=embedder,
        llm=client,
        extractor=extractor,
        reconciler=reconciler,
        personal_data=policy,
        decay=decay(),
    )


def _progress(label: str, *, transient: bool = False) -> Progress:
    """A progress bar on stderr: the label, the bar, done of total and the time taken; shown on a
    terminal only, and wiped when done if ``transient`` (under ``--json`` output, say)."""
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=transient,
        disable=not err.is_terminal,
    )


def _advance(bar: Progress, task: TaskID) -> Callable[[int, int], None]:
    """A progress callback that moves ``task`` on ``bar``."""
    return lambda done, total: bar.update(task, completed=done, total=total)


@contextlib.contextmanager
def _tracking(label: str, task: str, *, transient: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A progress bar (see ``_progress``) with one task, as the callback a ``progress=`` takes."""
    with _progress(label, transient=transient) as bar:
        yield _advance(bar, bar.add_task(task, total=None))


def _print_json(value: Any) -> None:
    """Print what the library returned in the one JSON form (``wire.to_wire``)."""
    print(json.dumps(wire.to_wire(value), ensure_ascii=False, indent=2, default=str))


def _print_shown(value: T, as_json: bool, show: Callable[[T], object]) -> None:
    """Print what a command returns: ``value`` as JSON with ``--json``, else ``show`` prints it for
    a person (a table, a summary)."""
    if as_json:
        _print_json(value)
    else:
        show(value)


def _print_result(value: Any, as_json: bool, summary: str) -> None:
    """Print what a command did: ``value`` as JSON with ``--json``, else the one-line ``summary``."""
    _print_shown(value, as_json, lambda _: out.print(summary))


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
        status = ["(archived)"] if unit.status == "archived" else []
        cell.append("\n" + " ".join([unit.kind, unit.id, *status, *origin]), style="dim")
        table.add_row(str(i), f"{hit.score:.3f}", _day(unit.occurred_at or unit.recorded_at), cell)
    return table
