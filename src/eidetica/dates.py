"""Read timestamps into aware datetimes, write dates back out, and name the months and weekdays.

The one dates module: ingest reads timestamps with :func:`parse_timestamp`, retrieval and answering
write dates with :func:`format_date`, and the rules that spot dates in text build their patterns
from :data:`MONTH_NAMES` and :data:`WEEKDAY_NAMES`, so every layer spells the calendar alike.
It sits below ``ingest`` and ``retrieve`` so that neither imports the other for a date.

:func:`parse_timestamp` reads a timestamp given by a caller or an input file (ISO 8601, epoch
seconds, LoCoMo's ``"1:56 pm on 8 May, 2023"``...). Explicit fast paths run first; dateutil is the
(non-fuzzy) fallback, so ``"next tuesdayish"`` is an error rather than a guess. Relative phrases
("yesterday", "last week") are ``ingest.relative_dates``'s job: they need the moment they were said.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from datetime import UTC, date, datetime, timezone
from types import MappingProxyType

from dateutil import parser as _dateutil_parser

from eidetica.errors import UsageError
from eidetica.limits import check_time, shown

__all__ = [
    "MONTH_NAMES",
    "MONTH_NUMBERS",
    "WEEKDAY_NAMES",
    "format_date",
    "parse_moment",
    "parse_timestamp",
]

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

#: Lower-case full month names to their numbers (``"may"`` → 5), in calendar order.
MONTH_NUMBERS: Mapping[str, int] = MappingProxyType(
    {name.lower(): number for number, name in enumerate(MONTH_NAMES, start=1)}
)
# How a timestamp may spell a month: in full, by its first three letters, or as "Sept".
_MONTH_FORMS: dict[str, int] = {
    **MONTH_NUMBERS,
    **{name[:3]: number for name, number in MONTH_NUMBERS.items()},
    "sept": 9,
}

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
    month = _MONTH_FORMS.get(m["month"].lower())
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


def parse_moment(field: str, value: object) -> datetime:
    """Read the time argument ``field`` as :func:`parse_timestamp` does, naming ``field`` when it
    cannot: a read takes several times (``since``, ``until``), and "cannot read timestamp" alone
    does not say which one to fix."""
    try:
        return parse_timestamp(value)
    except UsageError as exc:
        raise UsageError(f"{field} must be a time: {exc}") from exc


def format_date(d: datetime | date) -> str:
    """Write a date as ``"7 May 2023"``, the style LoCoMo answers use and people read easily."""
    return f"{d.day} {MONTH_NAMES[d.month - 1]} {d.year}"
