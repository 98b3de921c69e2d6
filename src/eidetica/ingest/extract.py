"""Rule-based extraction: rewrite each informative sentence of a turn as a self-contained statement.

No model is involved, so it runs anywhere and fast (thousands of turns a second). Each kept
sentence is made readable on its own: "I" becomes the speaker, "you" the person spoken to,
"yesterday" an absolute date. What it cannot fix it leaves alone; the verbatim turn is stored
anyway, so a derived unit only has to be a better search target, never the only copy.

A speaker that is only a role ("user", "assistant") is written as a noun phrase: "The user lives in
Paris". A long turn is also cut into passages (verbatim runs of whole sentences), so it can be found
and packed piece by piece; and what a cap leaves out is reported in ``ExtractionReport.warnings``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from eidetica.dates import MONTH_NAMES, WEEKDAY_NAMES
from eidetica.ingest.entity_names import entity_key, names_in
from eidetica.ingest.names import Voices, listeners, voices_of
from eidetica.ingest.referents import Referents
from eidetica.ingest.relative_dates import resolve_relative
from eidetica.ingest.sentences import (
    MAX_PASSAGES_PER_TURN,
    PASSAGE_MAX_WORDS,
    PASSAGE_TURN_WORDS,
    passage_spans,
    passages,
    split_sentences,
)
from eidetica.model import Extracted, TurnInput, UnitKind

from ..caseless import Caseless

__all__ = [
    "ExtractionReport",
    "RuleExtractor",
    "TurnWarning",
    "passages",
    "split_sentences",
]

MAX_UNITS_PER_TURN = 50
MAX_SENTENCES_PER_TURN = 200  # bounds the work on a pasted document; passages cover the rest
MAX_SENTENCE_WORDS = 60
MAX_SENTENCE_CHARS = 1200  # cheap reject before counting words
MIN_SENTENCE_WORDS = 4  # shorter sentences must pass _short_statement

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
    frozen forgotten begun sung swum drunk fallen become misspoke mistook misread misheard
    misunderstood misspelt overslept overheard undertook
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
_ING_VERBS = frozenset("sing bring ring swing sting cling fling wring spring string sling".split())
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

# Two- and three-word sentences count only with a subject first: "I'm vegan", "We divorced",
# "My dog died", "Sam is vegan". These words make a reply, not a statement: "I know", "I'm fine",
# "I love it", "They're adorable".
# ("He quit", "They're great friends": without a name the pronoun says too little in so few words.)
#: Subjects of a short statement: the speaker, or someone just named ("Mum's birthday is Sunday.
#: She's ninety.").
_SHORT_SUBJECTS = frozenset("i i'm im i've i'd i'll we we're we've we'd we'll he he's she she's".split())
_SHORT_POSSESSIVES = frozenset("my our his her their".split())
_SHORT_FINITE = frozenset(
    "is was are were has had isn't wasn't aren't hasn't can can't will won't could would".split()
)
_REACTION_VERBS = frozenset("sounds looks seems feels".split())  # "Chicago sounds great!"
_NOUN_SUFFIXES = ("tion", "sion", "ing", "ment", "ness", "ity")  # "Adoption is...", "Marketing is..."
_CHAT_WORDS = frozenset(
    """
    know see agree disagree guess think suppose understand bet hope mean remember promise believe
    wish doubt forgot forget hear heard love loved like liked feel felt care try tried appreciate
    miss missed wonder wait relate admit say said told noticed imagine recall second concur
    happy sad glad sorry excited thrilled stoked pumped proud grateful thankful blessed lucky jealous
    impressed touched honored honoured flattered speechless curious intrigued confused shocked
    surprised amazed sure ready fine okay alright good great well here back done down out game
    serious kidding joking tired exhausted bored busy nervous scared worried adorable cute beautiful
    gorgeous lovely stunning incredible awesome amazing wonderful fantastic perfect sweet precious
    hilarious funny jealous bummed stuck lost right wrong correct true crazy fun interesting super
    truly deeply extremely incredibly tell hoping keep going rock deserve deserves look looks
    """.split()
)
# Verbs coordinated with a rewritten one are conjugated too: "I live in Paris and work as a nurse"
# → "Sam lives in Paris and works as a nurse". These are rarely nouns after "and", so always;
_COORD_VERBS = frozenset(
    """
    live enjoy teach own learn write sing speak prefer believe go come get make take give keep spend
    grow build collect attend support raise organize organise manage adore hate miss feel become stay
    sleep eat wear bring buy sell send listen understand remember forget appreciate admire trust avoid
    wake recommend consider tend like run play cook swim hike ride draw bake sew knit try do don't
    have know think seem mentor volunteer
    """.split()
)
# these are nouns as often ("music and dance"), so only with a verb's company: right after another
# verb ("I sing and dance"), or before what follows verbs ("and work as", "and walk the dog").
_COORD_VERBS_IF = frozenset(
    """
    work love dance travel drink walk paint study help care shop bike camp garden fish train coach
    visit watch call practice practise plan hope need want use clean drive surf ski skate run
    design text climb lift dream commute
    """.split()
)
_VERB_FOLLOWERS = frozenset(
    """
    a an the my your his her our their its this that these those some every each all any it them him
    me us as at in on for with from to into about around out up down over off back here there home
    hard full part together again well lots much more less what how two three four five six seven
    eight nine ten several many few no not often always never daily weekly sometimes
    """.split()
)
_COORDINATORS = frozenset("and or but nor".split())
_COORD_ADVERBS = frozenset(
    "then also often usually sometimes always never still really just even now currently mostly "
    "occasionally rarely generally actually regularly".split()
)
_COORD_SKIP = _COORDINATORS | _COORD_ADVERBS
# Past these the subject may change ("I think they live here and work"), so the scan stops.
_CLAUSE_STOPS = frozenset(
    """
    i i'm i've i'd i'll you you're he she we they he's she's we're we've they're they've they'll
    it's that's there's who whom that which because when while if since where whereas although
    though unless until so than whether there what how why
    """.split()
)
# A subject after these opens a subordinate clause, which a comma ends: "if you want, and make sure".
_SUBORDINATORS = frozenset(
    "if when whenever because since while although though unless until as once before after".split()
)
# "I think you live in Paris and..." may say anything after: no coordination after these verbs.
_CLAUSAL_VERBS = frozenset(
    """
    think know hope guess believe feel say mean wish bet suppose expect imagine see notice find
    realize realise understand doubt worry remember agree promise figure reckon assume hear tell
    """.split()
)
_PREPOSITION_AFTER_TO = frozenset(
    "the a an my your his her our their this that these those some school church bed".split()
)
_COORD_WINDOW = 40  # tokens scanned after a rewritten verb

_SUBJECT_ADVERBS = (
    r"really|just|also|always|never|still|usually|often|sometimes|actually|totally|definitely"
    r"|absolutely|truly|even|only|recently|finally|already|literally|honestly|seriously|mostly"
    r"|rarely|occasionally|normally|generally|personally|certainly|probably|kinda|sorta|kind\s+of"
    r"|sort\s+of|too|then|now|once|ever|especially|simply|barely|hardly|mainly|constantly"
    r"|regularly|genuinely|deeply|completely|currently|basically|definitely|not|no\s+longer"
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

_LEAD_RE = re.compile(
    r"""^(?:
        [\s\-*•>"“'‘(]+
      | (?i:hey|hi|hello|thanks|thank\s+you|congrats|congratulations|wow|oh|yeah|yep|yup|yes|well
            |so|ok|okay|sure|right|aw+|ah+|haha+|great|cool|nice|awesome|omg|no|nope|true)
            \s+[A-Z][\w'’-]*\s*[,!.…]+\s*
      | (?i:oh\s+my\s+(?:god|gosh)|omg|oh+|wow+|aw+|ah+|um+|uh+|hm+|ooh+|whoa|ha(?:ha)+h?|he(?:he)+
            |lol|lmao|yay+|phew|hey)\b[\s,!.…]*
      | (?i:hi|hello|hiya|yeah|yep|yup|yes|no|nope|well|so|ok|okay|great|cool|nice|awesome|amazing|thanks
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
    r"|have\s+a\s+(?:good|great|nice|lovely|wonderful)|you\s+too|same\s+here|me\s+too"
    r"|much\s+appreciated|fingers\s+crossed)\b"
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
_COORD_TOKEN_RE = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*|[^\sA-Za-z]")
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
_TERMINAL_RE = re.compile(r"[.!?…][\"'”’)\]]*$")
_CONTRACTION_AUX = {"m": "is", "ve": "has", "ll": "will", "re": "is"}
_PARTICIPLE_AFTER_D = frozenset("been had gone done seen known taken given got never".split())


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
        or (low.endswith("ing") and low not in _ING_VERBS)
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


def _is_coordinated_verb(word: str, following: str, *, after_verb: bool) -> bool:
    """Whether ``word``, just after "and"/"or"/"but"/",", is a verb sharing the rewritten subject."""
    if word in _COORD_VERBS:
        return True
    if word not in _COORD_VERBS_IF:
        return False
    return (
        after_verb
        or following in _VERB_FOLLOWERS
        or following.isdigit()
        or (len(following) > 4 and following.endswith(("ly", "ing")))
    )


def _coordinated_verbs(text: str, start: int, *, subordinate: bool) -> Iterator[tuple[int, int, str]]:
    """Yield (start, end, conjugated) for verbs sharing the subject of the verb ending at ``start``.

    "I live in Paris and work as a nurse" → "work" at its offsets, "works". Stops where the subject
    may change (a pronoun, "that", "because", an infinitive "to") or the clause ends, and at a
    comma when the verb's clause is ``subordinate`` ("if you want, and make sure...").
    """
    tokens = list(islice(_COORD_TOKEN_RE.finditer(text, start), _COORD_WINDOW))
    last_verb = -1  # index of the last verb conjugated; -1 is the rewritten verb itself
    i = 0
    while i < len(tokens):
        token = tokens[i].group()
        low = token.lower().replace("’", "'")
        if low in _CLAUSE_STOPS or token in '.!?;:…—–()[]"“”' or (subordinate and token == ","):
            return
        if low == "to":
            following = tokens[i + 1].group() if i + 1 < len(tokens) else ""
            if not (following[:1].isupper() or following.lower() in _PREPOSITION_AFTER_TO):
                return  # "I want to learn French and travel": "travel" follows "to"
        # A comma joins verbs only in a list of them: "I cook, clean and shop".
        if low in _COORDINATORS or (token == "," and i == last_verb + 1):
            j = i + 1
            while j < len(tokens) and tokens[j].group().lower() in _COORD_SKIP:
                j += 1
            if j < len(tokens):
                word = tokens[j].group()
                following = tokens[j + 1].group().lower() if j + 1 < len(tokens) else ""
                if word == word.lower() and _is_coordinated_verb(
                    word.replace("’", "'"), following, after_verb=i == last_verb + 1
                ):
                    conjugated = _third_person(word)
                    if conjugated != word:
                        yield tokens[j].start(), tokens[j].end(), conjugated
                    last_verb = i = j
        i += 1


class _PronounRewriter:
    """One sentence's pronoun rewrite; remembers whether the listener was named.

    Verbs coordinated with a rewritten subject's verb are collected in ``edits`` (offsets into
    ``text``), applied by ``rewrite`` between the pronouns it replaces.
    """

    __slots__ = ("edits", "listener", "listener_used", "speaker", "text")

    def __init__(self, text: str, speaker: str | None, listener: str | None) -> None:
        self.text = text
        self.speaker = speaker
        self.listener = listener
        self.listener_used = False
        self.edits: list[tuple[int, int, str]] = []

    def rewrite(self) -> str:
        """Return ``text`` with "I", "you", "my"... replaced and coordinated verbs conjugated."""
        out: list[str] = []
        pos = 0
        for m in _PRONOUN_RE.finditer(self.text):
            out.append(self._edited(pos, m.start()))
            out.append(self(m))
            pos = m.end()
        out.append(self._edited(pos, len(self.text)))
        return "".join(out)

    def _edited(self, start: int, end: int) -> str:
        parts: list[str] = []
        for at, stop, word in self.edits:
            if start <= at and stop <= end:
                parts.append(self.text[start:at] + word)
                start = stop
        parts.append(self.text[start:end])
        return "".join(parts)

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
        conjugated = _third_person(verb)
        low = verb.lower()
        # "I don't smoke or drink": after "doesn't" the verbs stay bare; "I think they..." may be anything.
        lexical = low == "have" or low not in _THIRD_PERSON_SPECIAL
        if conjugated != verb and lexical and low not in _CLAUSAL_VERBS:
            before = _PREV_WORD_RE.search(self.text[max(0, m.start() - 20) : m.start()])
            subordinate = before is not None and before.group(1).lower() in _SUBORDINATORS
            self.edits.extend(_coordinated_verbs(self.text, m.end(), subordinate=subordinate))
        return f"{name}{adv}{between}{conjugated}"


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


def _entities(sentence: str, speaker: str | None, listener: str | None) -> tuple[str, ...]:
    """Who and what a statement mentions, as entity keys: its speaker, the listener it names, and
    the proper names the sentence (as said, before "I" became the speaker) holds."""
    found = [entity_key(name) for name in (speaker, listener) if name]
    found += [entity_key(name) for name in names_in(sentence, [n for n in (speaker, listener) if n])]
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


@dataclass(frozen=True)
class TurnWarning:
    """Something extraction had to leave out of one turn; the verbatim turn still holds it all."""

    turn_index: int  # into the batch given to ``extract_report``
    message: str  # "40 statements, 12 kept as facts and events; the whole text is kept as 5 passages"

    def __str__(self) -> str:
        return f"turn {self.turn_index}: {self.message}"


@dataclass(frozen=True)
class ExtractionReport:
    """What ``RuleExtractor.extract_report`` derived, and what its caps left out, turn by turn."""

    units: list[Extracted]
    warnings: list[TurnWarning] = field(default_factory=list)


def _is_finite(word: str) -> bool:
    """Whether ``word`` reads as the verb of a short sentence: "is", "died", "loves"."""
    if word in _SHORT_FINITE or word in _PAST_IRREGULAR:
        return True
    if not word.isalpha():
        return False
    if word.endswith("ed"):
        return word not in _ED_NOT_PAST
    verbs = _COORD_VERBS | _COORD_VERBS_IF
    return word.endswith("s") and (word[:-1] in verbs or word[:-2] in verbs or word[:-3] + "y" in verbs)


#: Adverbs that may open a sentence whose subject is left out: "Just accepted the offer."
_OPENING_ADVERBS = frozenset("just finally recently officially already".split())


def _elided_subject(sentence: str) -> bool:
    """Whether a sentence leaves out its subject, "I": "Got promoted.", "Lost my job.", "Sold
    the scooter and bought a Fiat.", "Just accepted the offer." (a simple past verb first, after
    an adverb at most; not "Excited!" or "Gone fishing")."""
    words = sentence.split(" ", 2)
    word = words[0].lower().strip(".,!…;:")
    if word in _OPENING_ADVERBS and len(words) > 1:
        word = words[1].lower().strip(".,!…;:")
        if word in _STATE_WORDS:
            return False  # "Recently divorced.": a state, "I'm" left out (_elided_copula)
    if not sentence[:1].isupper() or not word.isalpha() or word in _PARTICIPLES:
        return False
    return word in _PAST_IRREGULAR or (word.endswith("ed") and len(word) > 4 and word not in _ED_NOT_PAST)


#: States a person is in, said without "I'm": "Allergic to nuts.", "Recently divorced."
_STATE_WORDS = frozenset(
    """allergic intolerant divorced married engaged single pregnant retired unemployed vegan
    vegetarian pescatarian diabetic asthmatic injured sick ill celiac coeliac lactose gluten
    separated widowed sober""".split()
)


def _elided_copula(sentence: str) -> bool:
    """Whether a short sentence states the speaker's state without "I'm": "Allergic to nuts.",
    "Recently divorced.", "Training for Ironman." (an -ing verb first, six words at most)."""
    words = [w.lower().strip(".,!…;:") for w in sentence.split()]
    if not words or not sentence[:1].isupper() or len(words) > 6:
        return False
    first = (
        words[1]
        if words[0] in ("recently", "newly", "just", "now", "still", "very") and len(words) > 1
        else words[0]
    )
    if first in _STATE_WORDS:
        return True
    if len(words) == 2 and words[1] == "now":
        # "Nurse now.", "Vegan now.": what the speaker is since lately, not "Bye now."
        return _names_something(first)
    # "Training for Ironman." yes; "Looking forward to it!", "Thinking of you." say nothing, and
    # "Opening hours 9-8." names a thing.
    return (
        first.endswith("ing")
        and len(first) > 5
        and len(words) >= 3
        and first not in _FUNCTION_WORDS
        and first not in _NOUNS_IN_ING
        and words[-1] not in _FUNCTION_WORDS
    )


def _had_again(sentence: str) -> bool:
    """Whether a two-word sentence says the speaker has something once more: "Insomnia again.",
    "Migraine again." (not "Bye again.", "Me again.")."""
    words = [w.lower().strip(".,!…;:") for w in sentence.split()]
    return len(words) == 2 and words[1] == "again" and sentence[:1].isupper() and _names_something(words[0])


def _names_something(word: str) -> bool:
    """Whether the first of "<word> now." or "<word> again." names a state or a thing the speaker
    has, not chat ("Bye", "Me", "Thanks")."""
    return (
        word.isalpha()
        and len(word) > 2
        and word not in _FUNCTION_WORDS
        and word not in _CHAT_WORDS
        and word not in _NOT_NOW
    )


#: Words in -ing that name things: "Opening hours", "Parking permit", "Meeting notes".
_NOUNS_IN_ING = frozenset(
    """opening closing meeting building morning evening wedding clothing ceiling housing parking
    shipping billing booking pricing funding timing spelling listing offering setting""".split()
)

#: Words that go with "now" in chat without saying what the speaker is: "Bye now", "Later now".
_NOT_NOW = frozenset("bye later right just even ok okay sure more less home here there".split())

_PARTICIPLES = frozenset(
    w for w in _PAST_IRREGULAR if w.endswith(("en", "ne")) or w in ("been", "done", "begun")
)


def _short_statement(raw_words: list[str]) -> bool:
    """Whether a two- or three-word sentence states something about someone.

    Yes: "I'm vegan", "I hate cilantro", "We divorced", "My dog died", "Sam is vegan", "I'm 30",
    "Rent's 865 now". No: "I know", "Me too", "Sounds great", "I'm fine", "I love it", "Enjoy the show".
    """
    words = [w.lower().replace("’", "'").strip(".,!…;:\"'()“”") for w in raw_words]
    if len(words) > 1 and words[0].endswith("'s") and words[1][:1].isdigit():
        # "Rent's 865": "'s" before an amount is "is", not a possessive ("Sam's dog").
        raw_words, words = [raw_words[0][:-2], "is", *raw_words[1:]], [words[0][:-2], "is", *words[1:]]
    first, rest = words[0], words[1:]
    if first in _SHORT_POSSESSIVES:
        if len(words) != 3 or not _is_finite(words[2]):
            return False
    elif first not in _SHORT_SUBJECTS:
        name = raw_words[0]
        if not (name[:1].isupper() and first.isalpha() and first not in _NOT_ENTITIES):
            return False
        if first.endswith(_NOUN_SUFFIXES) or words[1] in _REACTION_VERBS or not _is_finite(words[1]):
            return False  # "Enjoy the concert!", "Stay safe, Sam": commands, not statements
    return any(
        w.isdigit() or (len(w) > 2 and w not in _FUNCTION_WORDS and w not in _CHAT_WORDS) for w in rest
    )


def _self_introduction(text: str, voices: Voices) -> str:
    """Mend "Sam is Sam." (a user who said "I'm Sam", renamed Sam) as "The user's name is Sam."."""
    name = voices.speaker
    if not voices.user_named or name is None or not text.startswith(name):
        return text
    for same in (f"{name} is {name}", f"{name} was {name}", f"{name}'s name is {name}"):
        if text.startswith(same) and not text[len(same) : len(same) + 1].isalnum():
            return f"The user's name is {name}{text[len(same) :]}"
    return text


class RuleExtractor:
    """Derive facts and events from turns with rules alone: fast, offline, deterministic.

    Per sentence: skip questions, greetings and fillers; resolve "I"/"you" to names and relative
    dates to absolute ones; call it an event when it has a date or is in the past tense. A turn of
    more than ``PASSAGE_TURN_WORDS`` words is also cut into passages of whole sentences.
    """

    def __init__(self, *, max_units_per_turn: int = MAX_UNITS_PER_TURN) -> None:
        self.max_units_per_turn = max_units_per_turn

    def extract(self, turns: Sequence[TurnInput]) -> list[Extracted]:
        """Return the statements found in ``turns``, each once, pointing at the turns it came from."""
        return self.extract_report(turns).units

    def extract_report(self, turns: Sequence[TurnInput]) -> ExtractionReport:
        """Like ``extract``, and also say, turn by turn, what the per-turn caps left out."""
        heard_by = listeners(turns)
        pending: dict[tuple[bool, str], _Pending] = {}
        warnings: list[TurnWarning] = []
        for index, turn in enumerate(turns):
            found, cut = self._turn_units(turn, heard_by[index])
            kept = found[: self.max_units_per_turn]
            chunks, words, covered = self._passages(turn.content or "")
            for unit in kept + chunks:
                key = (unit.kind == "passage", unit.text)
                seen = pending.get(key)
                if seen is None:
                    unit.turn_indexes.append(index)
                    pending[key] = unit
                elif index not in seen.turn_indexes:
                    seen.turn_indexes.append(index)
            message = _dropped(len(found), len(kept), cut, len(chunks), words, covered)
            if message:
                warnings.append(TurnWarning(index, message))
        units = [
            Extracted(
                kind=p.kind,
                text=p.text,
                turn_indexes=tuple(p.turn_indexes),
                entities=p.entities,
                occurred_at=p.occurred_at,
            )
            for p in pending.values()
        ]
        return ExtractionReport(units, warnings)

    @staticmethod
    def _passages(content: str) -> tuple[list[_Pending], int, int]:
        """A long turn's passages, its word count, and how many of its words they cover."""
        words = len(content.split())
        if words <= PASSAGE_TURN_WORDS:
            return [], words, words
        chunks: list[_Pending] = []
        covered = 0
        for start, end, count in islice(passage_spans(content, PASSAGE_MAX_WORDS), MAX_PASSAGES_PER_TURN):
            chunks.append(_Pending("passage", content[start:end], [], (), None))
            covered += count
        return chunks, words, covered

    def _turn_units(self, turn: TurnInput, listener: str | None) -> tuple[list[_Pending], bool]:
        """The statements of a turn's first ``MAX_SENTENCES_PER_TURN`` sentences; and whether it
        has more sentences than that."""
        voices = voices_of(turn, listener)
        units: list[_Pending] = []
        referents = Referents()
        for n, sentence in enumerate(split_sentences(turn.content or "")):
            if n >= MAX_SENTENCES_PER_TURN:
                return units, True
            unit = self._sentence_unit(referents.resolve(sentence), turn.timestamp, voices)
            if unit is not None:
                units.append(unit)
        return units, False

    def _sentence_unit(self, sentence: str, timestamp: datetime | None, voices: Voices) -> _Pending | None:
        statement = _statement(sentence, voices)
        if statement is None:
            return None
        sentence = statement
        words = _WORD_RE.findall(sentence.lower())

        when: datetime | None = None
        text = sentence
        if timestamp is not None:
            text, when = resolve_relative(text, timestamp)
        rewriter = _PronounRewriter(text, voices.speaker, voices.listener)
        if voices.speaker or voices.listener:
            text = rewriter.rewrite()
        text = _finish(text)
        if not text:
            return None
        text = _self_introduction(text, voices)

        kind: UnitKind
        occurred: datetime | None
        if when is not None:
            kind, occurred = "event", when
        elif _is_past(words):
            kind, occurred = "event", timestamp
        else:
            kind, occurred = "fact", None
        listener = voices.listener_entity if rewriter.listener_used else None
        entities = _entities(sentence, voices.speaker_entity, listener)
        return _Pending(kind, text, [], entities, occurred)


def _dropped(found: int, kept: int, cut: bool, chunks: int, words: int, covered: int) -> str:
    """Say what a turn's caps left out ("" when nothing), and where the text is kept instead."""
    capped = found > kept or cut
    if not capped and covered >= words:
        return ""
    parts: list[str] = []
    if capped:
        read = (
            f"over {MAX_SENTENCES_PER_TURN} sentences, only the first {MAX_SENTENCES_PER_TURN} read: "
            if cut
            else ""
        )
        parts.append(f"{read}{found} statements, {kept} kept as facts and events")
    if chunks and covered >= words:
        parts.append(f"the whole text is kept as {chunks:,} passages")
    elif chunks:
        parts.append(
            f"the first {covered:,} of its {words:,} words are kept as {chunks:,} passages, "
            "the rest only in the verbatim turn"
        )
    else:
        parts.append("the rest only in the verbatim turn")
    return "; ".join(parts)


#: Where a statement runs on into a question: "I moved my banking to Revolut last autumn, but
#: what's a realistic daily budget?"
_QUESTION_TAIL = Caseless(
    r",?\s+(?:but|so|and|or)?\s*(?=(?:what|what's|how|can|could|should|is|are|do|does|did|any|which|where|"
    r"when|why|would|will|shall|might|may)\b[^,.;]*\?\W*$)",
)
_ASKS = re.compile(
    r"^(?:what|what's|how|can|could|should|is|are|do|does|did|any|which|where|when|why|would|will|shall|"
    r"might|may|who|whom|whose)\b",
    re.IGNORECASE,
)


def _news_before_the_question(sentence: str) -> str:
    """The statement a question sentence opens with, or "" when it opens with the question:
    chat often tells the news and asks in one breath."""
    tail = _QUESTION_TAIL.search(sentence)
    if tail is None or _ASKS.match(sentence) or "?" in sentence[: tail.start()]:
        return ""
    news = sentence[: tail.start()].rstrip(" ,;:-")
    return news + "." if len(news.split()) >= MIN_SENTENCE_WORDS else ""


def _statement(sentence: str, voices: Voices) -> str | None:
    """The sentence as a statement to derive a unit from, single-spaced, its lead-in, vocative and
    elided subject mended; None for a question, filler, a bare reaction or a sentence too long or
    too short to state anything."""
    if "?" in sentence[-3:]:
        sentence = _news_before_the_question(sentence)
    if not sentence or len(sentence) > MAX_SENTENCE_CHARS or _FILLER_RE.match(sentence):
        return None
    lead = _LEAD_RE.match(sentence)
    if lead is not None:
        sentence = sentence[lead.end() :]
    if voices.vocative:
        sentence = _strip_vocative(sentence, voices.vocative)
    if _FILLER_RE.match(sentence):
        return None
    if voices.speaker and _elided_subject(sentence):
        sentence = "I " + sentence[0].lower() + sentence[1:]  # "Got promoted." is the speaker's
    elif voices.speaker and _elided_copula(sentence):
        sentence = "I'm " + sentence[0].lower() + sentence[1:]  # "Allergic to nuts." likewise
    elif voices.speaker and _had_again(sentence):
        sentence = "I have " + sentence[0].lower() + sentence[1:]  # "Insomnia again."
    raw_words = sentence.split()
    if not 2 <= len(raw_words) <= MAX_SENTENCE_WORDS:
        return None
    short = len(raw_words) < MIN_SENTENCE_WORDS
    if short and not _short_statement(raw_words):
        return None
    sentence = " ".join(raw_words)  # single spaces: the date rules rely on them
    reaction = _REACTION_RE.match(sentence)
    if reaction is not None and len(sentence[reaction.end() :].split()) <= 2:
        return None
    words = _WORD_RE.findall(sentence.lower())
    if not short and not any(len(w) > 2 and w not in _FUNCTION_WORDS for w in words):
        return None
    return sentence
