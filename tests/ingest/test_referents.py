"""A statement that leaves its subject to the sentence before gets it written back in."""

from __future__ import annotations

import pytest

from eidetica.ingest.extract import RuleExtractor
from eidetica.model import TurnInput


def derived(content: str) -> list[str]:
    return [u.text for u in RuleExtractor().extract([TurnInput(content, role="user")])]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "Tessaly is a landlocked republic. Its capital city is Dorvik. Its population is 2 million.",
            ["Tessaly's capital city is Dorvik.", "Tessaly's population is 2 million."],
        ),
        (
            "Orvane Systems, a robotics maker, is based in Rotterdam. Its CEO is Paulina Greer.",
            ["Orvane Systems's CEO is Paulina Greer."],
        ),
        (
            "Product: Lumen X2 desk lamp. Finish: brushed aluminium. List price: 89 USD.",
            ["Lumen X2 desk lamp - finish: brushed aluminium.", "Lumen X2 desk lamp - list price: 89 USD."],
        ),
    ],
)
def test_an_article_or_a_record_names_its_subject_in_each_statement(
    content: str, expected: list[str]
) -> None:
    texts = derived(content)
    assert all(text in texts for text in expected), texts


def test_a_pronoun_after_something_unnamed_is_left_alone() -> None:
    assert "Its fur is grey." in derived("My cat is great. Its fur is grey.")
    # A record's head ends where its fields do: a later sentence is not made one of them.
    assert "Note: bring the charger." in derived(
        "Product: Lumen X2 desk lamp. It ships Monday. Note: bring the charger."
    )
