"""What only the PostgreSQL store has: migrations in the database, row-level security, a pool.

The behaviour every backend shares is in ``test_contract.py``; these tests run against a real
server (see ``tests/postgres_server.py``) and are skipped when none can be started.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest

from eidetica import Memory, NotFoundError, StoreError, UsageError
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.eval import runner
from eidetica.ids import new_id
from eidetica.model import MemoryUnit, Scope
from eidetica.retrieve.query import lexical_terms
from eidetica.storage import NewUnit, UnitFilter, open_store

psycopg = pytest.importorskip("psycopg")
from eidetica.storage.postgres import PostgresStore  # noqa: E402
from eidetica.storage.postgres_schema import APP_ROLE, MIGRATIONS, migrate  # noqa: E402

from ..conftest import LOCOMO  # noqa: E402
from ..postgres_server import ENV_URL  # noqa: E402

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    backend = PostgresStore(postgres_url)
    backend.check_embedder("test/4", 4)
    yield backend
    backend.close()


def _unit(text: str, tenant: str, user: str = "u1") -> NewUnit:
    unit = MemoryUnit(id=new_id(), kind="turn", text=text, scope=Scope(user, tenant), recorded_at=T0)
    return NewUnit(unit, np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32), text)


def _admin_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def test_migrations_are_recorded_once_and_reopening_applies_none(postgres_url: str) -> None:
    PostgresStore(postgres_url).close()
    recorded = _admin_rows(postgres_url, "SELECT name, applied_at FROM eidetica.migrations ORDER BY name")
    assert [name for name, _ in recorded] == [name for name, _ in MIGRATIONS]
    PostgresStore(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert migrate(conn) == []
    assert (
        _admin_rows(postgres_url, "SELECT name, applied_at FROM eidetica.migrations ORDER BY name")
        == recorded
    )


def test_concurrent_first_opens_migrate_once(postgres_url: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        stores = list(pool.map(lambda _: PostgresStore(postgres_url, max_size=2), range(4)))
    for s in stores:
        s.close()
    assert len(_admin_rows(postgres_url, "SELECT name FROM eidetica.migrations")) == len(MIGRATIONS)


def test_vector_column_takes_the_embedders_dimension(store: PostgresStore) -> None:
    with store.transaction(None) as conn:
        row = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'eidetica.units'::regclass AND attname = 'embedding'"
        ).fetchone()
    assert row == ("vector(4)",)
    with pytest.raises(StoreError, match="same embedder"):
        store.check_embedder("other/4", 4)


def test_row_level_security_blocks_a_query_without_tenant_predicate(store: PostgresStore) -> None:
    store.add([_unit("alpha secret", "tenant-a"), _unit("beta secret", "tenant-b")])
    with store.transaction("tenant-a") as conn:
        assert conn.execute("SELECT current_user").fetchone() == (APP_ROLE,)
        # No tenant predicate: row-level security alone keeps tenant-b's rows out.
        assert conn.execute("SELECT tenant, text FROM eidetica.units").fetchall() == [
            ("tenant-a", "alpha secret")
        ]
        assert {r[0] for r in conn.execute("SELECT tenant FROM eidetica.history")} == {"tenant-a"}
        assert conn.execute("UPDATE eidetica.units SET text = 'overwritten'").rowcount == 1
    with store.transaction(None) as conn:  # no tenant named: no rows at all
        assert conn.execute("SELECT count(*) FROM eidetica.units").fetchone() == (0,)
    with pytest.raises(StoreError, match="row-level security"), store.transaction("tenant-a") as conn:
        conn.execute(
            "INSERT INTO eidetica.history (tenant, user_id, unit_id, version, op, text, at) "
            "VALUES ('tenant-b', 'u1', 'x', 1, 'add', 'planted', now())"
        )
    theirs = store.list_units(UnitFilter(Scope(user_id="u1", tenant="tenant-b")))
    assert [u.text for u in theirs] == ["beta secret"]
    assert [e.op for e in store.history(theirs[0].id, tenant="tenant-b")] == ["add"]


def test_a_superuser_connection_still_drops_to_the_app_role(store: PostgresStore, postgres_url: str) -> None:
    if _admin_rows(postgres_url, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") != [(True,)]:
        pytest.skip("the test server's user is not a superuser")
    with store.transaction("t") as conn:
        assert conn.execute("SELECT current_user, current_setting('eidetica.tenant')").fetchone() == (
            APP_ROLE,
            "t",
        )


def test_an_application_login_that_is_a_member_works_as_the_app_role(
    store: PostgresStore, postgres_url: str
) -> None:
    """The deployment where an owner ran the migrations and the service logs in as a member."""
    if os.environ.get(ENV_URL):
        pytest.skip("logs in as a new role without a password: needs the embedded test server")
    login = f"eidetica_svc_{new_id().lower()}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {login} LOGIN IN ROLE {APP_ROLE}")
    try:
        service = PostgresStore(with_user(postgres_url, login))
        try:
            service.check_embedder("test/4", 4)
            service.add([_unit("from the service", "t")])
            with service.transaction("t") as conn:
                assert conn.execute("SELECT current_user, session_user").fetchone() == (APP_ROLE, login)
            assert [u.text for u in service.list_units(UnitFilter(Scope(user_id="u1", tenant="t")))] == [
                "from the service"
            ]
        finally:
            service.close()
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP ROLE {login}")


def with_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}@{parts.hostname}:{parts.port}"))


def test_lexical_scores_equal_the_sqlite_stores(
    postgres_url: str, tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    """Same texts and edits, same query: the same units with the same BM25 scores on both backends."""
    lines = [
        "Running with my dogs every morning keeps me sane",
        "I ran the Lisbon marathon in 2022 and my knees still hurt",
        "Café naïve résumé: I finally rewrote my résumé",
        "The dogs' names are Rex and Bella; Rex is the runner",
        "We painted the kitchen yellow on Sunday",
    ]
    scores = []
    for location in (tmp_path / "ref.db", postgres_url):
        with Memory(location, embedder=embedder) as memory:
            # One session, so each turn is also indexed by the words said before it.
            memory.add([{"role": "user", "content": line, "name": "Sam"} for line in lines], session_id="s")
            derived = memory.list(kinds=["fact", "event"])
            assert derived, "the rules should derive at least one unit from these lines"
            memory.update(derived[0].id, "Sam ran a half marathon in Porto")
            memory.delete(memory.list(kinds=["turn"])[-1].id)
            where = UnitFilter(Scope())
            per_query = []
            for query in ("running dogs", "Who ran a marathon?", "resume cafe", "Sam kitchen", "rex porto"):
                for weight in (0.0, 0.8):
                    ranked = memory.store.search_lexical(
                        where, lexical_terms(query), 20, context_weight=weight
                    )
                    texts = memory.store.get_many([i for i, _ in ranked], tenant="default")
                    per_query.append(sorted((texts[i].kind, texts[i].text, round(s, 9)) for i, s in ranked))
            scores.append(per_query)
    assert scores[0] == scores[1]
    assert any(scores[0])


def test_memory_over_postgres_end_to_end(postgres_url: str, embedder: WordLlamaEmbedder) -> None:
    with Memory(postgres_url, embedder=embedder) as memory:
        assert isinstance(memory.store, PostgresStore)
        added = memory.add(
            [
                {"role": "user", "content": "I moved to Porto in March 2023 for a new job.", "id": "t1"},
                {"role": "assistant", "content": "Congratulations on the move!", "id": "t2"},
            ],
            user_id="ana",
            timestamp="2023-03-10",
        )
        assert memory.add({"role": "user", "content": "dup", "id": "t1"}, user_id="ana").skipped_refs == [
            "t1"
        ]
        hits = memory.search("Where does Ana live now?", user_id="ana")
        assert hits and hits[0].unit.scope.user_id == "ana"
        assert any("Porto" in h.text for h in hits)
        context = memory.context("Where did she move?", user_id="ana", budget_tokens=200)
        assert "Porto" in context.text
        fact = added.derived[0]
        memory.update(fact.id, "Ana lives in Porto", user_id="ana")
        assert memory.get(fact.id).text == "Ana lives in Porto"
        assert [e.op for e in memory.history(fact.id)] == ["add", "update"]
        assert memory.search("lives Porto", user_id="ana", kinds=["fact", "event"])[0].id == fact.id
        turn = added.turns[1]
        deleted = memory.delete(turn.id, user_id="ana")
        assert deleted.status == "deleted" and memory.get(turn.id).status == "deleted"
        assert [e.op for e in memory.history(turn.id)] == ["add", "delete"]
        assert turn.id not in {h.id for h in memory.search("Congratulations", user_id="ana")}
        # What was derived from that turn alone goes with it.
        retired = [u for u in added.derived if turn.id in u.derived_from]
        assert retired and all(memory.get(u.id).status == "deleted" for u in retired)
        stats = memory.stats(user_id="ana")
        assert stats.deleted == 1 + len(retired) and stats.bytes_on_disk
        assert stats.units == len(added.units) - 1 - len(retired)
        assert memory.forget(user_id="ana") == len(added.units)
        assert memory.stats(user_id="ana").units == 0
        with pytest.raises(NotFoundError):
            memory.history(turn.id)


def test_concurrent_writers_from_threads(store: PostgresStore) -> None:
    def write(i: int) -> None:
        store.add([_unit(f"note {i} {j}", "default", user=f"u{i % 3}") for j in range(20)])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(24)))
    assert sum(store.stats("default", f"u{i}").units for i in range(3)) == 24 * 20
    assert store.stats("default", None).users == 3


def test_a_failed_batch_writes_nothing(store: PostgresStore) -> None:
    good = _unit("fine", "default")
    nul = _unit("bad \x00 text", "default")
    with pytest.raises(StoreError, match="NUL"):
        store.add([good, nul])
    with pytest.raises(NotFoundError):
        store.get(good.unit.id, tenant="default")


def test_open_store_resolves_postgres_urls(postgres_url: str) -> None:
    for url in (postgres_url, postgres_url.replace("postgresql://", "postgres://", 1)):
        opened = open_store(url)
        assert isinstance(opened, PostgresStore)
        opened.close()


def test_unreachable_server_says_what_to_check_without_the_password() -> None:
    with pytest.raises(StoreError, match=r"PostgreSQL at 127\.0\.0\.1:1/nowhere.*server is running") as info:
        PostgresStore("postgresql://someone:hunter2@127.0.0.1:1/nowhere", timeout=2)
    assert "hunter2" not in str(info.value)


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "eidetica.storage.postgres", None)
    with pytest.raises(UsageError, match=r"pip install 'eidetica\[postgres\]'"):
        open_store("postgresql://localhost/db")


@pytest.mark.slow
@pytest.mark.skipif(not LOCOMO.exists(), reason=f"{LOCOMO} not present")
def test_locomo_recall_is_the_same_on_both_backends(postgres_url: str, tmp_path: Path) -> None:
    """One conversation (one user, so equal BM25 statistics): the same recall from either store."""
    conversation = json.loads(LOCOMO.read_text(encoding="utf-8"))[0]
    conversation["qa"] = conversation["qa"][:60]
    dataset = tmp_path / "locomo_one.json"
    dataset.write_text(json.dumps([conversation]), encoding="utf-8")

    recall = {}
    for db in (tmp_path / "eval.db", postgres_url):
        results, meta = runner.run_evaluation(runner.LOCOMO, dataset, budgets=[400], db=db, baselines=False)
        recall[meta["store"]] = results["eidetica"]["400"]["overall"]["evidence_recall"]
    assert recall["PostgresStore"] == pytest.approx(recall["SQLiteStore"], abs=0.01)
    assert recall["SQLiteStore"] > 0.5
