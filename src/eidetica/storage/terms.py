"""Index terms as the SQLite store's FTS5 index makes them, owner prefix and stemming included.

The SQLite store indexes ``owned_words``: every word prefixed with a token of its tenant and user,
split by FTS5's ``unicode61`` tokenizer (diacritics folded) and stemmed by its ``porter`` stemmer.
A backend that keeps its own inverted index (PostgreSQL) takes its terms from ``index_terms``,
which runs the texts through that very tokenizer in an in-memory SQLite database: a look-alike
stemmer would differ on a few words in a hundred (the porter rules also see the owner prefix), and
BM25 would then rank differently on each backend.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache

from ..model import Scope

#: The SQLite store's FTS5 tokenizer; ``sqlite_schema`` declares the same.
TOKENIZE = "porter unicode61 remove_diacritics 2"

_WORD = re.compile(r"[^\W_]+")


#: Characters of the owner prefix ``owned_words`` puts before each word ("x" and 12 hex digits).
OWNER_PREFIX_LENGTH = 13


def plain_words(text: str) -> str:
    """A text as the index splits it: its words, space-separated (``owned_words`` of both agree)."""
    return " ".join(_WORD.findall(text))


def owned_words(scope: Scope, text: str) -> str:
    """Prefix every word of ``text`` with a token of its tenant and user.

    The words are split as FTS5's unicode61 tokenizer splits them, so each indexed token is
    ``<owner><word>`` and the porter stemmer still sees the word's ending. Ids may hold any
    characters; the blake2b digest in the prefix holds only letters and digits.
    """
    words = _WORD.findall(text)
    if not words:
        return ""
    prefix = _owner_prefix(scope.tenant, scope.user_id)
    return prefix + (" " + prefix).join(words)


def word_tokens(scope: Scope, words: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """Each word's index tokens in the scope owner's units, each with the owned word it is read
    by (a word the tokenizer splits, "e-mail", has a token for each part)."""
    parts = {word: owned_words(scope, word).split() for word in words}
    owned = list(dict.fromkeys(part for split in parts.values() for part in split))
    tokens = dict(zip(owned, index_terms(owned), strict=True))
    return {
        word: [(token, part) for part in split for token in tokens[part]] for word, split in parts.items()
    }


def word_counts_from(
    tokens: Mapping[str, Sequence[tuple[str, str]]], counts: Mapping[str, int]
) -> dict[str, int]:
    """Each word's count from its tokens' (``word_tokens``): a word of several parts counts as
    its commonest part, a word with no token as none."""
    return {
        word: max((counts.get(token, 0) for token, _ in found), default=0) for word, found in tokens.items()
    }


@lru_cache(maxsize=4096)
def _owner_prefix(tenant: str, user_id: str) -> str:
    return "x" + hashlib.blake2b(f"{tenant}\x00{user_id}".encode(), digest_size=6).hexdigest()


def index_terms(texts: Sequence[str]) -> list[list[str]]:
    """Return the FTS5 tokens of each text, repeats kept (BM25 counts them), in no fixed order."""
    out: list[list[str]] = [[] for _ in texts]
    if not any(texts):
        return out
    with _Tokenizer.lock:
        conn = _Tokenizer.connection()
        conn.execute("BEGIN")
        try:
            conn.executemany("INSERT INTO doc (rowid, body) VALUES (?, ?)", enumerate(texts))
            for doc, term in conn.execute("SELECT doc, term FROM token"):
                out[doc].append(term)
        finally:
            conn.execute("ROLLBACK")  # nothing is kept: the table only tokenizes
    return out


class _Tokenizer:
    """One in-memory FTS5 table per process, used under a lock (tokenizing takes microseconds)."""

    lock = threading.Lock()
    _conn: sqlite3.Connection | None = None

    @classmethod
    def connection(cls) -> sqlite3.Connection:
        if cls._conn is None:
            conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            conn.execute(f"CREATE VIRTUAL TABLE doc USING fts5(body, tokenize = '{TOKENIZE}')")
            conn.execute("CREATE VIRTUAL TABLE token USING fts5vocab(doc, instance)")
            cls._conn = conn
        return cls._conn
