"""Reading a derived statement as claims about subjects, so a newer statement can replace an older.

A claim is ``subject|relation = value``. The rules read grammar, not topics, so they cover any
subject and value in these shapes:

- **Functional relations** hold one value at a time, and a new value closes the old one:
  where someone or something is ("lives in", "moved from Lisbon to Oslo", "is headquartered in",
  "they relocated our team to the Tower building"), which school they attend, where they work
  ("works at", "joined", "got a job at") and as what, whom they are married to, their age, who
  leads something ("Liam leads the team" and "the team is led by Nadia" are one relation),
  counts ("Nordwind has 140 employees"), amounts a verb states ("the chair costs 240 euros",
  "my rating climbed to 1510", "I raised my savings goal to 7000 pounds"), and any attribute of a
  relational subject ("Alice's manager is ...", "The CEO of Acme is ...", "our budget is ...").
- **Other relations** ("Sam drives a Honda", "Sam likes jazz") may hold several values; a new
  value closes the old one only when the statement says it changed ("now", "these days",
  "switched", "instead"), and never when it says it adds ("also", "too", "another").
- **Retractions** end a value or a whole relation: "gave up coffee", "quit the hospital",
  "no longer eats meat", "instead of Windows", "moved from Lisbon", "Elif and I divorced",
  "I switched dentists".

Subjects are normalised so that two statements about one thing meet: leading time phrases go
("Every Tuesday Ines goes ..."), qualifiers after the head go ("Lena's budget for the kitchen" is
"lena's budget"), and so do words that mark a value as new or old ("my new manager").
What the rules cannot read they leave alone: the retriever still ranks the newer of two rival
facts first, and nothing is ever deleted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..caseless import Caseless
from ..dates import MONTH_NAMES, WEEKDAY_NAMES
from .keys import dedupe_key

__all__ = ["Claim", "Retraction", "Statement", "analyse", "holds", "subject_of"]


@dataclass(frozen=True)
class Claim:
    """One relation of a subject: ``key`` is ``subject|relation``, ``value`` what it holds."""

    key: str
    value: str
    #: True when the relation holds one value at a time (a new value replaces the old).
    functional: bool

    @property
    def subject(self) -> str:
        return self.key.split("|", 1)[0]

    @property
    def head(self) -> str | None:
        """The relation without its owner ("monstera|location" for "lou's monstera|location"
        and "the monstera|location"), for a subject that has one."""
        subject, relation = self.key.split("|", 1)
        _, sep, thing = subject.partition("'s ")
        if sep:
            return f"{thing}|{relation}"
        first, _, rest = subject.partition(" ")
        return f"{rest}|{relation}" if first in _RELATIONAL and rest else None

    @property
    def definite(self) -> bool:
        """Whether the subject is "the X", which may be anyone's X ("I moved the monstera"), or a
        bare role ("replaced by Sunil as team lead")."""
        return (self.subject.startswith("the ") and self.subject not in _PEOPLE) or self.bare

    @property
    def bare(self) -> bool:
        return self.head is None and " " in self.subject


@dataclass(frozen=True)
class Retraction:
    """A value the subject no longer has (facts of ``subject`` holding all ``words`` close), or,
    with ``key``, a relation that ended whatever its value ("divorced" ends "married to")."""

    subject: str
    words: tuple[str, ...] = ()
    key: str | None = None


@dataclass(frozen=True)
class Statement:
    """What reconciliation reads in one derived text."""

    claims: tuple[Claim, ...] = ()
    retractions: tuple[Retraction, ...] = ()
    #: The text says a value changed ("now", "switched", "instead"): its claims replace rivals.
    changes: bool = False
    #: The text says a value was added ("also", "too"): it replaces nothing by cue.
    adds: bool = False

    def replaces(self, claim: Claim) -> bool:
        """Whether this statement's ``claim`` closes a rival value of the same relation."""
        return claim.functional or (self.changes and not self.adds)


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

_CHANGE_CUES = Caseless(
    r"\b(?:now|currently|these days|nowadays|any ?more|instead|switched|switching|changed|no longer|"
    r"from now on|has become|correction|anymore|lately|no more|this (?:month|week|year|season))\b",
)
#: "too" adds only where it ends a clause ("we got a cat too"), not before a word ("too far").
_ADD_CUES = re.compile(
    r"\b(?:also|too(?!\s+\w)|another|as well|additionally|in addition|both)\b", re.IGNORECASE
)
_MONTHS_DAYS = " ".join(
    [
        *(name.lower() for name in MONTH_NAMES),
        *(name.lower() for name in WEEKDAY_NAMES),
        *(f"{name.lower()}s" for name in WEEKDAY_NAMES),
        "weekends",
    ]
)
#: Words before the subject that do not belong to it: "Now Sam drives", "Every Tuesday Ines goes".
_LEADING = frozenset(
    f"""now currently these days nowadays today yesterday tomorrow recently lately finally also
    then meanwhile so and but still anyway luckily sadly unfortunately eventually every each
    this last next most correction actually honestly basically seriously frankly literally well okay ok
    update month week year weekend morning
    evening night summer winter spring autumn season {_MONTHS_DAYS}""".split()
)
_PREPOSITIONS = frozenset("for in on at during after before since with from by over until as".split())
_DETERMINERS = frozenset("the our my his her their its this that".split())
#: People named by role: "The user is vegan" and "... is retired" both hold, as for "Sam".
_PEOPLE = frozenset({"the user", "the assistant"})
_PRONOUN_SUBJECTS = frozenset(
    "i you he she it they someone somebody everyone people there it's that's there's this that".split()
)
#: Determiners of a subject that says which one: "the CEO", "our budget" ("that photo" is not).
_RELATIONAL = frozenset("the our my his her their its".split())
_NEGATED = re.compile(r"(?:\bnot|n't|\bnever|\bwon't|\bno)\s+(?:\w+\s+)?$")
_PARTICLE = re.compile(r"(?:up|by|off|for|over|in|at|to|on|with|from|behind|early|home|out|it|that|this)\b")
#: Verbs of liking, thinking and doing, whose objects add up: "Nate is loving X right now" ends
#: none of the things Nate loves.
_ADDITIVE_VERBS = frozenset(
    """lov like enjoy hat think feel want hop need miss wish believ know help appreciat try make get do
    go say see look find keep learn work plan tell mean stay remind""".split()
)
#: An opinion, not a value: "John's family is awesome" leaves what it was.
_EVALUATIVE = re.compile(
    r"(?:(?:so|really|very|such|super|pretty|quite|just|truly|totally|absolutely|always|a) )*"
    r"(?:awesome|great|amazing|nice|good|bad|tough|hard|fun|cool|beautiful|lovely|wonderful|incredible|"
    r"fantastic|perfect|stunning|inspiring|special|important|crazy|wild|busy|everything|important|"
    r"exciting|interesting|difficult|easy|sweet|cute|adorable|impressive|huge|tiny|rough|"
    r"stressful|hectic|the best|the worst|my motivation|motivating|helpful|worth it)\b"
)
_CONTRACTED_IS = re.compile(
    r"\b([A-Za-z][\w-]*)'s (on|in|at|now|back|over|off|up|down|done|gone|closed|open|cancelled|finished|"
    r"here|there|not|no|still|a|an|the|so|very|really|been|moving|going|getting|due|scheduled)\b"
)
_BACK_REFERENCE = re.compile(r"(?:he|she|they)(?:'(?P<verb>s|re))?\s+", re.IGNORECASE)
_PRONOUN_VERBS = {"s": "is", "re": "are"}
_NOT_UNITS = frozenset(
    f"""{_MONTHS_DAYS} year years am pm th st nd rd o'clock times time and or to of in""".split()
)
#: Adverbs between a subject and its verb, skipped when finding the verb.
_ADVERBS = frozenset(
    """now currently still also really just always never usually often sometimes actually recently
    finally already even only mostly officially happily newly no longer""".split()
)
_AUX = frozenset("is are was were am 's has have had does do did will would can could 're".split())
#: Words that mark a value as new or old, not a different attribute: "my new manager".
_VERSION_WORDS = frozenset(
    """new current old former previous latest present personal main usual regular monthly weekly
    yearly annual daily""".split()
)
#: Roles that lead something, each with the verb's role: "the chair of X is Y" says who chairs
#: X, as "Y chairs X" does; a captain is not a manager.
_LEADING_ROLES = {
    **dict.fromkeys("chair chairman chairwoman chairperson".split(), "chair"),
    **dict.fromkeys("head headteacher headmaster principal".split(), "head"),
    **dict.fromkeys("lead leader".split(), "lead"),
    **{r: r for r in "manager captain coach director president ceo conductor boss".split()},
}
_ROLE_OF_VERB = {
    "leads": "lead", "runs": "lead", "led": "lead", "run": "lead", "manages": "manager", "managed": "manager",
    "heads": "head", "headed": "head", "coaches": "coach", "coached": "coach", "chairs": "chair",
    "chaired": "chair",
}  # fmt: skip
#: Where a subject's head ends and a qualifier begins: "Lena's budget for the kitchen".
_QUALIFIERS = frozenset("for in at on this next last from since during with about".split())
_ADV = r"(?:(?:now|currently|still|also|really|just|officially|finally|happily|actually|already|only) )*"
_VALUE = r"(?P<value>[^,;.!?]{1,80}?)"
_END = r"\s*(?:[,;.!?]|$)"
#: Where a value ends: a time, a reason, a second clause.
_VALUE_TAIL = re.compile(
    r"\s+(?:(?:in|on|since|from|last|this|after|before|during|until|because|for|with|as|when|over|"
    r"while|and|but|where|which|who|to|at|by|next|around|these days|any ?more)\b|yesterday|today|now|"
    r"(?:\d+ \w+ ago)).*$"
    r"|\s+(?:19|20)\d\d$",
    re.IGNORECASE,
)
_NOT_CONTENT = (
    frozenset({"a", "an", "the"})
    | _DETERMINERS
    | frozenset(
        """of in on at to for with and or his her their our my your some any all it them him me us
        playing drinking eating using doing going working living being having watching taking
        really just very something anything everything nothing stuff things thing one lot""".split()
    )
)
#: Where a retracted value ends: a time, a reason, a second clause ("quit smoking in June because
#: ..."); not "with" or "of", which belong to a name ("A Dance with Dragons").
_RETRACT_TAIL = re.compile(
    r"\s+(?:(?:because|since|when|while|and|but|so|after|before|until|last|this|these days|any ?more|now|"
    r"ago|yesterday|today)\b|(?:in|on|at|by) (?:\d|the (?:morning|evening|weekend|end)|(?:"
    + "|".join(_MONTHS_DAYS.split())
    + r")\b)).*$",
    re.IGNORECASE,
)
_SCHOOLISH = Caseless(r"\b(?:school|primary|academy|college|university|kindergarten|nursery|class)\b")
_HOMES = r"(?:flat|house|apartment|home|place|condo|cottage|studio|room|bedsit|houseboat)"

_LOCATED = (
    r"(?:lives?|is living|are living|resides?|is residing|is based|are based|is located|are located|"
    r"is headquartered|are headquartered|sits?|is sitting|is housed|are housed|has settled|settled|"
    r"is staying|stays?|has lived|have lived|has been living|have been living|works? out|operates? out|"
    r"will be held|is being held|is held|takes place|will take place)"
)
_MOVE = (
    r"(?:moved|has moved|have moved|is moving|are moving|relocated|has relocated|have relocated|"
    r"is relocating|settled|transferred|has transferred)"
)
_WORK = (
    r"(?:works?|is working|are working|started working|began working|has started working|"
    r"works full[- ]time|works part[- ]time)"
)
_JOINED = (
    r"(?:(?:got|took|landed|accepted|started|has started|began) (?:a |an |the )?(?:new )?"
    r"(?:job|position|role|internship))"
)
_LEADS = r"(?:leads|manages|runs|heads|coaches|chairs)"
_LED = r"(?:led|managed|run|headed|coached|chaired)"
_STOP_VERBS = (
    r"(?:gave up|has given up|quit|has quit|stopped|has stopped|left|has left|dropped|sold|"
    r"got rid of|resigned from|retired from|was fired from|was laid off from|broke up with|"
    r"divorced|moved out of|moved away from|cancelled|canceled|ended|finished)"
)
_CHANGE_TO = (
    r"(?:grew|rose|fell|dropped|climbed|shrank|increased|decreased|went up|went down|is up|is down|"
    r"are up|are down|came down|got down|jumped|slipped|improved)"
)
_SET_TO = (
    r"(?:raised|lowered|increased|cut|reduced|changed|set|upped|bumped|dropped|moved|relocated|transferred"
    r"|handed|passed|pushed|postponed|rescheduled|delayed|brought)"
)
#: Nouns in "I switched dentists": the relation they end.
_SWITCHED_RELATIONS = {"job": "works at", "school": "attends", "house": "location", "flat": "location"}
_NUMBER = r"[£$€]?\d(?:[\d,]*\d)?(?:\.\d+)?"
_TEAM = re.compile(
    rf"^{_ADV}(?:is on|is in|are on|are in|joined|has joined|have joined|rotated to|moved to|switched to|"
    r"transferred to|is moving to) (?P<value>(?:the |a )?[\w -]{1,40}? team)\b"
)
#: States that exclude each other: a person is one of each at a time.
_STATES = {
    **dict.fromkeys("vegan vegetarian pescatarian omnivore carnivore flexitarian keto".split(), "diet"),
    **dict.fromkeys("single married engaged divorced widowed separated".split(), "marital status"),
    **dict.fromkeys("employed unemployed retired self-employed freelance".split(), "work status"),
}
_STATE = re.compile(
    rf"^{_ADV}(?:is|are|went|became|has become|turned|got|is now|has gone)(?: fully| now| completely)? "
    rf"(?P<state>{'|'.join(_STATES)})\b"
)
_INVERSE_COPULA = re.compile(
    r"^(?:is|are|has become|have become|became) (?:now |currently )?"
    r"(?P<attr>(?:our|my|his|her|their|(?:[A-Z][\w-]* ){0,2}[A-Z][\w-]*'s) [a-z][\w -]{1,30}?)"
    r"(?: now)?\s*(?:[,;.!?]|$)"
)
_PAST_PREDICATE = re.compile(r"^(?:\w+ )?(?:was|were|had|did|went|ran|\w+ed)\b(?! up\b| down\b)")
_AMOUNT = re.compile(rf"(?<![\w.])(?P<n>{_NUMBER}) ?(?P<unit>%|[a-z]{{2,}}\b)")
#: "The gym fee was raised to 42 euros a month": a passive change of the subject's value.
_PASSIVE_SET = re.compile(
    r"^(?:was|were|has been|have been|is|are|got) (?:now |just )?(?P<verb>raised|lowered|increased|cut|"
    r"reduced|changed|set|moved|relocated|rescheduled|revised|updated|lifted|dropped|postponed|"
    r"pushed back|brought forward|put) (?:up |down |back )?(?:to|for|into|in|at) (?P<value>[^,;]{1,80}?)"
    r"\s*(?:[,;.!?]|$)"
)
#: "Sunil took over as our manager", "Mariko is the new conductor of the Kelby Symphony":
#: who now holds a role.
_TAKES_ROLE = re.compile(
    r"^(?:is (?:now )?the new|has become|became|took over as|was appointed|was named|was elected|"
    r"is now) (?:the |our |my |their |a |an )?"
    r"(?P<role>(?:[A-Z]{2,}|[a-z])[\w -]{1,40}?(?: (?:of|at|for) [A-Z][\w' -]+)?)"
    r"\s*(?:now\s*)?(?:[,;.!?]|$)"
)
#: "Korrin has been the capital of Tessaly since 2022": who or what holds a role of a named thing.
_IS_ROLE_OF = re.compile(
    r"^(?:is|has been|remains|serves as|is serving as) (?:now |currently |still )?(?:the )?(?:new |current )?"
    r"(?P<role>[A-Za-z][\w -]{1,40}?) (?:of|at|for) "
    r"(?P<org>[A-Z][\w'&.-]*(?: (?:[A-Z0-9][\w'&.-]*|&|of|and))*)"
    r"(?:\s+(?:since|from|as of|after|until)\b.*)?\s*(?:[,;.!?]|$)"
)
_REPLACED_BY = re.compile(
    r"^(?:was|were|has been|got|is being) replaced by (?P<new>[^,;]+?) as (?:the |our |my |their )?"
    r"(?P<role>[a-z][\w -]+?)(?:\s+(?:in|at|on|after|for|from|since)\b[^,;]*)?\s*(?:[,;.!?]|$)"
)
_APPOINTED = re.compile(
    r"\b(?:appointed|named|elected|hired|made|appoints|names|elects|hires) "
    r"(?P<who>[A-Z][\w-]*(?: [A-Z][\w-]*)*) (?:as )?(?:the |our |their |its |a |an )?"
    r"(?P<role>(?:[A-Z]{2,}|[a-z])[\w -]{1,40}?)(?: (?:of|at|for) (?P<org>[A-Z][\w' -]+))?"
    r"\s*(?:[,;.!?]|$)"
)
_SWAPPED = re.compile(
    r"\b(?:swapped|traded|exchanged|replaced|switched) (?P<old>[^,;]+?) (?:for|with) (?P<new>[^,;]+)"
)
_HOME = re.compile(
    rf"^{_ADV}(?:rents?|rented|bought|owns?|has|have|found|shares?|is sharing) (?:a|an|our|the|my) "
    rf"(?:new |small |little |tiny |big )?{_HOMES} "
    rf"in {_VALUE}{_END}"
)
_NOT_ANYMORE = re.compile(
    r"(?:\bno longer|\bnot|n't|\bnever) (?:\w+ )?(?:(?:a|an|the) )?(?P<old>[^,;]+?) "
    r"(?:any ?more|any longer)\b"
)
_INSTEAD_OF = re.compile(
    r"\b(?:instead of|rather than|(?:switched|changed|went|upgraded|downgraded|converted) from) "
    r"(?P<old>[^,;]+?) (?:to|for)\b"
    r"|\b(?:instead of|rather than) (?P<old2>[^,;]+)"
)
_OBJECT_CHANGE = re.compile(
    rf"\b(?P<verb>{_SET_TO}) "
    r"(?P<obj>(?:the|our|my|his|her|their|[A-Z][\w-]*'s|[A-Z][\w-]*) [^,;]*?|[A-Z][\w-]*)"
    rf" (?:up |down |back |over )?(?:to|into) {_VALUE}{_END}"
)


# ---------------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def analyse(text: str, speaker: str | None = None) -> Statement:
    """Read the claims and retractions of one statement (see the module docstring).

    ``speaker`` (a name, or "the user") is whom a statement without a subject of its own is
    about ("Sold the scooter and bought a used Fiat.").
    """
    said = _plain(text)
    sentence = _unlabelled(said)
    claims: list[Claim] = []
    retractions: list[Retraction] = []
    if fields := _record_fields(sentence):
        return Statement(claims=tuple(dict.fromkeys(fields)))
    subject: str | None = None
    default = _first_subject(sentence) or (speaker.lower() if speaker else None)
    for clause in _clauses(sentence):
        found = _subject_and_rest(clause)
        if found is not None:
            subject, rest = found
        elif _starts_with_verb(clause) and (subject or default):
            # "... and works as X": the clause before named the subject; "Sold the Corolla, Lucia
            # is driving a Volvo now": a later clause does.
            subject, rest = subject or default, clause
        elif subject is not None and (pronoun := _BACK_REFERENCE.match(clause)):
            # "Beatriz got promoted — she's a senior risk manager now": she is Beatriz.
            rest = f"{_PRONOUN_VERBS.get(pronoun['verb'] or '', '')} {clause[pronoun.end() :]}".strip()
        else:
            _object_changes(clause, claims)
            continue
        assert subject is not None
        _read_predicate(subject, rest, claims, retractions)
        _object_changes(clause, claims)
    straight = sentence.replace("’", "'")  # the apostrophe of a possessive, typed either way
    _new_posts(straight, claims)
    _endings(straight, speaker.lower() if speaker else default, retractions)
    if speaker and any(r.words for r in retractions):
        # "Work gave me a MacBook instead of the ThinkPad": what the speaker had is what ends.
        me = speaker.lower()
        retractions += [Retraction(me, r.words) for r in retractions if r.words and r.subject != me]
    return Statement(
        claims=tuple(dict.fromkeys(claims)),
        retractions=tuple(dict.fromkeys(retractions)),
        changes=_CHANGE_CUES.search(said) is not None,  # "Correction: ..." says it
        adds=_ADD_CUES.search(said) is not None,
    )


#: A record's fields about a thing: "Eastvale Planning Commission - Chair: Margit Szabo; Vice-chair:
#: Leon Harte", "Brindle & Cope registered head office: Unit 4, Sheffield".
_RECORD = re.compile(
    r"^(?:(?P<thing>[^:;]{2,80}?) [-–—] (?P<field>[A-Za-z][\w /-]{0,30})"
    r"|(?P<name>[A-Z][\w'&.-]*(?: (?:[A-Z0-9][\w'&.-]*|&|of))*) (?P<named_field>[a-z][\w /-]{1,30})):"
    r"\s+(?P<fields>\S.*)$"
)
_ROLE_RECORD = re.compile(
    r"^(?P<role>(?:[A-Z]{2,}|[A-Z]?[a-z])[\w -]{0,30}?) of (?P<org>[A-Z][^:;]{1,60}):\s+(?P<value>[^;(]+)"
)
_MORE_FIELDS = re.compile(r";\s*(?P<field>[A-Za-z][\w /-]{0,30}):\s+")
#: Fields that say where a thing is, read as its location ("address: 220 Canal Road").
_WHERE_FIELDS = frozenset("address location headquarters located based".split())


def _unlabelled(sentence: str) -> str:
    """A sentence under a short label ("Company fact: Kestrel Labs is headquartered in Berlin",
    "Update: the CEO of Acme is Bo") without its label: a statement, not a record's one field."""
    label, sep, value = sentence.partition(": ")
    if not sep or ";" in value or len(label.split()) > 3 or len(value.split()) < 4:
        return sentence
    found = _subject_and_rest(value)
    return value if found is not None and _VERB_FIRST.match(found[1]) else sentence


_VERB_FIRST = re.compile(r"(?:is|are|was|were|has|have|had|will|\w+ed|\w+s)\b")


def _record_fields(sentence: str) -> list[Claim]:
    """The claims of a record's fields (``_RECORD``), each one relation of the thing it names: a
    field that says where it is is its location, one that holds an amount states that amount,
    one that names a leading role says who leads it, any other is the thing's attribute."""
    if role := _ROLE_RECORD.match(sentence):  # "CEO of Calloway Mutual: Tariq Nasser"
        holder = _role_subject(f"{role['role']} of {role['org']}", "")
        return [Claim(f"{holder}|is", dedupe_key(role["value"]), True)] if holder else []
    record = _RECORD.match(sentence)
    if record is None:
        return []
    thing = _normalise_subject((record["thing"] or record["name"]).lower().split()).removeprefix("the ")
    parts = _MORE_FIELDS.split(f"{record['field'] or record['named_field']}: {record['fields']}")
    first_field, _, first_value = parts[0].partition(": ")
    claims: list[Claim] = []
    for field, value in [(first_field, first_value), *zip(parts[1::2], parts[2::2], strict=False)]:
        name = _unaliased(" ".join(field.lower().split()))
        if _WHERE_FIELDS.intersection(name.split()):
            _claim(claims, thing, "location", value)
            continue
        _claim(claims, f"{thing}'s {name}", "is", value, cut=False)
        for amount in _AMOUNT.finditer(value.lower()):
            _claim(claims, thing, f"amount {amount['unit']}", amount["n"], cut=False)
        if name in _LEADING_ROLES:
            _claim(claims, thing, f"led by {_LEADING_ROLES[name]}", value)
    return claims


@functools.lru_cache(maxsize=65536)
def subject_of(text: str) -> str | None:
    """Who or what a statement is about: the subject of its first clause, normalised."""
    return _first_subject(_plain(text))


def _plain(text: str) -> str:
    """One line without a final stop, titles without their dot ("Dr. Osei" is one name)."""
    text = re.sub(r"\b(Dr|Mr|Mrs|Ms|Prof|St|Jr|Sr)\.", r"\1", text)
    return " ".join(text.strip().rstrip(".!").split())


def holds(text: str, words: tuple[str, ...]) -> bool:
    """Whether a statement's words include every one of ``words`` (a retraction's), by stem."""
    own = {_stem(w) for w in dedupe_key(text).split()}
    return all(_stem(w) in own for w in words)


def _first_subject(sentence: str) -> str | None:
    for clause in _clauses(sentence):
        found = _subject_and_rest(clause)
        if found is not None:
            return found[0]
    return None


def _clauses(sentence: str) -> list[str]:
    """Cut at ; : , and "but"/"and"/"so" joins, keeping each clause's words."""
    parts = re.split(
        r"\s*[;:—–]\s*|\s+-\s+|,\s+(?:and\s+|but\s+|so\s+)?|\s+(?:but|and then|and|so)\s+", sentence
    )
    return [p.strip() for p in parts if p and p.strip()]


def _subject_and_rest(clause: str) -> tuple[str, str] | None:
    """Split a clause into its subject (normalised) and what follows, or None without one."""
    # "Dunmore Rovers' coach" is the possessive "Rovers's", as names ending in s are written too.
    text = re.sub(r"(?<=s)'(?=\s)", "'s", clause.replace("’", "'"))
    # "Choir's on Thursdays now", "The meeting's at noon": a contracted "is", not a possessive.
    if "'s " in text:  # the pattern is slow to find none
        text = _CONTRACTED_IS.sub(r"\1 is \2", text)
    words = text.split()
    i = _skip_lead(words)
    if i >= len(words) - 1:
        return None
    first, low = words[i], words[i].lower()
    found: tuple[list[str], int] | None
    if low in _PREPOSITIONS:
        return None  # "In the week before 21 July 2023": a time, not who did it
    if low == "the" and words[i + 1].lower().removesuffix("'s") in ("user", "assistant"):
        found = [low, words[i + 1].lower()], i + 2
    elif low in ("we", "we're", "we've"):
        found = ["we"], i + 1
        if low != "we":
            words.insert(i + 1, "are" if low == "we're" else "have")
    elif low in _DETERMINERS or low in ("a", "an"):
        found = _determined_subject(words, i)
    elif first[:1].isupper() and low not in _PRONOUN_SUBJECTS and low not in _LEADING:
        found = _named_subject(words, i, low)
    else:
        return None
    if found is not None and found[0][-1].endswith("'s"):
        found = _possessed(words, *found)
    if found is not None and found[1] == len(words) and _joins_names(words, i + 1):
        return _normalise_subject(found[0]), ""  # "Brindle & Cope, a wholesaler, is ...": named first
    if found is None or found[1] >= len(words):
        return None
    subject, i = found
    return _normalise_subject(subject), " ".join(words[i:])


def _determined_subject(words: list[str], i: int) -> tuple[list[str], int] | None:
    """The subject a determiner opens at ``i`` and where it ends. "Our team lead is Harriet",
    "The head coach of Dunmore Rovers is Keith": the copula ends it, whatever verb-like nouns it
    holds; else the first word that reads as a verb."""
    copula = _copula_at(words, i + 2)
    if copula is not None:
        j = copula
    else:
        j = i + 1
        titled = words[j][:1].isupper()  # "The Ferro X2 bike retails at ...": a name, its verb
        while j < len(words) and (words[j][:1].isupper() or words[j][:1].isdigit()):
            j += 1
        while j < len(words) and j - i <= 6 and not _verbish(words[j]):
            if titled and j > i + 1 and (words[j].endswith(("s", "ed")) and not words[j].endswith("ss")):
                break
            j += 1
    if j >= len(words) or j == i + 1 or j - i > 10:
        return None
    return [w.lower() for w in words[i:j]], j


def _named_subject(words: list[str], i: int, low: str) -> tuple[list[str], int] | None:
    """The name that opens the clause at ``i`` ("Dr. Osei", "Sam's") and where it ends."""
    j = i
    if low in _AUX and _verbish(words[i + 1]):
        j += 1  # "Can is married to Elif": a name that is also a verb
    while j < len(words) and (words[j][:1].isupper() or _joins_names(words, j)) and not _verbish(words[j]):
        j += 1
        if words[j - 1].endswith("'s"):
            break
    if j == i:
        return None
    return [w.lower() for w in words[i:j]], j


def _joins_names(words: list[str], j: int) -> bool:
    """ "Brindle & Cope": an ampersand between two capitalised words is part of one name."""
    return words[j] == "&" and j + 1 < len(words) and words[j + 1][:1].isupper()


def _possessed(words: list[str], subject: list[str], i: int) -> tuple[list[str], int] | None:
    """ "Sam's sister lives in Rome": the noun after a possessive belongs to the subject; "Ama's
    brother Kofi lives in Accra" is about Kofi, as "Kofi moved to Toronto" is."""
    j = _copula_at(words, i + 1) or i
    while j < len(words) and j - i < 7 and not _verbish(words[j]):
        j += 1
    if j >= len(words) or j - i >= 7:  # no verb found: take the first word that reads as one
        j = next((k for k in range(i + 1, min(len(words), i + 5)) if words[k].endswith("s")), i)
    if j == i:
        return None
    named = [w.lower() for w in words[i:j] if w[:1].isupper() and not w.isupper()]
    return (named if named else subject + [w.lower() for w in words[i:j]]), j


def _copula_at(words: list[str], start: int) -> int | None:
    """Where "is"/"are" ends a noun phrase beginning before ``start`` ("Our team lead is ...",
    "Rovers's head coach is ..."), if no other verb comes first."""
    for k in range(start, min(len(words), start + 9)):
        low = words[k].lower()
        if low in ("is", "are"):
            return k
        if low in _AUX or low in ("that", "who", "which") or low.endswith("ed"):
            return None
        if low.endswith("s") and _VERB_FORM.match(low):  # "Sam's sister lives in Rome and is ..."
            return None
    return None


def _skip_lead(words: list[str]) -> int:
    """Where the subject starts: after time phrases and a leading prepositional phrase."""
    i = 0
    while i < len(words) - 1 and (words[i].lower().strip(",") in _LEADING or words[i].isdigit()):
        i += 1
    if i < len(words) and words[i].lower() in _PREPOSITIONS:
        # "Since the merger Yara reports to ...", "As of this quarter the design team works ...":
        # the subject starts at a name, "we", or a determiner after the phrase's own noun.
        nouns = 0
        for j in range(i + 1, min(len(words), i + 8)):
            low = words[j].lower()
            if low in ("we", "we're", "we've") or (words[j][:1].isupper() and low not in _LEADING):
                return j
            if low in _RELATIONAL and nouns:
                return j
            if low not in _PREPOSITIONS and low not in _DETERMINERS:
                nouns += 1
    return i


def _normalise_subject(words: list[str]) -> str:
    """The subject's head: no qualifier after it, no word marking the value new or old; "the
    mayor of Eastvale" is "eastvale's mayor", as "Eastvale's mayor" is."""
    if words and words[0] == "the" and "of" in words[2:]:
        at = words.index("of", 2)
        owner = dedupe_key(" ".join(_cut_qualifiers(words[at + 1 :])))
        if owner:
            return f"{owner}'s {_normalise_subject(words[1:at])}"
    return " ".join(w for w in _cut_qualifiers(words) if w not in _VERSION_WORDS) or " ".join(words)


def _cut_qualifiers(words: list[str]) -> list[str]:
    """The words before the first qualifier ("for the kitchen", "this year") after the head."""
    head: list[str] = []
    for n, word in enumerate(words):
        if n > 0 and word in _QUALIFIERS:
            break
        head.append(word)
    return head


def _verbish(word: str) -> bool:
    low = word.lower().strip(",")
    return low in _AUX or low in _ADVERBS or low in ("no", "not") or bool(_VERB_FORM.match(low))


_VERB_FORM = re.compile(
    r"^(?:(?:live|work|drive|use|play|drink|eat|own|prefer|like|love|hate|want|need|speak|run|take|"
    r"earn|make|pay|rent|keep|meet|teach|stud(?:y|ie)|go(?:e)?|reside|lead|manage|cost|sit|attend|"
    r"head|coach|employ|weigh|charge|stay)s?|moved|joined|quit|left|gave|stopped|had|got|became|"
    r"started|switched|relocated|settled|married|divorced|went|took|sold|bought|dropped|retired|"
    r"resigned|broke|began|grew|rose|fell|climbed|raised|upgraded|finished|separated)$"
)


def _starts_with_verb(clause: str) -> bool:
    first = clause.split(" ", 1)[0].lower()
    return first in _ADVERBS or bool(_VERB_FORM.match(first)) or first in _AUX


# The predicates _read_predicate and _where read, compiled once (they run for every statement).
_EMPLOYER = rf"(?:{_WORK} (?:at|for|with)|{_JOINED}(?: at| with| for)?|is employed (?:at|by))"
_WORKS_AT = re.compile(rf"^{_ADV}{_EMPLOYER} {_VALUE}{_END}")
_REPORTS_TO = re.compile(rf"^{_ADV}(?:reports?|is reporting|answers?) to {_VALUE}{_END}")
_JOINS = re.compile(rf"^{_ADV}(?:joined|has joined|is joining) {_VALUE}{_END}")
_WORKS_AS = re.compile(
    r"\b(?:works|working|is employed|became|has become|taken on|started|joined (?:[\w']+ ){0,3}?) as "
    r"(?:an? )?(?P<value>[^,;!.]+)"
)
#: The named place a post is held at, right after the post: "data analyst at Deliveroo".
_POST_EMPLOYER = re.compile(
    r"(?:(?!(?:and|but|who|which|where|when|while)\b)[\w'-]+ ){1,5}?(?:at|for|with) (?:the )?"
    r"(?P<value>[A-Z][\w&'.-]*(?: (?:[A-Z0-9][\w&'.-]*|&|of))*)"
)
#: "is an intern at a consultancy", "is the head chef at Rocca": a post held at a place of work.
_POST_AT = re.compile(
    rf"^{_ADV}(?:is|are) (?:now |currently )?(?:an?|the) (?P<value>[a-z][a-z -]{{1,40}}?) (?:at|for|with) "
    r"(?:an? |the )?(?-i:[A-Z]|[a-z]+ (?:consultancy|firm|agency|company|startup|bank|hospital|school|"
    r"studio|brewery|bakery|restaurant|practice|charity|council|university|lab|shop|clinic))"
)
_MARRIED_TO = re.compile(rf"^{_ADV}(?:is|are|got) (?:now )?(?:married|engaged) to {_VALUE}{_END}")
_AGE = re.compile(rf"^{_ADV}(?:is|are) (?P<value>\d{{1,3}})(?![\d.,%])(?: years? old| years of age)?{_END}")
_LED_BY = re.compile(rf"^{_ADV}(?:is|are) (?:now )?(?P<verb>{_LED}) by {_VALUE}{_END}")
_LEADS_OBJECT = re.compile(
    rf"^{_ADV}(?P<verb>{_LEADS}) (?P<obj>(?:the|our|my|his|her|their) [^,;]+|[A-Z][\w-]*(?: [A-Z][\w-]*)*)"
)
_IS_A = re.compile(
    r"^(?:is|are) (?:now |currently )?(?:an? )(?P<value>[^,;]{2,60}?)\s*(?:now)?\s*(?:[,;.!?]|$)"
)
_HAS_COUNT = re.compile(rf"^{_ADV}(?:has|have|employs|employ) (?P<n>{_NUMBER}) (?P<noun>[a-z]+)")
_CHANGED_TO_NUMBER = re.compile(rf"^{_ADV}{_CHANGE_TO} (?:to )?(?P<n>{_NUMBER})(?: (?P<noun>[a-z]+))?")
_COPULA = re.compile(rf"^(?:is|are) (?:now |currently |still )?(?!not\b|no\b){_VALUE}{_END}")
_MOVED = re.compile(rf"^{_ADV}{_MOVE}(?: back)?(?: from (?P<old>[^,;]+?))? (?:to|into) {_VALUE}{_END}")
_LOCATED_IN = re.compile(rf"^{_ADV}{_LOCATED} (?:in|at|on|of|from) {_VALUE}{_END}")
_IS_IN = re.compile(rf"^(?:is|are) {_ADV}(?:in|at|on) {_VALUE}{_END}")
_ATTENDS = re.compile(rf"^{_ADV}(?:goes|go|attends?|is enrolled at|started at) (?:to )?{_VALUE}{_END}")
_STOPPED = re.compile(rf"\b{_STOP_VERBS} (?P<old>[^,;]+)")
_NO_MORE = re.compile(r"\bno more (?P<old>[^,;]+?)(?: for \w+)?\s*$|\bno more (?P<old2>[^,;]+)")
_NO_LONGER = re.compile(r"\bno longer (?:\w+ )?(?P<old>[^,;]+)")
_RETIRED = re.compile(r"\bretired\b")
_PARTED = re.compile(r"\b(?:divorced|separated|split up|broke up|got divorced)\b")
_SWITCHED_KIND = re.compile(r"\b(?:switched|changed) (?P<noun>[a-z]+?)s\b")
_SWITCHED_TO = Caseless(
    r"\b(?:switched|upgraded|downgraded|changed|moved over) to (?P<new>[^,;]+)",
    needs="switched|upgraded|downgraded|changed|moved over",
)


def _read_predicate(subject: str, rest: str, claims: list[Claim], retractions: list[Retraction]) -> None:
    """Add the claims and retractions of ``subject``'s predicate ``rest``."""
    low = rest.lower()
    _where(subject, rest, low, claims, retractions)
    _work(subject, rest, low, claims)
    _roles(subject, rest, low, claims)
    _quantities(subject, rest, low, claims)
    _relational_copula(subject, low, claims)
    _retractions(subject, rest, retractions)
    if not any(c.subject == subject for c in claims):
        _verb_claim(subject, low, claims)


def _work(subject: str, rest: str, low: str, claims: list[Claim]) -> None:
    """Claims about where the subject works and as what, whom they report to or married, their age."""
    if m := _WORKS_AT.match(low):
        _claim(claims, subject, "works at", m["value"])
    if m := _REPORTS_TO.match(low):
        _claim(claims, subject, "reports to", m["value"])  # one manager at a time
    elif (m := _JOINS.match(rest)) and _proper(m["value"]):
        _claim(claims, subject, "works at", m["value"].lower())  # "joined Bosch", not "joined a club"
    if (m := _WORKS_AS.search(low)) or (m := _POST_AT.match(rest)):
        _claim(claims, subject, "works as", m["value"])
        # "works as a data analyst at Deliveroo", "is a nurse at St Mary's": where, too.
        if len(low) == len(rest) and (employer := _POST_EMPLOYER.match(rest, m.start("value"))):
            _claim(claims, subject, "works at", employer["value"].lower())
    if m := _MARRIED_TO.match(low):
        _claim(claims, subject, "married to", m["value"])
    if m := _AGE.match(low):
        _claim(claims, subject, "age", m["value"])


def _roles(subject: str, rest: str, low: str, claims: list[Claim]) -> None:
    """Claims about who leads or holds what, what the subject is, its team and its state."""
    if m := _LED_BY.match(low):
        _claim(claims, subject, f"led by {_ROLE_OF_VERB[m['verb']]}", m["value"])
    if m := _LEADS_OBJECT.match(rest):
        _claim(claims, _owner(m["obj"]), f"led by {_ROLE_OF_VERB[m['verb']]}", subject, cut=False)
    if m := _PASSIVE_SET.match(low):
        relation = {"moved": "location", "relocated": "location", "put": "location"}.get(m["verb"], "is")
        _claim(claims, subject, relation, m["value"])
        for amount in _AMOUNT.finditer(m["value"]):  # "was raised to 42 euros": the amount changed
            _claim(claims, subject, f"amount {amount['unit']}", amount["n"], cut=False)
    if m := _REPLACED_BY.match(low):  # "Harriet was replaced by Sunil Mehta as team lead"
        _claim(claims, _normalise_subject(m["role"].split()), "is", m["new"], cut=False)
    if m := _TAKES_ROLE.match(rest):
        role = _role_subject(m["role"], subject)
        if role is not None:
            _claim(claims, role, "is", subject, cut=False)
    if (m := _IS_A.match(low)) and (not _EVALUATIVE.match(m["value"]) and not _is_relational(subject)):
        _claim(claims, subject, "is a", m["value"], functional=False, cut=False)  # changes by cue only
    if m := _TEAM.match(low):
        _claim(claims, subject, "team", m["value"], cut=False)
    if m := _STATE.match(low):
        _claim(claims, subject, _STATES[m["state"]], m["state"], cut=False)
    if (m := _INVERSE_COPULA.match(rest)) and subject not in _PEOPLE and "'s " not in subject:
        # "Ilse is our drummer now" says who "our drummer" is, as "Our drummer is Ilse" does.
        _claim(claims, _normalise_subject(m["attr"].lower().split()), "is", subject, cut=False)
    if (m := _IS_ROLE_OF.match(rest)) and subject not in _PEOPLE and "'s " not in subject:
        # "Desmond Achebe is the CEO of Orvane Systems", as "The CEO of Orvane Systems is ..." reads.
        role = _role_subject(f"{m['role']} of {m['org']}", subject)
        if role is not None:
            _claim(claims, role, "is", subject, cut=False)
    if m := _APPOINTED.search(rest):  # "The Kelby Symphony appointed Mariko Sato as conductor"
        org = dedupe_key(m["org"] or subject)
        _claim(claims, f"{org}'s {m['role'].lower()}", "is", m["who"].lower(), cut=False)


def _quantities(subject: str, rest: str, low: str, claims: list[Claim]) -> None:
    """Claims about the amounts and counts the subject has."""
    if not _PAST_PREDICATE.match(low):
        for amount in _AMOUNT.finditer(low):  # "runs 30 km a week", "is up to 55 km a week now"
            is_year = len(amount["n"]) == 4 and amount["n"].startswith(("19", "20"))
            if amount["unit"] not in _NOT_UNITS and not is_year:
                _claim(claims, subject, f"amount {amount['unit']}", amount["n"], cut=False)
    if m := _HAS_COUNT.match(low):
        _claim(claims, subject, f"count {m['noun']}", m["n"], cut=False)
    if m := _CHANGED_TO_NUMBER.match(low):
        if _is_relational(subject):
            _claim(claims, subject, "is", f"{m['n']} {m['noun'] or ''}")
        else:
            _claim(claims, subject, f"count {m['noun'] or ''}".strip(), m["n"], cut=False)


def _relational_copula(subject: str, low: str, claims: list[Claim]) -> None:
    """ "Alice's manager is Bob": any attribute of a relational subject, and who leads what."""
    copula = _COPULA.match(low)
    if (
        not _is_relational(subject)
        or not copula
        or _EVALUATIVE.match(copula["value"])
        or any(c.subject == subject and "|amount " not in c.key for c in claims)
    ):
        return
    _claim(claims, subject, "is", copula["value"], cut=False)
    owner, _, role = subject.rpartition("'s ") if "'s " in subject else ("", "", "")
    if not owner and subject.split(" ", 1)[0] in _RELATIONAL and len(subject.split()) > 2:
        owner, _, role = subject.rpartition(" ")  # "our team lead": the team's lead
    if owner and role.split()[-1] in _LEADING_ROLES:
        _claim(claims, _owner(owner), f"led by {_LEADING_ROLES[role.split()[-1]]}", copula["value"])


def _where(subject: str, rest: str, low: str, claims: list[Claim], retractions: list[Retraction]) -> None:
    """Claims about where the subject is, lives or goes to school."""
    moved = _MOVED.match(low)
    if moved:
        relation = "attends" if _SCHOOLISH.search(moved["value"]) else "location"
        _claim(claims, subject, relation, moved["value"])
        if moved["old"]:
            _retract(retractions, subject, moved["old"])
    elif (m := _LOCATED_IN.match(low)) or (m := _HOME.match(low)):
        _claim(claims, subject, "location", m["value"])
    elif (m := _IS_IN.match(rest)) and _proper(m["value"]):
        _claim(claims, subject, "location", m["value"].lower())
    elif (m := _ATTENDS.match(rest)) and (_proper(m["value"])):
        _claim(claims, subject, "attends", m["value"].lower())


def _found(pattern: re.Pattern[str], low: str, *needed: str) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` in ``low``, looked for only where a word it needs stands."""
    return pattern.finditer(low) if any(word in low for word in needed) else iter(())


def _retractions(subject: str, rest: str, retractions: list[Retraction]) -> None:
    low = rest.lower()
    for m in _STOPPED.finditer(low):
        # "won't quit on my dreams", "ended up with sponsors", "left for Paris" end nothing.
        if not _NEGATED.search(low[: m.start()]) and not _PARTICLE.match(m["old"]):
            _retract(retractions, subject, m["old"])
    # Each pattern is searched only where the words it needs stand: most predicates hold none.
    for m in _found(_NOT_ANYMORE, low, "any"):
        _retract(retractions, subject, m["old"])
    for m in _found(_NO_MORE, low, "no more"):
        _retract(retractions, subject, m["old"] or m["old2"])
    for m in _found(_NO_LONGER, low, "no longer"):
        _retract(retractions, subject, m["old"])
    for m in _found(_INSTEAD_OF, low, "instead of", "rather than", " from "):
        _retract(retractions, subject, m["old"] or m["old2"])
    for m in _found(_SWAPPED, low, " for ", " with "):  # "swapped the Golf for a Tesla", "replaced X with Y"
        _retract(retractions, subject, m["old"])
    if replaced := re.match(r"^(?:has )?replaced (?P<old>[^,;]+)", low):  # "A Tesla replaced my Golf"
        _retract(retractions, subject, replaced["old"])
    if _PARTED.search(low):
        retractions.append(Retraction(subject, key=f"{subject}|married to"))
    if _RETIRED.search(low):
        retractions += [
            Retraction(subject, key=f"{subject}|works at"),
            Retraction(subject, key=f"{subject}|works as"),
        ]
    for m in _found(_SWITCHED_KIND, low, "switched", "changed"):
        noun = m["noun"]
        relation = _SWITCHED_RELATIONS.get(noun)
        key = f"{subject}|{relation}" if relation else f"{subject}'s {noun}|is"
        retractions.append(Retraction(subject, key=key))
    for m in _SWITCHED_TO.finditer(rest):
        # "upgraded to the premium plan" ends the old plan (a value of the same kind: the
        # phrase's head noun); "switched to Fibrely for internet" names no kind but a topic.
        new, _, topic = m["new"].partition(" for ")
        head = new.split(" of ", 1)[0].split()
        noun = head[-1] if len(head) > 1 else ""
        if noun.isalpha() and noun.islower() and noun not in _NOT_CONTENT:
            retractions.append(Retraction(subject, (noun,)))
        elif topic:
            _retract(retractions, subject, topic)


def _is_relational(subject: str) -> bool:
    """Whether a subject names an attribute of someone or something ("Alice's manager", "our
    budget", "the CEO of Acme"), which holds one value at a time."""
    return ("'s " in subject or subject.split(" ", 1)[0] in _RELATIONAL) and subject not in _PEOPLE


def _owner(phrase: str) -> str:
    """What a role or a lead belongs to, alike however it was written: "the Elmstead residents'
    association", "Elmstead residents's association" and "our team" lose their article."""
    words = dedupe_key(re.sub(r"(?<=s)'(?=\s|$)", "'s", phrase.lower())).split()
    return " ".join(words[1:] if words and words[0] in ("our", "my", "their", "his", "her") else words)


def _role_subject(role: str, holder: str) -> str | None:
    """Whose role a phrase names: "conductor of the Kelby Symphony" is "kelby symphony's
    conductor" (as "The conductor of the Kelby Symphony is ..." reads); "our manager" stays."""
    head, _, org = role.partition(" of ")
    if not org:
        head, _, org = role.partition(" at ")
    words = head.lower().split()
    if not words or holder in words:
        return None
    if org:
        owner = dedupe_key(org).strip()
        return f"{owner}'s {' '.join(w for w in words if w not in _VERSION_WORDS)}"
    return _normalise_subject(words)


def _verb_claim(subject: str, low: str, claims: list[Claim]) -> None:
    """A plain "subject verb object" claim, which changes only when the text says so, unless its
    value is an amount ("costs 240 euros", "is running 30 km a week")."""
    words = low.split()
    i = 0
    while i < len(words) and words[i] in _ADVERBS:
        if words[i] in ("no", "never"):
            return  # "no longer eats meat" claims nothing (it retracts)
        i += 1
    if i >= len(words) - 1:
        return
    if words[i] in ("is", "are") and words[i + 1].endswith("ing"):
        i += 1  # "is running 30 km a week": the progressive states what holds too
    elif not (words[i].endswith("s") or subject == "we"):
        return  # only a present-tense verb states something that holds; "went", "doesn't" do not
    if i >= len(words) - 1 or words[i] in _AUX or words[i] in _CHANGE_VERBS or words[i].endswith("n't"):
        return
    if _lemma(words[i]) in _ADDITIVE_VERBS:
        return
    value = " ".join(words[i + 1 :])
    amount = re.match(rf"^(?:about |around |roughly )?(?P<n>{_NUMBER})", value) is not None
    _claim(claims, subject, _lemma(words[i]), value, functional=amount)


_CHANGE_VERBS = frozenset("is has does was switches quits stops leaves moves gives".split())


#: A promotion names the title held from then on: "was promoted to creative director", "since my
#: promotion to head of sales", "Sam's promotion to partner".
_PROMOTED = Caseless(
    r"(?:\b(?P<owner>[a-z][\w-]*(?: [a-z][\w-]*){0,2})'s |\b(?:my|his|her|their) |\b)"
    r"(?:(?:was|got|has been|have been|had been|been|being|is being) promoted|promotion) to "
    r"(?:the (?:role|post|position|rank) of )?(?:an? )?(?P<value>[^,;.]+)",
    needs="promot",
)
#: Something of someone's that is gone for good: a pet or a person who died, a thing stolen or
#: written off. What memory held about it is past ("Sam's gerbil Crumpet chews the tank").
_ENDED = Caseless(
    r"\b(?:(?P<owner>[a-z][\w-]*(?: [a-z][\w-]*){0,2})'s|my|our|the|his|her|their) "
    r"(?P<thing>(?:[a-z][\w-]* ){0,2}?[a-z][\w-]*) (?:has |had )?(?P<how>died|passed away|"
    r"was put (?:down|to sleep)|ran away|went missing|was stolen|got stolen|was written off|was totall?ed)\b",
    needs="died|passed away|put|ran away|missing|stolen|written off|totall?ed",
)
#: Things that "die" only for a while ("my phone died"): it says nothing of owning them any more.
_MACHINES = frozenset(
    "phone mobile laptop battery computer car engine tablet printer router tv charger headphones "
    "kindle watch speaker speakers bike scooter".split()
)


#: Someone taken on in a post: "they hired Sam on as an associate", "took Sam on as a tutor".
_HIRED_AS = re.compile(
    r"\b(?:hired|took|taken|brought|signed) (?P<who>(?-i:[A-Z])[\w'-]*(?: (?-i:[A-Z])[\w'-]*){0,2}) "
    r"(?:on |back )?as (?:an? |the )?(?P<value>[^,;.!]+)",
    re.IGNORECASE,
)


#: A named organisation someone belongs to now, said in passing: "Now that Jonas is at Zalando,
#: Jonas is on call" says where Jonas works (or studies) as "Jonas works at Zalando" does.
_NOW_AT = re.compile(
    r"\b(?i:now) that (?P<who>[A-Z][\w'-]*(?: [A-Z][\w'-]*){0,2}) (?:is|are) (?:now )?(?:at|with) "
    r"(?P<org>[A-Z][\w&'.-]*(?: [A-Z][\w&'.-]*){0,3})"
)


def _new_posts(sentence: str, claims: list[Claim]) -> None:
    """A promotion or a hiring says what someone works as now, and a place they are at now where
    they work: claims that replace the old post or employer."""
    for m in _PROMOTED.finditer(sentence):
        owner = _owner_named(m["owner"]) or _first_subject(sentence)
        if owner:
            _claim(claims, _normalise_subject(owner.lower().split()), "works as", m["value"])
    for m in _HIRED_AS.finditer(sentence):
        _claim(claims, _normalise_subject(m["who"].lower().split()), "works as", m["value"])
    for m in _NOW_AT.finditer(sentence) if "now that" in sentence.lower() else ():
        who, org = m["who"].lower().split(), m["org"].split()
        # The name runs on into the clause after it: "at Zalando Jonas is on call".
        end = next((i for i, word in enumerate(org) if word.lower() in who), len(org))
        if end:
            _claim(claims, _normalise_subject(who), "works at", " ".join(org[:end]).lower(), cut=False)


#: Words that lead into a clause before a possessive's owner ("since Sam's promotion").
_INTO_CLAUSE = _LEADING | _PREPOSITIONS | frozenset("when while because upon following".split())


def _owner_named(phrase: str | None) -> str | None:
    """The owner a possessive names, lowercased: the words after the last one leading into its
    clause ("sat empty after Sam" names Sam)."""
    words = (phrase or "").lower().split()
    starts = [i for i, word in enumerate(words) if word in _INTO_CLAUSE]
    return " ".join(words[starts[-1] + 1 :] if starts else words) or None


def _endings(sentence: str, speaker: str | None, retractions: list[Retraction]) -> None:
    """Retract what memory holds about a thing of someone's that is gone for good (see ``_ENDED``);
    "my", "our" and "the" things are the speaker's."""
    for m in _ENDED.finditer(sentence):
        thing = m["thing"].lower()
        if m["how"].lower() == "died" and thing.split()[-1] in _MACHINES:
            continue
        owner = _owner_named(m["owner"]) or speaker
        if owner:
            _retract(retractions, owner, thing)


def _object_changes(clause: str, claims: list[Claim]) -> None:
    """ "They relocated our team to the Tower building", "I raised my goal to 7000 pounds": the
    object's place or value changes."""
    m = _OBJECT_CHANGE.search(clause.replace("’", "'"))
    if m is None or m["obj"].lower() in _PRONOUN_SUBJECTS | {"us", "me", "them", "him", "her"}:
        return
    obj = re.sub(r" (?:over|up|down|back)$", "", m["obj"])  # "handed Kestrel over to Duc"
    subject = _normalise_subject(obj.lower().split())
    value = m["value"].lower()
    if m["verb"] in ("moved", "relocated", "transferred"):
        _claim(claims, subject, "attends" if _SCHOOLISH.search(value) else "location", value)
    elif m["verb"] in ("handed", "passed"):  # "Amara handed Kestrel over to Duc"
        _claim(claims, subject, "led by lead", value)
    else:
        _claim(claims, subject, "is", value)
        for amount in _AMOUNT.finditer(value):  # "bumped our mortgage rate to 4.2%"
            _claim(claims, subject, f"amount {amount['unit']}", amount["n"], cut=False)


#: A month written short, as its full name: "22 Apr" and "22 April" state one value.
_MONTH_SHORT = {name.lower()[:3]: name.lower() for name in MONTH_NAMES} | {"sept": "september"}
_MONTH_SHORT_WORD = re.compile(rf"\b(?:{'|'.join(_MONTH_SHORT)})\b")


def _claim(
    claims: list[Claim], subject: str, relation: str, value: str, *, functional: bool = True, cut: bool = True
) -> None:
    cleaned = dedupe_key(_VALUE_TAIL.sub("", value) if cut else value)
    cleaned = _MONTH_SHORT_WORD.sub(lambda m: _MONTH_SHORT[m[0]], cleaned)
    if cleaned:
        claims.append(Claim(f"{_unaliased(subject)}|{relation}", cleaned, functional))


#: One relation written in other words: "Orvane's chief executive officer" is "Orvane's CEO".
_ALIAS_OF = {
    "chief executive officer": "ceo", "chief executive": "ceo", "capital city": "capital",
    "chairman": "chair", "chairwoman": "chair", "chairperson": "chair",
    "registered head office": "headquarters", "registered office": "headquarters",
    "head office": "headquarters", "hq": "headquarters", "list price": "price", "retail price": "price",
}  # fmt: skip
_ALIASES = re.compile(rf"\b(?:{'|'.join(sorted(_ALIAS_OF, key=len, reverse=True))})\b")


def _unaliased(phrase: str) -> str:
    """``phrase`` with each relation named by its one name ("chief executive officer" is "ceo")."""
    return _ALIASES.sub(lambda m: _ALIAS_OF[m[0]], phrase)


def _retract(retractions: list[Retraction], subject: str, old: str) -> None:
    words = tuple(w for w in dedupe_key(_RETRACT_TAIL.sub("", old)).split() if w not in _NOT_CONTENT)
    if words and len(words) <= 5:
        retractions.append(Retraction(subject, words))


def _proper(value: str) -> bool:
    """A value that names a place: its first word after an article is capitalised."""
    words = [w for w in value.split() if w.lower() not in ("a", "an", "the")]
    return bool(words) and words[0][:1].isupper()


def _lemma(verb: str) -> str:
    """The verb's base form, consistently enough to compare two statements' verbs: drives,
    driving and drive meet; so do runs and running."""
    irregular = {"has": "have", "is": "be", "are": "be", "does": "do", "goes": "go", "going": "go"}
    if verb in irregular:
        return irregular[verb]
    if verb.endswith("ing") and len(verb) > 5:
        stem = verb[:-3]
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
            stem = stem[:-1]  # running -> run
        return stem.removesuffix("e")
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if verb.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return verb[:-2]
    if verb.endswith("s") and not verb.endswith("ss"):
        return verb[:-1].removesuffix("e")
    return verb.removesuffix("e")


_VERB_SUFFIX = re.compile(r"(?:ing|ings|ed)$")
_NOUN_SUFFIX = re.compile(r"(?:es|s|ers|er)$")


def _stem(word: str) -> str:
    """A crude stem for matching a retracted word: running, runs and run meet (butter and but
    do not)."""
    if len(word) <= 3:
        return word
    stem = _VERB_SUFFIX.sub("", word)
    if stem != word:  # stopped -> stopp -> stop
        return stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz" else stem
    return _NOUN_SUFFIX.sub("", word) if len(word) > 4 or word.endswith("s") else word
