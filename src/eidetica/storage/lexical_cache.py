"""BM25 over one user's FTS5 postings, scored in numpy from postings kept in memory.

FTS5 ranks a query by running ``bm25()`` on every row that holds one of its words: about 4 µs a
row, 200 ms for the common words of a long history (46,000 matching rows of 100,000 units).
Listing those rows costs a hundredth of that, so the SQLite store reads each query word's postings
once (which of the user's units hold the word, in their own words or in the words said before
them), keeps them in memory with the lengths of the user's units, and scores in numpy, by FTS5's
formula with one difference: a word counts once per text (the index keeps no word counts,
``detail=column``; FTS5 counts them by tokenizing each matching row again, the bulk of its 4 µs)::

    score = Σ_word idf · f·(k1+1) / (f + k1·(1 − b + b·|D|/avgdl))      k1 = 1.2, b = 0.75
    f     = [word in the unit's words] + context_weight · [word in the words before]

with N, avgdl and each word's n taken over the asking user's units, not the whole file (as the
PostgreSQL store does): one tenant's ranking must not depend on another's data.

The postings stay coherent with the file as the vector matrices do (``owner_changes``): units
appended since are read on their own, any other change loads the user again.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import owner_changes

K1 = 1.2
B = 0.75
#: Postings fewer than 1/``SPARSE_BELOW`` of the user's units are summed sparsely.
SPARSE_BELOW = 8


@dataclass
class _Postings:
    """Where one word occurs among a user's units: positions into ``_UserIndex`` arrays."""

    positions: np.ndarray
    in_body: np.ndarray
    in_context: np.ndarray
    #: The user's last row id when these were read: rows above it are read on the next use.
    covered: int

    @property
    def nbytes(self) -> int:
        return int(self.positions.nbytes + self.in_body.nbytes + self.in_context.nbytes)


@dataclass
class _UserIndex:
    """A user's indexed units (row ids ascending, with their token counts) and the postings read."""

    state: owner_changes.OwnerState
    rids: np.ndarray
    lengths: np.ndarray
    words: OrderedDict[str, _Postings] = field(default_factory=OrderedDict)
    #: The bytes ``words`` holds, kept as words come and go: a long history's cache holds
    #: thousands, too many to sum on every read.
    words_nbytes: int = 0

    @property
    def nbytes(self) -> int:
        return int(self.rids.nbytes + self.lengths.nbytes + self.words_nbytes)


class LexicalCache:
    """Users' postings, least recently used out beyond ``max_bytes``; not thread-safe (the store
    calls it under its lock)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._users: OrderedDict[tuple[str, str], _UserIndex] = OrderedDict()
        self._read_since_evicting = False  # sizes are summed only after something was read

    def scores(
        self,
        conn: sqlite3.Connection,
        tenant: str,
        user_id: str,
        words: Sequence[tuple[str, str]],
        context_weight: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """BM25 of every unit of the user that holds one of ``words``: row ids ascending, and scores.

        Each word is ``(token, word)``: its FTS5 token (stemmed), which the postings are kept by,
        and the owner-prefixed word that finds them. A token asked twice counts twice, as in an
        FTS5 query ``a OR a``.
        """
        user = self._user(conn, tenant, user_id)
        n = len(user.rids)
        if not n:
            return _empty()
        avgdl = float(user.lengths.sum()) / n
        # Every word's gains are summed in one pass at the end: a pass over all of the user's
        # units per word would cost a long history more than the words' own postings do.
        matched: list[np.ndarray] = []
        gains: list[np.ndarray] = []
        spelled = dict(reversed(words))  # token -> the first word that has it
        for token, asked in Counter(token for token, _ in words).items():
            postings = self._postings(conn, user, token, spelled[token])
            f = postings.in_body + context_weight * postings.in_context
            matching = f > 0
            hits = int(matching.sum())
            if not hits:
                continue
            idf = math.log((n - hits + 0.5) / (hits + 0.5))
            idf = idf if idf > 0 else 1e-6
            positions, f = postings.positions[matching], f[matching]
            gain = idf * f * (K1 + 1) / (f + K1 * (1 - B + B * user.lengths[positions] / avgdl))
            matched.append(positions)
            gains.append(asked * gain)
        self._evict()
        if not matched:
            return _empty()
        positions, weights = np.concatenate(matched), np.concatenate(gains)
        if len(positions) * SPARSE_BELOW < n:
            # A few rare words: summing over their postings beats a pass over every unit.
            found, summed = np.unique(positions, return_inverse=True)
            return user.rids[found], np.bincount(summed, weights=weights)
        total = np.bincount(positions, weights=weights, minlength=n)
        found = np.flatnonzero(total)
        return user.rids[found], total[found]

    def counts(
        self, conn: sqlite3.Connection, tenant: str, user_id: str, tokens: Sequence[tuple[str, str]]
    ) -> tuple[int, dict[str, int]]:
        """How many units the user has indexed, and how many hold each token in their own words
        (its postings, which a search for it reads anyway, are kept); ``tokens`` as in ``scores``."""
        user = self._user(conn, tenant, user_id)
        counted = {
            token: int(np.count_nonzero(self._postings(conn, user, token, word).in_body))
            for token, word in dict(reversed(tokens)).items()
        }
        self._evict()
        return len(user.rids), counted

    def drop(self, tenant: str, user_id: str) -> None:
        """Forget one user's postings (after their rows were erased)."""
        self._users.pop((tenant, user_id), None)

    def _user(self, conn: sqlite3.Connection, tenant: str, user_id: str) -> _UserIndex:
        key = (tenant, user_id)
        state = owner_changes.read(conn, tenant, user_id)
        user = self._users.pop(key, None)
        if user is None or user.state.changes != state.changes:
            rids, lengths = _documents(conn, key, after=-1)
            user = _UserIndex(state, rids, lengths)
            self._read_since_evicting = True
        elif user.state.last_rid != state.last_rid:
            last = int(user.rids[-1]) if len(user.rids) else -1
            rids, lengths = _documents(conn, key, after=last, known=len(user.rids))
            user.rids = np.concatenate([user.rids, rids])
            user.lengths = np.concatenate([user.lengths, lengths])
            user.state = state
            self._read_since_evicting = True
        self._users[key] = user
        return user

    def _postings(self, conn: sqlite3.Connection, user: _UserIndex, token: str, word: str) -> _Postings:
        last = int(user.rids[-1]) if len(user.rids) else -1
        postings = user.words.pop(token, None)
        if postings is None:
            postings = _read_postings(conn, user, word, after=-1, covered=last)
            self._read_since_evicting = True
        else:
            user.words_nbytes -= postings.nbytes
            if postings.covered < last:
                newer = _read_postings(conn, user, word, after=postings.covered, covered=last)
                postings = _Postings(
                    np.concatenate([postings.positions, newer.positions]),
                    np.concatenate([postings.in_body, newer.in_body]),
                    np.concatenate([postings.in_context, newer.in_context]),
                    last,
                )
        user.words[token] = postings
        user.words_nbytes += postings.nbytes
        return postings

    def _evict(self) -> None:
        if not self._read_since_evicting:
            return
        self._read_since_evicting = False
        total = sum(u.nbytes for u in self._users.values())
        while total > self.max_bytes and len(self._users) > 1:
            _, evicted = self._users.popitem(last=False)
            total -= evicted.nbytes
        if total > self.max_bytes and self._users:
            # One user alone is over the limit: drop their least recently used words.
            (user,) = self._users.values()
            while total > self.max_bytes and len(user.words) > 1:
                _, dropped = user.words.popitem(last=False)
                user.words_nbytes -= dropped.nbytes
                total -= dropped.nbytes


def _empty() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)


def _documents(
    conn: sqlite3.Connection, key: tuple[str, str], *, after: int, known: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The user's indexed units above row id ``after``: row ids and token counts (all columns).

    Read through the user's rows (``known`` of them are cached) or through the rows stored since
    ``after``, whichever are fewer: a first read walks the user's rows, a catch-up after a few
    adds the newest rows of the file.
    """
    since = conn.execute("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_rid'").fetchone()
    if after >= 0 and since is not None and since[0] - after < known:
        sql = (
            "SELECT d.id, d.sz FROM units_fts_docsize d CROSS JOIN units u ON u.rid = d.id "
            "WHERE d.id > ? AND u.tenant = ? AND u.user_id = ? ORDER BY d.id"
        )
    else:
        sql = (
            "SELECT u.rid, d.sz FROM units u CROSS JOIN units_fts_docsize d ON d.id = u.rid "
            "WHERE u.rid > ? AND u.tenant = ? AND u.user_id = ? ORDER BY u.rid"
        )
    rows = conn.execute(sql, (after, *key)).fetchall()
    rids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    return rids, _token_counts([r[1] for r in rows])


def _read_postings(
    conn: sqlite3.Connection, user: _UserIndex, word: str, *, after: int, covered: int
) -> _Postings:
    """The user's rows in (``after``, ``covered``] holding ``word``, in each column.

    FTS5 lists them (the word is stemmed as when indexed) as one row of text, parsed in C: a row
    per posting cost twice as much to fetch, and an ``fts5vocab`` table twice as much again.
    """

    def rows_holding(column: str) -> np.ndarray:
        (text,) = conn.execute(
            "SELECT group_concat(rowid, ' ') FROM units_fts "
            "WHERE units_fts MATCH ? AND rowid > ? AND rowid <= ?",
            (f'{column} : "{word}"', after, covered),
        ).fetchone()
        return np.fromstring(text or "", dtype=np.int64, sep=" ")

    body, context = rows_holding("body"), rows_holding("context")
    unique = np.union1d(body, context)
    in_body = np.isin(unique, body).astype(np.float64)
    in_context = np.isin(unique, context).astype(np.float64)
    # The rows are the user's indexed units (the word carries the owner prefix); the check keeps
    # a unit indexed after the user's units were read out of the sums all the same.
    positions = np.minimum(np.searchsorted(user.rids, unique), max(len(user.rids) - 1, 0))
    known = user.rids[positions] == unique if len(user.rids) else np.zeros(len(unique), dtype=bool)
    return _Postings(positions[known], in_body[known], in_context[known], covered)


def _token_counts(records: list[bytes]) -> np.ndarray:
    """The tokens of each row (all columns) from its FTS5 docsize record: SQLite varints, 7 bits a
    byte, most significant first, the high bit set on every byte but a number's last."""
    if all(len(r) == 2 for r in records):
        # Two columns under 128 tokens each, the common case: one byte per number.
        pairs = np.frombuffer(b"".join(records), dtype=np.uint8).reshape(-1, 2)
        if not (pairs & 0x80).any():
            return np.asarray(pairs.sum(axis=1), dtype=np.float64)
    return np.fromiter((sum(_varints(r)) for r in records), dtype=np.float64, count=len(records))


def _varints(blob: bytes) -> list[int]:
    """The integers of a docsize record (token counts never need the 9-byte form)."""
    values, value = [], 0
    for byte in blob:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            values.append(value)
            value = 0
    return values
