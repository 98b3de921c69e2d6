"""Whether a newer statement that says something changed is about the same thing as an older one.

The claim rules (``claims``) close an old value when they can name the relation both statements
share. People rarely say a change the way they said the original: "I've been living in Valencia"
becomes "Since March, home has been a little apartment in Bilbao", "I prefer aisle seats" becomes
"Window seats for me now". This module is the fallback for those: a statement that *says* it
changed something ("instead", "switched", "these days", "went up to", "no longer", "since May")
replaces the speaker's older fact that shares its topic, the most of it, when nothing else did.

A topic is read from words, not parsed: the content words both statements share (stemmed, the
speaker's names, the cue words and verbs of saying left out), the attribute two different words
belong to (an attribute lexicon: "living" and "apartment" are both about home, "Wednesday" and
"Thursdays" are both a weekday), and a measure both state (two amounts in kilograms, in pounds
sterling, in percent).

A change cue is required, or a new value of something held one at a time: without either, two
statements sharing a topic are two things said, not one replacing the other. "Now", "currently"
and "lately" are weak cues, common in chat about anything ("I'm so tired now"): they count in
short statements only, with two shared points of topic (one in a terse clause such as "Window
seats for me now", which says nothing else). A statement of a measure needs no cue ("Scale said 87
kg this morning" after "I weigh 94 kg"), but two shared points one of which is the measure, and no
other named subject ("The Alto desk"). Nor does a statement naming another value of something a
person holds one at a time (a home, a job, a phone, a doctor): "The Lekki flat has a working
generator finally" replaces "My flat in Yaba floods", each naming a place the other does not.
Statements about the speaker's partner, parent or friend are no rivals to the speaker's own ("My
partner got a Kia" leaves "I drive a Mazda"); statements of feeling, opinion, advice or intention
change nothing and are changed by nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..caseless import Caseless
from ..dates import MONTH_NAMES, WEEKDAY_NAMES
from ..lexicon import ATTRIBUTES, SEVERAL_AT_ONCE, attribute_of
from ..retrieve.confidence import stem
from ..retrieve.query import lexical_terms
from .claims import subject_of

__all__ = [
    "Cue",
    "Topic",
    "best_rival",
    "change_cue",
    "holds_a_value",
    "lookup_words",
    "overlap",
    "replacing_cue",
    "states",
    "topic",
]

_MONTHS = " ".join(name.lower() for name in MONTH_NAMES)
_MONTH_NAMES = _MONTHS.replace(" ", "|")
#: What follows "to" in a change of value ("cut the target to 1.3 million", "moved me to the late
#: shift"), and not in an aim ("it pushed Jon to take the plunge").
_TO_A_VALUE = (
    r"(?!(?:be|do|go|get|take|make|try|keep|help|start|stop|have|see|find|give|work|learn|say|come|"
    r"think|look|write|read|play|put|let|stay|leave|become|spend|finish|focus|pursue)\b)"
)
_STRONG_CUES = Caseless(
    r"\b(?:instead(?! of \w+ing)|switched|switching|swapped|no longer|these days|nowadays|from now on|"
    r"relocated|transferred|replaced|succeeded|took over|taken over|went (?:up|down|back) to|"
    r"upgraded|downgraded|sold|traded|ditched|doubled|tripled|halved|broke up|split up|divorced|separated|"
    r"proposed|got engaged|got married|"
    r"appointed|elected|hired as|named as|as of|now that|"
    r"first (?:full )?(?:day|week|month|shift) (?:as|at|in)|start(?:s|ed|ing)? (?:at|as|in) (?-i:[A-Z])\w*|"
    r"start(?:ed|ing) (?:me |him |her |us )?(?:on|taking) (?:\w+,? )?\d+|"
    r"(?:landed|accepted|took|taken) (?:a|an|the|my) (?:[\w-]+ ){0,3}(?:job|role|position|offer)|"
    r"(?:dropped|fell|rose|climbed|grew|shrank|increased|decreased|reduced|lowered|raised|upped|hiked|bumped|"
    rf"cut|revised|changed|pushed|shifted) (?:[\w']+ ){{0,4}}?to (?:{_TO_A_VALUE})[£$€¥₹]?|"
    r"moved|(?:down|up) to \S*\d|(?:gone|went|going) (?:up|down)|after (?:the|our|my) move|"
    rf"since (?:{_MONTH_NAMES}|spring|summer|autumn|fall|winter|(?:19|20)\d\d|"
    r"last (?:week|month|year|spring|summer|autumn|fall|winter|\w+day)|"
    r"\w+ing\b|(?:the|my|our) (?!last\b|first\b)\w+(?=\s*(?:[,;:.!?]|$|\s(?:i|i'm|i've|we|we're|we've|my|our|"
    r"he|she|they|it's|there|\w+'s)\b)))|"
    r"gave up|given up|quit|stopped|promoted|left (?:the|my|his|her|our|their)|"
    r"settl(?:ed|ing) (?:in|into|in to|down in) (?-i:[A-Z])|"
    r"transfer (?:went|came|has gone|has come) through|transfer (?:was|got|has been) approved|"
    # How records say it: "reassigned to Felipe", "now managed by Mei-Ling", "from February".
    r"reassigned|migrated|ported|rerouted|routed to|handed (?:over|off)|updated to|changed to|"
    r"(?:advanced|progressed|escalated) to|replacement (?:was )?(?:issued|arrived|installed|delivered)|"
    r"changed (?:jobs|schools|teams|banks|doctors|careers|gyms|clubs|providers)|"
    r"changed (?:my|our|his|her|their) (?:\w+ )?(?:tablets|pills|medication|meds|dose|number|address|plan)|"
    r"now (?:managed|owned|run|hosted|led|handled|covered|coached|chaired|captained|taught) by|"
    r"effective (?:today|immediately|from|as of)|signed (?:for|with)|dropped (?:the|my|out)|"
    rf"from (?:today|tomorrow|this (?:week|month|year|season)|next (?:week|month)|{_MONTH_NAMES}))\b|"
    r"\b(?:anymore|any more)\s*(?:[,.;!?]|$)",
)
#: Cues that say "not" themselves: "I'm not vegetarian anymore" is a change.
_NEGATIVE = re.compile(r"no longer|any ?more", re.IGNORECASE)
#: A cue said not to have happened: "Jon won't quit", "never gave up".
_DENIED = re.compile(r"(?:n't|\bnot|\bnever|\bnor)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)
_WEAK_CUES = re.compile(r"\b(?:now|currently|lately|at the moment|right now)\b", re.IGNORECASE)
#: "Now" with an activity under way says what goes on, not a value that changed: "I'm learning
#: German now" leaves "learning the violin" as it was (unlike "watching Severance now").
_DOING_NOW = re.compile(
    r"(?:\b(?:is|am|are)|'m|'re|'s)\s+(?:\w+ly\s+)?(?:learning|participating|practi[cs]ing|training|"
    r"writing|listening|trying|exploring|enjoying|doing|making|working on|getting into)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"n't\b|\b(?:not|never|no)\b", re.IGNORECASE)
_QUESTION = re.compile(r"[^.!?]*\?")
#: A word of every cue (its first, or its rarest): a sentence with none of them says no change.
_TRIGGERS = frozenset(
    """instead switched switching swapped longer nowadays now relocated landed accepted transferred
    replaced succeeded took taken went upgraded downgraded sold traded ditched doubled tripled halved
    broke split divorced separated proposed engaged married appointed elected hired named started
    starting dropped fell rose climbed grew shrank increased decreased reduced lowered raised upped
    hiked bumped cut revised changed pushed moved shifted gone since gave given quit stopped
    promoted anymore new bought currently lately moment reassigned migrated ported rerouted routed
    handed updated effective signed advanced progressed escalated replacement settled settling
    transfer""".split()
)
#: Cues made of common words.
_COMMON_CUES = Caseless(
    r"\b(?:these days|as of|(?:up|down) to|any more|got (?:a|an|my)|going (?:up|down)|after (?:the|our|my) "
    r"move|first (?:full )?(?:day|week|month|shift)|left (?:the|my|his|her|our|their)|starts? (?:at|as|in)|"
    rf"from (?:today|tomorrow|this|next|{_MONTH_NAMES}))\b",
)
_TRIGGER = Caseless(rf"\b(?:{'|'.join(sorted(_TRIGGERS))})\b|{_COMMON_CUES.pattern}")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NOW = re.compile(r"\b(?:now|currently|at the moment)\b", re.IGNORECASE)
#: Words that add to what was said; "Also, my doctor changed my tablets" opens a new matter instead,
#: and "left for another company", "moved to another team" leave one thing for the next.
_ADDS = Caseless(
    r"(?!^also\b(?:,| (?:my|our|the|i|we|his|her|their)\b| (?-i:[A-Z])))"
    r"\b(?:also|another|as well|additionally|in addition|both|second)\b|\btoo\s*(?:[,.;!?)]|$)",
    needs="also|another|as well|additionally|in addition|both|second|too",
)
_LEAVING_FOR_ANOTHER = Caseless(
    r"\b(?:left|leaving|leaves|moved|moving|switched|switching|transferred|changed) "
    r"(?:for|to|into) another\b"
    # Another change is no second thing held: "Another rate rise, so the mortgage is now £870".
    r"|\banother (?:[\w-]+ )?(?:rise|hike|increase|cut|drop|raise|change|reshuffle|restructure|update)s?\b",
)


def _adds(text: str) -> bool:
    """Whether ``text`` adds to what was said rather than changing it (see ``_ADDS``)."""
    return _ADDS.search(_LEAVING_FOR_ANOTHER.sub("", text)) is not None


#: Words that say a change or carry no topic, left out of what two statements share.
_NOT_TOPIC = frozenset(
    stem(w)
    for w in f"""now currently lately moment instead switched switching swapped longer anymore days nowadays
    moved relocated replaced succeeded took taken went go goes going gone got get gets getting back
    dropped fell rose climbed increased decreased reduced lowered raised upped hiked bumped cut
    revised changed pushed since started start starting stopped gave given quit left
    finally usually always still every new old say said says told tell think thinks know feel felt
    want make made like likes thing things lot bit way one ones super really pretty quite totally much
    time today week month year day ago morning evening night yesterday promoted {_MONTHS}""".split()
)

#: "a new apartment", "my new GP", "got an iPhone": a new one of something a person has one of at
#: a time.
_HELD_ONE_AT_A_TIME = (
    "home", "work", "doctor", "phone", "computer", "boss", "partner", "study", "address",
    "childcare", "bank", "insurance", "coach", "hosting", "carrier",
)  # fmt: skip
_NEW_ONE = re.compile(
    r"\b(?:new|(?:got|bought) (?:a|an|my)(?: new)?) (?:\w+ )?(?:{})\b".format(
        "|".join(
            w for a in _HELD_ONE_AT_A_TIME for w in ATTRIBUTES[a] if w != "place"
        )  # a trip to a new place
    ),
    re.IGNORECASE,
)

_MEASURE = Caseless(
    r"(?P<currency>[£$€])\s?\d|(?P<clock>\b\d{1,2}:\d\d\b)|"
    r"\d(?:[\d,.]*\d)?\s?(?P<unit>%|percent|kg|kgs|kilos?|lbs?|mg|ml|g|grams?|km|miles?|"
    r"hours?|minutes?|mins?|euros?|dollars?|pounds?|million|billion|k\b|am|pm|people|employees|staff|"
    r"members|students|users|customers|subscribers|followers)\b"
    # Any other word after a number names what it counts ("18 lakh", "1415 rapid"), but a time.
    r"|\b(?!(?:19|20)\d\d\b)\d(?:[\d,.]*\d)? (?P<other>(?!(?:years?|months?|weeks?|days?|times?|and|or|"
    rf"to|of|in|on|at|a|an|the|{_MONTHS.replace(' ', '|')})\b)(?-i:[a-z]{{3,}}))\b",
    needs=r"\d",
)
_SAME_MEASURE = {"£": "gbp", "pound": "gbp", "pounds": "gbp", "$": "usd", "dollar": "usd",
                 "dollars": "usd", "€": "eur", "euro": "eur", "euros": "eur", "percent": "%",
                 "kgs": "kg", "kilo": "kg", "kilos": "kg", "lb": "lbs", "mile": "miles",
                 "hour": "hours", "minute": "minutes", "min": "minutes", "mins": "minutes",
                 "am": "clock", "pm": "clock"}  # fmt: skip
_DIGIT = re.compile(r"\d")
_PRESENT = Caseless(
    r"^(?:(?!\b(?:was|were|had|did|went|will|would|going)\b)(?:[^.!?]|\.(?=\w)))*\b(?:is|are|am)\b",
)
_ARTICLES = ("the", "a", "an")
#: A past verb, but those of reading a measure ("weighed in at 77 kg"): a reading holds until the next.
_PAST = Caseless(r"\b(?:was|were|had|did|went|ran|won|got|(?!weighed|measured)\w+ed)\b")
#: Giving something to someone to hold ("Ticket #4821 assigned to Hollis"): who holds it is a
#: value until it passes on.
_HANDED = Caseless(r"\b(?:assigned|issued|allocated|handed(?: over)?|reassigned|loaned|lent) to\b")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_YEAR = re.compile(r"(?:19|20)\d\d")
_QUOTED = re.compile(r"[\"“]([^\"”]+)[\"”]")
#: A name: a capitalised word past a sentence's first, not a month, a weekday or "I".
_NOT_NAMES = [*MONTH_NAMES, *WEEKDAY_NAMES]
_NAME = re.compile(
    rf"(?<![.!?:]\s)(?<!^)(?<![\"“(])\b(?!(?:I|I'm|I've|I'd|I'll|{'|'.join(_NOT_NAMES)})s?\b)"
    r"(?-i:[A-Z][\w'-]*[a-z][\w'-]*|[A-Z]{2,})\b"
)

#: Attributes a change names by how it is said, not by a word of the lexicon: "first week at MTN"
#: is about work, "now that we're in Batumi" about home.
_SAID_ATTRIBUTES = {
    "home": re.compile(
        r"\b(?:moved|moving|relocated|relocating) (?:in)?to\b|\bsettl(?:ed|ing) (?:in|into|down in)\b|"
        r"\bnow that (?:we're|we are|i'm|i am) (?:in|based in)\b|\bnew place\b|\bbased in\b|"
        # "I'm in Lisbon now", "Rafael Costa is in Lisbon now": where someone is, said as a change.
        r"(?:'m|'re|\b(?:am|is|are)) (?:now )?in (?-i:[A-Z])[\w'-]+(?: (?-i:[A-Z])[\w'-]+)?,? now\b",
        re.IGNORECASE,
    ),
    "work": re.compile(
        r"\bfirst (?:full )?(?:day|week|month|shift) (?:at|as|in)\b|\bstart(?:ed|ing) (?:at|as)\b|"
        r"\bpromoted\b|\bhired\b|\bjoined (?-i:[A-Z])|\bleft for\b|\bwork(?:s|ing)? (?:at|for|as)\b|"
        r"\b(?:teach(?:es|ing)?|taught|lectur(?:es|ing)|employed) (?:at|by)\b|"
        r"\b(?:is|am|are|'m|been|was) an? (?:[\w-]+ ){1,3}(?:at|for) (?-i:[A-Z])",  # an analyst at Ecobank
        re.IGNORECASE,
    ),
    # "in the analytics group under Keiko Sato": whom one reports to.
    "boss": re.compile(r"\b(?:under|reporting to) (?-i:[A-Z][a-z])", re.IGNORECASE),
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),  # "my new address ravi@fastmail.com"
    # "plays left back for Dockside Rovers", "signed for Harbour United": one team at a time.
    "team": re.compile(r"\bplays? (?:[\w-]+ ){0,3}for (?-i:[A-Z])|\bsigned (?:for|with) (?-i:[A-Z])", re.I),
}

#: Words of a feeling, an opinion or an intention: what they say is no attribute that changes.
_OPINION = Caseless(
    r"\b(?:lov(?:e|es|ed|ing|ely)|likes?|enjoy(?:s|ed|ing)?|hat(?:e|es|ed)|passion(?:ate)?|keen|"
    r"dream(?:s|ed|ing)?|hop(?:e|es|ed|ing)|wish(?:es|ed|ing)?|want(?:s|ed|ing)?|appreciat(?:e|es|ed|ing)|"
    r"awesome|amazing|great|happy|proud|excit(?:ed|ing)|thrill(?:ed|ing)|grateful|thankful|important|fun|"
    r"cool|solid|tough|hard|tricky|inspir(?:e|es|ed|ing)|beautiful|cute|determined|glad|good|"
    r"rewarding|busy|tired|stressed|exhausted|sick|bored|lonely|sad|worried|nervous|bet|"
    r"think(?:s|ing)?|thought|feel(?:s|ing)?|felt|sounds|seems|(?:would|'d)(?! rather)|won't|could|should|"
    r"might|goal|"
    r"helps?|keep going|can't wait|cannot wait|looking forward|sorry)\b",
)
_ADVICE = re.compile(
    r"(?:don't|do|let|make|keep|appreciate|remember|take|taking|look|here|send|sending|check|"
    r"try|go|enjoy|thanks|thank|congrat\w*|good luck|sounds|hope|wish|"
    r"that|this|those|these(?! days)|it's|it is|such|you|you're|your)\b",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(
    r"\s*(?:[,;:!?(]|\s[-–—]\s|\.\s|\b(?:and|but|because|'cause|so|which|who|when|while)\b)"
)

#: How a statement says it replaces an older one: by a change cue ("strong": "instead", "went up
#: to"; "weak": "now"), by stating a measure the older one stated ("measure"), or by naming
#: another value of something held one at a time ("value": "The Lekki flat has a generator"
#: after "My flat in Yaba floods").
Cue = Literal["strong", "weak", "measure", "value"]
#: The longest statement a weak cue ("now") counts in: a short one says what is now, a long one
#: tells a story that happens to be now ("Lately, Nate has been doing great - Nate won ...").
WEAK_CUE_WORDS = 16
#: A clause this short with "now" says nothing but what holds now ("Window seats for me now, I
#: like to sleep against the wall", "Now on a Fairphone 5 - I can swap the battery myself"): its
#: cue is strong, however long the sentence; a shorter one ("Right now,") says nothing.
TERSE_WORDS = 6
MIN_TERSE_WORDS = 3


@dataclass(frozen=True)
class Topic:
    """What a statement is about, for comparing it with another by the same speaker."""

    words: frozenset[str]  # content stems, but those naming an attribute
    attributes: frozenset[str]
    measures: frozenset[str]
    #: Every content stem and number: what it says, topic and value alike.
    said: frozenset[str]
    text: str
    #: Names it holds (lowercased), but the speaker's: the values a "value" cue compares.
    names: frozenset[str] = frozenset()
    #: Whether it states a number that is no year: "1320" is the value of "rapid rating is 1320".
    numbered: bool = False
    #: The attributes held one at a time it names by a noun or by how it is said ("my flat",
    #: "works at"), not by a verb of doing ("working on a song").
    held: frozenset[str] = frozenset()

    @property
    def thing(self) -> str | None:
        """The thing it is about when it names one ("the alto desk"), else None."""
        return _named_thing(self.text)


#: Says that what the speaker just said was wrong: "Oops, I misspoke", "sorry, I meant Tuesday",
#: "scratch that", "my mistake, it's the 14th".
_CORRECTION = Caseless(
    r"\b(?:mis-?spoke|i meant(?! to\b)|i'd meant|meant to (?:say|write|type)|scratch that|"
    r"(?:my mistake|my bad|sorry,? wrong)(?=[,.;:!—–-]|$)|i (?:got|had) (?:[\w']+ ){0,2}?(?:wrong|mixed up)|"
    r"i mixed (?:[\w']+ ){0,2}?up|correction(?::| to\b| on\b)|^(?:no|wait),? sorry\b|\bsorry,? (?:no|wait),)",
)


#: A value set right against the one said wrong, both named: "it's Leeds not Leicester", "the
#: school is Hillside High, not Hillcrest", "room 214, not 241".
_RIGHT_NOT_WRONG = re.compile(r"[A-Z0-9][\w'-]*,? not (?:the |in |at |room )?(?P<wrong>[A-Z0-9][\w'-]*)")
#: What makes such a contrast a slip put right rather than a preference ("Arsenal, not Spurs").
_SLIP = Caseless(r"\b(?:no|wait|sorry|oops|whoops|actually|typo|autocorrect\w*|mix\w*|meant|it's|it is)\b")


def corrects(text: str) -> bool:
    """Whether ``text`` takes back what its speaker said just before (and adds nothing)."""
    straight = text.replace("’", "'")
    return (_CORRECTION.finds(straight) or _wrong_value(straight) is not None) and not _adds(text)


def said_wrong(text: str) -> str | None:
    """The value a correction names as the one said wrong ("Leicester" in "wait, no, it's Leeds
    not Leicester"), lowercased; None when it names none."""
    return _wrong_value(text.replace("’", "'"))


def _wrong_value(straight: str) -> str | None:
    found = _RIGHT_NOT_WRONG.search(straight) if " not " in straight else None
    return found["wrong"].lower() if found is not None and _SLIP.finds(straight) else None


@functools.lru_cache(maxsize=65536)
def change_cue(text: str) -> Cue | None:
    """ "strong" when ``text`` says a value changed, "weak" for "now", None when it says nothing
    of change. Read sentence by sentence: a question, a sentence that adds ("also", "too", "a
    second ...") or one of opinion says no change ("it's so hard to think he's not here anymore")."""
    if corrects(text):
        return "strong"
    if not _may_say_a_change(text):
        return None
    asked = _QUESTION.sub("", text) if "?" in text else text  # the pattern is slow to find none
    cues = {_sentence_cue(sentence) for sentence in _SENTENCE.split(asked)}
    return "strong" if "strong" in cues else "weak" if "weak" in cues else None


def _may_say_a_change(text: str) -> bool:
    """A fast first look: most statements hold none of the words a cue is made of."""
    return _TRIGGER.finds(text)


def _sentence_cue(sentence: str) -> Cue | None:
    if not _may_say_a_change(sentence):
        return None
    if _adds(sentence) or not states(sentence):
        return None
    cues = [*_STRONG_CUES.finditer(sentence), *_NEW_ONE.finditer(sentence)]
    if any(_NEGATIVE.match(m[0]) or not _DENIED.search(sentence[: m.start()]) for m in cues):
        return "strong"
    if not _WEAK_CUES.search(sentence) or _DOING_NOW.search(sentence):
        return None
    terse = any(
        _NOW.search(c) and MIN_TERSE_WORDS <= len(c.split()) <= TERSE_WORDS and not _NEGATION.search(c)
        for c in _CLAUSE_END.split(sentence)
        if c
    )
    return "strong" if terse else "weak" if len(sentence.split()) <= WEAK_CUE_WORDS else None


@functools.lru_cache(maxsize=65536)
def replacing_cue(text: str) -> Cue | None:
    """What says ``text`` may replace an older statement: a change cue, else "measure" for a
    statement of a measure ("Scale said 87 kg this morning"), which replaces the speaker's older
    statement of the same measure about the same thing without saying so."""
    if (cue := change_cue(text)) is not None:
        return cue
    measure = _MEASURE.finds(text)
    if not (measure or _NAME.search(text)) or _adds(text) or not states(text):
        return None  # the cheap looks first: most statements hold neither a measure nor a name
    if measure:
        return "measure"
    # A value named in the present ("The Lekki flat has a generator"), not a story of the past.
    return "value" if _PRESENT.finds(text) or not _PAST.finds(text) else None


@functools.lru_cache(maxsize=65536)
def states(text: str) -> bool:
    """Whether ``text`` states something a later statement could change: not a feeling or an
    opinion ("Dancing makes Jon so happy"), a wish or advice ("Don't let anything stop Jon",
    "Jon is gonna keep going"), a remark about "that" or "those", nor a photo's caption. Read on
    its first clause, so that "I cycle to the office, and I love it" states where it goes."""
    if text.startswith("[") or _ADVICE.match(text):
        return False
    clauses = [c for c in _CLAUSE_END.split(text) if c and len(c.split()) >= 3]
    return not clauses or not _OPINION.finds(clauses[0])


@functools.lru_cache(maxsize=65536)
def topic(text: str, names: tuple[str, ...] = ()) -> Topic:
    """The topic of ``text``; ``names`` (the speaker's) are no topic."""
    named = {stem(part) for name in names for part in name.lower().split()}
    words = (w for w in lexical_terms(text) if not _DIGIT.search(w) and not _OPINION.fullmatch(w))
    stems = {stem(w) for w in words} - named - _NOT_TOPIC
    measures = set()
    for match in _MEASURE.finditer(text):
        unit = "clock" if match["clock"] else (match["currency"] or match["unit"] or match["other"]).lower()
        measures.add(_SAME_MEASURE.get(unit, unit))
    titled = {stem(w) for quote in _QUOTED.findall(text) for w in lexical_terms(quote)}  # "Finding Home"
    # An attribute people hold several of at once (a second language) is no shared topic.
    attributes = {
        s: a for s in stems - titled if (a := attribute_of(s)) is not None and a not in SEVERAL_AT_ONCE
    }
    said_attributes = {a for a, pattern in _SAID_ATTRIBUTES.items() if pattern.search(text)}
    full_names = {n.lower() for n in names}
    return Topic(
        words=frozenset(stems - attributes.keys()),
        attributes=frozenset({*attributes.values(), *said_attributes}),
        measures=frozenset(measures),
        said=frozenset(stems | set(_NUMBER.findall(text))),
        text=text,
        names=frozenset(
            w for m in _NAME.finditer(text) if (w := m[0].lower()) not in full_names and stem(w) not in named
        ),
        numbered=any(not _YEAR.fullmatch(n) for n in _NUMBER.findall(text)),
        held=frozenset({a for s, a in attributes.items() if s not in _DOING} | said_attributes)
        & _HELD_VALUES,
    )


@functools.lru_cache(maxsize=65536)
def _named_thing(text: str) -> str | None:
    subject = subject_of(text)
    return subject if subject and subject.split(" ", 1)[0] in _ARTICLES else None


def overlap(old: Topic, new: Topic) -> int:
    """Points of topic two statements share: words, attributes and measures; none where either
    has no value of its own (a word or measure the other lacks), as when the newer only tells
    more of the older ("Tim is currently reading a fantasy novel" after "Tim is into fantasy")."""
    if old.said <= new.said or new.said <= old.said:
        return 0
    return len(old.words & new.words) + len(old.attributes & new.attributes) + len(_shared_measures(old, new))


def _shared_measures(old: Topic, new: Topic) -> frozenset[str]:
    """Measures both state; a count one names ("1415 rapid") is stated by the other when it names
    the word with a number ("my rapid rating is 1320")."""
    if shared := old.measures & new.measures:
        return shared
    return frozenset(
        {m for m in new.measures if old.numbered and stem(m) in old.words}
        | {m for m in old.measures if new.numbered and stem(m) in new.words}
    )


#: Points of topic a replaced fact must share with the statement that replaces it, by cue.
NEEDED: dict[Cue, int] = {"strong": 1, "weak": 2, "measure": 2, "value": 1}


def best_rival(new: Topic, cue: Cue, olds: Iterable[tuple[str, Topic]]) -> str | None:
    """The id of the older statement ``new`` replaces: the one sharing the most of its topic, if it
    shares enough for ``cue`` and no other shares as much (a tie names no single one). Of two
    sharing as much, the one naming more of the same names is the more likely: "badge upgraded to
    L3 with server room access" for Rohan Iyer replaces "Rohan Iyer badge level: L2", not "Access:
    floors 1-3, no server room"."""
    scored = sorted(
        ((overlap(t, new), len(t.names & new.names), uid) for uid, t in olds if _comparable(t, new, cue)),
        reverse=True,
    )
    if not scored or scored[0][0] < NEEDED[cue]:
        return None
    if len(scored) > 1 and scored[1][:2] == scored[0][:2]:
        return None
    return scored[0][2]


def _comparable(old: Topic, new: Topic, cue: Cue) -> bool:
    """A statement of a measure without a cue replaces one of the same measure of the same thing
    only: "The Alto lamp costs 45 euros" leaves "The Alto desk costs 610 euros" as it was. One
    naming a value without a cue replaces one of the same thing held one at a time, each naming
    a value the other does not (Yaba, Lekki), and not one about another person's
    ("My partner got a Kia" leaves "I drive a Mazda", and "Solicitor now" leaves "my sister is
    a nurse")."""
    if _about_another(new.text) != _about_another(old.text):
        return False  # "Ana's sister is a nurse" is no rival to Ana's own job
    if cue == "measure":
        return bool(_shared_measures(old, new)) and (old.thing is None or new.thing in (None, old.thing))
    if cue == "value":
        return (
            bool(old.held & new.held)
            and bool(old.names - new.names)
            and bool(new.names - old.names)
            and not _about_another(old.text)
        )
    return True


#: What a person holds one of at a time, whose change a new value alone says.
_HELD_VALUES = frozenset((*_HELD_ONE_AT_A_TIME, "internet", "status")) - {"study"}  # classes add up
#: Stems of verbs of doing that name an attribute only as a noun: "working on a song" is no job.
_DOING = frozenset(stem(w) for w in ("work", "works", "working"))
_OTHER_PERSON = Caseless(
    r"\b(?:partner|wife|husband|girlfriend|boyfriend|friend|brother|sister|mom|mum|dad|mother|father|"
    r"son|daughter|kids?|parents?|colleague|roommate|flatmate|neighbou?r|cousin|aunt|uncle)\b",
)


def _about_another(text: str) -> bool:
    """Whether ``text`` is about someone close to the speaker ("My dad, Gerald, is a postman")."""
    subject = subject_of(text) or " ".join(text.split()[:2])
    return _OTHER_PERSON.finds(subject)


def lookup_words(text: str) -> list[str]:
    """Words to look up the older statements ``text`` may replace by topic: its own content words
    and every word naming an attribute it names ("home" looks up "living" too)."""
    words = [w for w in lexical_terms(text) if stem(w) not in _NOT_TOPIC and not _DIGIT.search(w)]
    named = {a for a in map(attribute_of, map(stem, words)) if a is not None and a not in SEVERAL_AT_ONCE}
    return list(dict.fromkeys([*words, *(w for name in sorted(named) for w in ATTRIBUTES[name])]))


@functools.lru_cache(maxsize=65536)
def holds_a_value(event: str) -> bool:
    """Whether an event's text sets a value that holds until changed, as a fact does: it says a
    value changed ("switched Biscuit to Orijen", "reports to Bea now"), is said in the present
    ("The spare keys are kept in the blue bowl", "the rate is 2.1 percent"), states a measure
    without a past verb ("Down to 89 kg!") or an amount held ("signed the offer, base salary 18
    lakh"), or gives something to someone to hold ("Ticket #4821 assigned to Hollis Grant"); a
    past result ("ran the half marathon in 1:52:40") is no value a later statement replaces."""
    if change_cue(event) is not None or _PRESENT.finds(event) or _HANDED.finds(event):
        return True
    if _HABIT.finds(event):  # "runs along the canal five mornings a week": a habit, until it changes
        return True
    if _SAID_ATTRIBUTES["team"].search(event):  # "plays for Dockside Rovers": a member until they leave
        return True
    if not _MEASURE.search(event):
        return False
    # "Down to 89 kg!" and "signed the offer, base salary 18 lakh", not a race run in 1:52:40.
    return not _PAST.finds(event) or bool(topic(event).attributes & _AMOUNTS_HELD)


#: How often a habit recurs: "five mornings a week", "twice a month", "every evening", "daily".
_HABIT = Caseless(
    r"\b(?:once|twice|\w+ times|\w+ (?:mornings|evenings|nights|days|afternoons)) (?:a|per|each) "
    r"(?:day|week|month|fortnight)\b|\bevery (?:morning|evening|night|day|weekday|weekend)\b"
    r"|\b(?:daily|nightly)\b",
)
#: Attributes whose amount holds until another is said, even when told in the past.
_AMOUNTS_HELD = frozenset(("pay", "price", "weight"))
