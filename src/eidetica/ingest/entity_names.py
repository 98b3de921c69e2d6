"""Proper names in one sentence, as the user wrote them: the entities a statement mentions.

Read by rule, without a model, so it errs towards precision. A capitalised word inside a sentence
is a name ("I met Jean at the shelter"). A sentence's first word is capitalised anyway, so it
counts only as part of a longer name ("Matt Patterson called"): "Art is my passion" names nobody.
Words that English capitalises without naming anyone (the calendar, "I", "Mom", titles,
interjections) never count. A missed mention costs little: it is still in the unit's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..dates import MONTH_NAMES, WEEKDAY_NAMES

__all__ = ["entity_key", "names_in"]

# A run of capitalised words, possibly joined by "of", "de", "van" ("Bank of America").
_RUN = re.compile(
    r"(?<![\w'’])[A-ZÀ-ÖØ-Þ][\w'’&.-]*(?:[ ](?:(?:of|de|da|van|von|del|la|le)[ ])?[A-ZÀ-ÖØ-Þ][\w'’&.-]*)*"
)
# Where a sentence (or a clause that starts like one) begins: text start, end punctuation, a colon
# or an opening quote or bracket.
_STARTS_HERE = re.compile(r"(?:^|[.!?:;\"“(\[]|\s[-–—])\s*$")
_POSSESSIVE = re.compile(r"['’]s?$")
_CONTRACTION = re.compile(r"['’](?:re|ve|ll|d|m|t)$", re.IGNORECASE)
_EDGE = ".,'’&-"

# Capitalised words that name nobody: pronouns, interjections, calendar and family words (a
# "Mom" is a relation of the speaker, not a name), titles, and common sentence openers.
_NOT_NAMES = frozenset(
    """
    i i'm i've i'll i'd im ive the a an my we it its it's that that's this these those so but and or
    oh yes no yeah yep nope well hey hi hello thanks thank wow haha lol omg ok okay sure also just
    then there here what when where why how who which if because since after before although though
    while as in on at for from with by of to not now actually really maybe plus anyway honestly
    today yesterday tomorrow tonight last next he she they you your our their his her me us them
    let let's some any all every each both one two three mine is are was were be do does did have
    has had can could will would should may might must ours cool nice great awesome amazing
    congrats congratulations btw sounds looks good bad glad happy sorry absolutely definitely
    totally exactly right true wait look see love dr mr mrs ms prof sir madam mom mum dad mommy
    daddy mama papa grandma grandpa granny nana aunt auntie uncle bro sis babe honey dear god gosh
    lord jesus christ heaven omg gonna wanna gotta hmm um uh ah aw ooh yay whoa nah ugh
    """.split()
) | frozenset(n.lower() for n in MONTH_NAMES + WEEKDAY_NAMES)


def entity_key(name: str) -> str:
    """How names are compared: lower case, single spaces, no possessive ("Caroline's" is "caroline")."""
    return _POSSESSIVE.sub("", " ".join(name.lower().split()))


def names_in(sentence: str, known: Sequence[str] = ()) -> tuple[str, ...]:
    """The proper names ``sentence`` mentions, as written, each once, in order. A sentence that
    opens with a word before a ``known`` name ("Woah Joanna, ...", "Remember Jon?") names only
    that person."""
    found: list[str] = []
    for match in _RUN.finditer(sentence):
        at_start = _STARTS_HERE.search(sentence[: match.start()]) is not None
        tokens = match.group().split(" ")
        if at_start and len(tokens) > 1 and _is_known(" ".join(tokens[1:]), known):
            tokens = tokens[1:]
        first = at_start and len(tokens) == len(match.group().split(" "))
        if (
            first
            and len(tokens) == 1
            and not tokens[0].endswith(_ENGLISH_ENDINGS)
            and _DOES.match(sentence, match.end())
        ):
            first = False  # "Ana visited me": a sentence opening with someone doing something
        found.extend(_names_of_run(tokens, first))
    return tuple(dict.fromkeys(found))


def _is_known(run: str, known: Sequence[str]) -> bool:
    key = entity_key(run.strip(_EDGE))
    return any(key == entity_key(name) for name in known)


def _names_of_run(tokens: list[str], at_start: bool) -> list[str]:
    """Split a run of capitalised words into names, dropping the words that name nobody."""
    names: list[str] = []
    run: list[str] = []
    first_of_sentence = at_start

    def close() -> None:
        nonlocal run
        while run and run[-1].lower() in _CONNECTORS:
            run.pop()
        if run:
            names.append(" ".join(run))
        run = []

    for token in tokens:
        word = token if _INITIALS.match(token) else token.strip(_EDGE)
        possessive = token.rstrip(".,").endswith(("'s", "’s", "s'", "s’"))
        bare = _POSSESSIVE.sub("", word) if possessive else word
        low = bare.lower()
        # A sentence's first word names nobody on its own ("Art is my passion", "Life's good":
        # "'s" is "is" there), nor when English capitalises it anyway ("Knowing Caroline ...").
        opener = first_of_sentence and (len(tokens) == 1 or low.endswith(_ENGLISH_ENDINGS))
        first_of_sentence = False
        if low in _CONNECTORS and run:
            run.append(bare)
            continue
        if (
            not low
            or low in _NOT_NAMES
            or low in _CALENDAR
            or (low.endswith("s") and low[:-1] in _CALENDAR)  # "Tuesdays"
            or _CONTRACTION.search(low)
            or low.isdigit()
            or not bare[:1].isalpha()
            or opener
        ):
            close()
            continue
        run.append(bare)
        if possessive or token.endswith(",") or (token.endswith(".") and not _INITIALS.match(token)):
            close()  # "Caroline's LGBTQ group" names two things; "Paris, Texas" two places
    close()
    return names


_CONNECTORS = frozenset("of de da van von del la le".split())
#: What follows a name that opens a sentence: someone doing something ("Ana visited", "Jean
#: wrote", "Max loves"); a copula says nothing of the sort ("Art is", "Life's").
_DOES = re.compile(
    r" (?:[a-z]{2,}ed|said|told|says|tells|wrote|writes|texted|called|calls|came|went|got|gave|"
    r"took|made|met|left|sent|bought|brought|taught|thought|knew|loves|likes|wants|thinks|knows|"
    r"lives|works|plays|paints|sings|helped|visited|asked|asks|married|adopted|won|lost|ran|"
    r"prefers|drinks|eats|owns|needs|misses|plans|runs|teaches|"
    r"and (?:I|me)\b)",
)
#: Endings of a capitalised first word that English made, not a name ("Knowing", "Honestly").
_ENGLISH_ENDINGS = ("ing", "ly", "ed")
_INITIALS = re.compile(r"^(?:[A-Z]\.)+$")  # "J.K." in "J.K. Rowling" ends no name
_CALENDAR = frozenset(n.lower() for n in MONTH_NAMES + WEEKDAY_NAMES) | frozenset(
    "mon tue tues wed thu thur thurs fri sat sun jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
