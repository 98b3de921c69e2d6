"""Rule-based extraction: rewrite each informative sentence of a turn as a self-contained statement.

No model is involved, so it runs anywhere and fast (thousands of turns a second). Each kept
sentence is made readable on its own: "I" becomes the speaker, "you" the person spoken to,
"yesterday" an absolute date. What it cannot fix it leaves alone; the verbatim turn is stored
anyway, so a derived unit only has to be a better search target, never the only copy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from eidetica.ingest.timeparse import MONTH_NAMES, WEEKDAY_NAMES, resolve_relative
from eidetica.model import Extracted, TurnInput, UnitKind

__all__ = ["RuleExtractor", "split_sentences"]

MAX_UNITS_PER_TURN = 12
MAX_SENTENCES_PER_TURN = 200  # bounds the work on a pasted document; the turn itself is kept whole
MAX_SENTENCE_WORDS = 60
MAX_SENTENCE_CHARS = 1200  # cheap reject before counting words
MIN_SENTENCE_WORDS = 4

# ---------------------------------------------------------------------------------------------
# Word lists
# ---------------------------------------------------------------------------------------------

# Function words: a sentence made only of these (and short words) says nothing worth keeping.
_FUNCTION_WORDS = frozenset(
    """
    a an the and or but nor so yet for of to in on at by with from into onto upon about above below
    over under after before since until till than then that this these those there here what which
    who whom whose when where why how all any both each few many much more most some such no not
    only own same too very can could will would shall should may might must ought just also even
    still really quite rather pretty kind sort lot lots thing things stuff something anything
    everything nothing way ways i me my mine myself you your yours yourself we us our ours
    ourselves he him his himself she her hers herself it its itself they them their theirs
    themselves one ones is am are was were be been being have has had having do does did doing
    done get got gets getting go goes going gone went make made yes yeah yep nope okay ok oh wow
    haha hey hi hello thanks thank please sure well um uh hmm like as if because though although
    while again ever never always now today tonight yeah totally definitely absolutely actually
    literally basically seriously honestly cool nice great awesome good bad amazing lol omg
    i'm i've i'll i'd you're you've you'll you'd it's that's there's what's let's don't didn't
    doesn't can't won't isn't aren't wasn't weren't haven't hasn't hadn't couldn't wouldn't
    shouldn't gonna wanna gotta
    """.split()
)
# Irregular past forms (and past participles that only occur in past statements). "read", "put",
# "set"... are the same in present and past, so they decide nothing and are left out.
_PAST_IRREGULAR = frozenset(
    """
    was were went saw met got made took had did bought began came gave found felt left lost ran
    said told won wrote knew thought brought caught taught sold sent spent built kept slept swam
    sang drank ate drove rode flew grew threw drew chose spoke broke woke wore tore stole froze
    forgot heard held stood understood sat became fell fought hung led meant paid laid sought shot
    struck stuck dug fed fled bent lent dealt shook forgave hid bit blew rose rang sank shrank
    sprang spun swung wept bled slid spat overcame withdrew taken given gone seen done eaten
    written driven ridden flown grown thrown drawn chosen spoken broken woken worn torn stolen
    frozen forgotten begun sung swum drunk fallen become
    """.split()
)
# Present-tense verbs that end in -ed: "I need" → "Caroline needs".
_ED_PRESENT_VERBS = frozenset(
    "need feed seed weed speed breed bleed proceed succeed exceed shed wed embed heed".split()
)
# Words ending in -ed that are not past tenses (mostly adjectives: "so excited", "a sacred place").
_ED_NOT_PAST = _ED_PRESENT_VERBS | frozenset(
    """
    indeed bed red sled hundred sacred kindred naked wicked ragged rugged beloved aged crooked
    dogged jagged wretched ted fred ned reed greed steed freed excited interested focused motivated
    dedicated determined surprised amazed tired bored scared pleased relieved stressed obsessed
    talented skilled experienced qualified limited detailed advanced complicated crowded thrilled
    stoked pumped overwhelmed worried concerned committed
    """.split()
)
# After these, an -ed word is an adjective ("is excited", "so tired"), not an event.
_ADJ_BEFORE_ED = frozenset(
    """
    is am are be being so very really too feel feels feeling get gets getting seem seems seemed
    look looks i'm i’m you're you’re we're we’re they're they’re he's he’s she's she’s it's
    it’s that's that’s super pretty quite totally kinda bit more most
    """.split()
)
_MODALS_ETC = frozenset(
    """
    can could will would shall should may might must ought used wanna gonna gotta kinda sorta
    read put set cut hit let quit hurt cost shut spread bet cast burst split upset bid rid
    """.split()
)
_LY_VERBS = frozenset("apply reply rely supply fly comply imply multiply bully ally".split())
_THIRD_PERSON_SPECIAL = {
    "am": "is",
    "are": "is",
    "were": "was",
    "have": "has",
    "do": "does",
    "be": "is",
    "don't": "doesn't",
    "don’t": "doesn’t",
    "haven't": "hasn't",
    "haven’t": "hasn’t",
    "aren't": "isn't",
    "aren’t": "isn’t",
    "weren't": "wasn't",
    "weren’t": "wasn’t",
}
# Capitalised words that are not names: sentence starters, pronouns, interjections, titles of
# the calendar. Months and weekdays are dates, not entities.
_NOT_ENTITIES = frozenset(
    """
    i i'm i've i'll i'd the a an my we it it's that that's this these those so but and or oh yes no
    yeah yep nope well hey hi hello thanks thank wow haha lol omg ok okay sure also just then there
    here what when where why how who which if because since after before although though while as
    in on at for from with by of to not now actually really maybe plus anyway honestly sometimes
    today yesterday tomorrow tonight last next he she they you your our their his her its me us them
    let let's being having some any all every each both one two three my mine is are was were be
    do does did have has had can could will would should may might must our ours cool nice great
    awesome amazing wonderful congrats congratulations btw by the way sounds looks good bad glad
    happy sorry absolutely definitely totally exactly right true wait look see love dr mr mrs ms
    prof hope wish wishing been gonna wanna gotta another especially recently lately finally
    luckily hopefully seems feels keep take make check got went had did super proud bummer
    """.split()
) | frozenset(n.lower() for n in MONTH_NAMES + WEEKDAY_NAMES)

_SUBJECT_ADVERBS = (
    r"really|just|also|always|never|still|usually|often|sometimes|actually|totally|definitely"
    r"|absolutely|truly|even|only|recently|finally|already|literally|honestly|seriously|mostly"
    r"|rarely|occasionally|normally|generally|personally|certainly|probably|kinda|sorta|kind\s+of"
    r"|sort\s+of|too|then|now|once|ever|especially|simply|barely|hardly|mainly|constantly"
    r"|regularly|genuinely|deeply|completely|currently|basically|definitely|not"
)
_NOT_A_VERB = (
    r"and|or|but|nor|as|than|to|with|for|in|on|at|of|by|from|the|a|an|and|myself|yourself|alone"
    r"|guys|all|both|two|three|here|there|who|that|which|so|if|when|because|too|me|you|him|her|it"
    r"|us|them|this|these|those|my|your"
)
_APOS = "['’]"

# ---------------------------------------------------------------------------------------------
# Regexes, compiled once
# ---------------------------------------------------------------------------------------------

_BOUNDARY_RE = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)|\n")
_ABBREV_RE = re.compile(
    r"(?<![\w.])(?:dr|mr|mrs|ms|prof|st|jr|sr|mt|vs|e\.g|i\.e|[b-hj-z])\.$", re.IGNORECASE
)
_LEAD_RE = re.compile(
    r"""^(?:
        [\s\-*•>"“'‘(]+
      | (?i:hey|hi|hello|thanks|thank\s+you|congrats|congratulations|wow|oh|yeah|yep|yup|yes|well
            |so|ok|okay|sure|right|aw+|ah+|haha+|great|cool|nice|awesome|omg|no|nope|true)
            \s+[A-Z][\w'’-]*\s*[,!.…]+\s*
      | (?i:oh\s+my\s+(?:god|gosh)|omg|oh+|wow+|aw+|ah+|um+|uh+|hm+|ooh+|whoa|ha(?:ha)+h?|he(?:he)+
            |lol|lmao|yay+|phew|hey)\b[\s,!.…]*
      | (?i:yeah|yep|yup|yes|no|nope|well|so|ok|okay|great|cool|nice|awesome|amazing|thanks
            |thank\s+you|you\s+know|sure|right|man|dude|gosh|congrats|congratulations|anyway|btw|by\s+the\s+way
            |actually|also|honestly|absolutely|totally|true|wait|look|listen|ugh|gee|geez|hm+)
            \s*[,!.…:-]+\s*
    )+""",
    re.VERBOSE,
)
_FILLER_RE = re.compile(
    r"(?i:thanks|thank\s+you|thx|bye|goodbye|good\s*night|see\s+(?:you|ya)|take\s+care"
    r"|talk\s+(?:to\s+you\s+)?(?:soon|later)|catch\s+you|congrat|good\s+luck"
    r"|(?:nice|great|good)\s+(?:to|talking|chatting)|(?:glad|happy|sorry)\s+to\s+hear"
    r"|have\s+a\s+(?:good|great|nice|lovely|wonderful)|you\s+too|same\s+here|me\s+too)\b"
)
_REACTION_RE = re.compile(
    r"(?i:that|this|it|sounds|looks)(?:['’]s|\s+is|\s+was|\s+sounds|\s+looks|\s+must\s+be|\s+seems)?"
    r"(?:\s+like)?(?:\s+(?:so|really|very|such|super|just|totally|truly|absolutely|much|an?))*"
    r"\s+(?i:great|amazing|awesome|cool|fun|nice|wonderful|fantastic|incredible|lovely|beautiful"
    r"|inspiring|exciting|interesting|hard|tough|sad|scary|rough|impressive|stunning|brave|good"
    r"|perfect|neat|sweet|adorable|cute|special|powerful|touching)\b"
)
_WORD_RE = re.compile(r"[a-z]+(?:['’][a-z]+)*")
_PRONOUN_RE = re.compile(
    rf"""
    \b(?:
        (?P<subj>I|i|[Yy]ou|YOU)(?!\.\w)(?:{_APOS}(?P<contr>[a-zA-Z]{{1,2}}))?\b
        (?P<adv>(?:\s+(?i:{_SUBJECT_ADVERBS})\b)*)
        (?:\s+(?!(?i:{_NOT_A_VERB})\b)(?P<verb>[A-Za-z]+(?:n{_APOS}t)?)\b(?!{_APOS}))?
      | (?P<obj>me|Me|ME|myself|Myself)\b
      | (?P<poss>my|My|MY|mine|Mine)\b
      | (?P<yposs>your|Your|YOUR|yours|Yours)\b
      | (?P<yself>yourself|Yourself)\b
    )
    """,
    re.VERBOSE,
)
_PLURAL_YOU_RE = re.compile(r"\s+(?i:guys|all|two|both|people|folks)\b")
_PREV_WORD_RE = re.compile(r"([A-Za-z'’]+)\W*$")
# After these "you" is an object, and the next word is no verb of its: "I'll let you know",
# "thanks to you". After anything else it is taken as a subject: "I hope you like it".
_BEFORE_OBJECT_YOU = frozenset(
    """
    let lets make makes made help helps helped see saw watch watched hear heard have has had thank
    thanks tell told give gave show showed send sent ask asked teach taught bring brought get got
    call called to for with at about from of by on in into like than around behind near without
    """.split()
)
_CAP_RUN_RE = re.compile(r"(?<![\w'’])[A-ZÀ-ÖØ-Þ][\w'’&-]*(?:[ ][A-ZÀ-ÖØ-Þ][\w'’&-]*)*")
_CONTRACTION_RE = re.compile(r"['’](?:re|ve|ll|d|m|t)$")
_POSSESSIVE_RE = re.compile(r"['’]s?$")
_TERMINAL_RE = re.compile(r"[.!?…][\"'”’)\]]*$")
_CONTRACTION_AUX = {"m": "is", "ve": "has", "ll": "will", "re": "is"}
_PARTICIPLE_AFTER_D = frozenset("been had gone done seen known taken given got never".split())


# ---------------------------------------------------------------------------------------------
# Sentence splitting
# ---------------------------------------------------------------------------------------------


def split_sentences(text: str) -> Iterator[str]:
    """Yield the sentences of ``text``: cut at . ! ? and newlines, not after "Dr." or in "3.5"."""
    start = 0
    for m in _BOUNDARY_RE.finditer(text):
        end = m.end()
        if m.group() == "." and _ABBREV_RE.search(text, max(start, end - 6), end):
            continue
        piece = text[start:end].strip()
        start = end
        if piece:
            yield piece
    tail = text[start:].strip()
    if tail:
        yield tail


# ---------------------------------------------------------------------------------------------
# Rewriting
# ---------------------------------------------------------------------------------------------


def _third_person(verb: str) -> str:
    """Conjugate a verb that followed "I" or "you" for a named subject: love → loves, try → tries."""
    low = verb.lower()
    special = _THIRD_PERSON_SPECIAL.get(low)
    if special is not None:
        return special
    if (
        not verb.isalpha()
        or verb != low
        or len(low) < 2
        or low in _PAST_IRREGULAR
        or low in _MODALS_ETC
        or (low.endswith("ed") and low not in _ED_PRESENT_VERBS)
        or low.endswith("ing")
        or (low.endswith("ly") and low not in _LY_VERBS)
    ):
        return verb
    if low.endswith(("ss", "x", "z", "ch", "sh", "o")):
        return verb + "es"
    if low.endswith("s"):
        return verb  # "pictures", "guys": a plural noun more likely than a verb
    if low.endswith("y") and low[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def _you_is_object(text: str, at: int) -> bool:
    """Tell "I told you" (object) from "and you love it" (subject) by the word before."""
    before = text[max(0, at - 40) : at]
    m = _PREV_WORD_RE.search(before)
    if m is None or m.end(1) != len(before.rstrip()):
        return False  # start of sentence or after punctuation: a subject
    return m.group(1).lower() in _BEFORE_OBJECT_YOU


class _PronounRewriter:
    """One sentence's pronoun rewrite; remembers whether the listener was named."""

    __slots__ = ("listener", "listener_used", "speaker", "text")

    def __init__(self, text: str, speaker: str | None, listener: str | None) -> None:
        self.text = text
        self.speaker = speaker
        self.listener = listener
        self.listener_used = False

    def __call__(self, m: re.Match[str]) -> str:
        if m["subj"] is not None:
            return self._subject(m)
        if m["obj"] is not None and self.speaker:
            return self.speaker
        if m["poss"] is not None and self.speaker:
            return self.speaker + "'s"
        if self.listener and (m["yposs"] is not None or m["yself"] is not None):
            self.listener_used = True
            return self.listener + ("'s" if m["yposs"] is not None else "")
        return m.group(0)

    def _subject(self, m: re.Match[str]) -> str:
        is_you = m["subj"].lower() == "you"
        name = self.listener if is_you else self.speaker
        if not name:
            return m.group(0)
        verb = m["verb"]
        adv = m["adv"]
        between = self.text[m.end("adv") : m.start("verb")] if verb else ""
        contr = m["contr"]
        if contr is not None:
            low = contr.lower()
            if low == "d":
                nxt = (verb or "").lower()
                aux = "had" if nxt in _PARTICIPLE_AFTER_D or nxt.endswith("ed") else "would"
            elif low in _CONTRACTION_AUX:
                aux = _CONTRACTION_AUX[low]
            else:
                return m.group(0)  # "I's", "you'z": not English, leave it
            if is_you:
                self.listener_used = True
            return f"{name} {aux}{adv}{between}{verb or ''}"
        if is_you:
            if _PLURAL_YOU_RE.match(self.text, m.end("subj")):
                return m.group(0)  # "you guys", "you all": not the one listener
            if verb is not None and verb.lower() == "know" and not adv:
                after = self.text[m.end() : m.end() + 8].lstrip()
                if not after or after[0] in ",.!?;:-–—" or after.lower().startswith("what"):
                    return m.group(0)  # the filler "you know," reads worse rewritten
            self.listener_used = True
            if _you_is_object(self.text, m.start()):
                return name + self.text[m.end("subj") : m.end()]
        if verb is None:
            return name + adv
        return f"{name}{adv}{between}{_third_person(verb)}"


def _strip_vocative(sentence: str, name: str) -> str:
    """Drop the listener's name used as address: "Mel, I went..." / "...so proud of you, Mel!"."""
    if sentence.startswith(name) and sentence[len(name) : len(name) + 1] in (",", "!"):
        sentence = sentence[len(name) + 1 :].lstrip()
    core = sentence.rstrip(" .!?…")
    if core.endswith(name):
        head = core[: -len(name)].rstrip()
        if head.endswith(","):
            sentence = head[:-1].rstrip() + sentence[len(core) :]
    return sentence


def _finish(text: str) -> str:
    """Collapse whitespace, capitalise, and end with terminal punctuation."""
    s = " ".join(text.split()).rstrip(" ,;:-–—")
    if not s:
        return s
    if s[0].islower():
        s = s[0].upper() + s[1:]
    if not _TERMINAL_RE.search(s):
        s += "."
    return s


def _is_past(words: list[str]) -> bool:
    prev = ""
    for w in words:
        # "I've got two brothers" is possession, not a past event.
        if w in _PAST_IRREGULAR and not (w == "got" and prev.endswith(("'ve", "’ve", "have", "has"))):
            return True
        if (
            len(w) > 3
            and w.endswith("ed")
            and w not in _ED_NOT_PAST
            and prev not in _ADJ_BEFORE_ED
            and "'" not in w
            and "’" not in w
        ):
            return True
        prev = w
    return False


def _normalise(name: str) -> str:
    return _POSSESSIVE_RE.sub("", " ".join(name.lower().split()))


def _entities(text: str, speaker: str | None, listener: str | None) -> tuple[str, ...]:
    found: list[str] = []
    if speaker:
        found.append(_normalise(speaker))
    if listener:
        found.append(_normalise(listener))
    for m in _CAP_RUN_RE.finditer(text):
        run: list[str] = []
        for n, token in enumerate(m.group().split(" ")):
            bare = token.strip("'’&-")
            low = bare.lower()
            possessive = low.endswith(("'s", "’s"))
            if possessive:
                low = low[:-2]
            elif _CONTRACTION_RE.search(low):
                low = ""  # "They're", "Don't": contractions, not names ("O'Brien" keeps its capital)
            # A sentence's first word is capitalised anyway; "Working", "Honestly", "Excited" are
            # not names even though the stoplist cannot list every such word.
            opener = n == 0 and m.start() == 0 and low.endswith(("ing", "ly", "ed")) and not bare.isupper()
            if not low or low in _NOT_ENTITIES or low.isdigit() or opener:
                if run:
                    found.append(" ".join(run))
                    run = []
                continue
            run.append(low)
            if possessive:  # "Caroline's LGBTQ group": two names, not one
                found.append(" ".join(run))
                run = []
        if run:
            found.append(" ".join(run))
    return tuple(dict.fromkeys(e for e in found if e))


# ---------------------------------------------------------------------------------------------
# The extractor
# ---------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    kind: UnitKind
    text: str
    turn_indexes: list[int]
    entities: tuple[str, ...]
    occurred_at: datetime | None


def _listeners(turns: Sequence[TurnInput]) -> list[str | None]:
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


class RuleExtractor:
    """Derive facts and events from turns with rules alone: fast, offline, deterministic.

    Per sentence: skip questions, greetings and fillers; resolve "I"/"you" to names and relative
    dates to absolute ones; call it an event when it has a date or is in the past tense.
    """

    def __init__(self, *, max_units_per_turn: int = MAX_UNITS_PER_TURN) -> None:
        self.max_units_per_turn = max_units_per_turn

    def extract(self, turns: Sequence[TurnInput]) -> list[Extracted]:
        """Return the statements found in ``turns``, each once, pointing at the turns it came from."""
        listeners = _listeners(turns)
        pending: dict[str, _Pending] = {}
        for index, turn in enumerate(turns):
            for unit in islice(self._turn_units(turn, listeners[index]), self.max_units_per_turn):
                seen = pending.get(unit.text)
                if seen is None:
                    unit.turn_indexes.append(index)
                    pending[unit.text] = unit
                elif index not in seen.turn_indexes:
                    seen.turn_indexes.append(index)
        return [
            Extracted(
                kind=p.kind,
                text=p.text,
                turn_indexes=tuple(p.turn_indexes),
                entities=p.entities,
                occurred_at=p.occurred_at,
            )
            for p in pending.values()
        ]

    def _turn_units(self, turn: TurnInput, listener: str | None) -> Iterator[_Pending]:
        speaker = (turn.speaker or "").strip() or None
        listener = (listener or "").strip() or None
        for n, sentence in enumerate(split_sentences(turn.content or "")):
            if n >= MAX_SENTENCES_PER_TURN:
                return
            unit = self._sentence_unit(sentence, turn.timestamp, speaker, listener)
            if unit is not None:
                yield unit

    def _sentence_unit(
        self,
        sentence: str,
        timestamp: datetime | None,
        speaker: str | None,
        listener: str | None,
    ) -> _Pending | None:
        if len(sentence) > MAX_SENTENCE_CHARS or "?" in sentence[-3:] or _FILLER_RE.match(sentence):
            return None
        lead = _LEAD_RE.match(sentence)
        if lead is not None:
            sentence = sentence[lead.end() :]
        if listener:
            sentence = _strip_vocative(sentence, listener)
        if _FILLER_RE.match(sentence):
            return None
        raw_words = sentence.split()
        if not MIN_SENTENCE_WORDS <= len(raw_words) <= MAX_SENTENCE_WORDS:
            return None
        sentence = " ".join(raw_words)  # single spaces: the date rules rely on them
        reaction = _REACTION_RE.match(sentence)
        if reaction is not None and len(sentence[reaction.end() :].split()) <= 2:
            return None
        words = _WORD_RE.findall(sentence.lower())
        if not any(len(w) > 2 and w not in _FUNCTION_WORDS for w in words):
            return None

        when: datetime | None = None
        text = sentence
        if timestamp is not None:
            text, when = resolve_relative(text, timestamp)
        rewriter = _PronounRewriter(text, speaker, listener)
        if speaker or listener:
            text = _PRONOUN_RE.sub(rewriter, text)
        text = _finish(text)
        if not text:
            return None

        kind: UnitKind
        occurred: datetime | None
        if when is not None:
            kind, occurred = "event", when
        elif _is_past(words):
            kind, occurred = "event", timestamp
        else:
            kind, occurred = "fact", None
        entities = _entities(text, speaker, listener if rewriter.listener_used else None)
        return _Pending(kind, text, [], entities, occurred)
