"""LLMExtractor with scripted replies: batching, attribution, and what happens to bad output."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from eidetica.errors import LLMError, UsageError
from eidetica.ingest.base import Extractor
from eidetica.ingest.llm_extract import LLMExtractor, render_turns
from eidetica.model import Extracted, TurnInput
from eidetica.testing import ScriptedLLM

TS = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)  # a Monday


def turns(n: int, *, start: datetime = TS) -> list[TurnInput]:
    speakers = ("Caroline", "Melanie")
    return [
        TurnInput(f"message {i}", speaker=speakers[i % 2], timestamp=start + timedelta(minutes=i))
        for i in range(n)
    ]


def unit(
    text: str, turns: list[int], *, kind: str = "fact", date: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "turns": turns,
        "kind": kind,
        "text": text,
        "entities": extra.pop("entities", []),
        "date": date,
        **extra,
    }


def reply(*units: dict[str, Any]) -> str:
    return json.dumps({"units": list(units)})


def test_it_is_an_extractor_and_empty_input_costs_nothing() -> None:
    llm = ScriptedLLM([])
    extractor = LLMExtractor(llm)
    assert isinstance(extractor, Extractor)
    assert extractor.extract([]) == []
    assert llm.requests == [] and extractor.stats.calls == 0
    with pytest.raises(UsageError):
        LLMExtractor(llm, batch_size=0)


def test_one_call_per_batch_and_indexes_point_into_the_whole_input() -> None:
    replies = [
        reply(unit("Caroline likes tea.", [1]), unit("Melanie runs.", [2, 20])),
        reply(unit("Melanie sings.", [20])),
        reply(unit("Caroline paints.", [5])),
    ]
    llm = ScriptedLLM(replies)
    extractor = LLMExtractor(llm, batch_size=20)
    units = extractor.extract(turns(45))
    assert len(llm.requests) == 3 and extractor.stats.calls == 3 and extractor.stats.batches == 3
    assert [(u.text, u.turn_indexes) for u in units] == [
        ("Caroline likes tea.", (0,)),
        ("Melanie runs.", (1, 19)),
        ("Melanie sings.", (39,)),
        ("Caroline paints.", (44,)),
    ]
    assert "[20] 2023-05-08 (Monday) 14:35 Melanie: message 39" in llm.requests[1][-1]["content"]
    assert "[6]" not in llm.requests[2][-1]["content"]  # the last batch holds 5 turns
    assert extractor.stats.units == 4 and extractor.stats.failed_batches == 0


def test_the_prompt_shows_numbers_dates_weekdays_and_speakers() -> None:
    batch = [
        TurnInput("I went to a support group yesterday.", speaker="Caroline", timestamp=TS),
        TurnInput("That's\n\ngreat!", speaker=None, role="assistant", timestamp=None),
        TurnInput("Thanks", timestamp=datetime(2023, 5, 9, 8, 0, tzinfo=timezone(timedelta(hours=-4)))),
    ]
    assert render_turns(batch).splitlines() == [
        "[1] 2023-05-08 (Monday) 13:56 Caroline: I went to a support group yesterday.",
        "[2] date unknown assistant: That's great!",
        "[3] 2023-05-09 (Tuesday) 08:00 someone: Thanks",
    ]
    llm = ScriptedLLM([reply()])
    extractor = LLMExtractor(llm)
    assert extractor.extract(batch) == []
    system, user = llm.requests[0]
    assert system["role"] == "system" and "memory units" in system["content"]
    assert render_turns(batch) in user["content"]
    assert extractor.prompt_version == "extract_v1"


def test_units_carry_kind_entities_and_dates_in_the_turns_time_zone() -> None:
    tz = timezone(timedelta(hours=2))
    batch = turns(2, start=datetime(2023, 5, 8, 22, 0, tzinfo=tz))
    llm = ScriptedLLM(
        [
            reply(
                unit(
                    "  Caroline went to a support group\non 7 May 2023. ",
                    [1],
                    kind="event",
                    date="2023-05-07",
                    entities=["Caroline", " caroline ", "support group.", ""],
                ),
                unit("Melanie has two kids.", [2, 2.0]),  # type: ignore[list-item]
                unit("Melanie moved on 30 February.", [2], kind="event", date="2023-02-30"),
            )
        ]
    )
    units = LLMExtractor(llm).extract(batch)
    assert units == [
        Extracted(
            "event",
            "Caroline went to a support group on 7 May 2023.",
            (0,),
            ("caroline", "support group"),
            datetime(2023, 5, 7, 12, 0, tzinfo=tz),
        ),
        Extracted("fact", "Melanie has two kids.", (1,), (), None),
        Extracted("event", "Melanie moved on 30 February.", (1,), (), None),  # impossible date: undated
    ]


def test_units_copied_from_the_prompt_or_empty_are_dropped_and_counted() -> None:
    example = "Priya Raman adopted a grey cat named Miso on 14 March 2021."
    llm = ScriptedLLM([reply(unit(example, [1]), unit("  ", [1]), unit("Ann adopted a dog.", [1]))])
    extractor = LLMExtractor(llm)
    assert example in extractor.template.system
    assert [u.text for u in extractor.extract(turns(1))] == ["Ann adopted a dog."]
    assert extractor.stats.invalid_units == 2


def test_units_stating_names_or_numbers_their_turns_never_said_are_dropped_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    said = [TurnInput("We adopted a kitten on Sunday, she cost 40 euros.", speaker="Caroline", timestamp=TS)]
    llm = ScriptedLLM(
        [
            reply(
                unit("Caroline adopted a kitten on 7 May 2023.", [1]),  # the date follows from the turn
                unit("Caroline's kitten cost 40 euros.", [1]),
                unit("Caroline's kitten is named Miso.", [1]),  # a name nobody said
                unit("Caroline paid 400 euros for the kitten.", [1]),  # a number nobody said
            )
        ]
    )
    extractor = LLMExtractor(llm)
    with caplog.at_level(logging.WARNING, logger="eidetica.llm"):
        kept = [u.text for u in extractor.extract(said)]
    assert kept == ["Caroline adopted a kitten on 7 May 2023.", "Caroline's kitten cost 40 euros."]
    assert extractor.stats.ungrounded == 2
    assert "never say Miso" in caplog.text and "never say 400" in caplog.text


def test_the_same_unit_from_two_batches_is_kept_once_with_both_turns() -> None:
    llm = ScriptedLLM([reply(unit("Caroline likes tea.", [1])), reply(unit("caroline likes tea.", [2]))])
    units = LLMExtractor(llm, batch_size=2).extract(turns(4))
    assert [(u.text, u.turn_indexes) for u in units] == [("Caroline likes tea.", (0, 3))]


def test_units_naming_turns_outside_the_batch_are_dropped_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = reply(
        unit("Right turn.", [2]),
        unit("Turn zero.", [0]),
        unit("Past the end.", [1, 4]),
        unit("No turn at all.", []),
    )
    llm = ScriptedLLM([bad] * 4)
    extractor = LLMExtractor(llm)
    with caplog.at_level(logging.WARNING, logger="eidetica.llm"):
        units = extractor.extract(turns(3))
    assert [(u.text, u.turn_indexes) for u in units] == [("Right turn.", (1,))]
    assert extractor.stats.out_of_range == 3
    assert sum("outside 1-3" in r.message for r in caplog.records) == 3
    # The schema bounds turn numbers to the batch: the reply is repaired, retried, then salvaged.
    assert len(llm.requests) == 4


def test_invalid_json_is_repaired_by_the_client_without_a_retry() -> None:
    llm = ScriptedLLM(["Here are the units: none, sorry", reply(unit("Ann likes tea.", [1]))])
    extractor = LLMExtractor(llm)
    units = extractor.extract(turns(1))
    assert [u.text for u in units] == ["Ann likes tea."]
    assert len(llm.requests) == 2 and extractor.stats.calls == 1 and extractor.stats.retried_batches == 0
    assert llm.usage.repairs == 1 and llm.usage.failures == 0


def test_a_batch_that_never_validates_is_retried_once_then_keeps_its_valid_units(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = reply(unit("Ann likes tea.", [1]), unit("Ann is a feeling.", [1], kind="opinion"))
    llm = ScriptedLLM(["not json", bad, "still not json", bad])
    extractor = LLMExtractor(llm)
    with caplog.at_level(logging.WARNING, logger="eidetica.llm"):
        units = extractor.extract(turns(2))
    assert [u.text for u in units] == ["Ann likes tea."]
    assert len(llm.requests) == 4  # two calls, each with its one repair
    stats = extractor.stats
    assert (stats.calls, stats.retried_batches, stats.failed_batches) == (2, 1, 1)
    assert (stats.salvaged_units, stats.invalid_units, stats.units) == (1, 1, 1)
    assert (llm.usage.calls, llm.usage.failures, llm.usage.repairs) == (2, 2, 2)
    assert any("is not one of" in r.message for r in caplog.records)
    assert any("failed twice" in r.message for r in caplog.records)


def test_a_reply_cut_off_by_max_tokens_keeps_its_complete_units() -> None:
    cut = reply(unit("Ann likes tea.", [1]), unit("Ben likes coffee.", [2]))[:-40]
    llm = ScriptedLLM([cut, cut, cut, cut])
    extractor = LLMExtractor(llm)
    units = extractor.extract(turns(2))
    assert [u.text for u in units] == ["Ann likes tea."]
    assert extractor.stats.failed_batches == 1 and extractor.stats.salvaged_units == 1


def test_salvaged_units_may_lack_entities_and_date_but_not_their_turns() -> None:
    broken = (
        '{"units": [{"turns": [1], "kind": "fact", "text": "Ann likes tea."}}, {"kind": "fact", "text": "x"}'
    )
    llm = ScriptedLLM([broken, "?", "?", "?"])
    extractor = LLMExtractor(llm)
    assert extractor.extract(turns(1)) == [Extracted("fact", "Ann likes tea.", (0,))]
    assert extractor.stats.invalid_units == 1


def test_nothing_usable_returns_no_units_and_raises_nothing() -> None:
    llm = ScriptedLLM(["no", "no", "no", "no"])
    extractor = LLMExtractor(llm)
    assert extractor.extract(turns(3)) == []
    assert extractor.stats.failed_batches == 1 and extractor.stats.units == 0


def test_an_unreachable_endpoint_is_raised_not_hidden() -> None:
    extractor = LLMExtractor(ScriptedLLM([LLMError("connection refused")]))
    with pytest.raises(LLMError, match="connection refused"):
        extractor.extract(turns(2))
