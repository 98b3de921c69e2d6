"""The options and arguments that several commands declare, each written once as an
``Annotated`` alias (``--user``, ``--db``, ``--json``, ``--kind``, ...), with the callbacks and
readers that check their values before any store is opened; and ``_scope``, which hands
``--user``, ``--agent`` and ``--session`` to a ``Memory`` method under the contract's names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypedDict, get_args

import typer

from ..api import split_commas
from ..errors import UsageError
from ..metadata import from_json
from ..model import UnitKind

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


def _numbers(option: str, text: str) -> list[int]:
    """Read ``option``'s whole numbers separated by commas, like ``200,400``; blanks dropped,
    anything else a ``UsageError`` that names the option."""
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        numbers = [-1]
    if any(number < 0 for number in numbers):
        raise UsageError(f"{option} takes whole numbers separated by commas, like 200,400; got {text!r}")
    return numbers


def _metadata(value: str | None) -> dict[str, Any] | None:
    """Read ``--metadata`` as a JSON object, before any store is opened: a typo changes nothing."""
    try:
        return from_json("--metadata", value)
    except UsageError as exc:
        raise typer.BadParameter(str(exc).removeprefix("--metadata "), param_hint="'--metadata'") from None


UnitIdArgument = Annotated[str, typer.Argument(help="A unit id.")]
DerivedIdArgument = Annotated[str, typer.Argument(help="A derived unit's id.")]
HeldIdArgument = Annotated[str, typer.Argument(help="A quarantined unit's id (see quarantine).")]
ArchivedIdArgument = Annotated[
    str, typer.Argument(help="An archived unit's id (see list --include-archived).")
]
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
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Only what happened at or after this time (ISO 8601).")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Only what happened before this time (ISO 8601).")
]
IncludeArchivedOption = Annotated[
    bool,
    typer.Option(
        "--include-archived", help="Also read the units that faded and were archived (see maintain)."
    ),
]
MetadataFilterOption = Annotated[
    str | None,
    typer.Option(
        "--metadata",
        help="Only units tagged with each key of this JSON object and an equal value, "
        'like \'{"project": "apollo"}\'.',
    ),
]
LLMOption = Annotated[
    bool,
    typer.Option(
        "--llm",
        help="Derive facts and events with the LLM set in EIDETICA_LLM_BASE_URL / EIDETICA_LLM_MODEL "
        "instead of rules, and let it decide which stored ones they update, delete or restate (the "
        "turns are stored either way; the rules decide wherever it fails).",
    ),
]


class Scope(TypedDict):
    """Whose memory a command reads or writes, in the names of the ``Memory`` methods."""

    user_id: str | None
    agent_id: str | None
    session_id: str | None


def _scope(user: str | None, agent: str | None, session: str | None) -> Scope:
    """``--user``, ``--agent`` and ``--session`` as keyword arguments of the method they narrow."""
    return {"user_id": user, "agent_id": agent, "session_id": session}
