"""Export and import (``lifecycle.transfer``, ``Memory.export``, ``Memory.import_file``), from and
to SQLite and PostgreSQL: a user's whole memory, every status and every version, comes back as
it was, in the same store or another backend, under the same user or another; a second import
stores nothing twice; a damaged file stores nothing; the graph is well-formed GraphML.
"""

from __future__ import annotations

import io
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from eidetica import InputFormatError, Memory, UsageError, wire
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.ingest.formats import read_file

from ..postgres_server import BACKENDS, store_location, with_database

USER = "sam"


def say(memory: Memory, text: str, at: str, session: str) -> None:
    memory.add(
        [{"role": "user", "name": "Sam", "content": text, "timestamp": at}], user_id=USER, session_id=session
    )


@pytest.fixture(params=BACKENDS)
def source(request: pytest.FixtureRequest, tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Memory]:
    """A memory that went through what memory goes through: a change, an edit, a deletion, a
    fade, a mention."""
    with Memory(store_location(request, tmp_path / "source.db"), embedder=embedder) as memory:
        say(memory, "I adopted a greyhound called Pixel.", "2021-03-01T10:00:00Z", "s1")
        say(memory, "I live in Lisbon.", "2024-01-10T10:00:00Z", "s2")
        say(memory, "I moved from Lisbon to Oslo last week.", "2024-06-10T10:00:00Z", "s3")
        say(memory, "I drink green tea every afternoon.", "2024-07-01T10:00:00Z", "s4")
        say(memory, "I drink green tea every afternoon.", "2024-08-01T10:00:00Z", "s5")
        facts = memory.list(user_id=USER, kinds=["fact"])
        tea = next(u for u in facts if "tea" in u.text)
        memory.update(tea.id, "Sam drinks oolong tea every afternoon.", user_id=USER)
        memory.delete(next(u for u in facts if "Oslo" in u.text or "Lisbon" in u.text).id, user_id=USER)
        memory.maintain(user_id=USER)
        yield memory


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Memory]:
    """Another store: a file, or a database of its own (the source may be on the same server)."""
    if request.param == "sqlite":
        with Memory(tmp_path / "target.db", embedder=embedder) as memory:
            yield memory
        return
    server = request.getfixturevalue("postgres_server")
    name = f"eidetica_target_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with Memory(with_database(server, name), embedder=embedder) as memory:
            yield memory
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def exported(memory: Memory, tmp_path: Path, user: str = USER) -> Path:
    path = tmp_path / "export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        memory.export(out, user_id=user)
    return path


def everything(memory: Memory, user: str = USER) -> dict[str, Any]:
    """Every unit of the user, each with its history, as the wire shows them (the tenant and
    the user left out: a memory may be imported under another)."""
    units = memory.list(user_id=user, include_deleted=True, include_archived=True, limit=None)
    return {
        u.id: {
            **{k: v for k, v in wire.to_wire(u).items() if k != "scope"},
            "session": u.scope.session_id,
            "history": wire.to_wire(memory.history(u.id, user_id=user)),
        }
        for u in units
    }


def test_a_memory_comes_back_as_it_was(source: Memory, target: Memory, tmp_path: Path) -> None:
    before = everything(source)
    statuses = {u["status"] for u in before.values()}
    assert {"active", "archived", "deleted"} <= statuses
    assert any(len(u["history"]) > 2 for u in before.values())  # added, updated, mentioned...

    report = target.import_file(exported(source, tmp_path))
    assert report.turns + report.derived == len(before) and report.skipped_refs == 0
    assert everything(target) == before
    question = "Where does Sam live now?"
    assert [h.id for h in target.search(question, user_id=USER)] == [
        h.id for h in source.search(question, user_id=USER)
    ]
    assert target.stats(user_id=USER).archived == source.stats(user_id=USER).archived

    again = target.import_file(exported(source, tmp_path))
    assert (again.turns, again.derived, again.skipped_refs) == (0, 0, len(before))


def test_an_import_may_name_another_user(source: Memory, tmp_path: Path) -> None:
    path = exported(source, tmp_path)
    with Memory(tmp_path / "other.db", embedder=source.embedder) as other:
        other.import_file(path, user_id="samuel")
        assert everything(other, "samuel") == everything(source)
        assert other.list(user_id=USER) == []


def test_a_damaged_export_stores_nothing(source: Memory, tmp_path: Path) -> None:
    path = exported(source, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2][: len(lines[2]) // 2]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Memory(tmp_path / "damaged.db", embedder=source.embedder) as other:
        with pytest.raises(InputFormatError, match="line 3"):
            other.import_file(path)
        assert other.stats().units == 0


def test_an_export_says_what_it_is_and_is_not_read_as_turns(source: Memory, tmp_path: Path) -> None:
    path = exported(source, tmp_path)
    header, *records = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    assert header["format"] == "eidetica-export" and header["user_id"] == USER
    kinds = {r["type"] for r in records}
    assert kinds == {"unit", "entity", "relation"}
    assert any(r["type"] == "entity" and r["name"] == "Sam" for r in records)
    with pytest.raises(UsageError, match="is an Eidetica export"):
        read_file(path)  # what Client.import_file reads: an export is not turns to send


def test_the_graph_is_graphml_with_entities_units_and_their_edges(source: Memory) -> None:
    out = io.StringIO()
    report = source.export(out, user_id=USER, graph=True)
    root = ET.fromstring(out.getvalue())
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    nodes = {n.get("id"): n for n in root.iterfind(".//g:node", ns)}
    edges = [(e.get("source"), e.get("target"), e.findtext("g:data[@key='e_label']", namespaces=ns))
             for e in root.iterfind(".//g:edge", ns)]  # fmt: skip
    assert report.entities == sum(1 for n in nodes if n.startswith("entity:")) > 0
    assert "entity:sam" in nodes
    assert any(label == "mentions" and target == "entity:sam" for _, target, label in edges)
    assert all(source_ in nodes and target in nodes for source_, target, _ in edges)
    active = {u.id for u in source.list(user_id=USER, kinds=["fact", "event"], limit=None)}
    assert {n.removeprefix("unit:") for n in nodes if n.startswith("unit:")} == active


def test_the_cli_exports_to_a_file_and_imports_it(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    from typer.testing import CliRunner

    from eidetica.cli import app

    db, copy, path = tmp_path / "cli.db", tmp_path / "copy.db", tmp_path / "sam.jsonl"
    with Memory(db, embedder=embedder) as memory:
        say(memory, "I adopted a greyhound called Pixel.", "2024-03-01T10:00:00Z", "s1")
        stored = len(memory.list(user_id=USER))
    runner = CliRunner()
    written = runner.invoke(app, ["export", "--user", USER, "--out", str(path), "--db", str(db), "--json"])
    assert written.exit_code == 0, written.output
    assert json.loads(written.stdout)["units"] == stored
    loaded = runner.invoke(app, ["import", str(path), "--db", str(copy), "--json"])
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout)["skipped_refs"] == 0
    graph = runner.invoke(app, ["export", "--user", USER, "--graphml", "--db", str(db)])
    assert graph.exit_code == 0 and ET.fromstring(graph.stdout).tag.endswith("graphml")
