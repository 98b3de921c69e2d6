"""Token counting for context budgets, with tokenizers that ship inside wheels (no download).

The default counts with the BPE tokenizer bundled in the ``wordllama`` package, a Llama-2
vocabulary: close to what chat models bill, and on the safe side (it splits English into about 9%
more pieces than BERT's WordPiece, and characters outside its vocabulary into bytes). ``wordpiece``
counts with BERT's WordPiece vocabulary (bundled with this package), the unit LoCoMo retrieval
budgets are usually stated in. Any object with ``count(text) -> int`` can replace either.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from .errors import EmbedderError, UsageError


class TokenCounter(Protocol):
    """Counts the tokens a text will cost in a prompt."""

    def count(self, text: str) -> int: ...


class _TokenizersCounter:
    """Counts with a ``tokenizers`` tokenizer, without special tokens ([CLS], <s>, ...)."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def count(self, text: str) -> int:
        """Return the number of tokens in ``text``."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


class BundledTokenCounter(_TokenizersCounter):
    """Counts tokens with the tokenizer file inside the wordllama wheel."""

    def __init__(self) -> None:
        super().__init__(_load_bundled_tokenizer())


class WordPieceTokenCounter(_TokenizersCounter):
    """Counts BERT WordPiece tokens (the bert-base-uncased vocabulary, lower-cased)."""

    def __init__(self) -> None:
        super().__init__(_load_wordpiece_tokenizer())


#: Token counters by the names the command line and the evaluation take.
TOKEN_COUNTERS: dict[str, Callable[[], TokenCounter]] = {
    "llama2": BundledTokenCounter,
    "wordpiece": WordPieceTokenCounter,
}


def load_token_counter(name: str) -> TokenCounter:
    """The token counter called ``name`` (see ``TOKEN_COUNTERS``)."""
    make = TOKEN_COUNTERS.get(name)
    if make is None:
        raise UsageError(f"unknown tokenizer {name!r}; use one of: {', '.join(TOKEN_COUNTERS)}")
    return make()


@lru_cache(maxsize=1)
def _load_wordpiece_tokenizer() -> Any:
    from tokenizers import BertWordPieceTokenizer

    vocab = Path(__file__).parent / "data" / "wordpiece" / "vocab.txt"
    return BertWordPieceTokenizer(str(vocab), lowercase=True)


@lru_cache(maxsize=1)
def _load_bundled_tokenizer() -> Any:
    try:
        import wordllama
        from tokenizers import Tokenizer
    except ImportError as exc:  # pragma: no cover - core dependencies
        raise EmbedderError("tokenizers and wordllama are required: pip install eidetica") from exc
    path = Path(wordllama.__file__).parent / "tokenizers" / "l2_supercat_tokenizer_config.json"
    return Tokenizer.from_file(str(path))
