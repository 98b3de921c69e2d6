"""Each retrieval technique on a small conversation built to need it, against the real store and model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from eidetica import Memory
from eidetica.retrieve.baselines import turn_baseline
from eidetica.retrieve.hybrid import FusionWeights, HybridRetriever
from eidetica.retrieve.query import MAX_QUERY_TERMS, named_speakers, time_window, without_names

FILLER = [
    "The weather has been so rainy lately, I barely left the house.",
    "I finally fixed the leaking kitchen tap after watching a tutorial.",
    "My sister keeps sending me recipes for sourdough bread.",
    "We should plan a board game night sometime soon.",
    "Work has been hectic with the quarterly reports due.",
    "I rearranged the living room furniture over the weekend.",
]


def _chat(memory: Memory, session: str, day: str, turns: list[tuple[str, str]]) -> None:
    messages = [
        {
            "role": "user",
            "name": who,
            "content": text,
            "id": f"{session}:{i}",
            "timestamp": f"{day}T10:{i:02d}:00",
        }
        for i, (who, text) in enumerate(turns, 1)
    ]
    memory.add(messages, user_id="u", session_id=session)


def _rank(memory: Memory, question: str, ref: str, retriever: HybridRetriever | None = None) -> int:
    if retriever is not None:
        memory.retriever = retriever
    hits = memory.search(question, user_id="u", k=50)
    turns = [h for h in hits if h.kind == "turn"]
    return next((i for i, h in enumerate(turns) if h.sources == (ref,)), 99)


def test_an_answer_is_found_by_the_words_of_the_question_it_answers(memory: Memory) -> None:
    _chat(memory, "s1", "2023-06-01", [
        ("John", "Have you ever been to Universal Studios?"),
        ("Tim", "Nope, but it's my first time going soon. I'm super stoked for the Harry Potter stuff!"),
        *[("John" if i % 2 else "Tim", t) for i, t in enumerate(FILLER)],
    ])  # fmt: skip
    question = "What is Tim excited to see at Universal Studios?"
    assert _rank(memory, question, "s1:2") <= 1

    def answer_bm25() -> float:
        hits = memory.search(question, user_id="u", k=50)
        return max(h.scores.get("lexical", 0.0) for h in hits if h.sources == ("s1:2",))

    with_context = answer_bm25()
    memory.retriever = replace(HybridRetriever(), weights=FusionWeights(context=0.0))
    # Only its speaker's name matches on its own; "Universal Studios" comes from the turn before.
    assert with_context > 2 * answer_bm25()


def test_a_named_speaker_outranks_the_same_words_from_someone_else(memory: Memory) -> None:
    _chat(memory, "s1", "2023-06-01", [
        ("Melanie", "I started painting sunsets by the lake again, it calms me down."),
        ("Caroline", "I started painting sunsets too, mostly from photos I took last year."),
        *[("Melanie" if i % 2 else "Caroline", t) for i, t in enumerate(FILLER)],
    ])  # fmt: skip
    assert _rank(memory, "What does Caroline paint?", "s1:2") == 0
    assert _rank(memory, "What does Melanie paint?", "s1:1") == 0
    hit = memory.search("What does Caroline paint?", user_id="u", k=1)[0]
    assert hit.scores.get("speaker") == 1.0


def test_a_speakers_name_repeated_in_derived_units_does_not_win_by_itself(memory: Memory) -> None:
    _chat(memory, "s1", "2023-06-01", [
        ("Caroline", "I'm keen on counseling or working in mental health, I'd love to support people."),
        ("Caroline", "Whenever I hear this song I think about my friends and my family and my home."),
        ("Caroline", "I think my cat likes my new sofa more than my old one, and so do I."),
        *[("Melanie", t) for t in FILLER],
    ])  # fmt: skip
    hits = memory.search("What kind of work does Caroline want?", user_id="u", k=3)
    assert "s1:1" in hits[0].sources


def test_session_prior_is_relative_to_the_best_session(memory: Memory) -> None:
    _chat(memory, "s1", "2023-06-01", [("Ana", "I adopted a greyhound called Pixel from the shelter."),
                                        ("Ben", "Pixel is a great name for a greyhound!")])  # fmt: skip
    _chat(memory, "s2", "2023-07-01", [("Ana", t) for t in FILLER])
    hits = memory.search("Tell me about Ana's greyhound Pixel", user_id="u", k=20)
    priors = {h.unit.scope.session_id: h.scores["session"] for h in hits}
    assert priors["s1"] == 1.0 and 0 <= priors.get("s2", 0.0) < 1.0
    assert hits[0].unit.scope.session_id == "s1"


def test_time_window_favours_units_in_the_named_month(memory: Memory) -> None:
    _chat(memory, "s1", "2023-05-10", [("Ana", "I went hiking in the Alps with my cousins.")])
    _chat(memory, "s2", "2023-08-10", [("Ana", "I went hiking in the Pyrenees with my cousins.")])
    hit = memory.search("Where did Ana go hiking in August 2023?", user_id="u", k=1, kinds=["turn"])[0]
    assert hit.sources == ("s2:1",) and hit.scores["time"] == 1.0


def test_turn_baselines_see_turns_only_and_not_the_preceding_words(memory: Memory) -> None:
    _chat(memory, "s1", "2023-06-01", [
        ("John", "Have you ever been to Universal Studios?"),
        ("Tim", "Nope, but I'm super stoked for the Harry Potter stuff!"),
    ])  # fmt: skip
    memory.retriever = turn_baseline("lexical")
    hits = memory.search("Universal Studios", user_id="u", k=10)
    assert [h.sources for h in hits] == [("s1:1",)]
    assert turn_baseline("lexical", "dense").name == "rrf-turns"


def test_context_groups_lines_under_one_header_per_day(memory: Memory) -> None:
    _chat(
        memory,
        "s1",
        "2023-06-01",
        [("Ana", f"Day one note {i} about the garden party plans") for i in range(3)],
    )
    _chat(
        memory,
        "s2",
        "2023-06-02",
        [("Ana", f"Day two note {i} about the garden party plans") for i in range(3)],
    )
    memory.retriever = replace(HybridRetriever(), packs_whole_history=False)
    ctx = memory.context("garden party plans", user_id="u", budget_tokens=300)
    lines = ctx.text.splitlines()
    assert lines.count("[1 June 2023]") == 1 and lines.count("[2 June 2023]") == 1
    assert lines.index("[1 June 2023]") < lines.index("[2 June 2023]")
    assert ctx.tokens <= 300 and memory.tokens.count(ctx.text) == ctx.tokens


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Caroline research?", {"Caroline"}),
        ("What did Caroline's friend Mel say to Melanie?", {"Caroline", "Melanie"}),
        ("What did carolines say?", set()),
    ],
)
def test_named_speakers_match_whole_names(question: str, expected: set[str]) -> None:
    assert named_speakers(question, ["Caroline", "Melanie", "Tim"]) == expected


def test_query_helpers() -> None:
    assert without_names("What is Caroline's job?", ["Caroline"]) == "What is job?"
    window = time_window("What happened in May 2023?")
    assert window is not None and (window.start.month, window.end.month) == (5, 6)
    assert time_window("What happened?") is None


def test_a_long_query_looks_up_its_first_words_only(memory: Memory) -> None:
    memory.add("I planted a rose bush in the garden", user_id="g")
    asked: list[int] = []
    search_lexical = memory.store.search_lexical

    def counting(where, terms, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(len(terms))
        return search_lexical(where, terms, *args, **kwargs)

    memory.store.search_lexical = counting  # type: ignore[method-assign]
    filler = " ".join(f"w{i}x" for i in range(1000))
    assert memory.search(f"rose garden {filler}", user_id="g", k=3)[0].unit.text.startswith("I planted")
    assert asked and max(asked) == MAX_QUERY_TERMS
