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

The formula runs in the server, as one statement whose steps are materialised (``_BM25``); run in
Python over the fetched postings it cost twice as much at 10,000 units of one user. Written as
one statement without materialised steps it was as fast once the tables had statistics, but on a
freshly loaded table, not yet analysed, the planner chose nested loops that made it 100 times
slower. Per-unit token arrays under a GIN index, instead of
postings, made a LoCoMo search about 7 times slower: a speaker's name is in half the units, and
each candidate's arrays were scanned for each query token.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

import psycopg

from ..model import MemoryUnit, Scope
from .base import UnitFilter
from .postgres_sql import filter_sql

K1 = 1.2
B = 0.75

#: BM25 of the user's units holding a query token, best first. Each step is materialised, so the
#: plan is the same on a freshly loaded table as on an analysed one: the token's postings by
#: index, then hash aggregates.
_BM25 = """
WITH asked(term, times) AS (SELECT * FROM unnest(%(terms)s::text[], %(times)s::int[])),
hits AS MATERIALIZED (
    SELECT p.unit_id, p.term, p.terms_len,
           least(p.body_tf, 1) + %(context_weight)s * least(p.context_tf, 1) AS f  -- once per text
    FROM eidetica.postings p
    WHERE p.term = ANY(%(terms)s) AND p.tenant = %(tenant)s AND p.user_id = %(user_id)s),
corpus AS MATERIALIZED (
    SELECT count(*)::float8 AS n, coalesce(avg(terms_len), 0)::float8 AS avgdl FROM eidetica.units
    WHERE tenant = %(tenant)s AND user_id = %(user_id)s AND status <> 'deleted'),  -- archived keep postings
idf AS MATERIALIZED (
    SELECT h.term, greatest(ln((c.n - count(*) + 0.5) / (count(*) + 0.5)), 1e-6) AS idf
    FROM hits h, corpus c WHERE h.f > 0 GROUP BY h.term, c.n)
SELECT h.unit_id, sum(a.times * i.idf * h.f * (%(k1)s + 1)
                      / (h.f + %(k1)s * (1 - %(b)s + %(b)s * h.terms_len / c.avgdl))) AS score
FROM hits h JOIN idf i USING (term) JOIN asked a USING (term), corpus c
WHERE h.f > 0
GROUP BY h.unit_id
ORDER BY score DESC, h.unit_id
LIMIT %(limit)s
"""

#: How many of the user's units hold each term in their own words, and how many units are indexed
#: (as BM25's corpus counts them).
_TERM_COUNTS = """
SELECT term, count(*) FROM eidetica.postings
WHERE term = ANY(%(terms)s) AND tenant = %(tenant)s AND user_id = %(user_id)s AND body_tf > 0
GROUP BY term
"""
_INDEXED_UNITS = """
SELECT count(*) FROM eidetica.units
WHERE tenant = %(tenant)s AND user_id = %(user_id)s AND status <> 'deleted'
"""

#: Units ranked per query before ``where``'s narrower filters; when too few pass, all are ranked.
OVERFETCH = 8


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
    phrase of ``a OR b``). Statistics cover all the user's indexed units (archived ones keep their
    postings), whatever ``where`` narrows; ``where`` picks which of them may be returned, among the
    best ``OVERFETCH * limit`` (or all, when fewer than ``limit`` of those pass): exact either way.
    """
    asked = Counter(phrases)
    params = {
        "terms": list(asked),
        "times": list(asked.values()),
        "context_weight": float(context_weight),
        "k1": K1,
        "b": B,
        "tenant": where.scope.tenant,
        "user_id": where.scope.user_id,
        "limit": OVERFETCH * limit,
    }
    scores = dict(conn.execute(_BM25, params).fetchall())
    ranked = _passing(conn, where, scores, limit)
    if len(ranked) < limit and len(scores) == OVERFETCH * limit:
        scores = dict(conn.execute(_BM25, {**params, "limit": None}).fetchall())
        ranked = _passing(conn, where, scores, limit)
    return ranked


def term_counts(
    conn: psycopg.Connection[Any], scope: Scope, terms: Collection[str]
) -> tuple[int, dict[str, int]]:
    """How many units the user has indexed, and how many hold each of ``terms`` in their own words."""
    params = {"terms": list(terms), "tenant": scope.tenant, "user_id": scope.user_id}
    counts = {term: int(n) for term, n in conn.execute(_TERM_COUNTS, params).fetchall()}
    row = conn.execute(_INDEXED_UNITS, params).fetchone()
    return int(row[0]) if row else 0, counts


def _passing(
    conn: psycopg.Connection[Any], where: UnitFilter, scores: dict[str, float], limit: int
) -> list[tuple[str, float]]:
    """The best ``limit`` scored units ``where`` selects; ties go as in FTS5: first stored, first."""
    clauses, params = filter_sql(where)
    params["ids"] = list(scores)
    sql = f"SELECT id, seq FROM eidetica.units u WHERE u.id = ANY(%(ids)b) AND {clauses}"
    stored = dict(conn.execute(sql, params).fetchall())
    ranked = sorted(stored, key=lambda unit_id: (-scores[unit_id], stored[unit_id]))
    return [(unit_id, float(scores[unit_id])) for unit_id in ranked[:limit]]


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
