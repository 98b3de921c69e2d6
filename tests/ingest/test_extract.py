"""RuleExtractor: turns in, short self-contained facts and events out, fast and never failing."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eidetica.ingest.base import Extractor
from eidetica.ingest.extract import RuleExtractor, split_sentences
from eidetica.model import Extracted, TurnInput

TS = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)  # a Monday


def turn(
    content: str,
    speaker: str | None = "Caroline",
    *,
    timestamp: datetime | None = TS,
    session_id: str | None = "s1",
) -> TurnInput:
    return TurnInput(content=content, speaker=speaker, timestamp=timestamp, session_id=session_id)


def extract(*turns: TurnInput) -> list[Extracted]:
    return RuleExtractor().extract(list(turns))


def texts(*turns: TurnInput) -> list[str]:
    return [e.text for e in extract(*turns)]


def one(content: str, speaker: str | None = "Caroline", *, timestamp: datetime | None = TS) -> Extracted:
    units = extract(turn(content, speaker, timestamp=timestamp))
    assert len(units) == 1, units
    return units[0]


def test_rule_extractor_satisfies_the_protocol() -> None:
    assert isinstance(RuleExtractor(), Extractor)
    extractor: Extractor = RuleExtractor()
    assert extractor.extract([]) == []


def test_locomo_example() -> None:
    unit = one("I went to the LGBTQ support group yesterday and it was so powerful.")
    assert unit == Extracted(
        kind="event",
        text="Caroline went to the LGBTQ support group on 7 May 2023 and it was so powerful.",
        turn_indexes=(0,),
        entities=("caroline", "lgbtq"),
        occurred_at=datetime(2023, 5, 7, 12, tzinfo=UTC),
    )


# --- sentence splitting -------------------------------------------------------------------------


def test_split_sentences() -> None:
    text = "Dr. Smith said 3.5 is fine. I agree, e.g. this one! Really? Yes\nA new line here.  "
    assert list(split_sentences(text)) == [
        "Dr. Smith said 3.5 is fine.",
        "I agree, e.g. this one!",
        "Really?",
        "Yes",
        "A new line here.",
    ]


def test_split_sentences_keeps_quotes_and_initials() -> None:
    text = 'She said "I love it." Then J. K. Rowling wrote back... Mr. and Mrs. Lee came!'
    assert list(split_sentences(text)) == [
        'She said "I love it."',
        "Then J. K. Rowling wrote back...",
        "Mr. and Mrs. Lee came!",
    ]


def test_split_sentences_empty() -> None:
    assert list(split_sentences("")) == []
    assert list(split_sentences(" \n\n ")) == []


# --- what gets skipped --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "How have you been doing lately?",
        "Did you finish the painting yesterday?!",
        "Hi!",
        "Thanks so much for sharing that with me!",
        "Thank you, that means a lot to me.",
        "Haha",
        "Wow, cool!",
        "That's so cool, Mel!",
        "That sounds like so much fun!",
        "I am fine.",  # three words
        "And so it is for us all.",  # no content word
        "Good luck with the interview tomorrow!",
        " ".join(["word"] * 61) + ".",
        "",
    ],
)
def test_skips_questions_greetings_fillers_and_short_or_long_sentences(content: str) -> None:
    assert extract(turn(content)) == []


def test_strips_leading_interjections() -> None:
    assert texts(turn("Wow, I love painting landscapes.")) == ["Caroline loves painting landscapes."]
    assert texts(turn("Hey Mel, I adopted a puppy recently.")) == ["Caroline adopted a puppy recently."]


# --- first person -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("I love painting sunsets at the beach.", "Caroline loves painting sunsets at the beach."),
        ("I go hiking with friends every weekend.", "Caroline goes hiking with friends every weekend."),
        ("I try to run five miles a day.", "Caroline tries to run five miles a day."),
        ("I have three kids and a dog.", "Caroline has three kids and a dog."),
        ("I am a counselor at the school.", "Caroline is a counselor at the school."),
        ("I'm a counselor at the school.", "Caroline is a counselor at the school."),
        ("I've adopted two cats from a shelter.", "Caroline has adopted two cats from a shelter."),
        ("I'd love to visit Sweden again.", "Caroline would love to visit Sweden again."),
        ("I'd been to Sweden twice before.", "Caroline had been to Sweden twice before."),
        ("I'll start pottery classes soon.", "Caroline will start pottery classes soon."),
        ("I do yoga every single morning.", "Caroline does yoga every single morning."),
        ("I don't eat meat or fish.", "Caroline doesn't eat meat or fish."),
        ("I really love my new guitar.", "Caroline really loves Caroline's new guitar."),
        ("I watch birds in the park.", "Caroline watches birds in the park."),
        ("I was a teacher in Boston.", "Caroline was a teacher in Boston."),
        ("I painted this for my mom.", "Caroline painted this for Caroline's mom."),
        ("I can play the piano well.", "Caroline can play the piano well."),
        ("That old bike is mine now.", "That old bike is Caroline's now."),
        ("My sister bought me a telescope.", "Caroline's sister bought Caroline a telescope."),
        ("I taught myself to knit scarves.", "Caroline taught Caroline to knit scarves."),
        ("My friends and I went camping.", "Caroline's friends and Caroline went camping."),
        ("i love reading fantasy novels.", "Caroline loves reading fantasy novels."),
        ("I learned a lot from my mentor.", "Caroline learned a lot from Caroline's mentor."),
        ("I need a break from work.", "Caroline needs a break from work."),
    ],
)
def test_first_person_becomes_the_speaker(content: str, expected: str) -> None:
    assert one(content).text == expected


def test_first_person_left_alone_without_speaker() -> None:
    unit = one("I love painting sunsets at the beach.", speaker=None)
    assert unit.text == "I love painting sunsets at the beach."
    assert unit.entities == ()


# --- second person ------------------------------------------------------------------------------


def test_second_person_becomes_the_previous_other_speaker() -> None:
    units = extract(
        turn("I adopted a puppy named Max today.", "Melanie"),
        turn("You are such a caring person and your puppy is adorable."),
        turn("I told you about my plan for the summer."),
    )
    assert [u.text for u in units] == [
        "Melanie adopted a puppy named Max on 8 May 2023.",
        "Melanie is such a caring person and Melanie's puppy is adorable.",
        "Caroline told Melanie about Caroline's plan for the summer.",
    ]
    assert units[1].entities == ("caroline", "melanie")


def test_second_person_uses_the_next_speaker_when_no_previous() -> None:
    units = extract(turn("You love hiking in the mountains."), turn("Yes I really do love it.", "Mel"))
    assert units[0].text == "Mel loves hiking in the mountains."


def test_second_person_needs_the_same_session() -> None:
    units = extract(
        turn("I adopted a puppy named Max today.", "Melanie", session_id="a"),
        turn("You love hiking in the mountains.", session_id="b"),
    )
    assert units[1].text == "You love hiking in the mountains."


def test_second_person_fillers_and_plurals_stay() -> None:
    units = extract(
        turn("My painting is going well.", "Melanie"),
        turn("You know, the class was wonderful for everyone."),
        turn("You guys should come to the lake house."),
        turn("I hope you like the new lake house."),
    )
    assert [u.text for u in units[1:]] == [
        "The class was wonderful for everyone.",
        "You guys should come to the lake house.",
        "Caroline hopes Melanie likes the new lake house.",
    ]


def test_listener_name_as_address_is_dropped() -> None:
    units = extract(
        turn("My painting is going well.", "Melanie"),
        turn("Melanie, I finally finished the mural downtown."),
        turn("I am so proud of the mural, Melanie!"),
    )
    assert [u.text for u in units[1:]] == [
        "Caroline finally finished the mural downtown.",
        "Caroline is so proud of the mural!",
    ]


# --- kinds and dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ("I love painting sunsets at the beach.", "fact"),
        ("I visited my grandmother in Ohio.", "event"),
        ("I went camping with the kids.", "event"),
        ("I bought a new car for the trip.", "event"),
        ("I am so excited about the trip.", "fact"),
        ("I need a new pair of shoes.", "fact"),
        ("I read a book about gardening.", "fact"),  # "read" could be either
        ("I've got two brothers and a sister.", "fact"),
    ],
)
def test_kind_follows_tense(content: str, kind: str) -> None:
    unit = one(content)
    assert unit.kind == kind
    assert unit.occurred_at == (TS if kind == "event" else None)


def test_resolved_date_makes_an_event_even_in_present_tense() -> None:
    unit = one("I start my new job next month.")
    assert unit.text == "Caroline starts Caroline's new job in June 2023."
    assert unit.kind == "event"
    assert unit.occurred_at == datetime(2023, 6, 1, 12, tzinfo=UTC)


def test_no_timestamp_no_resolution() -> None:
    unit = one("I went to the LGBTQ support group yesterday.", timestamp=None)
    assert unit.text == "Caroline went to the LGBTQ support group yesterday."
    assert unit.kind == "event"
    assert unit.occurred_at is None


def test_weekday_resolution_in_a_turn() -> None:
    unit = one("Last Friday I went to a council meeting for adoption.", "Melanie")
    assert unit.text == "On Friday, 5 May 2023 Melanie went to a council meeting for adoption."
    assert unit.occurred_at == datetime(2023, 5, 5, 12, tzinfo=UTC)


# --- statement shape and entities ---------------------------------------------------------------


def test_capitalises_collapses_whitespace_and_ends_with_a_period() -> None:
    assert one("my   brother  lives in\tBerlin now").text == "Caroline's brother lives in Berlin now."
    assert one("the garden looks lovely in June!").text == "The garden looks lovely in June!"


def test_entities_are_normalised_proper_nouns() -> None:
    unit = one("I met Dr. Ana Lopez and my friend's dog at Central Park on Monday.")
    assert unit.entities == ("caroline", "ana lopez", "central park")
    unit = one("The trip to New York with Jon's family was great.")
    assert unit.entities == ("caroline", "new york", "jon")


def test_sentence_starters_months_and_weekdays_are_not_entities() -> None:
    unit = one("Honestly, The garden in May looks great every Sunday morning.", None)
    assert unit.entities == ()
    unit = one("Working on the pottery keeps the mind calm.", None)
    assert unit.entities == ()
    unit = one("They're great and Don't Stop Believing plays with O'Brien.", None)
    assert unit.entities == ("stop believing", "o'brien")


# --- batches ------------------------------------------------------------------------------------


def test_one_unit_per_sentence_with_turn_indexes() -> None:
    units = extract(
        turn("I love painting sunsets. I have two cats at home."),
        turn("My brother lives in Berlin with his wife.", "Melanie"),
    )
    assert [(u.text, u.turn_indexes) for u in units] == [
        ("Caroline loves painting sunsets.", (0,)),
        ("Caroline has two cats at home.", (0,)),
        ("Melanie's brother lives in Berlin with his wife.", (1,)),
    ]


def test_identical_statements_are_merged() -> None:
    units = extract(
        turn("I love painting sunsets at the beach."),
        turn("Nice weather today.", "Melanie"),
        turn("I love painting sunsets at the beach."),
    )
    assert [(u.text, u.turn_indexes) for u in units] == [
        ("Caroline loves painting sunsets at the beach.", (0, 2)),
    ]


def test_units_per_turn_are_capped() -> None:
    content = " ".join(f"I planted {n} roses in the garden." for n in range(100))
    assert len(extract(turn(content))) == 12
    assert len(RuleExtractor(max_units_per_turn=3).extract([turn(content)])) == 3


def test_a_megabyte_turn_is_handled_quickly() -> None:
    content = "I planted roses in the garden near the old fence " * 100_000
    start = time.perf_counter()
    units = extract(turn(content), turn("I love painting sunsets at the beach."))
    assert time.perf_counter() - start < 5
    assert [u.turn_indexes for u in units] == [(1,)]


_SPEAKERS = st.one_of(
    st.none(), st.sampled_from(["Caroline", "Melanie", "", "  ", r"\1 $0"]), st.text(max_size=12)
)
_TURNS = st.builds(
    TurnInput,
    content=st.one_of(
        st.text(max_size=300),
        st.lists(
            st.sampled_from(
                [
                    "I",
                    "you",
                    "my",
                    "me",
                    "yesterday",
                    "last",
                    "Friday",
                    "on",
                    "went",
                    "love",
                    "Dr.",
                    "3.5",
                    "?",
                    "!",
                    ".",
                    "\n",
                    "Paris",
                    "I'd",
                    "you're",
                    "two days ago",
                    "in",
                    "next",
                    "summer",
                    "'s",
                    "’",
                    "the",
                    "weeks",
                ]
            ),
            max_size=60,
        ).map(" ".join),
    ),
    speaker=_SPEAKERS,
    timestamp=st.one_of(
        st.none(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)),
    ),
    session_id=st.sampled_from([None, "a", "b"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TURNS, max_size=8))
def test_never_raises_and_indexes_are_valid(turns: list[TurnInput]) -> None:
    units = RuleExtractor().extract(turns)
    seen: set[str] = set()
    for unit in units:
        assert unit.kind in ("fact", "event")
        assert unit.text and unit.text not in seen
        seen.add(unit.text)
        assert unit.turn_indexes
        assert all(0 <= i < len(turns) for i in unit.turn_indexes)
        assert list(unit.turn_indexes) == sorted(set(unit.turn_indexes))
        assert all(e and e == e.lower() for e in unit.entities)
        assert len(set(unit.entities)) == len(unit.entities)
        assert unit.occurred_at is None or unit.kind == "event"


def test_throughput() -> None:
    base = [
        "I went to the LGBTQ support group yesterday and it was so powerful, I really loved it.",
        "My kids are so excited about summer break, we are thinking about going camping next month.",
        "That sounds wonderful! I really hope you have a great time with your family out there.",
        "I just signed up for a pottery class last week, it's like therapy for me honestly.",
    ]
    turns = [turn(base[i % 4] + f" Number {i}.", "Caroline" if i % 2 else "Melanie") for i in range(2000)]
    start = time.perf_counter()
    RuleExtractor().extract(turns)
    rate = len(turns) / (time.perf_counter() - start)
    assert rate > 2000, f"{rate:.0f} turns/s"  # loose: shared CI machines are noisy
