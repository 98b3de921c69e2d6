"""Hypothesis: whatever text, timestamps and ids ``Memory.add`` and ``Memory.update`` are given, nothing
stored is lost.

A state machine runs sequences of adds and updates on a real SQLite file with the real embedder.
Each call either succeeds or raises ``UsageError`` (an unknown id may also be ``NotFoundError``),
never anything else; a refused call leaves ``list()`` and ``stats()`` as they were; an accepted add
stores every message verbatim or reports it skipped; and after every step each accepted turn still
reads back with its text, and each derived unit with its latest accepted text.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from eidetica import Memory
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.errors import NotFoundError, UsageError
from eidetica.model import DEFAULT_USER, MemoryUnit

#: Sentences the rule extractor derives facts and events from, so updates have targets.
SENTENCES = (
    "I live in Paris.",
    "I moved to Berlin in 2020.",
    "My name is Sam.",
    "I adopted a dog named Rex last Saturday.",
    "I work as a nurse at the city hospital.",
    "I love hiking.",
)
#: Any code point: letters, marks, controls (NUL too), lone surrogates, odd spaces.
CHARS = st.one_of(
    st.characters(),
    st.characters(categories=["Cs"]),
    st.sampled_from("\x00\t\n\r \u00a0\u2028\u3000\u200b\ufeff\u202e"),
)
WHITESPACE = st.text(st.sampled_from(" \t\n\r\u00a0\u2028\u3000"), max_size=4)


def mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` four times in five, so that most calls get past validation to the store.

    (``one_of`` would weigh each of its strategies' own alternatives alike instead.)
    """
    return st.integers(0, 4).flatmap(lambda pick: odd if pick == 4 else usual)


SENTENCE = st.sampled_from(SENTENCES)
TEXTS = mostly(
    SENTENCE | st.builds("{} {}".format, SENTENCE, st.text(CHARS, max_size=8)),
    st.one_of(
        st.text(CHARS, max_size=30),
        WHITESPACE,
        # Long: one a store must take whole, one over any sane per-turn limit.
        st.builds(
            lambda char, size: char * size,
            st.sampled_from("aé€😀\ud800"),
            st.sampled_from((20_000, 4_000_001)),
        ),
    ),
)
ISO_EDGES = (
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59.999999+00:00",
    "0001-01-01T00:00:00+14:00",
    "1000-01-01T00:00:00+01:00",
    "0999-12-31",
    "10000-01-01",
    "2024-02-30",
    "2024-03-04T25:00:00",
    "2024-03-04T09:15:00\x00",
    "",
    " ",
    "now",
)
OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
RECENT = st.datetimes(datetime(1990, 1, 1), datetime(2030, 1, 1), timezones=st.none() | OFFSETS)
ANY_TIME = st.datetimes(timezones=st.none() | OFFSETS)
TIMESTAMPS = mostly(
    st.none() | RECENT.map(datetime.isoformat) | RECENT | RECENT.map(lambda t: t.timestamp()),
    st.one_of(
        ANY_TIME.map(datetime.isoformat),
        ANY_TIME,
        st.sampled_from(ISO_EDGES),
        st.text(CHARS, max_size=12),
        st.floats(),
        st.sampled_from((1e11, -1e11, 1e308, -0.0, 253402300800.0, 253402300799.0, -62135596800.0)),
        st.integers(),
    ),
)
ODD_IDS = st.one_of(
    st.text(CHARS, max_size=8),
    st.sampled_from(("", " ", "\x00", "a\x00b", "x" * 256, "x" * 257, "\ud800", "é/../%", "'; --")),
)
USERS = mostly(st.none() | st.sampled_from(("ana", "bo", DEFAULT_USER)), ODD_IDS)
SESSIONS = mostly(st.none() | st.just("s1"), ODD_IDS)
AGENTS = mostly(st.none() | st.just("bot"), ODD_IDS)
REFS = mostly(st.none() | st.sampled_from(("m1", "m2", "7")) | st.integers(), ODD_IDS)
MESSAGES = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(("user", "assistant")), "content": TEXTS},
        optional={"id": REFS, "timestamp": TIMESTAMPS, "name": st.sampled_from(("Sam", "Ana"))},
    ),
    min_size=1,
    max_size=3,
)
METADATA = mostly(
    st.none() | st.fixed_dictionaries({"source": st.sampled_from(("chat", "import"))}),
    st.dictionaries(
        st.text(CHARS, max_size=4),
        st.one_of(st.integers(), st.floats(), st.text(CHARS, max_size=4), st.none()),
        max_size=2,
    ),
)


#: The user, agent and session ids of one add.
Ids = tuple[str | None, str | None, str | None]


@dataclasses.dataclass
class Known:
    """What the model expects one stored unit to read."""

    text: str
    kind: str
    user: str


class MemoryMachine(RuleBasedStateMachine):
    """Adds and updates on one fresh SQLite file, against a model of what must be stored."""

    def __init__(self, embedder: WordLlamaEmbedder, root: Path) -> None:
        super().__init__()
        self.memory = Memory(Path(tempfile.mkdtemp(dir=root)) / "memory.db", embedder=embedder)
        self.units: dict[str, Known] = {}
        self.refs: dict[str, set[str]] = {}  # refs stored per user

    def teardown(self) -> None:
        self.memory.close()

    # -- rules --------------------------------------------------------------------------------

    @rule(
        text=TEXTS,
        ids=st.tuples(USERS, AGENTS, SESSIONS),
        timestamp=TIMESTAMPS,
        infer=st.booleans(),
    )
    def add_text(self, text: str, ids: Ids, timestamp: Any, infer: bool) -> None:
        self._add(text, [{"content": text}], ids, timestamp, infer)

    @rule(
        messages=MESSAGES,
        ids=st.tuples(USERS, AGENTS, SESSIONS),
        timestamp=TIMESTAMPS,
        infer=st.booleans(),
    )
    def add_messages(self, messages: list[dict[str, Any]], ids: Ids, timestamp: Any, infer: bool) -> None:
        self._add(messages, messages, ids, timestamp, infer)

    @precondition(lambda self: any(known.kind != "turn" for known in self.units.values()))
    @rule(data=st.data(), text=TEXTS, metadata=METADATA)
    def update_derived(self, data: st.DataObject, text: str, metadata: dict[str, Any] | None) -> None:
        derived = sorted(i for i, known in self.units.items() if known.kind != "turn")
        self._update(data, data.draw(st.sampled_from(derived), label="unit_id"), text, metadata)

    @rule(data=st.data(), text=TEXTS, metadata=METADATA)
    def update_turn_or_unknown(self, data: st.DataObject, text: str, metadata: dict[str, Any] | None) -> None:
        turns = sorted(i for i, known in self.units.items() if known.kind == "turn")
        ids = st.sampled_from(turns) | ODD_IDS if turns else ODD_IDS
        self._update(data, data.draw(ids, label="unit_id"), text, metadata)

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def everything_accepted_reads_back(self) -> None:
        for unit_id, known in self.units.items():
            unit = self.memory.get(unit_id)
            assert unit.text == known.text, f"{known.kind} {unit_id} reads {unit.text!r}, not {known.text!r}"
            assert unit.kind == known.kind and unit.scope.user_id == known.user

    # -- helpers ------------------------------------------------------------------------------

    def _add(
        self,
        messages: str | list[dict[str, Any]],
        inputs: list[dict[str, Any]],
        ids: Ids,
        timestamp: Any,
        infer: bool,
    ) -> None:
        user_id, agent_id, session_id = ids
        before = self.snapshot()
        try:
            result = self.memory.add(
                messages,
                user_id=user_id,
                agent_id=agent_id,
                session_id=session_id,
                timestamp=timestamp,
                infer=infer,
            )
        except UsageError as exc:
            assert self.snapshot() == before, f"a refused add changed the store: {exc}"
            return
        owner = DEFAULT_USER if user_id is None else user_id
        seen = self.refs.setdefault(owner, set())
        stored: list[str] = []
        skipped: list[str] = []
        for message in inputs:
            ref = None if message.get("id") is None else str(message["id"])
            if ref is not None and ref in seen:
                skipped.append(ref)
                continue
            if ref is not None:
                seen.add(ref)
            stored.append(message["content"])
        # Every message is stored verbatim, in order, or reported skipped for its known id.
        assert [turn.text for turn in result.turns] == stored
        assert result.skipped_refs == skipped
        for unit in [*result.turns, *result.derived]:
            assert unit.id not in self.units, f"add reused the id {unit.id}"
            self.units[unit.id] = Known(unit.text, unit.kind, unit.scope.user_id)
        for unit in result.revised:
            assert unit.id in self.units and unit.text == self.units[unit.id].text, (
                "a revision changed a text"
            )

    def _update(self, data: st.DataObject, unit_id: str, text: str, metadata: dict[str, Any] | None) -> None:
        owner = self.units[unit_id].user if unit_id in self.units else None
        user_id = data.draw(mostly(st.sampled_from((None, owner)), USERS), label="user_id")
        before = self.snapshot()
        try:
            unit = self.memory.update(unit_id, text, user_id=user_id, metadata=metadata)
        except NotFoundError as exc:
            assert unit_id not in self.units or (user_id is not None and user_id != owner), (
                f"update said a stored unit is not there: {exc}"
            )
            assert self.snapshot() == before, f"a refused update changed the store: {exc}"
            return
        except UsageError as exc:
            assert self.snapshot() == before, f"a refused update changed the store: {exc}"
            return
        assert unit_id in self.units, "update accepted an id nothing stored"
        assert self.units[unit_id].kind != "turn", "update changed a verbatim turn"
        assert unit.id == unit_id and unit.text == text
        self.units[unit_id].text = text

    def snapshot(self) -> tuple[Any, ...]:
        """What a refused call must leave as it was: the tenant's counts (a write under any user
        changes them) and every unit of the users that hold some."""
        stats = self.memory.stats()
        counts = (stats.units_by_kind, stats.deleted, stats.users, stats.sessions, stats.unembedded)
        users = sorted({known.user for known in self.units.values()})
        return counts, {user: [_row(u) for u in self.memory.list(user_id=user, limit=None)] for user in users}


def _row(unit: MemoryUnit) -> tuple[Any, ...]:
    # Metadata as JSON text: a NaN in it never equals itself as a float.
    metadata = json.dumps(unit.metadata, sort_keys=True, default=repr)
    return (unit.id, unit.kind, unit.text, unit.status, unit.version, unit.valid_to, metadata)


def test_adds_and_updates_never_lose_what_was_stored(embedder: WordLlamaEmbedder, tmp_path: Path) -> None:
    run_state_machine_as_test(
        lambda: MemoryMachine(embedder, tmp_path),
        settings=settings(
            max_examples=100,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,
            database=None,
            # No explain phase: it replays every failure many more times for little news.
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
