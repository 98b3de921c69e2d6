"""Rewrite relative dates in a sentence ("yesterday", "last week", "two days ago") as absolute ones.

Given the time the sentence was said, so a stored memory still means the same thing months later.
Only the phrases live here; the calendar's names and the date format come from ``eidetica.dates``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo

from eidetica.dates import MONTH_NAMES, WEEKDAY_NAMES, format_date

from ..caseless import Caseless

__all__ = ["resolve_relative"]

_NUMBER_WORDS: dict[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple": 2,
    "few": 3,
}
_WEEKDAYS: dict[str, int] = {}
for _i, _name in enumerate(WEEKDAY_NAMES):
    _WEEKDAYS[_name.lower()] = _i
    _WEEKDAYS[_name[:3].lower()] = _i
_WEEKDAYS.update({"tues": 1, "thur": 3, "thurs": 3})

_SEASON_START = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_PART_HOUR = {"morning": 9, "afternoon": 15, "evening": 19, "night": 21}

_QTY = (
    r"(?P<{0}>\d{{1,3}}|a\s+couple(?:\s+of)?|couple(?:\s+of)?|a\s+few|few|an?|one|two|three|four"
    r"|five|six|seven|eight|nine|ten|eleven|twelve)"
)
_FULL_WEEKDAY = "|".join(name.lower() for name in WEEKDAY_NAMES)
_ANY_WEEKDAY = (
    _FULL_WEEKDAY + r"|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun"
)  # abbreviations only after last/next/this: "on Sun" alone is too often something else
_PREPOSITIONS = r"on|in|since|until|till|by|from|before|after|during|for|of|at|around|about|over|through"
# A possessive or determiner before "last"/"next" makes it an adjective ("my last year of college",
# "the next week or so"), not a date. "her" is left out: "I called her last week" is a date.
_NOT_AFTER = "".join(rf"(?<!\b{w}\s)" for w in ("the", "my", "his", "our", "its", "your", "their", "a"))

_REL_RE = re.compile(
    rf"""
    (?P<pre>\b(?:{_PREPOSITIONS})\s+)?
    (?:
        (?P<dby>\b(?:the\s+)?day\s+before\s+yesterday)
      | (?P<dat>\b(?:the\s+)?day\s+after\s+tomorrow)
      | (?P<ago>\b{_QTY.format("ago_n")}\s+(?P<ago_unit>day|weekend|week|month|year)s?\s+ago)
      | (?P<inn>(?<!once\s)(?<!twice\s)(?<!times\s)\bin\s+{_QTY.format("in_n")}\s+
            (?P<in_unit>day|week|month|year)s?)
      | {_NOT_AFTER}\b(?P<dir>last|next|this\s+past|this\s+coming|this|coming|past)\s+
            (?:
                (?P<period>weekend|week|month|year)
              | (?P<part>morning|afternoon|evening)
              | (?P<season>spring|summer|fall|autumn|winter)
              | (?P<wd>{_ANY_WEEKDAY})\.?
            )
      | \b(?P<day>yesterday|today(?!['’]s)|tonight|tomorrow)
            (?:\s+(?P<day_part>morning|afternoon|evening|night))?
      | {_NOT_AFTER}(?P<lastnight>\blast\s+night)
      | (?<=\bon\s)(?P<bare_wd>{_FULL_WEEKDAY})(?!\s+(?:morning|afternoon|evening|night|lunchtime)s\b)
    )
    (?P<poss>['’]s)?
    \b
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Every expression above contains one of these words; most sentences contain none, and this
# cheap test spares them the costly alternation.
_TRIGGER_RE = Caseless(
    r"\b(?:yesterday|today|tonight|tomorrow|ago|days?|weeks?|weekends?|months?|years?|morning|"
    rf"afternoon|evening|night|spring|summer|fall|autumn|winter|{_ANY_WEEKDAY})\b"
)
# Said with these, "on Friday" is the coming Friday; otherwise the one just past.
_FUTURE_RE = re.compile(
    r"\b(?:will|won['’]t|shall|gonna|going\s+to|plan(?:ning|s)?\s+to|can['’]t\s+wait|hope\s+to"
    r"|looking\s+forward|upcoming|tomorrow|next)\b|['’]ll\b|\b(?:am|is|are)\s+\w+ing\b|['’](?:m|re)\s+\w+ing\b",
    re.IGNORECASE,
)


def _noon(d: date, tz: tzinfo, hour: int = 12) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=tz)


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + delta
    return total // 12, total % 12 + 1


def _month_or_year(unit: str, today: date, step: int, tz: tzinfo) -> tuple[str, str, datetime]:
    """The calendar month (``unit`` "month") or else the year ``step`` away from ``today``, read
    "in May 2023" or "in 2023" and dated on its first day."""
    if unit == "month":
        y, mo = _add_months(today.year, today.month, step)
        return "in", f"{MONTH_NAMES[mo - 1]} {y}", _noon(date(y, mo, 1), tz)
    y = today.year + step
    return "in", str(y), _noon(date(y, 1, 1), tz)


def _qty(text: str) -> int:
    words = text.lower().split()
    if words[0].isdigit():
        return int(words[0])
    return _NUMBER_WORDS[words[-1] if words[-1] != "of" else words[-2]]


def _season_start(name: str, year: int) -> date:
    return date(year, _SEASON_START[name], 1)


def _season(direction: str, name: str, today: date) -> tuple[str, date]:
    """Pick the season occurrence and its label; winter is named by both its years."""
    start_month = _SEASON_START[name]
    this_year = today.year - 1 if (name == "winter" and today.month <= 2) else today.year
    if direction == "next":
        year = this_year + 1
    elif direction == "last":
        # The most recent occurrence that has fully ended.
        year = this_year
        while True:
            end_year, end_month = _add_months(year, start_month, 3)
            if date(end_year, end_month, 1) <= today:
                break
            year -= 1
    else:
        year = this_year
    label = f"{name} {year}-{(year + 1) % 100:02d}" if name == "winter" else f"{name} {year}"
    return label, _season_start(name, year)


def _weekday(direction: str, target: int, today: date, future: bool) -> date:
    """Pick the date of a named weekday relative to ``today``.

    "last X" is the most recent X before today, "next X" the first after today, "this X" the X of
    the current Monday-to-Sunday week (the following one if that has passed and the sentence
    speaks of the future). Bare "on X" is the coming X when the sentence speaks of the future
    ("I'll see her on Friday"), else the X just past, since memories are mostly about what happened.
    """
    back = (today.weekday() - target) % 7 or 7  # never 0: "last Monday" said on a Monday
    ahead = (target - today.weekday()) % 7 or 7
    if direction == "last":
        return today - timedelta(days=back)
    if direction == "next":
        return today + timedelta(days=ahead)
    if direction == "this":
        d = today + timedelta(days=target - today.weekday())
        return d + timedelta(days=7) if d < today and future else d
    return today + timedelta(days=ahead) if future else today - timedelta(days=back)


class _NotADate(Exception):
    """Raised inside resolution when a match turns out not to be a date after all."""


def _resolve(m: re.Match[str], today: date, tz: tzinfo, future: bool) -> tuple[str, str, datetime]:
    """Return (preposition, phrase, when) for one match; the phrase reads after the preposition."""
    g = m.group
    if g("dby") or g("dat"):
        d = today + timedelta(days=-2 if g("dby") else 2)
        return "on", format_date(d), _noon(d, tz)
    if g("day") or g("lastnight"):
        word = (g("day") or "yesterday").lower()
        part = (g("day_part") or "").lower()
        if g("lastnight"):
            part = "night"
        elif word == "tonight":
            word, part = "today", "night"
        d = today + timedelta(days={"yesterday": -1, "today": 0, "tomorrow": 1}[word])
        if part:
            return "on", f"the {part} of {format_date(d)}", _noon(d, tz, _PART_HOUR[part])
        return "on", format_date(d), _noon(d, tz)
    if g("ago"):
        return _ago(m, today, tz)
    if g("inn"):
        return _ahead(m, today, tz)
    if g("bare_wd"):
        target = _WEEKDAYS[g("bare_wd").lower()]
        d = _weekday("on", target, today, future)
        return "on", f"{WEEKDAY_NAMES[d.weekday()]}, {format_date(d)}", _noon(d, tz)
    return _directed(m, today, tz, future)


def _ago(m: re.Match[str], today: date, tz: tzinfo) -> tuple[str, str, datetime]:
    """ "three days ago", "two weeks ago", "a month ago", "two years ago"."""
    g = m.group
    n = _qty(g("ago_n"))
    unit = g("ago_unit").lower()
    if unit == "day":
        d = today - timedelta(days=n)
        return "on", format_date(d), _noon(d, tz)
    if unit in ("week", "weekend"):
        # Keep the speaker's own words: "two weeks before 8 May 2023" is exact, a week is not.
        words = " ".join(m.group("ago").split()[:-1])
        if unit == "week":
            d = today - timedelta(weeks=n)
        else:  # the Saturday of the n-th weekend back; the last one is this Monday minus 2 days
            d = today - timedelta(days=today.weekday() + 2 + 7 * (n - 1))
        return "", f"{words} before {format_date(today)}", _noon(d, tz)
    return _month_or_year(unit, today, -n, tz)


def _ahead(m: re.Match[str], today: date, tz: tzinfo) -> tuple[str, str, datetime]:
    """ "in three days", "in two weeks", "in a month", "in two years"."""
    g = m.group
    n = _qty(g("in_n"))
    unit = g("in_unit").lower()
    if unit == "day":
        d = today + timedelta(days=n)
        return "on", format_date(d), _noon(d, tz)
    if unit == "week":
        words = " ".join(m.group("inn").split()[1:])
        d = today + timedelta(days=7 * n)
        return "", f"{words} after {format_date(today)}", _noon(d, tz)
    return _month_or_year(unit, today, n, tz)


def _directed(m: re.Match[str], today: date, tz: tzinfo, future: bool) -> tuple[str, str, datetime]:
    """ "last Tuesday", "next week", "this morning", "last summer", "next month"."""
    g = m.group
    direction = " ".join(g("dir").lower().split())
    direction = {"this past": "last", "past": "last", "this coming": "next", "coming": "next"}.get(
        direction, direction
    )
    if g("wd"):
        if g("wd").lower() in ("sat", "sun") and not g("wd")[0].isupper():
            raise _NotADate  # "I last sat down", "the last sun of summer"
        d = _weekday(direction, _WEEKDAYS[g("wd").lower()], today, future)
        return "on", f"{WEEKDAY_NAMES[d.weekday()]}, {format_date(d)}", _noon(d, tz)
    if g("part"):
        part = g("part").lower()
        return "on", f"the {part} of {format_date(today)}", _noon(today, tz, _PART_HOUR[part])
    if g("season"):
        label, start = _season(direction, g("season").lower(), today)
        return "in", label, _noon(start, tz)
    period = g("period").lower()
    step = {"last": -1, "next": 1, "this": 0}[direction]
    monday = today - timedelta(days=today.weekday())
    if period == "week":
        word = {"last": "before", "next": "after", "this": "of"}[direction]
        return (
            "in",
            f"the week {word} {format_date(today)}",
            _noon(monday + timedelta(weeks=step), tz),
        )
    if period == "weekend":
        d = monday + timedelta(days=5 + 7 * step)
        return "on", f"the weekend of {format_date(d)}", _noon(d, tz)
    return _month_or_year(period, today, step, tz)


# How far an expression reaches before its first trigger word and after its last, with room to
# spare: the longest lead is 23 characters ("through this coming Friday", "in a couple of days"),
# the longest tail 2 ("Friday's").
_REACH_BEFORE, _REACH_AFTER = 32, 16


def _find(text: str) -> Iterator[re.Match[str]]:
    """Yield what ``_REL_RE.finditer`` would, but search only near trigger words.

    Scanning the whole alternation at every character costs ~40 µs a sentence; searching a small
    window around each trigger word gives the same matches (for single-spaced text) far faster.
    """
    pos = 0
    for t in _TRIGGER_RE.finditer(text):
        if t.end() <= pos:
            continue
        start, end = max(pos, t.start() - _REACH_BEFORE), t.end() + _REACH_AFTER
        m = _REL_RE.search(text, start, end)
        # A match that runs into the window's end may have been cut short ("last year|'s").
        while m is not None and m.end() + _REACH_AFTER > end and end < len(text):
            end = m.end() + _REACH_AFTER
            m = _REL_RE.search(text, start, end)
        if m is not None:
            yield m
            pos = m.end()


def resolve_relative(text: str, anchor: datetime) -> tuple[str, datetime | None]:
    """Rewrite relative dates in ``text`` as absolute ones, counting from ``anchor``.

    ``anchor`` is when the text was said (naive means UTC). Returns the rewritten text and the
    datetime of the first expression resolved, or ``None`` when there was none. Days resolve to
    midday (or the named part of the day), weeks, months, years and seasons to their start, all in
    the anchor's zone. "Recently" and "lately" stay as they are: they name no date.

    >>> resolve_relative("I went there yesterday.", datetime(2023, 5, 8, 13, 56))[0]
    'I went there on 7 May 2023.'
    """
    if anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=UTC)
    tz = anchor.tzinfo
    assert tz is not None
    today = anchor.date()
    pieces: list[str] = []
    first: datetime | None = None
    future: bool | None = None
    last_end = 0
    for m in _find(text):
        try:
            if future is None and (m.group("wd") or m.group("bare_wd")):
                future = _FUTURE_RE.search(text) is not None  # once per text, not per match
            prep, phrase, when = _resolve(m, today, tz, bool(future))
        except (ValueError, OverflowError, _NotADate):  # "in 900 years" from 9500, "I last sat"
            continue
        pre = m.group("pre")
        if m.group("poss"):
            if phrase.startswith("the "):
                continue  # "last week's" → "the week before 8 May 2023's" reads worse than before
            out = f"{pre or ''}{phrase}{m.group('poss')}"
        elif pre:
            out = pre + phrase  # "since yesterday" → "since 7 May 2023"; "on Monday" keeps its "on"
        else:
            out = f"{prep} {phrase}" if prep else phrase
        said = m.group(0)
        # Capitalise for "Yesterday I..." but not for a shouted "i went YESTERDAY".
        if said[:1].isupper() and (
            not said[1:2].isupper()
            or text[max(0, m.start() - 40) : m.start()].rstrip()[-1:] in ("", ".", "!", "?")
        ):
            out = out[:1].upper() + out[1:]
        pieces.append(text[last_end : m.start()])
        pieces.append(out)
        last_end = m.end()
        if first is None:
            first = when
    if not pieces:
        return text, None
    pieces.append(text[last_end:])
    return "".join(pieces), first
