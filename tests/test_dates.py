"""Timestamps in, aware datetimes out; dates written back the one way; the calendar's names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eidetica.dates import MONTH_NAMES, MONTH_NUMBERS, WEEKDAY_NAMES, format_date, parse_timestamp
from eidetica.errors import UsageError

# 2023-05-08 is a Monday: the anchor of LoCoMo's first session ("1:56 pm on 8 May, 2023").
ANCHOR = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
ACCEPTED = "use ISO 8601 (2023-05-08T13:56:00), epoch seconds, or a form like '1:56 pm on 8 May, 2023'"


# --- parse_timestamp ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-05-08T13:56:00", datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("2023-05-08T13:56:00Z", datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("2023-05-08T13:56:00.250Z", datetime(2023, 5, 8, 13, 56, 0, 250000, tzinfo=UTC)),
        (
            "2023-05-08T13:56:00+02:00",
            datetime(2023, 5, 8, 13, 56, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2023-05-08 13:56", datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("2023-05-08", datetime(2023, 5, 8, tzinfo=UTC)),
        ("1:56 pm on 8 May, 2023", datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("10:37 am on 27 June, 2023", datetime(2023, 6, 27, 10, 37, tzinfo=UTC)),
        ("12:09 am on 13 September, 2023", datetime(2023, 9, 13, 0, 9, tzinfo=UTC)),
        ("12:30 pm on 1 Jan, 2024", datetime(2024, 1, 1, 12, 30, tzinfo=UTC)),
        ("8 May 2023", datetime(2023, 5, 8, tzinfo=UTC)),
        ("8 May, 2023", datetime(2023, 5, 8, tzinfo=UTC)),
        ("May 8, 2023", datetime(2023, 5, 8, tzinfo=UTC)),
        ("Sept 3rd, 2023", datetime(2023, 9, 3, tzinfo=UTC)),
        ("8 May, 2023 1:56 pm", datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("8 May 2023 13:56", datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("  8   May 2023 ", datetime(2023, 5, 8, tzinfo=UTC)),
        ("1683554160", datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        # dateutil fallback
        ("2023-05-08 1:56 pm", datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        (
            "Mon, 08 May 2023 13:56:00 +0530",
            datetime(2023, 5, 8, 13, 56, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        ("Sep 3 2023 10:00 UTC", datetime(2023, 9, 3, 10, 0, tzinfo=UTC)),
        ("May 2023", datetime(2023, 5, 1, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_strings(value: str, expected: datetime) -> None:
    got = parse_timestamp(value)
    assert got == expected
    assert got.utcoffset() == expected.utcoffset()


def test_parse_timestamp_returns_stdlib_zones() -> None:
    assert parse_timestamp("2023-05-08T13:56:00Z").tzinfo is UTC
    assert parse_timestamp("Sep 3 2023 10:00 UTC").tzinfo is UTC
    assert isinstance(parse_timestamp("Mon, 08 May 2023 13:56:00 +0530").tzinfo, timezone)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2023, 5, 8, 13, 56), datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        (ANCHOR, ANCHOR),
        (
            datetime(2023, 5, 8, 13, 56, tzinfo=timezone(timedelta(hours=-4))),
            datetime(2023, 5, 8, 13, 56, tzinfo=timezone(timedelta(hours=-4))),
        ),
        (date(2023, 5, 8), datetime(2023, 5, 8, tzinfo=UTC)),
        (1683554160, datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        (1683554160.5, datetime(2023, 5, 8, 13, 56, 0, 500000, tzinfo=UTC)),
        (1683554160000, datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),  # milliseconds
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_objects(value: object, expected: datetime) -> None:
    got = parse_timestamp(value)
    assert got == expected
    assert got.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("next tuesdayish", ""),
        ("", " (empty)"),
        ("   ", " (empty)"),
        ("Tuesday", " (no year)"),
        ("May 8", " (no year)"),
        ("13:00 pm on 8 May, 2023", " (hour 13 with am/pm)"),
        ("31 February 2023", " (day is out of range for month)"),
        ("Sep 3 2023 10:00 EST", " (unknown time zone name; give an offset such as +02:00)"),
        (True, " (a bool)"),
        (False, " (a bool)"),
        (None, " of type NoneType"),
        ([2023, 5, 8], " of type list"),
        (float("nan"), ""),
        (float("inf"), ""),
        (1e30, " (epoch out of range)"),
    ],
)
def test_parse_timestamp_rejects(value: object, why: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_timestamp(value)
    assert str(info.value) == f"cannot read timestamp {value!r}{why}: {ACCEPTED}"


MINUS_14 = timezone(timedelta(hours=-14))
OUT_OF_RANGE = "is out of range: times must lie in the years 1000 to 9000 (UTC)"


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-14:00",  # UTC year 10000: stored, it broke every read of its user
        "0001-01-02T00:00:00Z",  # once misreported as "(no year)"
        "0999-01-01",
        "9001-01-01T00:00:00Z",
        "9000-12-31T23:00:00-14:00",  # year 9000 where it was said, 9001 in UTC
        "1000-01-01T00:00:00+01:00",  # 999 in UTC
        "1:56 pm on 8 May, 9999",  # LoCoMo's form
        "8 May 9500",
        "May 8, 9500 1:56 pm",
        "Sep 3 9500 10:00 UTC",  # dateutil's path
        -40_000_000_000,  # epoch seconds in the year 702
    ],
)
def test_parse_timestamp_refuses_times_outside_the_range(value: object) -> None:
    with pytest.raises(UsageError) as info:
        parse_timestamp(value)
    assert str(info.value) == f"timestamp {value!r} {OUT_OF_RANGE}"


def test_parse_timestamp_refuses_objects_outside_the_range() -> None:
    with pytest.raises(UsageError, match=OUT_OF_RANGE.replace("(", r"\(").replace(")", r"\)")):
        parse_timestamp(datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS_14))
    with pytest.raises(UsageError, match="out of range"):
        parse_timestamp(date(999, 12, 31))


def test_parse_timestamp_keeps_the_ends_of_the_range() -> None:
    assert parse_timestamp("1000-01-01T00:00:00Z") == datetime(1000, 1, 1, tzinfo=UTC)
    last = datetime(9000, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_timestamp(last.isoformat()) == last


def test_parse_timestamp_error_message_example() -> None:
    with pytest.raises(UsageError, match=r"cannot read timestamp 'next tuesdayish': use ISO 8601"):
        parse_timestamp("next tuesdayish")


def test_parse_timestamp_shortens_huge_values_in_messages() -> None:
    with pytest.raises(UsageError) as info:
        parse_timestamp("x" * 100_000)
    assert len(str(info.value)) < 250


def test_usage_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_timestamp("nonsense")


@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9000, 12, 31, 23, 59, 59)))
def test_parse_timestamp_round_trips_iso(dt: datetime) -> None:
    aware = dt.replace(tzinfo=UTC)
    assert parse_timestamp(aware.isoformat()) == aware
    assert parse_timestamp(dt) == aware


@given(st.text(max_size=40))
def test_parse_timestamp_raises_only_usage_error(text: str) -> None:
    try:
        got = parse_timestamp(text)
    except UsageError:
        return
    assert got.tzinfo is not None
    assert 1000 <= got.astimezone(UTC).year <= 9000


# --- format_date --------------------------------------------------------------------------------


def test_format_date() -> None:
    assert format_date(date(2023, 5, 7)) == "7 May 2023"
    assert format_date(datetime(2023, 12, 25, 23, 0, tzinfo=UTC)) == "25 December 2023"


# --- names ----------------------------------------------------------------------------------------


def test_names_follow_the_calendar() -> None:
    assert [date(2023, m, 1).strftime("%B") for m in range(1, 13)] == list(MONTH_NAMES)
    assert [date(2023, 5, d).strftime("%A") for d in range(1, 8)] == list(WEEKDAY_NAMES)  # 1 May: Monday
    assert list(MONTH_NUMBERS.items()) == [(name.lower(), n) for n, name in enumerate(MONTH_NAMES, 1)]
