"""The one contract of Eidetica's operations, which every face offers alike.

``Memory`` (in process) and ``Client`` (over HTTP) both declare ``MemoryAPI``, so mypy holds
their signatures to it; the REST request models, the CLI commands and the MCP tools are held to
it by ``tests/test_faces.py``, which fails when one face lacks a parameter another has. Defaults
live here as named constants, so each face states them once, by name.
"""

from __future__ import annotations

import builtins
import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from . import model
from .closing import Closing

#: Hits a search returns unless asked for another number.
DEFAULT_K = 10
#: Tokens of evidence ``context`` packs: about a paragraph, enough for most single questions.
DEFAULT_CONTEXT_BUDGET = 400
#: Tokens of evidence ``answer`` gives the model: more than ``context``, since the model reads
#: it all and a missed date costs a wrong answer.
DEFAULT_ANSWER_BUDGET = 1000
#: Units ``list`` returns per page.
DEFAULT_LIST_LIMIT = 100
#: Entities ``entities`` returns unless asked for another number: the most mentioned.
DEFAULT_ENTITY_LIMIT = 100
#: Tokens of a session's ``summary``: a short paragraph.
DEFAULT_SUMMARY_BUDGET = 200

Messages = str | dict[str, Any] | Sequence[dict[str, Any]]


def split_commas(values: Iterable[str]) -> list[str]:
    """A list option as every face reads it: repeated (``--kind fact --kind event``), separated
    by commas (``?kinds=fact,event``), or both; blanks dropped."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


Moment = datetime | str

P = ParamSpec("P")
R = TypeVar("R")


def conforms(
    operation: Callable[Concatenate[Any, P], R],
) -> Callable[[Callable[..., R]], Callable[Concatenate[Any, P], R]]:
    """Give a method that reads its arguments by name the signature of one of the contract's
    ``operation``s, so that it is written once: a call is bound as Python binds one (a misspelt or
    missing argument is the same ``TypeError``), defaults are filled in, and the method receives
    every argument as a keyword. ``inspect.signature``, help and type checkers see the contract's.

    For a face whose requests carry the arguments under the contract's names (``Client``: the
    REST request models are held to those names by ``tests/test_faces.py``).
    """
    signature = inspect.signature(operation)

    def decorate(method: Callable[..., R]) -> Callable[Concatenate[Any, P], R]:
        def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            del arguments[next(iter(signature.parameters))]  # the instance
            return method(self, **arguments)

        functools.update_wrapper(call, method)
        call.__signature__ = signature  # type: ignore[attr-defined]
        return call

    return decorate


class MemoryAPI(Closing, Protocol):
    """What a long-term memory offers, whichever face it is reached through.

    Reads are confined to one user (``user_id``; the default user when None); ``agent_id`` and
    ``session_id`` narrow further. See ``Memory`` for what each operation does.
    """

    def add(
        self,
        messages: Messages,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        timestamp: datetime | str | float | None = None,
        infer: bool = True,
        user_name: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> model.AddResult:
        """Store messages verbatim and derive facts and events from them, in one transaction;
        ``metadata`` tags every message (and what is derived from it)."""
        ...

    def import_file(
        self,
        path: str | Path,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        format: str | None = None,
        skip_invalid: bool = False,
        infer: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> model.ImportReport:
        """Import a conversation file; re-importing skips the turns already stored."""
        ...

    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        k: int = DEFAULT_K,
        kinds: Iterable[model.UnitKind] | None = None,
        since: Moment | None = None,
        until: Moment | None = None,
        as_of: Moment | None = None,
        metadata: dict[str, Any] | None = None,
        include_archived: bool = False,
    ) -> builtins.list[model.Hit]:
        """The units that best answer ``query``, best first; ``metadata`` keeps only the units
        tagged with each of its keys and an equal value; ``include_archived`` searches the units
        that faded too."""
        ...

    def context(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        budget_tokens: int = DEFAULT_CONTEXT_BUDGET,
        as_of: Moment | None = None,
        metadata: dict[str, Any] | None = None,
        include_archived: bool = False,
    ) -> model.Context:
        """The best evidence for ``query`` packed into ``budget_tokens``, rendered for a prompt;
        ``include_archived`` reads the units that faded too."""
        ...

    def answer(
        self,
        question: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        budget_tokens: int = DEFAULT_ANSWER_BUDGET,
        as_of: Moment | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> model.Answer:
        """Answer ``question`` from memory with the configured LLM, citing the units it used."""
        ...

    def get(self, unit_id: str, *, user_id: str | None = None) -> model.MemoryUnit:
        """One unit by id (a deleted one too, with ``status`` "deleted")."""
        ...

    def list(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        kinds: Iterable[model.UnitKind] | None = None,
        since: Moment | None = None,
        until: Moment | None = None,
        derived_from: str | None = None,
        include_deleted: bool = False,
        limit: int | None = DEFAULT_LIST_LIMIT,
        offset: int = 0,
        metadata: dict[str, Any] | None = None,
        include_archived: bool = False,
    ) -> builtins.list[model.MemoryUnit]:
        """The user's active units in time order; ``since`` and ``until`` bound when they
        happened as in ``search``, ``derived_from`` keeps what was drawn from one unit, and
        ``include_deleted`` adds the deleted ones (``status`` "deleted"), ``include_archived``
        the ones that faded (``status`` "archived")."""
        ...

    def update(
        self,
        unit_id: str,
        text: str,
        *,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> model.MemoryUnit:
        """A derived unit's new version; the old one stays in its history. Turns never change."""
        ...

    def delete(self, unit_id: str, *, user_id: str | None = None) -> model.MemoryUnit:
        """Hide a unit from every read; the deletion is recorded in its history."""
        ...

    def history(self, unit_id: str, *, user_id: str | None = None) -> builtins.list[model.HistoryEntry]:
        """Every version of a unit, oldest first."""
        ...

    def entities(
        self,
        *,
        user_id: str | None = None,
        kind: model.EntityKind | None = None,
        limit: int | None = DEFAULT_ENTITY_LIMIT,
    ) -> builtins.list[model.Entity]:
        """The people, pets, places, organisations and other things the user's memory mentions,
        most mentioned first; ``kind`` keeps one kind."""
        ...

    def entity(self, name: str, *, user_id: str | None = None) -> model.EntityCard:
        """What memory holds about one entity (by name, key or alias): the units that mention it,
        current facts first, the relations they state and the entities mentioned with it."""
        ...

    def related(self, unit_id: str, *, user_id: str | None = None) -> builtins.list[model.Link]:
        """The units linked to one unit: its turns, what was drawn from it, what it replaced or
        was replaced by, and units mentioning the same entities."""
        ...

    def profile(self, *, user_id: str | None = None, name: str | None = None) -> model.Profile:
        """Who a person is as memory holds it now (the user themself unless ``name`` says whom):
        their current attributes, relationships, preferences and activities, a quoted unit each."""
        ...

    def summary(
        self, session_id: str, *, user_id: str | None = None, budget_tokens: int = DEFAULT_SUMMARY_BUDGET
    ) -> model.Summary:
        """What one session was about: its most central current statements within ``budget_tokens``."""
        ...

    def quarantined(self, *, user_id: str | None = None) -> builtins.list[model.MemoryUnit]:
        """Units held back for review (``guard.quarantine``), oldest first."""
        ...

    def review(self, unit_id: str, *, approve: bool, user_id: str | None = None) -> model.MemoryUnit:
        """Decide on a quarantined unit: approve it back into every read, or reject (delete) it."""
        ...

    def maintain(
        self,
        *,
        user_id: str | None = None,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> model.MaintainReport:
        """Archive what has faded (unused for long, by the memory's decay), of one user or of
        every user; ``dry_run`` only counts it. Archived units are kept, out of default reads."""
        ...

    def restore(self, unit_id: str, *, user_id: str | None = None) -> model.MemoryUnit:
        """Bring an archived unit back into every read."""
        ...

    def forget(self, *, user_id: str, compact: bool = False) -> int:
        """Erase everything of one user, from the store's files too; how many units went."""
        ...

    def users(self) -> builtins.list[str]:
        """The ids of the users with memories in this tenant, in order."""
        ...

    def stats(self, *, user_id: str | None = None) -> model.Stats:
        """Unit counts for one user, or for the whole tenant without ``user_id``."""
        ...

    def close(self) -> None:
        """Release what the memory holds (a store, a connection pool); a ``with`` block closes it."""
        ...
