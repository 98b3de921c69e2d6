"""Who is speaking: role labels read as common nouns, and the user's name learned from the chat.

Agents and the OpenAI API send ``{"role": "user", "content": ...}`` with no name, so a turn's speaker
is often just its role. Written into a statement that label must read as a noun phrase ("The user
lives in Paris"), not as a name ("User lives in Paris"). And when the user says who they are ("Hi,
I'm Sam"), later statements can say "Sam" instead, which is what questions about Sam will use.

Recognising an introduction errs on the side of refusing: a wrong name would be written into every
later statement, while a missed one only leaves "the user" in place.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from eidetica.dates import WEEKDAY_NAMES
from eidetica.model import TurnInput

__all__ = [
    "ROLE_LABELS",
    "Voices",
    "introduced_name",
    "is_role_label",
    "listeners",
    "name_user_turns",
    "speaker_phrase",
    "voices_of",
]

ROLE_LABELS: dict[str, str] = {
    "user": "the user",
    "assistant": "the assistant",
    "system": "the system",
    "developer": "the developer",
    "tool": "the tool",
    "human": "the human",
    "ai": "the AI",
    "bot": "the bot",
    "model": "the model",
}
"""Speaker values that are roles, not names, and how a statement refers to them (lower case: only
the start of a sentence is capitalised)."""

_MAX_NAME_WORDS = 3

# Capitalised words that follow "I'm" or precede "here" without being names: states, feelings,
# beliefs, nationalities, verbs and adverbs a sentence may start with. Lower case; the suffix rule in
# _plausible_word covers most of the -ing / -ous / -ful / -less / -able words left out.
_NOT_NAMES = frozenset(
    """
    a an the and or but so if as at by for from in into of on onto to with without about after before
    over under up down out off back away here there home now then today tonight tomorrow yesterday
    again also just only still even very really so too quite pretty super totally kinda sorta almost
    always never often sometimes usually currently finally actually honestly seriously basically
    literally definitely absolutely probably maybe perhaps not no yes yeah yep nope ok okay alright
    all every everyone everybody everything someone somebody something anyone anybody anything nobody
    nothing none one two three same other another more most less least much many few some any each
    i me my mine myself you your yours he him his she her hers it its we us our they them their
    this that these those what which who whom whose when where why how
    is am are was were be been being have has had do does did can could will would shall should may
    might must gonna wanna gotta let lets
    fine good great well better best bad worse worst glad happy sad sorry sure ready done busy free
    tired exhausted sleepy awake hungry thirsty full sick ill hurt injured healthy alive dead alone
    lonely lost stuck confused bored scared afraid angry mad upset worried nervous anxious stressed
    calm relaxed excited thrilled stoked pumped proud grateful thankful blessed lucky jealous curious
    interested impressed shocked surprised amazed disappointed embarrassed ashamed guilty innocent
    serious kidding joking right wrong new old young late early single married engaged divorced
    separated widowed pregnant retired employed unemployed broke rich poor tall short big small fat
    thin strong weak cool hot cold warm vegan vegetarian pescatarian allergic lactose diabetic gluten
    sober drunk gay straight bi trans queer nonbinary male female human adopted deaf blind autistic
    shy open honest available unavailable online offline inside outside upstairs downstairs
    everywhere somewhere nowhere nearby close far near new next last first second third
    american british english french german italian spanish portuguese canadian mexican chinese
    japanese korean indian irish scottish welsh australian russian brazilian dutch swedish
    norwegian danish finnish polish greek turkish jewish muslim christian catholic protestant
    buddhist hindu sikh atheist agnostic mormon asian african european latino latina hispanic black
    white filipino thai pakistani nigerian kenyan egyptian iranian persian arab israeli ukrainian
    swiss belgian austrian cuban colombian peruvian chilean argentinian argentine dominican jamaican
    haitian texan californian
    thanks thank hi hello hey please welcome congrats congratulations sorry wow oh ah um uh lol haha
    nice cute sweet lovely awesome amazing wonderful perfect fantastic incredible beautiful
    love like hope wish think know guess mean feel see look say tell call go come get make take
    keep try want need work working going doing trying looking thinking planning hoping
    speaking calling writing reaching texting click same crazy weird silly stupid paranoid picky
    old-fashioned anytime whenever sometime soon later asap names
    """.split()
) | frozenset(day.lower() for day in WEEKDAY_NAMES)
_PARTICLES = frozenset("van von de da del della der di du la le bin ibn al el".split())
_NOT_NAME_SUFFIXES = ("ing", "ous", "ful", "less", "able", "ible", "ness", "ish", "ese", "ive", "ied")

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
# One name word: "Sam", "O'Brien", "McDonald", "Mary-Jane", "José".
_CAP_WORD = (
    rf"(?:[{_UPPER}][{_LOWER}]?['’])?[{_UPPER}][{_LOWER}]+(?:[{_UPPER}][{_LOWER}]+)?"
    rf"(?:-[{_UPPER}][{_LOWER}]+)?"
)
# Name words joined by single spaces, with "van", "de"... between them: "Sam Lee", "Ana de Souza".
_CAP_RUN = rf"{_CAP_WORD}(?:[ ](?:(?:{'|'.join(sorted(_PARTICLES))})[ ])?{_CAP_WORD})*"
_CAP_RUN_RE = re.compile(_CAP_RUN)
_LOWER_WORD_RE = re.compile(rf"[{_LOWER}]{{2,}}")
# What may follow a name: the end of a line, punctuation, or a word that starts a new phrase ("I'm
# Sam and I...", "I'm Sam from Boston", "Sam here"). "I'm Going home" is refused here.
_AFTER_NAME_RE = re.compile(
    r"[ \t]*(?:$|[\n,.!?;:)\-–—…]|(?i:and|but|from|by|btw|here|speaking|again|nice|i|i['’]m|im)\b)"
)
_END_RE = re.compile(r"[ \t]*(?:$|[\n,.!?;:)\-–—…])")
_GREETING = (
    r"(?i:hi|hello|hey|hiya|howdy|greetings|yo|good\s+(?:morning|afternoon|evening))"
    r"(?:\s+(?i:there|all|everyone|folks|guys))?[\s,!.]*"
)
_IS = "['’]s"


@dataclass(frozen=True)
class _Trigger:
    """Words that announce a name, and how sure the name slot after them is."""

    pattern: re.Pattern[str]
    lower_case: bool = False  # "my name is sam" counts; "I'm sam" does not
    lower_ends: bool = False  # a lower-case name must end its sentence ("call me sam.", not "call me back")
    ends: bool = False  # any name must end its sentence ("Hi, this is Sam.", not "this is Sam's")


_TRIGGERS = (
    _Trigger(re.compile(rf"\b(?i:my\s+name{_IS}|my\s+name\s+is|my\s+names)\s+"), lower_case=True),
    _Trigger(re.compile(rf"^\W*(?:{_GREETING})?(?i:the\s+)?(?i:name){_IS}\s+"), lower_case=True),
    _Trigger(re.compile(r"\b(?i:call\s+me|i\s+go\s+by)\s+"), lower_case=True, lower_ends=True),
    _Trigger(re.compile(r"(?:^|(?<=[\s,.!;:(]))(?i:i['’]m|im|i\s+am)\s+")),
    _Trigger(re.compile(rf"^\W*{_GREETING}(?i:this\s+is|it{_IS})\s+"), ends=True),
)
_HERE_RE = re.compile(rf"^\W*(?:{_GREETING})?(?P<name>{_CAP_RUN})\s+(?i:here)\b")
_SPEAKING_RE = re.compile(rf"\b(?i:this\s+is)\s+(?P<name>{_CAP_RUN})\s+(?i:speaking|here)\b")


def is_role_label(speaker: str | None) -> bool:
    """Whether ``speaker`` is a role ("user", "Assistant") rather than someone's name."""
    return speaker is not None and speaker.strip().lower() in ROLE_LABELS


def speaker_phrase(speaker: str) -> str:
    """How a statement refers to ``speaker``: "the user" for the role label "user", else the name."""
    return ROLE_LABELS.get(speaker.strip().lower(), speaker)


def _plausible_word(word: str) -> bool:
    low = word.lower().replace("’", "'")
    if low in _NOT_NAMES or low.endswith(("'s", "'")):
        return False
    return not (len(low) > 4 and low.endswith(_NOT_NAME_SUFFIXES))


def _name_from_run(run: str) -> str | None:
    """``run`` (capitalised words) as a name, or None if a word of it is no name or it is too long."""
    words = [w for w in run.split() if w.lower() not in _PARTICLES]
    if not words or len(words) > _MAX_NAME_WORDS or not all(map(_plausible_word, words)):
        return None  # "I'm Sam Happy to help": unsure where the name ends, so no name
    return run


def _name_at(text: str, start: int, trigger: _Trigger) -> str | None:
    """Read the name that ``trigger`` announced at ``start``, if what follows can end a name."""
    m = _CAP_RUN_RE.match(text, start)
    if m is not None:
        name = _name_from_run(m.group())
        after = _END_RE if trigger.ends else _AFTER_NAME_RE
        return name if name is not None and after.match(text, m.end()) else None
    if trigger.lower_case:
        low = _LOWER_WORD_RE.match(text, start)
        after = _END_RE if trigger.lower_ends else _AFTER_NAME_RE
        if low is not None and _plausible_word(low.group()) and after.match(text, low.end()):
            return low.group().capitalize()
    return None


def introduced_name(text: str) -> str | None:
    """The name a speaker gives for themselves in ``text`` ("Hi, I'm Sam" → "Sam"), else None.

    Understands "I'm Sam", "I am Sam Lee", "my name is Sam", "my name's Sam", "call me Sam",
    "I go by Sam", "Sam here", "this is Sam speaking" and "Hi, this is Sam". Refuses what only looks
    like a name ("I'm Tired", "I'm Going home", "my name is on the list", "I'm Sam's dad").
    """
    for trigger in _TRIGGERS:
        for m in trigger.pattern.finditer(text):
            name = _name_at(text, m.end(), trigger)
            if name is not None:
                return name
    here = _HERE_RE.search(text)
    if here is not None and _END_RE.match(text, here.end()):
        name = _name_from_run(here["name"])
        if name is not None:
            return name
    speaking = _SPEAKING_RE.search(text)
    return None if speaking is None else _name_from_run(speaking["name"])


def listeners(turns: Sequence[TurnInput]) -> list[str | None]:
    """For each turn, who it was said to: the nearest other speaker in the same session.

    Looks back first (the turn being answered), then forward; linear in the batch because each
    session only needs its last two distinct speakers.
    """
    prev: list[str | None] = [None] * len(turns)
    recent: dict[str | None, list[str]] = {}
    for i, turn in enumerate(turns):
        speaker = turn.speaker or None
        seen = recent.setdefault(turn.session_id, [])
        if speaker is not None:
            prev[i] = next((s for s in reversed(seen) if s != speaker), None)
            if speaker in seen:
                seen.remove(speaker)
            seen.append(speaker)
            del seen[:-2]
    result = list(prev)
    upcoming: dict[str | None, list[str]] = {}
    for i in range(len(turns) - 1, -1, -1):
        turn = turns[i]
        speaker = turn.speaker or None
        seen = upcoming.setdefault(turn.session_id, [])
        if speaker is not None:
            if result[i] is None:
                result[i] = next((s for s in reversed(seen) if s != speaker), None)
            if speaker in seen:
                seen.remove(speaker)
            seen.append(speaker)
            del seen[:-2]
    return result


@dataclass(frozen=True, slots=True)
class Voices:
    """Who a turn's "I" and "you" are, as written into statements and as entities."""

    speaker: str | None  # "Caroline", "the user"
    listener: str | None
    vocative: str | None  # the listener as addressed: "Mel, I went..."
    speaker_entity: str | None  # None for a role label: "user" is nobody's name
    listener_entity: str | None
    user_named: bool  # a user's turn whose speaker is their name: "I'm Sam" needs care


def voices_of(turn: TurnInput, listener: str | None) -> Voices:
    """Who "I" and "you" are in ``turn``, said to ``listener`` (from ``listeners``)."""
    speaker = (turn.speaker or "").strip() or None
    listener = (listener or "").strip() or None
    return Voices(
        speaker=None if speaker is None else speaker_phrase(speaker),
        listener=None if listener is None else speaker_phrase(listener),
        vocative=listener,
        speaker_entity=None if is_role_label(speaker) else speaker,
        listener_entity=None if is_role_label(listener) else listener,
        user_named=speaker is not None
        and not is_role_label(speaker)
        and (turn.role or "").strip().lower() == "user",
    )


def _is_unnamed_user(turn: TurnInput) -> bool:
    """Whether ``turn`` is the user's and names no one: no speaker, or the speaker "user"."""
    role = (turn.role or "").strip().lower()
    speaker = (turn.speaker or "").strip().lower()
    return role in ("", "user") and speaker in ("", "user")


def name_user_turns(turns: Sequence[TurnInput], user_name: str | None) -> tuple[list[TurnInput], str | None]:
    """Give the user's unnamed turns the user's name; return the turns and the name known at the end.

    An unnamed user turn has no speaker or the speaker "user" (in any case) and no other role. It
    takes ``user_name`` when known; one that introduces the speaker ("I'm Sam") sets the name for
    itself and every later turn. The name returned is the last one learned, else ``user_name``.
    Named turns and other roles are returned unchanged; the input is not modified.
    """
    name = (user_name or "").strip() or None
    renamed: list[TurnInput] = []
    for turn in turns:
        if _is_unnamed_user(turn):
            name = introduced_name(turn.content) or name
            if name is not None:
                turn = dataclasses.replace(turn, speaker=name)
        renamed.append(turn)
    return renamed, name
