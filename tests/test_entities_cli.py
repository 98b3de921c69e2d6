"""``eidetica entities``, ``entity`` and ``related`` end to end: a real SQLite file, the real
embedder, the output a person reads and the JSON a script reads (``wire.to_wire`` of what
``Memory`` returns)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eidetica import Memory, wire
from eidetica.cli import app
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.model import AddResult

from .test_cli import RUNNER, _error, _invoke, _json, _ok, _plain

#: Sam's sister works at a bank; Sam lived in Lisbon, then moved to Oslo (a later statement).
SAM = [
    ("My sister Ana works at Nubank.", "2024-03-01T10:00:00+00:00"),
    ("I live in Lisbon.", "2024-03-02T10:00:00+00:00"),
    ("I moved from Lisbon to Oslo last week.", "2024-05-02T10:00:00+00:00"),
]


@pytest.fixture
def added(db_path: Path, embedder: WordLlamaEmbedder) -> list[AddResult]:
    """Sam's three messages, stored in ``db_path`` one add each."""
    with Memory(db_path, embedder=embedder) as memory:
        return [
            memory.add([{"role": "user", "name": "Sam", "content": text}], user_id="sam", timestamp=when)
            for text, when in SAM
        ]


def _memory(db_path: Path, embedder: WordLlamaEmbedder) -> Memory:
    return Memory(db_path, embedder=embedder)


def test_entities_lists_names_kinds_and_dates_at_80_columns(
    db_path: Path, embedder: WordLlamaEmbedder, added: list[AddResult]
) -> None:
    with _memory(db_path, embedder) as memory:
        expected = wire.to_wire(memory.entities(user_id="sam"))
        places = wire.to_wire(memory.entities(user_id="sam", kind="place"))
    assert _json(db_path, "entities", "--user", "sam") == expected
    kinds = {e["name"]: e["kind"] for e in expected}
    assert {name: kinds[name] for name in ("Ana", "Lisbon", "Oslo", "Nubank")} == {
        "Ana": "person",
        "Lisbon": "place",
        "Oslo": "place",
        "Nubank": "organisation",
    }
    assert _json(db_path, "entities", "--user", "sam", "--kind", "place") == places
    assert {e["name"] for e in places} == {"Lisbon", "Oslo"}
    assert _json(db_path, "entities", "--user", "sam", "--limit", "2") == expected[:2]
    args = ["entities", "--user", "sam", "--db", str(db_path)]
    shown = RUNNER.invoke(app, args, env={"COLUMNS": "80"}, catch_exceptions=False).stdout
    assert all(len(line) <= 80 for line in shown.splitlines())
    rows = {line.split("│")[1].strip(): line for line in shown.splitlines() if line.count("│") > 2}
    assert "organisation" in rows["Nubank"] and "2024-03-01" in rows["Nubank"]
    assert "place" in rows["Lisbon"] and "2024-03-02" in rows["Lisbon"] and "2024-05-02" in rows["Lisbon"]
    assert "no entities mentioned yet" in _ok(db_path, "entities", "--user", "nobody").stdout


def test_entities_shows_aliases_under_the_name(db_path: Path) -> None:
    for said in ("Yesterday I met Mel at the park.", "My friend Melanie Johnson said she loves tea."):
        _ok(db_path, "add", said, "--user", "sam", "--speaker", "Sam")
    [melanie] = [e for e in _json(db_path, "entities", "--user", "sam") if e["name"] == "Melanie Johnson"]
    assert melanie["aliases"] == ["mel"]
    shown = _plain(_ok(db_path, "entities", "--user", "sam").stdout)
    assert "Melanie Johnson" in shown and "also: mel" in shown


def test_entity_prints_the_card_current_first_then_the_past(
    db_path: Path, embedder: WordLlamaEmbedder, added: list[AddResult]
) -> None:
    with _memory(db_path, embedder) as memory:
        ana = wire.to_wire(memory.entity("ana", user_id="sam"))
        lisbon = memory.entity("lisbon", user_id="sam")
    assert _json(db_path, "entity", "ana", "--user", "sam") == ana
    assert ana["relations"][0] | {"unit_id": None, "sources": None} == {
        "subject": "ana",
        "relation": "works at",
        "object": "nubank",
        "unit_id": None,
        "sources": None,
        "valid_from": "2024-03-01T10:00:00+00:00",
        "valid_to": None,
    }
    shown = _plain(_ok(db_path, "entity", "Ana", "--user", "sam").stdout)
    assert shown.startswith("Ana person, 1 mention, 2024-03-01 to 2024-03-01")
    fact = added[0].derived[0]
    assert f"Sam: {fact.text} fact {fact.id}" in shown
    assert f"ana → works at → nubank {fact.id}" in shown
    assert "mentioned with: " in shown and "Nubank" in shown.split("mentioned with: ")[1]
    # Lisbon: the move (current) comes first; the old address is marked past, with its end.
    moved, lived = added[2].derived[0], added[1].derived[0]
    assert [u.id for u in lisbon.units] == [moved.id, lived.id]
    shown = _plain(_ok(db_path, "entity", "LISBON", "--user", "sam").stdout)
    assert shown.index(moved.id) < shown.index("(past, until 2024-05-02) Sam: Sam lives in Lisbon.")


def test_related_lists_the_turn_and_what_a_unit_replaced(
    db_path: Path, embedder: WordLlamaEmbedder, added: list[AddResult]
) -> None:
    moved, lived, turn = added[2].derived[0], added[1].derived[0], added[2].turns[0]
    with _memory(db_path, embedder) as memory:
        expected = wire.to_wire(memory.related(moved.id, user_id="sam"))
    links = _json(db_path, "related", moved.id, "--user", "sam")
    assert links == expected
    assert [(link["kind"], link["unit"]["id"]) for link in links][:2] == [
        ("derived_from", turn.id),
        ("supersedes", lived.id),
    ]
    args = ["related", moved.id, "--user", "sam", "--db", str(db_path)]
    shown = RUNNER.invoke(app, args, env={"COLUMNS": "80"}, catch_exceptions=False).stdout
    assert all(len(line) <= 80 for line in shown.splitlines())
    assert turn.id in shown and lived.id in shown  # ids whole, to copy
    assert "derived_from" in shown and "supersedes" in shown
    assert "Sam: I moved from Lisbon" in _plain(shown)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("entity", "zed", "--user", "sam"), "error: no entity 'zed' in this memory; `entities` lists"),
        (("entity", " "), "error: name must be a non-empty string"),
        (("entities", "--limit", "-1"), "error: --limit must not be negative, got -1"),
        (("entities", "--limit", "5000"), "error: --limit must be at most 1,000, got 5000"),
        (("entities", "--user", ""), "error: --user must not be empty"),
        (("entity", "ana", "--user", ""), "error: --user must not be empty"),
        (("related", "NOPE"), "error: no memory unit with id 'NOPE'"),
        (("related", "NOPE", "--user", ""), "error: --user must not be empty"),
    ],
)
def test_bad_usage_is_one_line_in_cli_words(
    db_path: Path, added: list[AddResult], args: tuple[str, ...], expected: str
) -> None:
    assert _plain(_error(db_path, *args)).startswith(expected)


def test_an_unknown_kind_is_refused_with_the_choices_before_the_store_opens(db_path: Path) -> None:
    result = _invoke(db_path, "entities", "--kind", "robot")
    assert result.exit_code == 2, result.output
    message = _plain(result.output.replace("│", " "))  # the choices wrap inside rich's error box
    assert "Invalid value for '--kind'" in message
    assert "'robot' is not one of 'person', 'pet', 'place', 'organisation', 'other'." in message
    assert not db_path.exists()
