"""Whether a statement a model extracted is supported by the turns it names.

A model writes what it is asked and what it has seen: a small one, shown an example in its
prompt, once stored "Priya Raman adopted a grey cat named Miso" for a conversation that never
named Priya. A unit is grounded when every name and number it states is in its source turns (or
is a speaker's name), and every date follows from what they say or when: a year near the turns'
own, a day of the month beside a month's name. The check reads words, not meaning; it catches
what a model invents outright, not a true name put in the wrong place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from ..dates import MONTH_NAMES, WEEKDAY_NAMES

__all__ = ["unsupported"]

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
#: A capitalised word past a sentence's first (which any word may be).
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][\w'-]*[a-z][\w'-]*\b")
#: The first word, when a capitalised word follows it: "Priya Raman adopted", "Recently Caroline".
_FIRST_OF_TWO = re.compile(r"^([A-Z][\w'-]*[a-z][\w'-]*) ([A-Z][\w'-]*[a-z][\w'-]*)\b")
#: Capitalised words that name no one: the calendar, and the words a sentence opens with.
_NAMES_NO_ONE = frozenset(
    [m.lower() for m in (*MONTH_NAMES, *WEEKDAY_NAMES)]
    + """i i'm i've i'd i'll the a an he she they it we you his her their our my its this that these
    those there on in at after before during when while since for with from by as both each every
    some all no not one two three yesterday today tomorrow last next also then later now""".split()
)
_BESIDE_A_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{'|'.join(MONTH_NAMES)})\b"
    rf"|\b(?:{'|'.join(MONTH_NAMES)})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b",
    re.IGNORECASE,
)


def unsupported(text: str, said: Iterable[str], moments: Iterable[datetime | None] = ()) -> list[str]:
    """The names and numbers ``text`` states that nothing ``said`` (the source turns' texts and
    their speakers' names) supports, nor the turns' ``moments``; empty when it is grounded."""
    source = " ".join(said)
    words = {w.lower().strip("'") for w in re.findall(r"[\w'-]+", source)}
    numbers = {_plain_number(n) for n in _NUMBER.findall(source)}
    years = {y for m in moments if m is not None for y in range(m.year - 1, m.year + 2)}
    days = {int(d) for match in _BESIDE_A_MONTH.finditer(text) for d in match.groups() if d}
    missing: list[str] = []
    for number in _NUMBER.findall(text):
        plain = _plain_number(number)
        if plain in numbers or (plain.isdigit() and (int(plain) in years or int(plain) in days)):
            continue
        missing.append(number)
    names = [n for n in _NAME.findall(text) if not _known(n, words)]
    if (first := _FIRST_OF_TWO.match(text)) and first[2] in names and not _known(first[1], words):
        names.insert(0, first[1])  # a full name nobody said: "Priya Raman", not "Recently Caroline"
    return list(dict.fromkeys(missing + names))


def _known(name: str, words: set[str]) -> bool:
    low = name.lower().removesuffix("'s")
    return low in _NAMES_NO_ONE or low in words or name.lower() in words


def _plain_number(number: str) -> str:
    """ "1,200" and "1200" are one number; "3.5" keeps its point."""
    return number.replace(",", "")
