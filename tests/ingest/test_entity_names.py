"""Proper names in a sentence: what counts as a name, and what English capitalises anyway."""

from __future__ import annotations

import pytest

from eidetica.ingest.entity_names import entity_key, names_in


@pytest.mark.parametrize(
    ("sentence", "names"),
    [
        ("I met Jean at the shelter yesterday.", ("Jean",)),
        ("Matt Patterson called me.", ("Matt Patterson",)),  # a longer name may open a sentence
        ("Ana visited me in Oslo.", ("Ana", "Oslo")),  # so may one doing something
        ("We went to the Grand Canyon and Bank of America.", ("Grand Canyon", "Bank of America")),
        ("I went to Paris, France with Mom.", ("Paris", "France")),  # "Mom" is a relation
        ("There's a quote by J.K. Rowling I love.", ("J.K. Rowling",)),
        ("Caroline's LGBTQ group meets on Tuesdays.", ("Caroline", "LGBTQ")),
        ("Art is my passion.", ()),  # a first word alone names nobody
        ("Life's too short.", ()),  # nor when its "'s" is "is"
        ("Knowing Caroline is a gift.", ("Caroline",)),  # nor an -ing word English capitalised
        ("Painting helped me a lot.", ()),
        ("See you Fri, and in May or June!", ()),  # the calendar, abbreviated or not
        ("Hey, I'm so proud of you, Dr. Ana Lopez.", ("Ana Lopez",)),
    ],
)
def test_names_in_a_sentence(sentence: str, names: tuple[str, ...]) -> None:
    assert names_in(sentence) == names


def test_a_known_name_after_an_opening_word_is_that_person_alone() -> None:
    assert names_in("Woah Joanna, that is huge news.", ["Joanna"]) == ("Joanna",)
    assert names_in("Remember Jon from the dance studio?", ["Jon"]) == ("Jon",)
    assert names_in("Woah Joanna, that is huge news.") == ("Woah Joanna",)  # unknown: kept whole


def test_keys_compare_names_in_any_case_and_without_a_possessive() -> None:
    assert entity_key("Caroline's") == entity_key(" caroline ") == "caroline"
    assert entity_key("Matt  Patterson") == "matt patterson"
