"""The embedder seam: anything that turns texts into unit-length float32 vectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Embeds texts as L2-normalised float32 rows, so a dot product is the cosine similarity.

    ``name`` identifies model and dimension; a store remembers it and refuses vectors from a
    different model, since mixing them would silently corrupt dense search.
    """

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def normalise(vectors: npt.NDArray[np.floating]) -> Vectors:
    """Scale rows to unit length; all-zero rows (empty text) stay zero."""
    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Vectors = (out / norms).astype(np.float32, copy=False)
    return result
