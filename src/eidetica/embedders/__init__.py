"""Embedders behind the ``Embedder`` protocol, and the one place names resolve to them."""

from __future__ import annotations

from ..errors import UsageError
from .base import Embedder, normalise

__all__ = ["Embedder", "load_embedder", "normalise"]


def load_embedder(name: str = "wordllama") -> Embedder:
    """Build an embedder from a name: ``wordllama`` (default) or ``minilm``.

    OpenAI-compatible endpoints need a URL and key, so they are built as instances:
    ``OpenAIEmbedder(model, base_url=..., api_key=...)``.
    """
    if name == "wordllama":
        from .wordllama import WordLlamaEmbedder

        return WordLlamaEmbedder()
    if name == "minilm":
        from .minilm import MiniLMEmbedder

        return MiniLMEmbedder()
    raise UsageError(f"unknown embedder {name!r}: use 'wordllama' or 'minilm'")
