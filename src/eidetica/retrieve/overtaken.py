"""Which statements a question shows to be overtaken, where reconciliation could not tell.

Reconciliation closes a statement only when it reads the change ("I moved from Lisbon to Oslo").
Most changes are said in passing, in words no rule knows: "I am living in Lyon" and, a year later,
"Now I am installed in Montreal for my new job". Both stay current in memory. A question that asks
for one value ("Which city does Amélie live in?") tells what they are rivals about, so at read time
the older of two rivals (``recency.rivals``) is taken as overtaken by the newer, unless:

- the question asks for several values ("Which languages ...", "Where are ...'s offices?"), for
  no value held (a reason, a plan, a guess, a count), or for something people have several of
  at once (languages, instruments); it asks for one value when its focus names an attribute of
  the lexicon or a singular thing ("Who is Amara's emergency contact?") (``asks_for_a_value``);
- either is the assistant's (advice holds no value of the user's), or only asks;
- the two were said within the hour: two facts told together, not a change;
- the newer says it adds rather than replaces ("also", "another", "a second", "added", "two jobs"
  for a question about work);
- the two differ in a word of the question that names no attribute, no name and nothing asked
  ("How much is the Alto desk?" makes no rivals of the desk and the shelf);
- the two are about different subjects of one relation ("my parents live in Lagos", "my aunt lives
  in Abuja").

An overtaken statement is not closed: it stays stored, current and findable. ``context`` shows it
marked as probably past, and ``search(as_of=...)`` leaves it out once its successor had been said.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from ..ingest.claims import analyse
from ..ingest.sentences import split_sentences
from ..lexicon import attribute_of, held_one_at_a_time
from ..metadata import OVERTAKEN
from ..model import Hit, MemoryUnit
from .confidence import stem
from .recency import content_stems

#: A question about an amount asks for a value whatever it names ("how many" counts what adds up).
_AMOUNT = re.compile(r"^\W*how (?:much|old)\b", re.IGNORECASE)
#: A question about a wish, a plan or a guess asks for no value held.
_SPECULATIVE = re.compile(
    r"\b(?:will|might|likely|would|could|should|may|wants?|plans?|planning|hopes?|future|consider)\b",
    re.IGNORECASE,
)
_WH = frozenset("what which who whom where".split())
_KIND = frozenset("kind type sort".split())
_AUXILIARIES = frozenset("is are was were does do did has have".split())
_DETERMINERS = frozenset("the a an my his her their our its your".split())
_NOW = frozenset("now currently nowadays today lately still these days".split())
_PREPOSITIONS = frozenset("in at on for of to from with by about into during since as".split())
#: A word just before a name: "daughter Freya", "beagle Biscuit".
_BESIDE_A_NAME = re.compile(r"\b([a-z][\w-]*) (?=[A-Z][\w'-]*)")
#: Words of when, which say nothing of what is asked.
_WHEN = frozenset(
    stem(word)
    for word in """day days daily week weeks weekly weekend month months year years morning mornings
    afternoon evening evenings night nights today tonight""".split()
)
#: Statements said this close together are two facts unless they say they changed something.
_SAID_TOGETHER = timedelta(hours=1)
#: What a question ends by going to: "go to school", "go to the gym".
_GOES_TO = re.compile(r"\bto (?:the |a )?([\w-]+)\W*$", re.IGNORECASE)
#: A preposition a question may open with: "In which city ...", "For what company ...".
_LEADING_PREPOSITION = re.compile(
    r"^\W*(?:in|at|on|for|from|with|to|by|of)\s+(?=(?:which|what|who|whom|where)\b)", re.IGNORECASE
)
#: "How does Pedro get to work?", "How do you get around?": how someone travels.
_GETS_AROUND = re.compile(
    r"^\W*how (?:does|do|did) [\w' -]+? (?:get|go|travel|commute|come)s? (?:to|around|about|in)\b",
    re.IGNORECASE,
)
#: "When is ... released?", "When does the café open?": when something present is.
_WHEN_IS = re.compile(r"^\W*when (?:is|does|do)\b", re.IGNORECASE)
#: Verbs of going somewhere: one goes to many places at once, one lives in one.
_GOING = frozenset(
    stem(word)
    for word in "go fly travel ship deliver export sell drive ride walk hike run visit sail tour send".split()
)
#: Words of the question that ask for several values.
_SEVERAL = re.compile(r"\b(?:are|were|both|all|each|every)\b", re.IGNORECASE)
#: Words ending in "s" that are not plural nouns, or not of the thing asked ("these days").
_NOT_PLURAL = frozenset(
    """does has was is this its always sometimes perhaps plus less unless news series bus gas lens
    yours hers his ours theirs whereas thus across towards afterwards nowadays as us days weeks
    months years hours minutes times mornings evenings nights weekends""".split()
)
#: What a newer statement says when it adds a value rather than replacing one ("too" ending a
#: clause: "not too touristy" adds nothing).
_ADDS = re.compile(
    r"\b(?:also|too(?!\s+\w)|another|as well|additionally|in addition|second|plus|besides|added|"
    r"side (?:job|hustle|gig|project|business)|on the side)\b",
    re.IGNORECASE,
)
#: A sentence opening with "Also," moves on to another matter; it adds to nothing said before.
_OPENING_ALSO = re.compile(r"(?:^|(?<=[.!?]))\s*also,", re.IGNORECASE)
#: Where a clause ends.
_CLAUSE = re.compile(r"[,;:.!?]+\s*|\s+(?:but|and so|so|because|while)\s+")
#: "two jobs", "both cars": several of what is counted.
_COUNTED = re.compile(r"\b(?:two|three|both|several|multiple)\s+(?:\w+\s+)?(\w+)", re.IGNORECASE)


def overtaken(
    query: str,
    pairs: Iterable[tuple[MemoryUnit, MemoryUnit]],
    question_stems: frozenset[str],
    candidates: Mapping[str, MemoryUnit],
) -> dict[str, MemoryUnit]:
    """Each overtaken statement's id, with the newest rival that overtook it. The turns an
    overtaken fact or event came from (among ``candidates``) are overtaken with it, as a closed
    one closes them (``lifecycle.lineage``)."""
    if asks_for_several(query) or not asks_for_a_value(query):
        return {}
    focus = {stem(word) for word in _focus(query)}
    asked = {a for word in focus if (a := attribute_of(word)) is not None}
    # Words the two may word differently: what is asked ("internet provider"), names ("Ruth" may
    # be "Mum" later), the word a name stands beside ("daughter Freya" may be "Freya" later) and
    # when ("during the day").
    loose = (
        focus
        | {stem(word) for word in re.findall(r"\b[A-Z][\w'-]*", query)}
        | {stem(word) for word in _BESIDE_A_NAME.findall(query)}
        | _WHEN
    )
    found: dict[str, MemoryUnit] = {}
    for older, newer in pairs:
        if "assistant" in (older.role, newer.role) or not (_states(older) and _states(newer)):
            continue  # advice answers the user, and a question holds no value
        if newer.holds_from - older.holds_from < _SAID_TOGETHER:
            continue  # said minutes apart with no word of change: two facts, not a change
        # A fact drawn from one sentence of a turn adds when its turn says so ("... two jobs?").
        told = " ".join([newer.text, *(candidates[t].text for t in newer.derived_from if t in candidates)])
        if _adds(told, asked) or _differ_in_question(older, newer, question_stems - loose):
            continue
        if _different_subjects(older, newer):
            continue
        for unit_id in (older.id, *older.derived_from):
            source = candidates.get(unit_id)
            best = found.get(unit_id)
            if source is not None and (best is None or newer.holds_from > best.holds_from):
                found[unit_id] = newer
    return found


def as_shown(hits: Sequence[Hit]) -> list[Hit]:
    """The hits as a context shows them: an overtaken one as past from when its successor (among
    the hits, ranked above it) was said, marked as a guess (``OVERTAKEN``)."""
    said_at = {hit.id: hit.unit.holds_from for hit in hits}
    return [
        dataclasses.replace(hit, unit=_overtaken_view(hit.unit, hit.overtaken_by, said_at[hit.overtaken_by]))
        if hit.overtaken_by in said_at and hit.unit.valid_to is None
        else hit
        for hit in hits
    ]


def _overtaken_view(unit: MemoryUnit, by: str, at: datetime) -> MemoryUnit:
    return dataclasses.replace(unit, valid_to=at, metadata={**unit.metadata, OVERTAKEN: by})


def asks_for_a_value(query: str) -> bool:
    """Whether a question asks for a value held one at a time: its focus (the noun it asks which
    of, the thing it asks what someone's is, the verb it asks what someone does) names an
    attribute of the lexicon ("Which bank ...", "Who is Fatima's trainer?", "Where does Sam
    live?"), or it asks how much. "What is Mel's reason for running?" asks for a reason."""
    asked = asked_attributes(query)  # none for a reason, a wish or a guess
    if held_one_at_a_time(asked) or (not asked and _asks_for_one_thing(query)):
        return True
    return _AMOUNT.match(query) is not None and not _SPECULATIVE.search(query)


def asked_attributes(query: str) -> frozenset[str]:
    """The attributes of the lexicon a question asks the value of, by its focus ("What diet does
    Nina follow?" asks for a diet, "How does Pedro get to work?" how he travels); none for a
    reason, a wish or a guess."""
    if _SPECULATIVE.search(query):
        return frozenset()
    if _GETS_AROUND.match(query):
        return frozenset({"travel"})
    return frozenset(a for word in _focus(query) if (a := attribute_of(stem(word))) is not None)


def _focus(query: str) -> list[str]:
    """The words a question asks about: "Which city does Amélie live in?" -> city, live."""
    q = _parse(query)
    if q is None:
        return []
    return q.named + (q.rest if q.asks_what_it_is else q.rest[-1:])


def _asks_for_one_thing(query: str) -> bool:
    """Whether a question asks for one thing by a singular noun, in the lexicon or not ("Which
    project management tool does ...", "Who is Amara's emergency contact?", "What is the venue
    of ..."), for who does something ("Who owns the Kestrel Inn?"), when something is ("When is
    Paper Harbors released?") or where it is ("Where does the chess club meet?")."""
    if _SPECULATIVE.search(query):
        return False
    if _WHEN_IS.match(query):
        return True
    q = _parse(query)
    if q is None:
        return False
    if q.wh == "where":  # where one is, not where one goes ("Where does the airline fly?")
        return q.auxiliary in ("is", "does", "do") and (
            not (q.rest and stem(q.rest[-1]) in _GOING) or _goes_to_one_place(query)
        )
    if q.wh == "who" and not q.auxiliary:
        return True
    head = _head(q)
    return head is not None and not head.endswith("ing")  # "What is Sofia reading?" asks what she does


def _goes_to_one_place(query: str) -> bool:
    """Whether a question asks where one goes to something held one at a time ("Where does
    Ewan go to school?", "... go to the gym?")."""
    place = _GOES_TO.search(query)
    attribute = attribute_of(stem(place[1].lower())) if place else None
    return attribute is not None and bool(held_one_at_a_time({attribute}))


def _head(q: _Question | None) -> str | None:
    """The noun a which- or what-question asks for ("Which room is the sagas seminar in?" ->
    room, "Who is Amara's emergency contact?" -> contact), if it names one."""
    if q is None:
        return None
    if q.wh in ("which", "what") and q.named and q.auxiliary:
        return q.named[-1]
    if q.asks_what_it_is and q.rest and q.wh in ("what", "which", "who"):
        return q.rest[-1]
    return None


class _Question(NamedTuple):
    """A wh-question's parts: its wh-word, the words naming what is asked before the auxiliary
    ("Which city"), the auxiliary, whether it asks what something is, and the words after the
    subject up to a preposition ("is Fatima's personal trainer", "does Jon's dance studio
    offer")."""

    wh: str
    named: list[str]
    auxiliary: str
    asks_what_it_is: bool
    rest: list[str]


def _parse(query: str) -> _Question | None:
    """The parts of a wh-question; one opening with a preposition ("In which city does Oskar
    live?") reads as it would without it."""
    words = re.findall(r"[\w'-]+", _LEADING_PREPOSITION.sub("", query))
    if not words or words[0].lower() not in _WH:
        return None
    focus: list[str] = []
    i = 1
    if i + 1 < len(words) and words[i].lower() in _KIND and words[i + 1].lower() == "of":
        i += 2
    while i < len(words) and words[i].lower() not in _AUXILIARIES:  # "Which city", "What car"
        focus.append(words[i].lower())
        i += 1
    auxiliary = words[i].lower() if i < len(words) else ""
    asks_what_it_is = auxiliary in ("is", "are", "was", "were")
    i += 1
    # The subject: names, possessives and determiners ("Fatima's", "the Alto", "Joon-ho").
    while i < len(words) and (
        words[i][0].isupper() or words[i].lower() in _DETERMINERS or words[i].endswith("'s")
    ):
        i += 1
    # Up to a preposition: the thing whose value is asked ("is Fatima's personal trainer"), or the
    # verb asked about, its last word ("does Jon's dance studio offer").
    rest: list[str] = []
    while i < len(words) and words[i].lower() not in _PREPOSITIONS:
        if words[i].lower() not in _NOW:
            rest.append(words[i].lower())
        i += 1
    return _Question(words[0].lower(), focus, auxiliary, asks_what_it_is, rest)


def asks_for_several(query: str) -> bool:
    """Whether a question asks for a list ("What pets ...", "Who are ..."): by the noun it asks
    for where it names one ("Which room is the sagas seminar in?" asks for one room), else by any
    plural but the verb after "who" or "what" ("Who owns ...")."""
    if _SEVERAL.search(query):
        return True
    head = _head(_parse(query))
    if head is not None:
        return _plural(head)
    words = re.findall(r"[A-Za-z']+", query)
    if len(words) > 1 and words[0].lower() in ("who", "what") and words[1].lower() not in _AUXILIARIES:
        del words[1]
    return any(w[0].islower() and _plural(w) for w in words)


def _plural(word: str) -> bool:
    return (
        len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s"))
        and word not in _NOT_PLURAL
    )  # fmt: skip


def _adds(text: str, asked: set[str]) -> bool:
    """Whether a statement says it adds a value: a cue, or several of what the question asks.
    Where the statement names the attribute asked about, the cue counts in a clause naming it:
    "cut out dairy and eggs too, fully vegan" changes a diet, "I also work weekends at a bakery"
    adds a job, and so does "Sofia also picked up the onboarding redesign" (naming none)."""
    clauses = _CLAUSE.split(_OPENING_ALSO.sub(" ", text))
    naming = [clause for clause in clauses if _names(clause, asked)]
    if any(_ADDS.search(clause) for clause in naming or clauses):
        return True
    return any(attribute_of(stem(match[1])) in asked for match in _COUNTED.finditer(text))


def _names(text: str, attributes: set[str]) -> bool:
    """Whether a text names one of the attributes ("working" names work)."""
    return any(attribute_of(stem(word)) in attributes for word in re.findall(r"[\w'-]+", text.lower()))


def _states(unit: MemoryUnit) -> bool:
    """Whether a text states anything: not only questions ("Which team did you sign with?")."""
    return any(not sentence.endswith("?") for sentence in split_sentences(unit.text))


def _differ_in_question(a: MemoryUnit, b: MemoryUnit, question_stems: frozenset[str]) -> bool:
    """Whether only one of the two holds a word of the question that names no attribute."""
    return any(attribute_of(w) is None for w in (content_stems(a) ^ content_stems(b)) & question_stems)


def _different_subjects(a: MemoryUnit, b: MemoryUnit) -> bool:
    """Whether the two claim one relation of different subjects."""
    mine, theirs = _subjects(a.text, a.speaker), _subjects(b.text, b.speaker)
    return any(not (mine[relation] & theirs[relation]) for relation in mine.keys() & theirs.keys())


@functools.lru_cache(maxsize=4096)
def _subjects(text: str, speaker: str | None) -> dict[str, frozenset[str]]:
    """Each relation the text claims, with its subjects ("my aunt" as the speaker's aunt)."""
    found: dict[str, set[str]] = {}
    for claim in analyse(text, speaker).claims:
        subject, relation = claim.key.split("|", 1)
        if subject.startswith("my ") and speaker:
            subject = f"{speaker.lower()}'s {subject[3:]}"
        found.setdefault(relation, set()).add(subject)
    return {relation: frozenset(subjects) for relation, subjects in found.items()}
