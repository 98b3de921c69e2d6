"""F1 and BLEU-1 on answers worked out by hand, with LoCoMo's normalisation."""

from __future__ import annotations

import math

import pytest

from eidetica.eval.answer_metrics import bleu1, normalize_answer, says_not_mentioned, token_f1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Flea Market!", "flea market"),
        ("Paris, France.", "paris france"),
        ("pottery and painting", "pottery painting"),  # LoCoMo drops "and" too
        ("  an   apple a day ", "apple day"),
        ("Theatre, then the sea", "theatre then sea"),  # "the" only as a whole word
        ("", ""),
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


def test_token_f1_hand_computed() -> None:
    assert token_f1("The flea market", "flea market") == 1.0
    # "at flea market in paris" against "flea market": P = 2/5, R = 2/2, F1 = 2PR/(P+R) = 4/7.
    assert token_f1("at a flea market in Paris", "flea market") == pytest.approx(4 / 7)
    # Multiset overlap: "flea flea" shares one "flea" with "flea market": P = 1/2, R = 1/2.
    assert token_f1("flea flea", "flea market") == pytest.approx(0.5)
    assert token_f1("Boston", "flea market") == 0.0
    assert token_f1("", "flea market") == 0.0
    assert token_f1("the", "a") == 0.0  # nothing left after normalisation: no overlap


def test_bleu1_hand_computed() -> None:
    # Longer than the gold answer: no brevity penalty; 2 of 5 unigrams match.
    assert bleu1("at a flea market in Paris", "flea market") == pytest.approx(0.4)
    # Shorter: all unigrams match, penalty exp(1 - 2/1).
    assert bleu1("market", "flea market") == pytest.approx(math.exp(-1))
    # Clipped counts: "flea" appears once in the gold answer, so 1 of 3 counts.
    assert bleu1("flea flea flea", "flea market") == pytest.approx(1 / 3)
    # Same length: penalty 1.
    assert bleu1("Flea Market.", "the flea market") == 1.0
    assert bleu1("", "flea market") == 0.0
    assert bleu1("flea market", "") == 0.0


def test_says_not_mentioned() -> None:
    assert says_not_mentioned("Not mentioned in the conversations.")
    assert says_not_mentioned("There is no information available about that.")
    assert not says_not_mentioned("A xylophone")
