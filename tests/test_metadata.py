"""Metadata tags and filters, on SQLite and PostgreSQL: what is tagged is found by its tags (facts
derived from a tagged turn too), values compare as JSON does, and the keys Eidetica keeps itself
cannot be set, changed or lost by an update."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eidetica import Memory
from eidetica.cli import app
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.errors import UsageError
from eidetica.metadata import SYSTEM_KEYS, check_filter, matches
from eidetica.storage import open_store

from .postgres_server import BACKENDS, store_location

U = "maya"


@pytest.fixture(params=BACKENDS)
def mem(request: pytest.FixtureRequest, tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Memory]:
    with Memory(store=open_store(store_location(request, tmp_path / "m.db")), embedder=embedder) as memory:
        yield memory


@pytest.fixture
def tagged(mem: Memory) -> Memory:
    """Three projects' worth of statements, tagged per call and per message."""
    mem.add("I live in Lisbon and I work at Acme.", user_id=U, metadata={"project": "apollo", "n": 1})
    mem.add(
        [
            {"role": "user", "content": "My dog is called Rex.", "metadata": {"project": "zeus"}},
            {"role": "user", "content": "My cat is called Tom.", "metadata": {"flag": True}},
        ],
        user_id=U,
        metadata={"project": "hera", "n": 2.5},
    )
    mem.add("My sister lives in Porto.", user_id=U)
    return mem


def texts(units: object) -> set[str]:
    return {u.text for u in units}  # type: ignore[attr-defined]


def test_a_filter_finds_the_tagged_turns_and_the_facts_derived_from_them(tagged: Memory) -> None:
    apollo = tagged.list(user_id=U, metadata={"project": "apollo"})
    assert {u.kind for u in apollo} == {"turn", "fact"}
    assert all(u.metadata["project"] == "apollo" for u in apollo)
    assert any("Lisbon" in u.text and u.kind == "fact" for u in apollo)
    hits = tagged.search("where does the user live", user_id=U, metadata={"project": "apollo"})
    assert hits and all(h.unit.metadata.get("project") == "apollo" for h in hits)
    # Porto is the better answer to "where does my sister live", but it is not tagged apollo.
    sister = tagged.search("where does my sister live", user_id=U, metadata={"project": "apollo"})
    assert not any("Porto" in h.unit.text for h in sister)
    assert any("Porto" in h.unit.text for h in tagged.search("where does my sister live", user_id=U))


def test_a_message_s_own_tags_win_over_the_call_s(tagged: Memory) -> None:
    zeus = tagged.list(user_id=U, metadata={"project": "zeus"})
    assert any("Rex" in t for t in texts(zeus))
    assert not any("Tom" in t for t in texts(zeus))
    tom = tagged.list(user_id=U, metadata={"project": "hera", "flag": True})
    assert tom and all("Tom" in u.text for u in tom)
    assert all(u.metadata["n"] == 2.5 for u in tom)


def test_values_compare_as_json_does(tagged: Memory) -> None:
    one = texts(tagged.list(user_id=U, metadata={"n": 1}))
    assert one and one == texts(tagged.list(user_id=U, metadata={"n": 1.0}))
    assert not tagged.list(user_id=U, metadata={"n": "1"})
    assert not tagged.list(user_id=U, metadata={"n": True})
    assert not tagged.list(user_id=U, metadata={"flag": 1})
    assert tagged.list(user_id=U, metadata={"flag": True})
    assert not tagged.list(user_id=U, metadata={"flag": False})
    assert not tagged.list(user_id=U, metadata={"missing": None})
    # The call's tags reach every message, under the message's own.
    both = texts(tagged.list(user_id=U, metadata={"n": 2.5}))
    assert both == texts(tagged.list(user_id=U, metadata={"project": "zeus"})) | texts(
        tagged.list(user_id=U, metadata={"project": "hera"})
    )


def test_context_and_whole_histories_keep_to_the_filter(tagged: Memory) -> None:
    packed = tagged.context("what pets does the user have", user_id=U, metadata={"project": "zeus"})
    assert "Rex" in packed.text and "Tom" not in packed.text and "Lisbon" not in packed.text
    assert all(h.unit.metadata.get("project") == "zeus" for h in packed.hits)
    nothing = tagged.context("what pets does the user have", user_id=U, metadata={"project": "nope"})
    assert nothing.abstained and not nothing.hits


def test_a_null_value_and_keys_of_any_spelling_are_matched(mem: Memory) -> None:
    mem.add("I like green tea.", user_id=U, metadata={'odd "key".$[0]': None, "ünï": "çafé ☕"})
    assert mem.list(user_id=U, metadata={'odd "key".$[0]': None})
    assert mem.list(user_id=U, metadata={"ünï": "çafé ☕"})
    assert not mem.list(user_id=U, metadata={"ünï": "çafé"})
    with pytest.raises(UsageError, match="NUL"):
        mem.list(user_id=U, metadata={"ünï": "çafé\u0000"})


def test_bad_filters_are_refused_with_their_reason(mem: Memory) -> None:
    mem.add("I like green tea.", user_id=U)
    with pytest.raises(UsageError, match="string, number, boolean or null"):
        mem.search("tea", user_id=U, metadata={"tags": ["a"]})
    with pytest.raises(UsageError, match="must be an object"):
        mem.list(user_id=U, metadata="project=apollo")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="finite"):
        mem.list(user_id=U, metadata={"n": float("nan")})
    with pytest.raises(UsageError, match="64 bits"):
        mem.list(user_id=U, metadata={"n": 2**70})
    with pytest.raises(UsageError, match="at most 16 keys"):
        mem.list(user_id=U, metadata={str(i): i for i in range(17)})
    assert check_filter("metadata", {}) is None
    assert len(mem.list(user_id=U, metadata={})) == len(mem.list(user_id=U))


def test_reserved_keys_cannot_be_set_by_a_caller(mem: Memory) -> None:
    for key in sorted(SYSTEM_KEYS):
        with pytest.raises(UsageError, match=f"{key!r} is kept by eidetica"):
            mem.add("I like green tea.", user_id=U, metadata={key: "x"})
        with pytest.raises(UsageError, match=f"message 0: metadata key {key!r} is kept by eidetica"):
            mem.add([{"role": "user", "content": "I like tea.", "metadata": {key: 1}}], user_id=U)
    assert not mem.list(user_id=U)


def test_an_update_replaces_the_callers_tags_and_keeps_eideticas(mem: Memory) -> None:
    mem.add("I live in Lisbon.", user_id=U, timestamp="2024-01-05", metadata={"project": "apollo"})
    mem.add("I moved to Oslo last week.", user_id=U, timestamp="2024-06-05")
    old = next(u for u in mem.list(user_id=U, kinds=["fact"]) if "Lisbon" in u.text)
    assert old.valid_to is not None and "superseded_by" in old.metadata
    assert old.metadata["project"] == "apollo"
    updated = mem.update(old.id, "The user lived in Lisbon.", user_id=U, metadata={"checked": True})
    assert updated.metadata["superseded_by"] == old.metadata["superseded_by"]
    assert updated.metadata["checked"] is True and "project" not in updated.metadata
    # Sending back the whole metadata, reserved keys unchanged, is allowed ...
    again = mem.update(old.id, "The user lived in Lisbon.", user_id=U, metadata=dict(updated.metadata))
    assert again.metadata == updated.metadata
    # ... changing one is not, and nothing changes.
    with pytest.raises(UsageError, match="'superseded_by' is kept by eidetica"):
        mem.update(old.id, "x", user_id=U, metadata={**updated.metadata, "superseded_by": "other"})
    assert mem.get(old.id, user_id=U).version == again.version
    # The old Lisbon fact still reads as past: the update did not make it current again.
    hits = mem.search("where does the user live", user_id=U)
    assert "Oslo" in hits[0].unit.text
    assert mem.get(old.id, user_id=U).valid_to == old.valid_to


def test_the_filter_rule_matches_the_backends_rule() -> None:
    stored = {"s": "a", "i": 1, "f": 1.0, "b": True, "z": None, "l": [1]}
    assert matches(stored, (("i", 1.0), ("f", 1), ("s", "a"), ("b", True), ("z", None)))
    assert not matches(stored, (("b", 1),))
    assert not matches(stored, (("i", True),))
    assert not matches(stored, (("s", None),))
    assert not matches(stored, (("missing", None),))
    assert matches(stored, None)


def test_the_cli_tags_and_filters(tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "100", "EIDETICA_DB": None})
    db = str(tmp_path / "cli.db")
    added = runner.invoke(
        app, ["add", "My dog is called Rex.", "--user", U, "--db", db, "--metadata", '{"project": "zeus"}']
    )
    assert added.exit_code == 0, added.output
    runner.invoke(app, ["add", "My cat is called Tom.", "--user", U, "--db", db])
    listed = runner.invoke(
        app, ["list", "--user", U, "--db", db, "--metadata", '{"project": "zeus"}', "--json"]
    )
    assert listed.exit_code == 0, listed.output
    units = json.loads(listed.stdout)
    assert units and all("Rex" in u["text"] and u["metadata"] == {"project": "zeus"} for u in units)
    found = runner.invoke(
        app, ["search", "pets", "--user", U, "--db", db, "--metadata", '{"project": "zeus"}', "--json"]
    )
    assert found.exit_code == 0 and all("Rex" in h["unit"]["text"] for h in json.loads(found.stdout))
    bad = runner.invoke(app, ["list", "--user", U, "--db", db, "--metadata", "project=zeus"])
    assert bad.exit_code != 0 and "--metadata" in bad.output and "not JSON" in bad.output
    reserved = runner.invoke(app, ["add", "x", "--user", U, "--db", db, "--metadata", '{"mentions": 2}'])
    assert reserved.exit_code == 1 and "kept by eidetica" in reserved.output
