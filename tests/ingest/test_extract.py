"""RuleExtractor: turns in, short self-contained facts and events out, fast and never failing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eidetica.ingest.base import Extractor
from eidetica.ingest.extract import MAX_UNITS_PER_TURN, RuleExtractor
from eidetica.ingest.sentences import PASSAGE_MAX_WORDS, passages, split_sentences
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


def test_an_emoji_ends_a_statement_that_a_question_follows() -> None:
    text = "my sister moved to Auckland for work 😩 whats the best time for calls?"
    assert list(split_sentences(text)) == [
        "my sister moved to Auckland for work 😩",
        "whats the best time for calls?",
    ]
    assert list(split_sentences("Great news 🎉🎉 How do we celebrate?")) == [
        "Great news 🎉🎉",
        "How do we celebrate?",
    ]
    # An emoji inside a statement, or before anything but a question, ends nothing.
    assert list(split_sentences("I love 🍕 and pasta, what a combo.")) == [
        "I love 🍕 and pasta, what a combo."
    ]
    assert list(split_sentences("we moved 🏠 last week")) == ["we moved 🏠 last week"]


def test_split_sentences_empty() -> None:
    assert list(split_sentences("")) == []
    assert list(split_sentences(" \n\n ")) == []


# --- what gets skipped --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "How have you been doing lately?",
        "Did you finish the painting yesterday?!",
        "How do I fix it, and what should I buy?",  # a question throughout
        "Is it ok if I come, or should I stay?",
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


# --- role labels as speakers ---------------------------------------------------------------------


def chat(*messages: tuple[str, str]) -> list[str]:
    """Texts derived from role-only messages, as the OpenAI API and most agents send them."""
    turns = [
        TurnInput(content, speaker=role, role=role, timestamp=TS, session_id="s")
        for role, content in messages
    ]
    return [u.text for u in RuleExtractor().extract(turns)]


@pytest.mark.parametrize(
    ("role", "content", "expected"),
    [
        (
            "user",
            "I live in Paris and work as a data engineer",
            "The user lives in Paris and works as a data engineer.",
        ),
        ("user", "My dog Rex loves the beach.", "The user's dog Rex loves the beach."),
        ("user", "My friends and I went camping.", "The user's friends and the user went camping."),
        ("user", "That old bike is mine now.", "That old bike is the user's now."),
        ("User", "I'm allergic to peanuts.", "The user is allergic to peanuts."),
        ("USER", "I have two cats at home.", "The user has two cats at home."),
        (
            "assistant",
            "I suggested a quieter hotel near the station.",
            "The assistant suggested a quieter hotel near the station.",
        ),
        (
            "Assistant",
            "I can book the table for eight people.",
            "The assistant can book the table for eight people.",
        ),
        ("system", "I am a helpful travel planner.", "The system is a helpful travel planner."),
    ],
)
def test_a_role_label_speaker_reads_as_a_common_noun(role: str, content: str, expected: str) -> None:
    turns = [TurnInput(content, speaker=role, role=role.lower(), timestamp=TS)]
    [unit] = RuleExtractor().extract(turns)
    assert unit.text == expected
    assert unit.entities == tuple(e for e in unit.entities if e not in ("user", "assistant", "system"))
    assert turns[0].speaker == role  # the turn itself is left as it was


def test_role_labels_as_listeners() -> None:
    assert chat(
        ("user", "I want to visit Lisbon in the spring."),
        ("assistant", "You should book the flights early and stay in Alfama."),
        ("user", "Your hotel list for my trip was helpful."),
    ) == [
        "The user wants to visit Lisbon in the spring.",
        "The user should book the flights early and stay in Alfama.",
        "The assistant's hotel list for the user's trip was helpful.",
    ]


def test_a_named_user_is_unchanged() -> None:
    units = extract(
        TurnInput("I live in Paris and work as a nurse.", speaker="Sam", role="user", timestamp=TS)
    )
    assert [(u.text, u.entities) for u in units] == [
        ("Sam lives in Paris and works as a nurse.", ("sam", "paris"))
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("I live in Paris and work as a nurse.", "Sam lives in Paris and works as a nurse."),
        ("I sing and dance.", "Sam sings and dances."),
        ("I cook, clean and shop on weekends.", "Sam cooks, cleans and shops on weekends."),
        ("I teach yoga and help at the shelter.", "Sam teaches yoga and helps at the shelter."),
        ("I work at Google but live in Oakland.", "Sam works at Google but lives in Oakland."),
        ("I have two kids and run a bakery.", "Sam has two kids and runs a bakery."),
        ("I go to the gym and swim every day.", "Sam goes to the gym and swims every day."),
        (
            "I usually wake up early and then go for a run.",
            "Sam usually wakes up early and then goes for a run.",
        ),
        ("I love Rome and visit often.", "Sam loves Rome and visits often."),
        ("I miss my mom and call her every day.", "Sam misses Sam's mom and calls her every day."),
        ("I live here and don't drive.", "Sam lives here and doesn't drive."),
        # Nouns and bare verbs stay as they are.
        ("I like cats and dogs.", "Sam likes cats and dogs."),
        ("I like tea and coffee in the morning.", "Sam likes tea and coffee in the morning."),
        ("I love music and dance.", "Sam loves music and dance."),
        ("I love my family and work.", "Sam loves Sam's family and work."),
        ("I don't smoke or drink.", "Sam doesn't smoke or drink."),
        ("I want to learn French and travel to Japan.", "Sam wants to learn French and travel to Japan."),
        ("I need to rest and eat well.", "Sam needs to rest and eat well."),
        ("I think they live in Paris and work there.", "Sam thinks they live in Paris and work there."),
        ("I moved to Paris and work there.", "Sam moved to Paris and work there."),  # past: left alone
        ("I'll call her and send the photos.", "Sam will call her and send the photos."),
        ("I love hiking, and my wife loves to swim.", "Sam loves hiking, and Sam's wife loves to swim."),
        ("Stop by if you want, and make sure to rest.", "Stop by if Mel wants, and make sure to rest."),
    ],
)
def test_verbs_coordinated_with_a_rewritten_subject_agree(content: str, expected: str) -> None:
    units = extract(turn("Hello there.", "Mel"), turn(content, "Sam"))
    assert [u.text for u in units] == [expected]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "I moved my banking over to Revolut last autumn, but what's a realistic daily budget?",
            "Caroline moved Caroline's banking over to Revolut in autumn 2022.",
        ),
        ("My rent went up to 900, is that even legal?", "Caroline's rent went up to 900."),
        ("I moved to Oslo and can you recommend a gym?", "Caroline moved to Oslo."),
    ],
)
def test_the_news_a_question_opens_with_is_kept(content: str, expected: str) -> None:
    assert texts(turn(content)) == [expected]


# --- short statements ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("I'm vegan.", "Caroline is vegan."),
        ("I hate cilantro.", "Caroline hates cilantro."),
        ("We divorced.", "We divorced."),
        ("I'm allergic to nuts.", "Caroline is allergic to nuts."),
        ("Sam is vegan.", "Sam is vegan."),
        ("My dog died.", "Caroline's dog died."),
        ("I'm retired.", "Caroline is retired."),
        ("I'm 34.", "Caroline is 34."),
        ("Oh, I'm pregnant!", "Caroline is pregnant!"),
        ("I love Lisbon.", "Caroline loves Lisbon."),
        ("Rent's 865 now.", "Rent's 865 now."),  # "'s" before an amount is "is"
        ("Nurse now.", "Caroline is nurse now."),
        ("Insomnia again.", "Caroline has insomnia again."),
        ("She's ninety.", "She's ninety."),
    ],
)
def test_short_statements_are_kept(content: str, expected: str) -> None:
    assert texts(turn(content)) == [expected]


@pytest.mark.parametrize(
    "content",
    [
        "Thanks!",
        "Me too.",
        "Sounds great.",
        "Oh wow.",
        "I know.",
        "Yes I did.",
        "I agree.",
        "I'm fine.",
        "I'm so happy!",
        "I love it!",
        "I can't wait!",
        "I'm back!",
        "They're adorable!",
        "He's great.",
        "My bad.",
        "My pleasure!",
        "Enjoy the concert!",
        "Stay safe!",
        "Have fun!",
        "Good morning!",
        "Miss you!",
        "Chicago sounds amazing!",
        "Fingers crossed!",
        "Much appreciated!",
        "You're vegan?",
        "Great job, Sam!",
        "Bye now.",
        "Sam's dog.",
        "Home now.",
        "Thanks again!",
        "Me again.",
        "She's here.",
        "He's fine.",
    ],
)
def test_short_replies_are_still_skipped(content: str) -> None:
    assert extract(turn(content)) == []


def test_a_user_introducing_themself() -> None:
    def said(content: str, speaker: str) -> list[str]:
        return [u.text for u in extract(TurnInput(content, speaker=speaker, role="user", timestamp=TS))]

    assert said("Hi, I'm Sam and I live in Paris.", "user") == [
        "The user is Sam and the user lives in Paris."
    ]
    # Once the user's turns carry their name (``names.name_user_turns``), "Sam is Sam" is mended.
    assert said("Hi, I'm Sam and I live in Paris.", "Sam") == [
        "The user's name is Sam and Sam lives in Paris."
    ]
    assert said("I'm Sam.", "Sam") == ["The user's name is Sam."]
    assert said("My name is Sam Lee.", "Sam Lee") == ["The user's name is Sam Lee."]
    assert said("I'm Sammy, a nurse.", "Sam") == ["Sam is Sammy, a nurse."]


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


def test_units_per_turn_are_capped_and_the_rest_is_kept_as_passages() -> None:
    content = " ".join(f"I planted {n} roses in the garden." for n in range(100))
    report = RuleExtractor().extract_report([turn("How are you doing today?"), turn(content)])
    statements = [u for u in report.units if u.kind != "passage"]
    chunks = [u for u in report.units if u.kind == "passage"]
    assert len(statements) == MAX_UNITS_PER_TURN
    assert " ".join(u.text for u in chunks) == content  # every roses sentence, verbatim
    assert {u.turn_indexes for u in chunks} == {(1,)}
    assert [str(w) for w in report.warnings] == [
        f"turn 1: 100 statements, {MAX_UNITS_PER_TURN} kept as facts and events; "
        f"the whole text is kept as {len(chunks)} passages"
    ]
    assert report.warnings[0].turn_index == 1
    small = RuleExtractor(max_units_per_turn=3).extract_report([turn(content)])
    assert len([u for u in small.units if u.kind != "passage"]) == 3
    assert small.warnings[0].message.startswith("100 statements, 3 kept as facts and events;")


def test_a_capped_short_turn_says_the_rest_is_only_in_the_turn() -> None:
    content = " ".join(f"I planted {n} roses." for n in range(6))
    report = RuleExtractor(max_units_per_turn=2).extract_report([turn(content)])
    assert [u.kind for u in report.units] == ["event", "event"]
    assert [w.message for w in report.warnings] == [
        "6 statements, 2 kept as facts and events; the rest only in the verbatim turn"
    ]


def test_sentences_past_the_limit_are_reported() -> None:
    content = " ".join(f"Rose number {n} grew tall." for n in range(250)) + " I planted a big oak tree."
    report = RuleExtractor().extract_report([turn(content)])
    [warning] = report.warnings
    assert warning.message.startswith(
        f"over 200 sentences, only the first 200 read: 200 statements, {MAX_UNITS_PER_TURN} kept"
    )
    assert "Caroline planted a big oak tree." not in [u.text for u in report.units]
    assert any("I planted a big oak tree." in u.text for u in report.units if u.kind == "passage")


def test_extract_is_the_units_of_extract_report() -> None:
    turns = [turn("I love painting sunsets at the beach. " * 30), turn("I went to Paris yesterday.")]
    assert RuleExtractor().extract(turns) == RuleExtractor().extract_report(turns).units


def test_a_megabyte_turn_is_cut_into_bounded_passages() -> None:
    content = " ".join(f"I planted rose {n} in the garden near the old fence" for n in range(100_000))
    report = RuleExtractor().extract_report([turn(content), turn("I love painting sunsets at the beach.")])
    chunks = [u for u in report.units if u.kind == "passage"]
    assert len(chunks) == 1000 and all(u.turn_indexes == (0,) for u in chunks)
    assert [u.text for u in report.units if u.kind != "passage"] == [
        "Caroline loves painting sunsets at the beach."
    ]
    assert [str(w) for w in report.warnings] == [
        f"turn 0: the first {1000 * PASSAGE_MAX_WORDS:,} of its 1,100,000 words are kept as 1,000 passages, "
        "the rest only in the verbatim turn"
    ]


# --- passages -----------------------------------------------------------------------------------


def _story(sentences: int) -> str:
    return " ".join(f"On day {n} we walked along the river and counted {n} herons." for n in range(sentences))


def test_long_turns_are_cut_into_passages_of_whole_sentences() -> None:
    content = "Intro line here\n\n" + _story(30)  # 3 + 30 * 12 words
    chunks = [u for u in extract(turn(content)) if u.kind == "passage"]
    assert len(chunks) == -(-363 // PASSAGE_MAX_WORDS)  # as few as fit, whole sentences each
    assert all(len(u.text.split()) <= PASSAGE_MAX_WORDS for u in chunks)
    assert " ".join(" ".join(u.text.split()) for u in chunks) == " ".join(content.split())
    assert all(u.text in content for u in chunks)  # verbatim: whitespace inside kept as written
    assert all(u.text.endswith("herons.") for u in chunks)  # cut between sentences
    assert all(u.turn_indexes == (0,) and u.entities == () and u.occurred_at is None for u in chunks)


def test_short_turns_get_no_passages() -> None:
    content = _story(10)  # 120 words: the bound itself
    assert [u.kind for u in extract(turn(content))].count("passage") == 0
    assert [u.kind for u in extract(turn(content + " Fine."))].count("passage") == -(
        -121 // PASSAGE_MAX_WORDS
    )


@pytest.mark.parametrize(
    ("text", "max_words", "expected"),
    [
        (
            "One two three. Four five six seven. Eight nine.",
            4,
            ["One two three.", "Four five six seven.", "Eight nine."],
        ),
        ("One two. Three four. Five six.", 4, ["One two.", "Three four. Five six."]),
        ("a b c d e f g h i j", 4, ["a b c d", "e f g h", "i j"]),
        (" ".join(["w"] * 130), 100, [" ".join(["w"] * 65)] * 2),  # even halves, not 100 + 30
        ("  Lead.\n\nTail here.  ", 100, ["Lead.\n\nTail here."]),
        ("", 100, []),
    ],
)
def test_passages(text: str, max_words: int, expected: list[str]) -> None:
    assert passages(text, max_words) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .!?\n"), max_size=400), st.integers(1, 30))
def test_passages_cover_the_text_in_order(text: str, max_words: int) -> None:
    pieces = passages(text, max_words)
    assert [w for p in pieces for w in p.split()] == text.split()
    assert all(0 < len(p.split()) <= max_words for p in pieces)
    at = 0
    for piece in pieces:  # verbatim and in order
        at = text.index(piece, at) + len(piece)


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
        assert unit.kind in ("fact", "event", "passage")
        key = f"{unit.kind == 'passage'}:{unit.text}"
        assert unit.text and key not in seen
        seen.add(key)
        assert unit.turn_indexes
        assert all(0 <= i < len(turns) for i in unit.turn_indexes)
        assert list(unit.turn_indexes) == sorted(set(unit.turn_indexes))
        assert all(e and e == e.lower() for e in unit.entities)
        assert len(set(unit.entities)) == len(unit.entities)
        assert unit.occurred_at is None or unit.kind == "event"


@pytest.mark.parametrize(
    ("said", "derived"),
    [
        ("Got promoted.", "Caroline got promoted."),
        ("Lost my job.", "Caroline lost Caroline's job."),
        ("Sold the scooter and bought a used Fiat.", "Caroline sold the scooter and bought a used Fiat."),
        ("Finished the marathon in under four hours!", "Caroline finished the marathon in under four hours!"),
        ("Just accepted the UX lead role at Nubank.", "Caroline just accepted the UX lead role at Nubank."),
        ("Finally sold the old piano.", "Caroline finally sold the old piano."),
    ],
)
def test_a_sentence_without_its_subject_is_the_speakers(said: str, derived: str) -> None:
    assert [u.text for u in extract(turn(said))] == [derived]


@pytest.mark.parametrize("said", ["Excited for the trip!", "Gone fishing.", "Been there.", "Just excited!"])
def test_adjectives_and_participles_first_get_no_subject(said: str) -> None:
    assert not any(u.text.startswith("Caroline") for u in extract(turn(said)))


@pytest.mark.parametrize(
    ("said", "derived"),
    [
        ("Allergic to nuts.", "Caroline is allergic to nuts."),
        ("Recently divorced.", "Caroline is recently divorced."),
        ("Training for Ironman.", "Caroline is training for Ironman."),
    ],
)
def test_a_state_said_without_im_is_the_speakers(said: str, derived: str) -> None:
    assert [u.text for u in extract(turn(said))] == [derived]


@pytest.mark.parametrize("said", ["Looking forward to it!", "Thinking of you.", "Sounds great!"])
def test_pleasantries_without_a_subject_stay_pleasantries(said: str) -> None:
    assert not any(u.text.startswith("Caroline is") for u in extract(turn(said)))
