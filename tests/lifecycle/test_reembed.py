"""Re-embedding a store with another embedder (``eidetica.lifecycle.reembed``), on both backends,
with the real WordLlama and MiniLM embedders: the swap, an interrupted run and its resumption,
what other writers do meanwhile and after, and the ``eidetica reembed`` command."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest
from typer.testing import Result

from eidetica import EmbedderError, Memory, StoreError
from eidetica.cli import app
from eidetica.embedders import Embedder, load_embedder
from eidetica.embedders.base import Vectors
from eidetica.ingest.index_texts import embed_text
from eidetica.lifecycle.reembed import ReembedReport, reembed
from eidetica.model import MemoryUnit, Scope
from eidetica.storage import Store, UnitFilter, open_store

from ..embedders.test_minilm import DISTRACTORS as MINILM_DISTRACTORS
from ..embedders.test_minilm import EVIDENCE, QUESTION
from ..postgres_server import BACKENDS, store_location, with_database
from ..test_cli import RUNNER, _error, _json, _ok, _plain

# The question the MiniLM tests ask, and a fact about Joanna's work beside its distractors.
DISTRACTORS = [*MINILM_DISTRACTORS, "I work as a nurse at the city hospital."]
BEN = ["I play the cello in a string quartet.", "We rehearse every Thursday evening."]
JOANNA = Scope(user_id="joanna")


class Stop(Exception):
    """Raised by a progress callback to stop a run, as Ctrl-C or a crash would."""


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return load_embedder("minilm")


@pytest.fixture(params=BACKENDS)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_location(request, tmp_path / "memory.db")


@pytest.fixture
def store(location: str) -> Iterator[Store]:
    backend = open_store(location)
    yield backend
    backend.close()


def _turns(texts: Sequence[str]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text} for text in texts]


def _fill(location: str, embedder: Embedder) -> int:
    """Joanna's turns in the default tenant, Ben's in tenant acme; return how many active units."""
    with Memory(location, embedder=embedder) as memory:
        memory.add(_turns([*DISTRACTORS, EVIDENCE]), user_id="joanna")
        count = memory.stats().units
    with Memory(location, embedder=embedder, tenant="acme") as memory:
        memory.add(_turns(BEN), user_id="ben")
        return count + memory.stats().units


class StopAfter:
    """A progress callback that stops the run once ``batches`` batches are staged, and keeps how
    many units were staged then."""

    def __init__(self, batches: int) -> None:
        self.batches, self.calls, self.done = batches, 0, 0

    def __call__(self, done: int, total: int) -> None:
        self.calls, self.done = self.calls + 1, done
        if self.calls > self.batches:
            raise Stop


def _staged(location: str) -> int:
    """How many vectors the store's staging holds, read past the store."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM eidetica.reembed").fetchone()
            return int(row[0]) if row else 0
    with sqlite3.connect(location) as conn:
        return int(conn.execute("SELECT count(*) FROM reembed_vectors").fetchone()[0])


def _nearest(store: Store, embedder: Embedder, unit: MemoryUnit) -> tuple[str, float]:
    """The unit whose stored vector is nearest to ``embedder``'s vector of ``unit``'s text."""
    query = embedder.embed([embed_text(unit)])[0]
    return store.search_vector(UnitFilter(unit.scope), query, 1)[0]


def test_after_the_swap_search_ranks_with_the_new_embedders_vectors(
    location: str, store: Store, embedder: Embedder, minilm: Embedder
) -> None:
    total = _fill(location, embedder)
    # Fill the SQLite store's in-memory vectors with the old ones, so the swap must replace them.
    assert store.search_vector(UnitFilter(JOANNA), embedder.embed([QUESTION])[0], 3)

    report = reembed(store, minilm)

    assert report == ReembedReport(embedder.name, minilm.name, total, 0, at_swap=0, changed=True)
    assert store.stored_embedder() == minilm.name
    question = minilm.embed([QUESTION])[0]
    ranked = store.search_vector(UnitFilter(JOANNA), question, 10)
    best = store.get(ranked[0][0], tenant="default")
    assert "chocolate cake" in best.text
    # Each score is MiniLM's cosine of the unit's text (int8 on SQLite: within rounding).
    units = store.get_many([unit_id for unit_id, _ in ranked], tenant="default")
    expected = minilm.embed([embed_text(units[unit_id]) for unit_id, _ in ranked]) @ question
    assert np.allclose([score for _, score in ranked], expected, atol=0.02)
    store.close()

    with Memory(location, embedder=minilm) as memory:
        assert "chocolate cake" in memory.search(QUESTION, user_id="joanna", k=1)[0].text
        assert memory.stats().unembedded == 0
    with Memory(location, embedder=minilm, tenant="acme") as memory:
        assert memory.stats().unembedded == 0
        ben = memory.list(user_id="ben", kinds=["turn"])[0]
        assert _nearest(memory.store, minilm, ben)[0] == ben.id
    with pytest.raises(StoreError, match="eidetica reembed --embedder wordllama"):
        Memory(location, embedder=embedder)


def test_an_interrupted_run_changes_nothing_and_the_next_one_resumes(
    location: str, store: Store, embedder: Embedder, minilm: Embedder
) -> None:
    total = _fill(location, embedder)
    question = embedder.embed([QUESTION])[0]
    with Memory(location, embedder=embedder) as memory:
        hits_before = [h.unit.id for h in memory.search(QUESTION, user_id="joanna")]
        dense_before = memory.store.search_vector(UnitFilter(JOANNA), question, 10)

    stop = StopAfter(2)
    with pytest.raises(Stop):
        reembed(store, minilm, batch=3, progress=stop)
    assert stop.done > 0

    # Searches still use the old embedder and its vectors, scores and all.
    assert store.stored_embedder() == embedder.name
    assert _staged(location) == stop.done
    with Memory(location, embedder=embedder) as memory:
        assert [h.unit.id for h in memory.search(QUESTION, user_id="joanna")] == hits_before
        assert memory.store.search_vector(UnitFilter(JOANNA), question, 10) == dense_before
        added = len(memory.add("I also keep bees on the roof.", user_id="joanna").units)  # writes work
    with pytest.raises(StoreError, match="holds vectors from embedder 'wordllama"):
        Memory(location, embedder=minilm)

    seen: list[tuple[int, int]] = []
    report = reembed(store, minilm, batch=3, progress=lambda done, of: seen.append((done, of)))

    assert seen[0] == (stop.done, total + added)
    assert report.resumed == stop.done
    assert report.embedded == total + added - stop.done
    assert report.embedded < total
    assert store.stored_embedder() == minilm.name
    assert _staged(location) == 0


class _FailsOn:
    """MiniLM, except that it fails on any text holding ``word`` (an endpoint going down)."""

    def __init__(self, inner: Embedder, word: str) -> None:
        self.inner, self.word = inner, word
        self.name, self.dim = inner.name, inner.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        if any(self.word in text for text in texts):
            raise EmbedderError("the embedding endpoint went away")
        return self.inner.embed(texts)


def test_what_other_writers_add_or_change_meanwhile_is_embedded_in_the_swap(
    location: str, store: Store, embedder: Embedder, minilm: Embedder
) -> None:
    total = _fill(location, embedder)
    old = Memory(location, embedder=embedder)  # a writer that keeps running on the old embedder
    late = Memory(location, embedder=embedder, tenant="late")  # a tenant born meanwhile
    fact = old.list(user_id="joanna", kinds=["fact"])[0]

    def meanwhile(done: int, of: int) -> None:
        if done == of:  # every unit known at the start is staged: these come after their pass
            old.update(fact.id, "Joanna works night shifts at the hospital", user_id="joanna")
            late.add("I restore antique clocks in my workshop.", user_id="zoe")

    # A failure inside the swap transaction rolls all of it back: the old embedder stays in use.
    with pytest.raises(EmbedderError, match="went away"):
        reembed(store, _FailsOn(minilm, "antique"), batch=4, progress=meanwhile)
    assert store.stored_embedder() == embedder.name
    assert _staged(location) == total
    assert late.search("antique clocks", user_id="zoe")[0].text.startswith("I restore antique clocks")

    report = reembed(store, minilm, batch=4)
    assert 0 < report.resumed < total  # the fact (and the turn it closes) changed after their pass
    assert store.stored_embedder() == minilm.name
    changed = store.get(fact.id, tenant="default")
    assert changed.version == fact.version + 1
    clocks = late.list(user_id="zoe", kinds=["turn"])[0]
    for unit in (changed, clocks):
        unit_id, score = _nearest(store, minilm, unit)
        assert unit_id == unit.id and score > 0.98

    # The writer still on the old embedder cannot mix its vectors into the new ones, and its
    # searches say why they cannot be answered.
    with pytest.raises(StoreError):
        old.add("I sold my old car.", user_id="joanna")
    with pytest.raises(StoreError, match="re-embedded for another embedder"):
        old.search(QUESTION, user_id="joanna")
    old.close()
    late.close()
    with Memory(location, embedder=minilm) as memory:
        assert any("chocolate cake" in hit.text for hit in memory.search(QUESTION, user_id="joanna", k=3))
        assert memory.stats().unembedded == 0


def test_changes_made_after_the_last_pass_are_embedded_at_the_swap(
    location: str, store: Store, embedder: Embedder, minilm: Embedder
) -> None:
    _fill(location, embedder)
    late = Memory(location, embedder=embedder, tenant="late")

    def meanwhile(done: int, of: int) -> None:
        if done == of and not late.list(user_id="zoe"):
            late.add("I restore antique clocks in my workshop.", user_id="zoe")

    report = reembed(store, minilm, batch=100, progress=meanwhile)
    late.close()
    assert report.at_swap == len(store.list_units(UnitFilter(Scope(user_id="zoe", tenant="late")))) > 0
    clocks = store.list_units(UnitFilter(Scope(user_id="zoe", tenant="late"), kinds=("turn",)))[0]
    assert _nearest(store, minilm, clocks)[0] == clocks.id


def test_forgetting_a_user_erases_their_staged_vectors_too(
    location: str, store: Store, embedder: Embedder, minilm: Embedder
) -> None:
    total = _fill(location, embedder)
    with pytest.raises(Stop):
        reembed(store, minilm, batch=100, progress=StopAfter(2))  # one batch per tenant
    assert _staged(location) == total
    with Memory(location, embedder=embedder) as memory:
        removed = memory.forget(user_id="joanna")
    assert _staged(location) == total - removed


def test_reembedding_with_the_embedder_in_use_drops_a_stale_staging(
    location: str, store: Store, embedder: Embedder, minilm: Embedder
) -> None:
    total = _fill(location, embedder)
    with pytest.raises(Stop):
        reembed(store, minilm, batch=2, progress=StopAfter(1))
    assert _staged(location) == 2

    report = reembed(store, embedder)

    assert report == ReembedReport(embedder.name, embedder.name, 0, 0, 0, changed=False)
    assert _staged(location) == 0
    assert reembed(store, minilm).embedded == total


def test_a_staging_replaced_by_another_run_is_not_swapped_in(
    location: str, store: Store, embedder: Embedder, minilm: Embedder
) -> None:
    _fill(location, embedder)
    store.reembed_begin(minilm.name, minilm.dim)
    store.reembed_discard()
    with pytest.raises(StoreError, match="nothing is staged"):
        store.reembed_swap(minilm.name, minilm.dim, minilm.embed)
    assert store.stored_embedder() == embedder.name


# -- PostgreSQL: an owner that is no superuser ------------------------------------------------------


def test_an_owner_without_superuser_reembeds_every_tenant_under_forced_row_security(
    postgres_server: str, embedder: Embedder, minilm: Embedder
) -> None:
    """Row-level security is forced on the tables' owner too; re-embedding still reaches every
    tenant, and leaves the forcing on."""
    import psycopg

    from eidetica.storage.postgres_schema import APP_ROLE

    suffix = uuid.uuid4().hex[:12]
    owner, service, database = f"eidetica_owner_{suffix}", f"eidetica_svc_{suffix}", f"eidetica_test_{suffix}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {owner} LOGIN PASSWORD 'owner-secret'")
        admin.execute(f'CREATE DATABASE "{database}" OWNER {owner}')
        admin.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') "
            f"THEN CREATE ROLE {APP_ROLE} NOLOGIN; END IF; END $$"
        )
        admin.execute(f"GRANT {APP_ROLE} TO {owner}")
    as_superuser = with_database(postgres_server, database)
    with psycopg.connect(as_superuser, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")  # pgvector is not a trusted extension
    parts = urlsplit(as_superuser)
    url = urlunsplit(parts._replace(netloc=f"{owner}:owner-secret@{parts.hostname}:{parts.port}"))
    try:
        total = _fill(url, embedder)
        backend = open_store(url)
        try:
            report = reembed(backend, minilm)
        finally:
            backend.close()
        assert report.embedded == total
        for tenant, user in (("default", "joanna"), ("acme", "ben")):
            with Memory(url, embedder=minilm, tenant=tenant) as memory:
                assert memory.stats().unembedded == 0
                turn = memory.list(user_id=user, kinds=["turn"])[0]
                assert _nearest(memory.store, minilm, turn)[0] == turn.id
        with psycopg.connect(as_superuser, autocommit=True) as conn:
            forced = conn.execute(
                "SELECT relforcerowsecurity FROM pg_class WHERE oid = 'eidetica.units'::regclass"
            ).fetchone()
            superuser = conn.execute(f"SELECT rolsuper FROM pg_roles WHERE rolname = '{owner}'").fetchone()
        assert forced == (True,) and superuser == (False,)

        # A login that is only a member of the app role may use the store, not re-embed it.
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f"CREATE ROLE {service} LOGIN PASSWORD 'service-secret' IN ROLE {APP_ROLE}")
        as_service = urlunsplit(
            parts._replace(netloc=f"{service}:service-secret@{parts.hostname}:{parts.port}")
        )
        backend = open_store(as_service)
        try:
            with pytest.raises(StoreError, match="only the owner of the eidetica tables"):
                reembed(backend, embedder)
            assert backend.stored_embedder() == minilm.name
        finally:
            backend.close()
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f"DROP ROLE IF EXISTS {service}")
            admin.execute(f"DROP ROLE {owner}")


# -- the command --------------------------------------------------------------------------------


def _with_minilm(db: Path, *args: str) -> Result:
    return RUNNER.invoke(
        app, [*args, "--db", str(db)], env={"EIDETICA_EMBEDDER": "minilm"}, catch_exceptions=False
    )


def test_the_reembed_command_resumes_moves_the_database_and_says_so(
    db_path: Path, embedder: Embedder, minilm: Embedder
) -> None:
    for text in [*DISTRACTORS, EVIDENCE]:
        _ok(db_path, "add", text, "--user", "joanna")
    total = _json(db_path, "stats")["units_by_kind"]
    store = open_store(db_path)
    with pytest.raises(Stop):
        reembed(store, minilm, batch=2, progress=StopAfter(1))
    store.close()

    result = _ok(db_path, "reembed", "--embedder", "minilm", "--json")
    report = json.loads(result.stdout)
    assert set(report) == {f.name for f in dataclasses.fields(ReembedReport)}
    assert report["previous"] == embedder.name and report["embedder"] == minilm.name
    assert report["resumed"] == 2 and report["embedded"] == sum(total.values()) - 2
    assert f"resuming: 2 of {sum(total.values())} units were embedded" in _plain(result.stderr)

    found = _with_minilm(db_path, "search", QUESTION, "--user", "joanna", "--json")
    assert found.exit_code == 0, found.output
    assert "chocolate cake" in json.loads(found.stdout)[0]["unit"]["text"]
    refused = _error(db_path, "search", QUESTION, "--user", "joanna")
    assert "holds vectors from embedder 'minilm/" in refused
    assert "eidetica reembed --embedder wordllama" in _plain(refused)

    again = _plain(_ok(db_path, "reembed", "--embedder", "minilm").stdout)
    assert again == f"the database already holds {minilm.name} vectors: nothing to re-embed"
    assert _plain(_error(db_path, "reembed", "--embedder", "nope")).startswith(
        "error: unknown embedder 'nope'"
    )


def test_the_reembed_command_reports_in_words(db_path: Path) -> None:
    _ok(db_path, "add", EVIDENCE, "--user", "joanna")
    done = _plain(_ok(db_path, "reembed", "--embedder", "minilm").stdout)
    assert done.startswith("re-embedded ") and "EIDETICA_EMBEDDER=minilm from now on" in done
    assert _with_minilm(db_path, "stats").exit_code == 0
