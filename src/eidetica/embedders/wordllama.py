"""WordLlama: a static 256-d embedding whose weights ship inside its PyPI wheel (no download)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import EmbedderError
from .base import Vectors, normalise

# Long texts are cut before embedding: a static model averages token vectors, so a 1 MB turn
# says nothing more in its first few thousand characters than in all of it, and costs far more.
MAX_EMBED_CHARS = 4_000


class WordLlamaEmbedder:
    """The embedded default: ~20k texts/s on two CPU cores, loads in ~0.1 s, fully offline."""

    def __init__(self, config: str = "l2_supercat", dim: int = 256) -> None:
        try:
            wordllama = _import_quietly()
        except ImportError as exc:  # pragma: no cover - it is a core dependency
            raise EmbedderError("wordllama is missing: pip install wordllama") from exc
        WordLlama = wordllama.WordLlama
        try:
            # Without these arguments WordLlama.load() tries to download; the wheel has the weights.
            self._model: Any = WordLlama.load(
                config=config,
                dim=dim,
                cache_dir=Path(wordllama.__file__).parent,
                disable_download=True,
            )
        except Exception as exc:
            raise EmbedderError(f"could not load WordLlama model {config!r}: {exc}") from exc
        self.dim = dim
        self.name = f"wordllama/{config}/{dim}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts; long ones are truncated to their first MAX_EMBED_CHARS characters."""
        if not texts:
            return normalise(_empty(self.dim))
        clipped = [t[:MAX_EMBED_CHARS] for t in texts]
        try:
            vectors = self._model.embed(clipped, batch_size=256)
        except Exception as exc:
            raise EmbedderError(f"WordLlama failed to embed {len(texts)} texts: {exc}") from exc
        return normalise(vectors)


def _import_quietly() -> Any:
    """Import wordllama without letting it configure the application's logging.

    Its modules call ``logging.basicConfig(level=INFO)`` on import, which would turn on INFO
    output for every library in the process. ``basicConfig`` does nothing while the root logger
    has a handler, so one is attached for the duration of the import.
    """
    import logging

    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    try:
        import wordllama
        import wordllama.inference  # configures logging on import too
    finally:
        root.removeHandler(guard)
    return wordllama


def _empty(dim: int) -> Vectors:
    import numpy as np

    return np.zeros((0, dim), dtype=np.float32)
