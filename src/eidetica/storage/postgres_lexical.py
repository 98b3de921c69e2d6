"""The PostgreSQL store's lexical channel: an inverted index of FTS5 tokens, ranked by BM25.

PostgreSQL's own ranking (``ts_rank``) has no inverse document frequency, and ranks differently
enough to change which evidence a question finds. So the store keeps an inverted index of its own,
scored as the SQLite store scores its FTS5 postings (``lexical_cache``):
``eidetica.postings`` holds, for each active unit and each FTS5 token of its words
(``terms.index_terms``), how often the token occurs in the unit's words and in the words said
before it. A query reads the postings of its tokens only, and scores them with FTS5's ``bm25()``
formula, a token counting once per text::

    score = Σ_phrase idf · f·(k1+1) / (f + k1·(1 − b + b·|D|/avgdl))      k1 = 1.2, b = 0.75
    idf   = ln((N − n + 0.5) / (n + 0.5)), or 1e-6 where that is not positive
    f     = [token in the body] + context_weight · [token in the context]

where |D| counts the tokens of both texts, and N, avgdl and n (the units holding the token in the
searched texts) are the user's, as on SQLite: a tenant's ranking must not depend on other
tenants' data. Both backends agree to the last digit.

The formula runs in Python over the fetched postings (a few thousand rows at most: one user's
units holding one of the query's tokens). Written as one SQL statement it was as fast once the
tables had statistics, but on a freshly loaded table, not yet analysed, the planner chose nested
loops that made it 100 times slower. Per-unit token arrays under a GIN index, instead of
postings, made a LoCoMo search about 7 times slower: a speaker's name is in half the units, and
each candidate's arrays were scanned for each query token.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import psycopg

from ..model import MemoryUnit
from .base import UnitFilter
from .postgres_sql import filter_sql

K1 = 1.2
B = 0.75

_CORPUS = (
    "SELECT count(*), coalesce(avg(terms_len), 0)::float8 FROM eidetica.units "
    "WHERE tenant = %(tenant)s AND user_id = %(user_id)s AND status = 'active'"
)
_POSTINGS = (
    "SELECT unit_id, term, body_tf, context_tf, terms_len FROM eidetica.postings "
    "WHERE tenant = %(tenant)s AND user_id = %(user_id)s AND term = ANY(%(terms)s)"
)


def bm25(
    conn: psycopg.Connection[Any],
    where: UnitFilter,
    phrases: Sequence[str],
    limit: int,
    *,
    context_weight: float,
) -> list[tuple[str, float]]:
    """Return the best ``limit`` units of ``where`` for the query tokens, as ``(id, score)``.

    ``phrases`` are the query's tokens, one per query word (repeats count, as FTS5 counts each
    phrase of ``a OR b``). Statistics cover all the user's active units, whatever ``where``
    narrows; ``where`` picks which of them may be returned.
    """
    owner = {"tenant": where.scope.tenant, "user_id": where.scope.user_id}
    # Without a context weight FTS5 searches the body alone: context-only postings neither
    # match nor count in n.
    sql = _POSTINGS if context_weight else _POSTINGS + " AND body_tf > 0"
    rows = conn.execute(sql, {**owner, "terms": sorted(set(phrases))}).fetchall()
    if not rows:
        return []
    corpus = conn.execute(_CORPUS, owner).fetchone()
    assert corpus is not None
    n, avgdl = float(corpus[0]), float(corpus[1])
    holding = Counter(term for _, term, _, _, _ in rows)
    asked = Counter(phrases)
    idf = {}
    for term, count in holding.items():
        value = math.log((n - count + 0.5) / (count + 0.5))
        idf[term] = value if value > 0 else 1e-6
    scores: dict[str, float] = {}
    for unit_id, term, body_tf, context_tf, length in rows:
        f = min(body_tf, 1) + context_weight * min(context_tf, 1)  # a token counts once per text
        gain = idf[term] * f * (K1 + 1) / (f + K1 * (1 - B + B * length / avgdl))
        scores[unit_id] = scores.get(unit_id, 0.0) + asked[term] * gain
    # Keep the units ``where`` selects, and break ties as FTS5 does: first stored, first.
    clauses, params = filter_sql(where)
    params["ids"] = list(scores)
    sql = f"SELECT id, seq FROM eidetica.units u WHERE u.id = ANY(%(ids)b) AND {clauses}"
    stored = dict(conn.execute(sql, params).fetchall())
    ranked = sorted(stored, key=lambda unit_id: (-scores[unit_id], stored[unit_id]))
    return [(unit_id, scores[unit_id]) for unit_id in ranked[:limit]]


class Postings:
    """The postings of a batch of units, inserted by one statement with little to encode.

    Per-posting columns travel as space-separated strings (FTS5 tokens never hold a space) and
    per-unit ones as arrays: encoding tens of thousands of array elements in Python cost more
    than the insert itself.
    """

    SQL = """
        INSERT INTO eidetica.postings (term, unit_id, tenant, user_id, body_tf, context_tf, terms_len)
        SELECT p.term, u.id, u.tenant, u.user_id, p.body_tf, p.context_tf, u.terms_len
        FROM unnest(%(ids)s::text[], %(tenants)s::text[], %(users)s::text[], %(lengths)s::int[])
            WITH ORDINALITY AS u(id, tenant, user_id, terms_len, n)
        JOIN unnest(
            string_to_array(%(terms)s, ' '), string_to_array(%(units)s, ' ')::int[],
            string_to_array(%(body)s, ' ')::int[], string_to_array(%(context)s, ' ')::int[]
        ) AS p(term, n, body_tf, context_tf) USING (n)
    """

    def __init__(self) -> None:
        self._units: list[MemoryUnit] = []
        self._lengths: list[int] = []
        self._terms: list[str] = []
        self._numbers: list[str] = []
        self._body: list[str] = []
        self._context: list[str] = []

    def add(self, unit: MemoryUnit, body: Sequence[str], context: Sequence[str]) -> int:
        """Index a unit whose texts have these tokens (repeats counted); return its length."""
        self._units.append(unit)
        self._lengths.append(len(body) + len(context))
        in_body, in_context = Counter(body), Counter(context)
        number = str(len(self._units))
        for term in in_body.keys() | in_context.keys():
            self._terms.append(term)
            self._numbers.append(number)
            self._body.append(str(in_body[term]))
            self._context.append(str(in_context[term]))
        return self._lengths[-1]

    def params(self) -> dict[str, Any]:
        """The parameters of ``SQL``."""
        return {
            "ids": [u.id for u in self._units],
            "tenants": [u.scope.tenant for u in self._units],
            "users": [u.scope.user_id for u in self._units],
            "lengths": self._lengths,
            "terms": " ".join(self._terms),
            "units": " ".join(self._numbers),
            "body": " ".join(self._body),
            "context": " ".join(self._context),
        }
