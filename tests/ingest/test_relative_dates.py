"""Relative dates rewritten against the time they were said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eidetica.ingest.relative_dates import resolve_relative

# 2023-05-08 is a Monday: the anchor of LoCoMo's first session ("1:56 pm on 8 May, 2023").
ANCHOR = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def noon(y: int, m: int, d: int, hour: int = 12) -> datetime:
    return datetime(y, m, d, hour, tzinfo=UTC)


# --- resolve_relative ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "when"),
    [
        ("I went there yesterday.", "I went there on 7 May 2023.", noon(2023, 5, 7)),
        ("Yesterday I went there.", "On 7 May 2023 I went there.", noon(2023, 5, 7)),
        ("I'm going today.", "I'm going on 8 May 2023.", noon(2023, 5, 8)),
        ("We eat out tonight.", "We eat out on the night of 8 May 2023.", noon(2023, 5, 8, 21)),
        ("I ran this morning.", "I ran on the morning of 8 May 2023.", noon(2023, 5, 8, 9)),
        ("I nap this afternoon.", "I nap on the afternoon of 8 May 2023.", noon(2023, 5, 8, 15)),
        ("I read this evening.", "I read on the evening of 8 May 2023.", noon(2023, 5, 8, 19)),
        ("Last night was fun.", "On the night of 7 May 2023 was fun.", noon(2023, 5, 7, 21)),
        ("I left the day before yesterday.", "I left on 6 May 2023.", noon(2023, 5, 6)),
        ("I'll see you tomorrow.", "I'll see you on 9 May 2023.", noon(2023, 5, 9)),
        ("Come the day after tomorrow.", "Come on 10 May 2023.", noon(2023, 5, 10)),
        ("Yesterday morning I swam.", "On the morning of 7 May 2023 I swam.", noon(2023, 5, 7, 9)),
        ("I called two days ago.", "I called on 6 May 2023.", noon(2023, 5, 6)),
        ("I called 3 days ago.", "I called on 5 May 2023.", noon(2023, 5, 5)),
        ("I called a day ago.", "I called on 7 May 2023.", noon(2023, 5, 7)),
        ("I called a couple of days ago.", "I called on 6 May 2023.", noon(2023, 5, 6)),
        ("I called a few days ago.", "I called on 5 May 2023.", noon(2023, 5, 5)),
        ("I called few days ago.", "I called on 5 May 2023.", noon(2023, 5, 5)),
        ("I called twelve days ago.", "I called on 26 April 2023.", noon(2023, 4, 26)),
        ("I moved two weeks ago.", "I moved two weeks before 8 May 2023.", noon(2023, 4, 24)),
        ("I moved a week ago.", "I moved a week before 8 May 2023.", noon(2023, 5, 1)),
        (
            "We camped two weekends ago.",
            "We camped two weekends before 8 May 2023.",
            noon(2023, 4, 29),
        ),
        ("I quit a month ago.", "I quit in April 2023.", noon(2023, 4, 1)),
        ("I quit five months ago.", "I quit in December 2022.", noon(2022, 12, 1)),
        ("I got it ten years ago.", "I got it in 2013.", noon(2013, 1, 1)),
        ("I got it a few years ago.", "I got it in 2020.", noon(2020, 1, 1)),
        ("I spoke last week.", "I spoke in the week before 8 May 2023.", noon(2023, 5, 1)),
        ("I speak next week.", "I speak in the week after 8 May 2023.", noon(2023, 5, 15)),
        ("I speak this week.", "I speak in the week of 8 May 2023.", noon(2023, 5, 8)),
        ("I quit last month.", "I quit in April 2023.", noon(2023, 4, 1)),
        ("I start next month.", "I start in June 2023.", noon(2023, 6, 1)),
        ("I start this month.", "I start in May 2023.", noon(2023, 5, 1)),
        ("I married last year.", "I married in 2022.", noon(2022, 1, 1)),
        ("I retire next year.", "I retire in 2024.", noon(2024, 1, 1)),
        ("I retire this year.", "I retire in 2023.", noon(2023, 1, 1)),
        ("I hiked last weekend.", "I hiked on the weekend of 6 May 2023.", noon(2023, 5, 6)),
        ("I hike this weekend.", "I hike on the weekend of 13 May 2023.", noon(2023, 5, 13)),
        ("I hike next weekend.", "I hike on the weekend of 20 May 2023.", noon(2023, 5, 20)),
        ("I hiked this past weekend.", "I hiked on the weekend of 6 May 2023.", noon(2023, 5, 6)),
        ("I went last Friday.", "I went on Friday, 5 May 2023.", noon(2023, 5, 5)),
        ("Last Fri I went.", "On Friday, 5 May 2023 I went.", noon(2023, 5, 5)),
        ("I joined last Tues.", "I joined on Tuesday, 2 May 2023.", noon(2023, 5, 2)),
        ("I go next Friday.", "I go on Friday, 12 May 2023.", noon(2023, 5, 12)),
        ("I go this Friday.", "I go on Friday, 12 May 2023.", noon(2023, 5, 12)),
        ("I went there on Saturday.", "I went there on Saturday, 6 May 2023.", noon(2023, 5, 6)),
        (
            "I'll go there on Saturday.",
            "I'll go there on Saturday, 13 May 2023.",
            noon(2023, 5, 13),
        ),
        ("I went there on last Friday.", "I went there on Friday, 5 May 2023.", noon(2023, 5, 5)),
        ("I called her last week.", "I called her in the week before 8 May 2023.", noon(2023, 5, 1)),
        ("I went last Monday.", "I went on Monday, 1 May 2023.", noon(2023, 5, 1)),
        ("I go next Monday.", "I go on Monday, 15 May 2023.", noon(2023, 5, 15)),
        ("I fly in 3 days.", "I fly on 11 May 2023.", noon(2023, 5, 11)),
        ("I fly in two weeks.", "I fly two weeks after 8 May 2023.", noon(2023, 5, 22)),
        ("I fly in a month.", "I fly in June 2023.", noon(2023, 6, 1)),
        ("I retire in 2 years.", "I retire in 2025.", noon(2025, 1, 1)),
        ("We go camping next summer.", "We go camping in summer 2024.", noon(2024, 6, 1)),
        ("We went camping last summer.", "We went camping in summer 2022.", noon(2022, 6, 1)),
        ("We go camping this summer.", "We go camping in summer 2023.", noon(2023, 6, 1)),
        ("We ski next winter.", "We ski in winter 2024-25.", noon(2024, 12, 1)),
        ("We skied last winter.", "We skied in winter 2022-23.", noon(2022, 12, 1)),
        ("We plant next spring.", "We plant in spring 2024.", noon(2024, 3, 1)),
        ("We move next fall.", "We move in fall 2024.", noon(2024, 9, 1)),
        ("We moved last autumn.", "We moved in autumn 2022.", noon(2022, 9, 1)),
        ("It rained since yesterday.", "It rained since 7 May 2023.", noon(2023, 5, 7)),
        ("Last year's trip was great.", "2022's trip was great.", noon(2022, 1, 1)),
        ("Yesterday's game was great.", "7 May 2023's game was great.", noon(2023, 5, 7)),
        (
            "I went yesterday and go again next week.",
            "I went on 7 May 2023 and go again in the week after 8 May 2023.",
            noon(2023, 5, 7),
        ),
    ],
)
def test_resolve_relative(text: str, expected: str, when: datetime) -> None:
    assert resolve_relative(text, ANCHOR) == (expected, when)


@pytest.mark.parametrize(
    "text",
    [
        "I have been busy recently.",
        "Lately I paint a lot.",
        "I like Friday.",  # a bare weekday names no date
        "I last sat down in the garden.",
        "It was my last year of college.",
        "For the next week or so I'm away.",
        "It was the last night of the tour.",
        "I go twice in a week.",
        "Today's kids love games.",
        "Last week's meeting was long.",  # possessive of a "the week ..." phrase reads worse
        "Nothing relative here at all.",
        "The class is on Wednesday evenings.",  # every Wednesday, not one
        "We meet on Tuesday mornings at the club.",
        "",
    ],
)
def test_resolve_relative_leaves_alone(text: str) -> None:
    assert resolve_relative(text, ANCHOR) == (text, None)


def test_resolve_relative_is_case_insensitive() -> None:
    assert resolve_relative("i went YESTERDAY", ANCHOR)[0] == "i went on 7 May 2023"
    assert resolve_relative("LAST WEEK was busy", ANCHOR)[0] == "In the week before 8 May 2023 was busy"


def test_resolve_relative_keeps_the_anchor_zone_and_local_date() -> None:
    tz = timezone(timedelta(hours=-7))
    anchor = datetime(2023, 5, 8, 22, 0, tzinfo=tz)  # already 9 May in UTC
    text, when = resolve_relative("I went yesterday.", anchor)
    assert text == "I went on 7 May 2023."
    assert when == datetime(2023, 5, 7, 12, tzinfo=tz)


def test_resolve_relative_naive_anchor_means_utc() -> None:
    _, when = resolve_relative("I went yesterday.", datetime(2023, 5, 8, 13, 56))
    assert when == noon(2023, 5, 7)


def test_resolve_relative_this_weekday_past_in_week() -> None:
    wednesday = datetime(2023, 5, 10, 9, tzinfo=UTC)
    assert resolve_relative("I saw it this Monday.", wednesday)[0] == "I saw it on Monday, 8 May 2023."
    assert (
        resolve_relative("I will see it this Monday.", wednesday)[0]
        == "I will see it on Monday, 15 May 2023."
    )


def test_resolve_relative_seasons_depend_on_anchor() -> None:
    november = datetime(2023, 11, 20, tzinfo=UTC)
    assert resolve_relative("last summer", november)[0] == "in summer 2023"
    january = datetime(2024, 1, 15, tzinfo=UTC)
    assert resolve_relative("this winter", january)[0] == "in winter 2023-24"
    assert resolve_relative("last winter", january)[0] == "in winter 2022-23"


def test_resolve_relative_out_of_range_is_left_alone() -> None:
    late = datetime(9999, 6, 1, tzinfo=UTC)
    assert resolve_relative("I retire in 5 years.", late) == ("I retire in 5 years.", None)


def test_resolve_relative_stays_inside_datetime_from_the_last_timestamp() -> None:
    last = datetime(9000, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)  # the latest parse_timestamp keeps
    # Date arithmetic on a time at either end stays inside what datetime can hold.
    assert resolve_relative("in 999 years", last)[1] == datetime(9999, 1, 1, 12, tzinfo=UTC)


@given(
    st.text(max_size=200),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
)
def test_resolve_relative_never_raises(text: str, anchor: datetime) -> None:
    out, when = resolve_relative(text, anchor)
    assert isinstance(out, str)
    assert when is None or when.tzinfo is not None


_WORD_SOUP = st.lists(
    st.sampled_from(
        [
            "I",
            "went",
            "on",
            "in",
            "since",
            "the",
            "a",
            "my",
            "her",
            "last",
            "next",
            "this",
            "past",
            "coming",
            "day",
            "days",
            "week",
            "weeks",
            "weekend",
            "month",
            "year",
            "years",
            "ago",
            "two",
            "few",
            "couple",
            "of",
            "before",
            "after",
            "yesterday",
            "today",
            "tonight",
            "tomorrow",
            "morning",
            "night",
            "summer",
            "winter",
            "Friday",
            "fri",
            "Sat",
            "sat",
            "Monday's",
            "year's",
            "twice",
            "once",
            ".",
            ",",
            "recently",
            "through",
            "during",
            "an",
            "twelve",
        ]
    ),
    max_size=30,
).map(" ".join)


@given(_WORD_SOUP)
def test_windowed_search_finds_what_a_full_scan_finds(text: str) -> None:
    from eidetica.ingest.relative_dates import _REL_RE, _find  # the private fast path under test

    assert [m.span() for m in _find(text)] == [m.span() for m in _REL_RE.finditer(text)]
