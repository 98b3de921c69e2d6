"""Reconciliation: new derived units against what the user's memory already holds.

Runs on every add, with or without an LLM, before anything is written; its plan is stored in the
same transaction as the new units.

- A restatement of a current fact (same ``dedupe_key``) is not added again: the stored unit gains
  the new turns as ``sources`` and counts the mention, so five facts said fifteen times stay five
  units with fifteen sources each.
- A new value for a claim that holds one value at a time ("Alice's manager is Bob" after "... is
  Carol", "I moved from Lisbon to Oslo" after "I live in Lisbon"; see ``keys.analyse``) closes the
  old unit's validity (``valid_to``) and links the two (``supersedes`` / ``superseded_by`` in
  metadata). So does a retraction ("I gave up coffee" closes "Sam drinks coffee every morning"),
  and a changed value of any relation when the statement says it changed ("now I drive a Tesla").
  Both stay readable, in ``history`` and by ``as_of`` searches. When the new statement is older
  than the stored one (an import out of order), it is the new unit that arrives closed.
- A statement that says it changed something the claims cannot name ("Since March, home has been a
  flat in Bilbao" after "I've been living in Valencia") closes the speaker's older fact sharing
  the most of its topic (``topics``); the facts it may close are looked up by its topic words.
- Nothing is deleted.

Candidates are found through the lexical index: every derived unit's indexed text carries a
marker word for its dedupe key and one for each relation it claims, so one query per add finds
every unit the batch could restate or supersede, however large the memory; a second query finds
the facts that hold a retracted value.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from ..errors import LLMError
from ..guard.quarantine import flagged
from ..guard.trust import may_replace
from ..metadata import MENTIONED, MENTIONS, times_said
from ..model import DERIVED_KINDS, MemoryUnit, Scope, UnitKind
from ..retrieve.query import MAX_QUERY_TERMS, lexical_terms, query_terms
from ..storage import Revision, RevisionOp, Store, UnitFilter
from .claims import Claim, Statement, analyse, holds, subject_of
from .keys import dedupe_key
from .names import speaker_phrase
from .topics import (
    Cue,
    best_rival,
    change_cue,
    corrects,
    holds_a_value,
    lookup_words,
    overlap,
    replacing_cue,
    said_wrong,
    states,
    topic,
)

log = logging.getLogger("eidetica")


@dataclass(frozen=True)
class Decision:
    """What a reconciler (a model) decided for one new unit against the stored ones: ``add`` it
    as new, ``update`` (it replaces ``target``), ``delete`` (it negates ``target``; both close
    ``target`` and keep the new unit) or ``none`` (it restates ``target``: a mention).

    A model adds to what the rules decide and never undoes it: an ``add`` does not keep a fact
    the rules found replaced (a small model answers ADD where it is unsure)."""

    action: Literal["add", "update", "delete", "none"]
    target: str | None = None


class Reconciler(Protocol):
    """Decides, in one call per batch, what new units do to the stored units most like them.

    ``candidates`` are the user's current units the rules found plus the nearest by words;
    the result maps new unit ids to decisions. A unit it says nothing about is left to the rules,
    and so is the whole batch when it raises ``LLMError``.
    """

    def decide(
        self, candidates: Sequence[MemoryUnit], new: Sequence[MemoryUnit]
    ) -> Mapping[str, Decision]: ...


@dataclass(frozen=True)
class Plan:
    """What an add writes: the derived units that are really new, and revisions of stored ones."""

    new: list[MemoryUnit]
    revisions: list[Revision]


def marker_words(unit: MemoryUnit) -> list[str]:
    """The index words that let reconciliation find this unit again (derived units only)."""
    if unit.kind not in DERIVED_KINDS:
        return []
    claims = _statement(unit).claims
    heads = [
        c.head or c.key for c in claims if c.head is not None or c.bare
    ]  # "team lead" meets "our team lead"
    keys = dict.fromkeys([c.key for c in claims] + [f"~{head}" for head in heads])
    return [_marker("k", dedupe_key(unit.text))] + [_marker("s", key) for key in keys]


def _marker(kind: str, text: str) -> str:
    # Letters only: survives every tokenizer and stemmer unchanged, and matches nothing else.
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    return "zq" + kind + digest.translate(str.maketrans("0123456789", "ghijklmnop"))


def plan(
    store: Store,
    scope: Scope,
    derived: Sequence[MemoryUnit],
    reconciler: Reconciler | None = None,
    turns: Sequence[MemoryUnit] = (),
) -> Plan:
    """Decide which of ``derived`` (one user's new units, in order) are new and what changes;
    a ``reconciler``'s restatements, updates and deletions add to the rules' decisions (the rules
    decide alone where it fails). ``turns`` are those ``derived`` came from (see ``reconcile``)."""
    if not derived:
        return Plan([], [])
    stored = _current_units(store, scope, derived, turns)
    if reconciler is not None:
        stored = _with_neighbours(store, scope, derived, stored)
    return reconcile(stored, derived, ask(reconciler, stored, derived), turns)


def ask(
    reconciler: Reconciler | None, candidates: Sequence[MemoryUnit], new: Sequence[MemoryUnit]
) -> Mapping[str, Decision]:
    """The reconciler's decisions, or none (the rules decide) without one or when it fails."""
    if reconciler is None or not new:
        return {}
    try:
        return reconciler.decide(candidates, new)
    except LLMError as exc:
        log.warning("model reconciliation failed, the rules decide: %s", exc)
        return {}


class _Book:
    """The current units reconciliation compares against, indexed by dedupe key and claim key."""

    def __init__(self, turns: Sequence[MemoryUnit] = (), derived: Sequence[MemoryUnit] = ()) -> None:
        self.said = {t.id: t.text for t in turns}  # what the new units were extracted from
        self.siblings: dict[str, list[MemoryUnit]] = {}  # turn id -> the new units drawn from it
        for unit in derived:
            for turn_id in unit.derived_from:
                self.siblings.setdefault(turn_id, []).append(unit)
        self.units: dict[str, MemoryUnit] = {}  # stored and new units, as they will read
        self.by_speaker: dict[str | None, dict[str, None]] = {}  # ids, for the topic rule
        self.by_key: dict[str, str] = {}
        self.by_claim: dict[str, dict[str, Claim]] = {}  # claim key -> unit id -> its claim
        self.by_head: dict[str, dict[str, Claim]] = {}  # claim head -> unit id -> its claim

    def remember(self, unit: MemoryUnit) -> None:
        self.units[unit.id] = unit
        self.by_speaker.setdefault(unit.speaker, {})[unit.id] = None
        if unit.valid_to is not None:
            return
        self.by_key[dedupe_key(unit.text)] = unit.id
        for claim in _statement(unit).claims:
            self.by_claim.setdefault(claim.key, {})[unit.id] = claim
            # A bare subject ("lumen x2 lamp|price") is the head "the lumen x2 lamp|price" has.
            if (head := claim.head or (claim.key if claim.bare else None)) is not None:
                self.by_head.setdefault(head, {})[unit.id] = claim

    def current(self, unit_id: str | None) -> MemoryUnit | None:
        """The unit ``unit_id`` names if it is still current, else None."""
        unit = self.units.get(unit_id) if unit_id is not None else None
        return unit if unit is not None and unit.valid_to is None else None

    def forget(self, unit_id: str) -> None:
        """Drop a unit that has just been closed from the current ones: a restatement of its value
        ("I live in Lisbon" again, after moving back) is a new current unit, not a mention."""
        self.by_key = {key: uid for key, uid in self.by_key.items() if uid != unit_id}
        for index in (self.by_claim, self.by_head):
            for holders in index.values():
                holders.pop(unit_id, None)

    def rivals(self, unit: MemoryUnit) -> list[MemoryUnit]:
        """Current units that ``unit`` replaces: rival values of its claims, and retracted facts."""
        statement = _statement(unit)
        found: dict[str, MemoryUnit] = {}
        for claim in statement.claims:
            if not statement.replaces(claim):
                continue
            holders = dict(self.by_claim.get(claim.key, {}))
            for holder_id, held in self.by_head.get(
                claim.head or (claim.key if claim.bare else ""), {}
            ).items():
                # "I moved the monstera" (said by Lou) may be about "Lou's monstera".
                same_speaker = self.units[holder_id].speaker == unit.speaker
                if (claim.definite or held.definite) and same_speaker:
                    holders.setdefault(holder_id, held)
            for holder_id, held in holders.items():
                old = self.units[holder_id]
                # A relation that changes by cue changes between facts: "Sam went to Rome" stays.
                if held.value != claim.value and (claim.functional or old.kind == "fact"):
                    found[holder_id] = old
        for retraction in statement.retractions:
            if retraction.key is not None:  # a relation that ended, whatever its value
                found.update((uid, self.units[uid]) for uid in self.by_claim.get(retraction.key, {}))
                continue
            for old in self.units.values():
                if (
                    old.valid_to is None
                    and old.id != unit.id
                    and _retracted(old, retraction.subject, retraction.words)
                ):
                    found[old.id] = old
        found.pop(unit.id, None)
        if not found and (replaced := self.replaced_by_topic(unit)) is not None:
            found[replaced.id] = replaced
        return list(found.values())

    def replaced_by_topic(self, unit: MemoryUnit) -> MemoryUnit | None:
        """The speaker's current fact that ``unit`` says it changed, found by shared topic where no
        claim named the relation ("Window seats for me now" after "I prefer aisle seats"). An
        event that set a value (``topics.holds_a_value``: "switched Biscuit to Orijen") holds as a
        fact does.

        Where the statement itself says nothing of a change, the message it came from may: "new
        job!! CD Projekt, tools programmer." is extracted as two statements, the cue in one and
        the value in the other; the message is then compared as a whole.
        """
        if unit.kind not in TOPICAL_KINDS:
            return None
        own = replacing_cue(unit.text)
        readings: list[tuple[str, Cue]] = [(unit.text, own)] if own is not None else []
        readings += [
            (text, "strong")
            for text in map(self.said.get, unit.derived_from)
            if text and change_cue(text) == "strong"
        ]
        if not readings:
            return None
        names = _names(unit)
        # A correction takes back whatever was said wrong, an event too ("signed up for Wednesday").
        correcting = any(corrects(text) for text, _ in readings)
        candidates = [
            old
            for old in map(self.units.__getitem__, self.by_speaker.get(unit.speaker, {}))
            if (old.kind == "fact" or (old.kind == "event" and (correcting or holds_a_value(old.text))))
            and old.valid_to is None
            and old.id != unit.id
            and not set(old.derived_from) & set(unit.derived_from)
            and states(old.text)
        ]
        wrong = {word for text, _ in readings if (word := said_wrong(text)) is not None}
        if wrong:
            # The correction names what it takes back; the other statements of its message
            # ("budget is about £900") take back nothing.
            return _naming(unit, candidates, wrong) if said_wrong(unit.text) else None
        olds = [(old.id, topic(old.text, names)) for old in candidates]
        for text, cue in readings:
            if (found := best_rival(topic(text, names), cue, olds)) is not None:
                old = self.units[found]
                return old if text == unit.text or self._closest_of_its_message(unit, old) else None
        return _said_just_before(unit, candidates) if correcting else None

    def _closest_of_its_message(self, unit: MemoryUnit, old: MemoryUnit) -> bool:
        """Whether ``unit`` shares the most topic with ``old`` of the statements drawn from its
        message: "Planning a trek in the Atlas. Also my doctor changed my tablets, I'm on losartan
        now" replaces "I take lisinopril" by its second statement, not by the first."""
        names = _names(unit)
        held = topic(old.text, names)
        mine = overlap(held, topic(unit.text, names))
        return not any(
            overlap(held, topic(other.text, names)) > mine
            for turn_id in unit.derived_from
            for other in self.siblings.get(turn_id, ())
            if other.id != unit.id and other.kind in TOPICAL_KINDS
        )


#: The kinds of new unit that may replace a fact by topic (a passage is verbatim text).
TOPICAL_KINDS: tuple[UnitKind, ...] = ("fact", "event")


def _names(unit: MemoryUnit) -> tuple[str, ...]:
    """The speaker's names, which are nobody's topic."""
    if not unit.speaker:
        return ()
    return (unit.speaker, speaker_phrase(unit.speaker))


def _naming(unit: MemoryUnit, candidates: Sequence[MemoryUnit], words: set[str]) -> MemoryUnit | None:
    """The speaker's newest statement before ``unit`` in its session that names one of ``words``
    (the value a correction says was said wrong)."""
    named = re.compile(rf"\b(?:{'|'.join(map(re.escape, sorted(words)))})\b")
    earlier = [old for old in _earlier_in_session(unit, candidates) if named.search(old.text.lower())]
    return max(earlier, key=lambda old: (old.holds_from, old.recorded_at), default=None)


def _earlier_in_session(unit: MemoryUnit, candidates: Sequence[MemoryUnit]) -> list[MemoryUnit]:
    return [
        old
        for old in candidates
        if old.scope.session_id == unit.scope.session_id and old.holds_from <= unit.holds_from
    ]


def _said_just_before(unit: MemoryUnit, candidates: Sequence[MemoryUnit]) -> MemoryUnit | None:
    """What a correction that names no topic takes back ("Sorry, I misspoke, it's her eighth
    birthday"): the speaker's one statement of the message said last before it, in its session."""
    earlier = _earlier_in_session(unit, candidates)
    if not earlier:
        return None
    last = max(earlier, key=lambda old: (old.holds_from, old.recorded_at))
    said_last = [old for old in earlier if old.derived_from == last.derived_from]
    return last if len(said_last) == 1 else None


def _statement(unit: MemoryUnit) -> Statement:
    """What a unit claims; a passage is verbatim text, deduplicated but never read for claims."""
    if unit.kind == "passage":
        return Statement()
    return analyse(unit.text, speaker_phrase(unit.speaker) if unit.speaker else None)


def _retracted(unit: MemoryUnit, subject: str, words: tuple[str, ...]) -> bool:
    """Whether ``unit`` states that ``subject`` has the retracted value ``words``.

    A fact counts when it names the value; an event only when it claims the value for one of
    the subject's relations ("Sam started working at the hospital") or says the subject got it
    ("Sam bought a scooter"), since an event stays true.
    """
    statement = _statement(unit)
    if unit.kind == "passage" or any(r.words == words for r in statement.retractions):
        return False  # another retraction of the same value: nothing to close
    if unit.kind == "fact":
        about = subject_of(unit.text) or (speaker_phrase(unit.speaker).lower() if unit.speaker else None)
        # "Sam's gerbil Crumpet keeps chewing" is about Crumpet, and also about Sam's gerbil.
        named = bool(words) and f"{subject}'s {words[0]}" in unit.text.lower().replace("’", "'")
        return (named or _owned_by(about, subject)) and holds(unit.text, words)
    if _ACQUIRED.search(unit.text) and subject_of(unit.text) == subject and holds(unit.text, words):
        return True  # "Sold the scooter" ends "Pedro bought an electric scooter": he had it until then
    return any(c.subject == subject and holds(c.value, words) for c in statement.claims)


#: An event of getting something one then has until it goes: bought, adopted, was given.
_ACQUIRED = re.compile(
    r"\b(?:bought|got|adopted|acquired|purchased|inherited|picked up|was given|were given|leased)\b",
    re.IGNORECASE,
)


def _owned_by(fact_subject: str | None, subject: str) -> bool:
    """Whether a fact about ``fact_subject`` is about ``subject`` or something of theirs: "I gave
    up my gym membership" retracts "Sam's gym membership costs 40 euros"; "we" owns "our"."""
    if fact_subject is None:
        return False
    possessive = "our " if subject == "we" else f"{subject}'s "
    return fact_subject == subject or fact_subject.startswith(possessive)


def reconcile(
    stored: Sequence[MemoryUnit],
    derived: Sequence[MemoryUnit],
    decisions: Mapping[str, Decision] | None = None,
    turns: Sequence[MemoryUnit] = (),
) -> Plan:
    """Reconcile ``derived`` (in order) against the ``stored`` current units they may restate or
    supersede; with nothing stored (a rebuild) it reconciles them among themselves. A unit with a
    ``decisions`` entry also follows it (an exact restatement is a mention always). ``turns``, the
    messages ``derived`` came from, are read for a change their statements do not say alone."""
    book = _Book(turns, derived)
    for unit in stored:
        book.remember(unit)
    revised: dict[str, RevisionOp] = {}
    set_aside: dict[str, list[str]] = {}  # turns a mention leaves out of derived_from, for history
    new_ids: list[str] = []
    for unit in derived:
        decided = (decisions or {}).get(unit.id)
        chosen = book.current(decided.target) if decided is not None else None
        restated = book.by_key.get(dedupe_key(unit.text))
        if restated is None and decided is not None and decided.action == "none" and chosen is not None:
            restated = chosen.id
        if restated is not None:
            target = book.units[restated]
            if not set(unit.derived_from) <= set(target.derived_from):  # else: said by the same turns
                # A unit new in this batch keeps every source until it is stored and said again.
                book.units[restated], dropped = _mentioned(target, unit, bounded=restated not in new_ids)
                set_aside.setdefault(restated, []).extend(dropped)
                if restated not in new_ids:
                    revised.setdefault(restated, "restore" if target.status == "archived" else "mention")
            continue
        rivals = book.rivals(unit)  # the rules' supersessions stand; a model can only add one
        if decided is not None and chosen is not None and decided.action in ("update", "delete"):
            rivals = [*(r for r in rivals if r.id != chosen.id), chosen]
        for old in rivals:
            newer, older = (unit, old) if unit.holds_from >= old.holds_from else (old, unit)
            if not may_replace(newer, older):
                # A less trusted source never closes the user's word (``guard.trust``); what it
                # says against it waits for review (A-MemGuard's consensus check, by the rules).
                if newer is unit:
                    reason = f"contradicts what the {older.role or 'user'} said: {older.text}"
                    unit = flagged(unit, [reason], unit.holds_from)
                continue
            if newer is unit:
                book.units[old.id] = _closed(old, at=unit.holds_from, by=unit.id)
                book.forget(old.id)
                unit = _with_meta(unit, supersedes=old.id)
                if old.id not in new_ids:
                    revised[old.id] = "supersede"
            elif unit.valid_to is None:
                unit = _closed(_with_meta(unit, superseded_by=old.id), at=old.holds_from, by=old.id)
                book.units[old.id] = _with_meta(old, supersedes=unit.id)
                if old.id not in new_ids:
                    revised.setdefault(old.id, "supersede")
        new_ids.append(unit.id)
        book.remember(unit)
    return Plan(
        new=[book.units[i] for i in new_ids],
        revisions=[
            Revision(
                dataclasses.replace(book.units[i], version=book.units[i].version + 1),
                op,
                note={"earlier_turns": set_aside[i]} if set_aside.get(i) else {},
            )
            for i, op in revised.items()
        ],
    )


#: Stored units read per marker word of a new unit (the newest that hold it).
MARKER_MATCHES = 8
#: Stored statements read per topic word of a new statement that says it changed something.
TOPIC_MATCHES = 2
#: The speaker's newest stored statements read for a new statement that says it changed something:
#: what changes is most often what was said lately, in words the new statement does not repeat.
SPEAKER_MATCHES = 12


def _current_units(
    store: Store, scope: Scope, derived: Sequence[MemoryUnit], turns: Sequence[MemoryUnit]
) -> list[MemoryUnit]:
    # Archived units too: one said again is restored, and one replaced is closed all the same.
    where = UnitFilter(
        Scope(user_id=scope.user_id, tenant=scope.tenant), kinds=DERIVED_KINDS, include_archived=True
    )
    ended = {r.key for u in derived for r in _statement(u).retractions if r.key is not None}
    markers = sorted(
        {word for unit in derived for word in marker_words(unit)} | {_marker("s", k) for k in ended}
    )
    # Looked up by marker word, newest first: what a new statement repeats or replaces costs a few
    # index reads however long the history (the newest of a subject's statements holds now).
    found = store.newest_with_words(where, markers, per_word=MARKER_MATCHES)
    retracted = sorted({w for u in derived for r in _statement(u).retractions for w in r.words})
    if retracted:
        found += [uid for uid, _ in store.search_lexical(where, retracted, limit=20 * len(retracted))]
    facts = dataclasses.replace(where, kinds=TOPICAL_KINDS)
    changing = [u for u in derived if u.kind in TOPICAL_KINDS and replacing_cue(u.text) is not None]
    changing += [t for t in turns if change_cue(t.text) == "strong"]
    if changing:
        # What they may have changed, said in other words (``topics``): the newest statements
        # holding each of their topic words, and the speaker's newest statements (each names its
        # speaker), a few index reads however long the history.
        # A new value said without a cue ("value") is looked up among the speaker's newest only:
        # its rival must be something held one at a time, said lately.
        said = (u.text for u in changing if u.kind == "turn" or replacing_cue(u.text) != "value")
        words = list(dict.fromkeys(w for text in said for w in lookup_words(text)))[:MAX_QUERY_TERMS]
        found += store.newest_with_words(facts, words, per_word=TOPIC_MATCHES)
        names = dict.fromkeys(w for u in changing if u.speaker for w in lexical_terms(u.speaker))
        found += store.newest_with_words(facts, list(names)[:MAX_QUERY_TERMS], per_word=SPEAKER_MATCHES)
    units = store.get_many(found, tenant=scope.tenant, user_id=scope.user_id)
    current = [u for u in units.values() if u.status in ("active", "archived") and u.valid_to is None]
    return sorted(current, key=lambda u: (u.recorded_at, u.id))


#: Stored units shown to a reconciler per new unit, besides those the rules found.
NEIGHBOURS = 5


def _with_neighbours(
    store: Store, scope: Scope, derived: Sequence[MemoryUnit], stored: list[MemoryUnit]
) -> list[MemoryUnit]:
    """``stored`` and, for each new unit, the user's current derived units nearest by words."""
    where = UnitFilter(Scope(user_id=scope.user_id, tenant=scope.tenant), kinds=("fact", "event"))
    ids: dict[str, None] = {}
    for unit in derived:
        for unit_id, _ in store.search_lexical(where, query_terms(unit.text), NEIGHBOURS):
            ids[unit_id] = None
    known = {u.id for u in stored}
    found = store.get_many([i for i in ids if i not in known], tenant=scope.tenant, user_id=scope.user_id)
    extra = [u for u in found.values() if u.status == "active" and u.valid_to is None]
    return sorted([*stored, *extra], key=lambda u: (u.recorded_at, u.id))


#: Sources a restated unit keeps: its first and the newest others, so a fact said daily for years
#: does not carry (and load, at every search) thousands of turn ids. Every mention is counted in
#: ``metadata["mentions"]`` (``metadata.MENTIONS``), and the turns left out are named in the
#: history entry of the mention that left them out (``earlier_turns``).
MAX_SOURCES = 8


def _mentioned(unit: MemoryUnit, again: MemoryUnit, *, bounded: bool) -> tuple[MemoryUnit, list[str]]:
    """``unit`` said once more by ``again``: the mention is counted and its sources join; with
    ``bounded``, only the first and newest stay, and the turns left out are returned."""
    mentions = times_said(unit.metadata) + 1
    sources = tuple(dict.fromkeys(unit.sources + again.sources))
    every_turn = tuple(dict.fromkeys(unit.derived_from + again.derived_from))
    turns = _first_and_newest(every_turn) if bounded else every_turn
    if bounded:
        sources = _first_and_newest(sources)
    # The latest time it was said, whatever order the statements come in (an import of old ones).
    earlier = unit.metadata.get(MENTIONED)
    said = again.holds_from
    if isinstance(earlier, str):
        said = max(said, datetime.fromisoformat(earlier))
    metadata = {**unit.metadata, MENTIONS: mentions, MENTIONED: said.isoformat()}
    # Said again, an archived unit is back in every read (``lifecycle.decay``).
    mentioned = dataclasses.replace(
        unit, sources=sources, derived_from=turns, metadata=metadata, status="active"
    )
    return mentioned, [t for t in every_turn if t not in turns]


def _first_and_newest(items: tuple[str, ...]) -> tuple[str, ...]:
    if len(items) <= MAX_SOURCES:
        return items
    return (items[0], *items[1 - MAX_SOURCES :])


def _closed(unit: MemoryUnit, *, at: datetime, by: str) -> MemoryUnit:
    return dataclasses.replace(_with_meta(unit, superseded_by=by), valid_to=at)


def _with_meta(unit: MemoryUnit, **values: str) -> MemoryUnit:
    return dataclasses.replace(unit, metadata={**unit.metadata, **values})
