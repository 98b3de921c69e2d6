"""Turn the many ways people and datasets write times into aware datetimes and absolute dates.

Two jobs live here because both are about pinning text to the calendar:

* :func:`parse_timestamp` reads a timestamp given by a caller or an input file (ISO 8601, epoch
  seconds, LoCoMo's ``"1:56 pm on 8 May, 2023"``...). Explicit fast paths run first; dateutil is the
  (non-fuzzy) fallback, so ``"next tuesdayish"`` is an error rather than a guess.
* :func:`resolve_relative` rewrites "yesterday", "last week", "two days ago"... in a sentence into
  absolute dates, given the time the sentence was said, so a stored memory still means the same
  thing months later.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from dateutil import parser as _dateutil_parser

from eidetica.errors import UsageError
from eidetica.limits import check_time, shown

__all__ = ["MONTH_NAMES", "WEEKDAY_NAMES", "format_date", "parse_timestamp", "resolve_relative"]

MONTH_NAMES: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAY_NAMES: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

_MONTHS: dict[str, int] = {}
for _i, _name in enumerate(MONTH_NAMES, start=1):
    _MONTHS[_name.lower()] = _i
    _MONTHS[_name[:3].lower()] = _i
_MONTHS["sept"] = 9

_ACCEPTED = "use ISO 8601 (2023-05-08T13:56:00), epoch seconds, or a form like '1:56 pm on 8 May, 2023'"
# Epoch values above this are milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973.
_EPOCH_MS_THRESHOLD = 1e11

# ---------------------------------------------------------------------------------------------
# parse_timestamp
# ---------------------------------------------------------------------------------------------

_TIME = r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?(?::(?P<second>\d{2}))?\s*(?P<ampm>[ap])\.?\s?m\.?"
_TIME_24 = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_YEAR = r"(?P<year>\d{4})"

# "1:56 pm on 8 May, 2023" (LoCoMo session dates).
_LOCOMO_RE = re.compile(rf"{_TIME}\s+on\s+{_DAY}\s+{_MONTH},?\s+{_YEAR}", re.IGNORECASE)
# "8 May 2023", "8 May, 2023 1:56 pm", "8 May 2023 13:56".
_DMY_RE = re.compile(
    rf"{_DAY}\s+{_MONTH},?\s+{_YEAR}(?:,?\s+(?:at\s+)?(?:{_TIME}|{_TIME_24.replace('?P<', '?P<t24')}))?",
    re.IGNORECASE,
)
# "May 8, 2023", "May 8 2023, 1:56 pm".
_MDY_RE = re.compile(
    rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}(?:,?\s+(?:at\s+)?(?:{_TIME}|{_TIME_24.replace('?P<', '?P<t24')}))?",
    re.IGNORECASE,
)
_EPOCH_STR_RE = re.compile(r"[+-]?\d{9,}(?:\.\d+)?")
_ISO_HEAD_RE = re.compile(r"\d{4}-\d{2}")


def _fail(value: object, why: str = "") -> UsageError:
    return UsageError(f"cannot read timestamp {shown(value)}{why}: {_ACCEPTED}")


def _aware(dt: datetime, original: object) -> datetime:
    """Give naive datetimes UTC, turn third-party fixed offsets into stdlib ones, and check that
    the moment lies in the range every store and date computation can hold (``limits``)."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        dt = dt.replace(tzinfo=UTC)
    elif not isinstance(dt.tzinfo, timezone):
        offset = dt.utcoffset()
        assert offset is not None  # checked above
        dt = dt.replace(tzinfo=UTC if not offset else timezone(offset))
    return check_time(dt, original)


def _from_epoch(seconds: float, original: object) -> datetime:
    if math.isnan(seconds) or math.isinf(seconds):
        raise _fail(original)
    if abs(seconds) > _EPOCH_MS_THRESHOLD:
        seconds /= 1000.0
    try:
        dt = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _fail(original, " (epoch out of range)") from exc
    return _aware(dt, original)


def _from_match(m: re.Match[str], original: object) -> datetime | None:
    month = _MONTHS.get(m["month"].lower())
    if month is None:
        return None
    hour = minute = second = 0
    groups = m.groupdict()
    if groups.get("hour") is not None:
        hour = int(m["hour"])
        minute = int(m["minute"] or 0)
        second = int(m["second"] or 0)
        if not 1 <= hour <= 12:
            raise _fail(original, f" (hour {hour} with am/pm)")
        hour %= 12
        if m["ampm"].lower() == "p":
            hour += 12
    elif groups.get("t24hour") is not None:
        hour = int(m["t24hour"])
        minute = int(m["t24minute"])
        second = int(m["t24second"] or 0)
    try:
        dt = datetime(int(m["year"]), month, int(m["day"]), hour, minute, second)
    except ValueError as exc:
        raise _fail(original, f" ({exc})") from exc
    return _aware(dt, original)


def _parse_string(text: str, original: object) -> datetime:
    s = " ".join(text.split())
    if not s:
        raise _fail(original, " (empty)")
    if _ISO_HEAD_RE.match(s):
        try:
            iso = datetime.fromisoformat(s)
        except ValueError:
            pass  # "2023-05-08 1:56 pm" and friends: dateutil below.
        else:  # checked outside the try: an out-of-range year must not fall through to dateutil
            return _aware(iso, original)
    if _EPOCH_STR_RE.fullmatch(s):
        return _from_epoch(float(s), original)
    for pattern in (_LOCOMO_RE, _DMY_RE, _MDY_RE):
        m = pattern.fullmatch(s)
        if m is not None:
            found = _from_match(m, original)
            if found is not None:
                return found
    # The default year 1 marks "no year given": dateutil would otherwise fill in today's date, and
    # a timestamp like "Tuesday" or "May 8" must not silently become this year's.
    default = datetime(1, 1, 1)
    try:
        with warnings.catch_warnings():
            # An unknown zone name ("EST5XYZ") would otherwise be dropped with only a warning.
            warnings.simplefilter("error", _dateutil_parser.UnknownTimezoneWarning)
            dt = _dateutil_parser.parse(s, default=default)
    except _dateutil_parser.UnknownTimezoneWarning as exc:
        raise _fail(original, " (unknown time zone name; give an offset such as +02:00)") from exc
    except (ValueError, OverflowError, TypeError) as exc:
        raise _fail(original) from exc
    if dt.year == 1:
        raise _fail(original, " (no year)")
    return _aware(dt, original)


def parse_timestamp(value: object) -> datetime:
    """Read a timestamp in any common form and return it timezone-aware (UTC when none is given).

    Accepts ``datetime`` (naive means UTC), ``date`` (midnight UTC), epoch seconds as int or float
    (milliseconds when above 1e11), and strings: ISO 8601 (with ``Z`` or an offset, or without a
    zone), ``"2023-05-08 13:56"``, ``"1:56 pm on 8 May, 2023"``, ``"8 May 2023"``,
    ``"May 8, 2023"``, ``"8 May, 2023 1:56 pm"``, digit-only epoch strings, and what dateutil reads
    without guessing. Anything else raises :class:`~eidetica.errors.UsageError`, and so does a
    moment outside the years ``limits.MIN_YEAR`` to ``limits.MAX_YEAR`` in UTC.
    """
    if isinstance(value, bool):  # bool is an int subclass; True is never a timestamp.
        raise _fail(value, " (a bool)")
    if isinstance(value, datetime):
        return _aware(value, value)
    if isinstance(value, date):
        return _aware(datetime(value.year, value.month, value.day), value)
    if isinstance(value, int | float):
        return _from_epoch(float(value), value)
    if isinstance(value, str):
        return _parse_string(value, value)
    raise _fail(value, f" of type {type(value).__name__}")


def format_date(d: datetime | date) -> str:
    """Write a date as ``"7 May 2023"``, the style LoCoMo answers use and people read easily."""
    return f"{d.day} {MONTH_NAMES[d.month - 1]} {d.year}"


# ---------------------------------------------------------------------------------------------
# resolve_relative
# ---------------------------------------------------------------------------------------------

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
_FULL_WEEKDAY = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
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
      | (?<=\bon\s)(?P<bare_wd>{_FULL_WEEKDAY})
    )
    (?P<poss>['’]s)?
    \b
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Every expression above contains one of these words; most sentences contain none, and this
# cheap test spares them the costly alternation.
_TRIGGER_RE = re.compile(
    rf"""\b(?:yesterday|today|tonight|tomorrow|ago|days?|weeks?|weekends?|months?|years?|morning
    |afternoon|evening|night|spring|summer|fall|autumn|winter|{_ANY_WEEKDAY})\b""",
    re.IGNORECASE | re.VERBOSE,
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
    if unit == "month":
        y, mo = _add_months(today.year, today.month, -n)
        return "in", f"{MONTH_NAMES[mo - 1]} {y}", _noon(date(y, mo, 1), tz)
    y = today.year - n
    return "in", str(y), _noon(date(y, 1, 1), tz)


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
    if unit == "month":
        y, mo = _add_months(today.year, today.month, n)
        return "in", f"{MONTH_NAMES[mo - 1]} {y}", _noon(date(y, mo, 1), tz)
    y = today.year + n
    return "in", str(y), _noon(date(y, 1, 1), tz)


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
    if period == "month":
        y, mo = _add_months(today.year, today.month, step)
        return "in", f"{MONTH_NAMES[mo - 1]} {y}", _noon(date(y, mo, 1), tz)
    y = today.year + step
    return "in", str(y), _noon(date(y, 1, 1), tz)


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
