"""Turn a question into what the channels need: lexical terms and an optional time window."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from ..dates import MONTH_NUMBERS

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)

# Question words and function words carry no evidence; dropping them keeps BM25 on content.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll
    i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor
    not of off on once only or other ought our ours ourselves out over own same shan't she she'd
    she'll she's should shouldn't so some such than that that's the their theirs them themselves
    then there there's these they they'd they'll they're they've this those through to too under
    until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where
    where's which while who who's whom why why's will with won't would wouldn't you you'd you'll
    you're you've your yours yourself yourselves also just ever kind like likely many much
    really thing things would""".split()
)

_MONTH_RE = "|".join(MONTH_NUMBERS)
_DATE_MENTION = re.compile(
    rf"\b(?:(?P<day>\d{{1,2}})\s+)?(?P<month>{_MONTH_RE})\b(?:\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?,?)?"
    rf"\s*,?\s*(?P<year>(?:19|20)\d\d)\b|\b(?P<yearonly>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TimeWindow:
    """A half-open interval [start, end) a question points at."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def lexical_terms(text: str) -> list[str]:
    """Lower-cased content words of ``text``, in order, without duplicates."""
    words = (w.lower() for w in _WORD.findall(text))
    return list(dict.fromkeys(w for w in words if w.isdigit() or (w not in STOPWORDS and len(w) > 1)))


#: The words a lexical search looks up, at most: each costs one postings read, and the first few
#: hundred words of a pasted paragraph find what the rest would (a 10,000-character query has
#: about 1,400: 0.8 s on PostgreSQL, 0.08 s capped).
MAX_QUERY_TERMS = 256


def query_terms(text: str) -> list[str]:
    """The words of ``text`` a lexical search looks up: its first ``MAX_QUERY_TERMS`` content words."""
    return lexical_terms(text)[:MAX_QUERY_TERMS]


def time_window(question: str) -> TimeWindow | None:
    """Return the period an explicit date in the question names ("in May 2023", "2022")."""
    match = _DATE_MENTION.search(question)
    if match is None:
        return None
    if match.group("yearonly"):
        year = int(match.group("yearonly"))
        return TimeWindow(datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC))
    year = int(match.group("year"))
    month = MONTH_NUMBERS[match.group("month").lower()]
    day = match.group("day") or match.group("day2")
    if day and 1 <= int(day) <= 31:
        try:
            start = datetime(year, month, int(day), tzinfo=UTC)
        except ValueError:
            start = None
        if start is not None:
            return TimeWindow(start, start.replace(hour=23, minute=59, second=59))
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return TimeWindow(datetime(year, month, 1, tzinfo=UTC), end)


def named_speakers(question: str, speakers: Iterable[str]) -> set[str]:
    """The speakers of a memory whom the question names ("What did Caroline research?").

    What a person said is the best evidence about that person: in conversations, facts about
    someone come mostly from their own turns.
    """
    return {s for s in speakers if s and _name_pattern(s).search(question)}


_FIRST_PERSON = re.compile(r"\b(?:I|me|my|mine|myself|I'm|I've|I'd|I'll)\b")


def first_person(question: str) -> bool:
    """Whether the question is asked about its asker ("where do I live?", "what's my budget?")."""
    return _FIRST_PERSON.search(question) is not None


def without_names(text: str, names: Iterable[str]) -> str:
    """``text`` without the given names (and a possessive after them)."""
    for name in names:
        text = _name_pattern(name).sub("", text)
    return text.strip()


@lru_cache(maxsize=1024)
def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(name)}(?:'s)?\b\s*", re.IGNORECASE)
