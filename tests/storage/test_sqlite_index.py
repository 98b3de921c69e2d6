"""The contentless FTS5 index holds exactly what ``lexicon`` says it was given, through every write.

FTS5 removes a row from a contentless index only when given the very words it indexed; given
others, it keeps stale postings without complaint. So after each kind of write the index's
vocabulary (every term, in how many rows) is compared with one rebuilt from ``lexicon``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

from eidetica.model import Scope
from eidetica.storage import NewUnit, NewVersion, Revision, UnitFilter
from eidetica.storage.sqlite import SQLiteStore
from eidetica.storage.terms import index_terms, owned_words

from .test_contract import DIM, unit, vec


def vocabulary(store: SQLiteStore) -> Counter[tuple[str, str]]:
    """(term, column) -> rows holding it, as the FTS5 index reports it."""
    conn = store._conn
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.check_vocab USING fts5vocab(main, units_fts, col)")
    return Counter({(t, c): n for t, c, n in conn.execute("SELECT term, col, doc FROM temp.check_vocab")})


def expected(store: SQLiteStore) -> Counter[tuple[str, str]]:
    """The same, rebuilt from lexicon: each row's words with its owner's prefix, tokenised."""
    rows = store._conn.execute(
        "SELECT u.tenant, u.user_id, l.body, coalesce(c.text, '') FROM lexicon l "
        "JOIN units u ON u.rid = l.rid LEFT JOIN lexicon_contexts c ON c.id = l.context_id"
    ).fetchall()
    counts: Counter[tuple[str, str]] = Counter()
    for tenant, user, body, context in rows:
        owner = Scope(user_id=user, tenant=tenant)
        for column, text in (("body", body), ("context", context)):
            for term in set(index_terms([owned_words(owner, text)])[0]):
                counts[(term, column)] += 1
    return counts


def test_every_write_leaves_index_and_lexicon_in_agreement(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "index.db")
    store.check_embedder("test/8", DIM)
    turn = unit("We adopted a grey kitten named Pepper")
    facts = [unit("Sam adopted a kitten", kind="fact"), unit("The kitten is called Pepper", kind="fact")]
    before = "what did you do at the weekend"
    store.add([NewUnit(u, vec(i), u.text, before) for i, u in enumerate([turn, *facts])])
    other = unit("Pepper the kitten of another user", user="u2")
    store.add([NewUnit(other, vec(5), other.text, before)])
    assert vocabulary(store) == expected(store) and expected(store)
    # The three units said after the same words keep them once.
    assert store._conn.execute("SELECT count(*) FROM lexicon_contexts").fetchone()[0] == 2

    store.update(NewVersion(facts[0].id, "Sam adopted a cat", vec(3), "Sam adopted a cat"), tenant="default")
    assert vocabulary(store) == expected(store)
    store.delete(facts[1].id, tenant="default")
    assert vocabulary(store) == expected(store)
    moved = Revision(turn, None, lexical=(turn.text, "the words said before changed"))
    store.add([], revisions=[moved])
    assert vocabulary(store) == expected(store)
    store.add([], revisions=[Revision(dataclasses.replace(turn, status="deleted"), "delete")])
    assert vocabulary(store) == expected(store)
    assert store.search_lexical(UnitFilter(Scope(user_id="u1")), ["pepper"], 5) == []

    store.forget("default", "u1")
    assert vocabulary(store) == expected(store)
    assert {owner for (owner,) in store._conn.execute("SELECT DISTINCT user_id FROM units")} == {"u2"}
    assert store._conn.execute("SELECT count(*) FROM lexicon_contexts").fetchone()[0] == 1
    store.close()


def test_token_counts_read_every_docsize_record_form() -> None:
    from eidetica.storage.lexical_cache import _token_counts

    # 300 tokens take two bytes (0x82 0x2c); a record of one column of 5, one of 3.
    assert _token_counts([b"\x82\x2c\x00", b"\x05\x03"]).tolist() == [300.0, 8.0]
    assert _token_counts([b"\x05\x03", b"\x7f\x01"]).tolist() == [8.0, 128.0]
    assert _token_counts([b"\x81\x00"]).tolist() == [128.0]  # two bytes, one number


def test_a_long_text_is_scored_with_its_real_length(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "long.db")
    store.check_embedder("test/8", DIM)
    long_text = "harbour " + " ".join(f"word{i}" for i in range(400))
    short, long = unit("harbour at dusk"), unit(long_text)
    store.add([NewUnit(short, vec(1), short.text), NewUnit(long, vec(2), long.text)])
    ranked = store.search_lexical(UnitFilter(Scope(user_id="u1")), ["harbour"], 5)
    assert [i for i, _ in ranked] == [short.id, long.id]
    assert ranked[0][1] > 2 * ranked[1][1]  # BM25 length normalisation saw 401 tokens, not 401 % 128
    store.close()
