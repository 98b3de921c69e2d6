"""A person's profile: the few current statements that say who they are, drawn from memory.

Extractive and computed when asked, so it is always as current as the units it quotes: a
statement that was superseded, corrected or deleted is simply no longer a candidate. The
candidates are the facts and events about the person: their name is the statement's subject
(the extractor writes "I" as the speaker's name), or its owner ("Sam's sister Ana"). Each is
filed under one section:

- **attributes**: what holds one value at a time (where they live, where they work and as what,
  their age, whom they are married to): the claims ``ingest.claims`` reads, newest value only;
- **relationships**: the people and animals of theirs a statement names ("Sam's sister Ana");
- **preferences**: what they like, love, prefer, avoid or cannot have;
- **activities**: what they do, make, study, plan or pursue.

Within each section the newest statement of each kind comes first, and the sections are cut to
a few lines each, so a profile stays a few hundred tokens however long the history.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import UsageError
from ..ingest.claims import analyse, subject_of
from ..ingest.entity_names import entity_key
from ..ingest.keys import dedupe_key
from ..ingest.names import is_role_label
from ..ingest.topics import states
from ..llms.base import LLMClient
from ..llms.summary import PROFILE_PROMPT, write_summary
from ..model import MemoryUnit, Profile, ProfileLine, ProfileSection
from ..storage.base import Store, UnitFilter
from ..tokens import TokenCounter
from .entities import entities, find_entity

__all__ = ["PROFILE_SCAN", "PROSE_TOKENS", "SECTION_LINES", "profile", "profile_units"]

#: The newest units about the person read to build a profile.
PROFILE_SCAN = 2000
#: The most tokens of the paragraph a model writes from a profile's lines.
PROSE_TOKENS = 120
#: At most this many lines per section.
SECTION_LINES: dict[ProfileSection, int] = {
    "attributes": 12,
    "relationships": 12,
    "preferences": 12,
    "activities": 16,
}

_RELATIONS = re.compile(
    r"['’]s (?:(?:new|little|older|younger|big|best|late|first|second|two|three)\s+)?"
    r"(?:sisters?|brothers?|siblings?|mom|mother|mum|dad|father|parents|sons?|daughters?|kids?|"
    r"children|husband|wife|partner|boyfriend|girlfriend|fianc[eé]e?|grand\w+|aunt|uncle|cousins?|"
    r"nieces?|nephews?|friends?|bestie|family|neighbou?rs?|boss|manager|mentor|roommates?|"
    r"dogs?|cats?|pupp(?:y|ies)|pups?|kittens?|pets?|guinea pigs?|bunny|rabbits?|horses?|turtles?)\b",
    re.IGNORECASE,
)
_PREFERENCES = re.compile(
    r"\b(?:likes?|loves?|enjoys?|prefers?|favou?rite|fan of|into|hates?|dislikes?|avoids?|"
    r"allergic|vegan|vegetarian|can't stand|cannot stand|passionate about|obsessed with)\b",
    re.IGNORECASE,
)
#: A preference of nothing said here: "Maya loves that name", "Sam likes it".
_VAGUE_PREFERENCE = re.compile(
    r"\b(?:likes?|loves?|enjoys?|prefers?|hates?|dislikes?)\s+(?:it|that|this|them|those|these)\b",
    re.IGNORECASE,
)
_ACTIVITIES = re.compile(
    r"\b(?:works?|working|volunteer\w*|stud(?:y|ies|ying)|plays?|playing|paints?|painting|"
    r"writes?|writing|runs?|running|trains?|training|learn\w*|teach\w*|coach\w*|practi[cs]\w*|"
    r"plans? to|planning|wants? to|hopes? to|is going to|looking into|career|started|joined|"
    r"took up|collects?|makes?|making|builds?|building|owns?|has an?|adopt\w*)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Candidate:
    section: ProfileSection
    key: str  # one line per key: a claim's relation, else the statement itself
    unit: MemoryUnit


def profile(
    store: Store, where: UnitFilter, name: str | None, counter: TokenCounter, llm: LLMClient | None = None
) -> Profile:
    """The profile of the person (or anything else) ``name`` names, else of the one person who
    speaks as the user; its size counted by ``counter``; with ``llm``, also the model's paragraph
    from its lines (``llms.summary``), kept only when grounded in them."""
    known = entities(store, where)
    entity = find_entity(known, name if name is not None else _the_user(store, where))
    units = profile_units(store, where, (entity.key, *entity.aliases))
    lines = [
        ProfileLine(section, unit.text, unit.id, unit.sources, unit.valid_from or unit.occurred_at)
        for section, unit in units
    ]
    tokens = counter.count("\n".join(line.text for line in lines))
    written = (
        None
        if llm is None
        else write_summary(llm, [u for _, u in units], counter, PROSE_TOKENS, PROFILE_PROMPT)
    )
    if written is None:
        return Profile(entity, lines, tokens)
    return Profile(entity, lines, tokens, summary=written[0], written_by="llm")


def _the_user(store: Store, where: UnitFilter) -> str:
    """The name of the one person who speaks as the user; ``UsageError`` when none or several."""
    speaking = store.speakers(dataclasses.replace(where, kinds=None, roles=("user",), without_flag=None))
    named = sorted(s for s in speaking if not is_role_label(s))
    if not named:
        raise UsageError("this memory has no user who gave a name; name the person")
    if len(named) > 1:
        raise UsageError(f"several people speak as the user ({', '.join(named)}); name one")
    return named[0]


def profile_units(
    store: Store, where: UnitFilter, keys: Sequence[str]
) -> list[tuple[ProfileSection, MemoryUnit]]:
    """The units of the profile of the entity ``keys`` name (its key and aliases), section by
    section, newest first within each."""
    units = store.mentioning(where, keys, PROFILE_SCAN)  # newest first
    chosen: dict[ProfileSection, dict[str, MemoryUnit]] = {section: {} for section in SECTION_LINES}
    seen: set[str] = set()
    for unit in units:
        candidate = _candidate(unit, keys)
        if candidate is None or dedupe_key(unit.text) in seen:
            continue
        seen.add(dedupe_key(unit.text))
        section = chosen[candidate.section]
        if candidate.key not in section and len(section) < SECTION_LINES[candidate.section]:
            section[candidate.key] = unit
    return [(section, unit) for section, lines in chosen.items() for unit in lines.values()]


def _candidate(unit: MemoryUnit, keys: Sequence[str]) -> _Candidate | None:
    """Where a unit goes in the profile, or None when it says nothing lasting about the person.
    A preference is a feeling by nature, so only attributes and activities must state something
    (``states``: no opinion, wish or advice)."""
    text = unit.text
    if unit.valid_to is not None or text.startswith("["):
        return None
    owned = any(text.lower().startswith((f"{key}'s ", f"{key}’s ")) for key in keys)
    if owned and _RELATIONS.search(text):
        return _Candidate("relationships", dedupe_key(text), unit)
    if not owned and entity_key(subject_of(text) or "") not in keys:
        return None  # about someone else
    claims = [c for c in analyse(text).claims if c.functional and entity_key(c.subject) in keys]
    if claims and states(text):
        return _Candidate("attributes", claims[0].key, unit)
    if _PREFERENCES.search(text) and not _VAGUE_PREFERENCE.search(text):
        return _Candidate("preferences", dedupe_key(text), unit)
    if _ACTIVITIES.search(text) and states(text):
        return _Candidate("activities", dedupe_key(text), unit)
    return None
