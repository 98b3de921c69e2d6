"""A model's statement is grounded when its turns say every name and number it states."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eidetica.guard.grounding import unsupported

SAID = ["I finally adopted a kitten yesterday! Rent went up to 1,200 too.", "Caroline", "Melanie"]
WHEN = [datetime(2023, 5, 8, 10, 0, tzinfo=UTC)]


@pytest.mark.parametrize(
    "text",
    [
        "Caroline adopted a kitten on 7 May 2023.",  # the date follows from when it was said
        "Caroline's rent went up to 1200.",  # one number, written two ways
        "On Monday, Melanie heard that Caroline adopted a kitten.",
        "Recently Caroline adopted a kitten.",  # a sentence opens with a capital
    ],
)
def test_what_the_turns_support_is_grounded(text: str) -> None:
    assert unsupported(text, SAID, WHEN) == []


@pytest.mark.parametrize(
    ("text", "invented"),
    [
        ("Priya Raman adopted a grey cat named Miso.", ["Priya", "Raman", "Miso"]),
        ("Caroline adopted a kitten from Battersea.", ["Battersea"]),
        ("Caroline's rent went up to 1,500.", ["1,500"]),
        ("Caroline adopted a kitten in 2019.", ["2019"]),
    ],
)
def test_what_nobody_said_is_named(text: str, invented: list[str]) -> None:
    assert unsupported(text, SAID, WHEN) == invented
