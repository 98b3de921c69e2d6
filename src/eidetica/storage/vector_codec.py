"""How the SQLite store keeps a vector on disk: 8-bit integers and one scale, a quarter of float32.

Each vector is stored as its components rounded to int8 after dividing by ``max|x| / 127``,
followed by that scale as a float32. For unit vectors of 256 dimensions the cosine between a
vector and its decoded copy stays above 0.999, and ranking by decoded vectors found the same
LoCoMo evidence as float32 (see docs/performance.md); the row shrinks from 1,024 to 260 bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..embedders.base import Vectors

_SCALE_BYTES = 4


def encode_all(vectors: Sequence[Vectors]) -> list[bytes]:
    """Vectors (all of one dimension) as stored, quantised together in numpy: each is its int8
    components, then its float32 scale."""
    if not vectors:
        return []
    matrix = np.asarray([np.asarray(v, dtype=np.float32).ravel() for v in vectors], dtype=np.float32)
    peaks = np.abs(matrix).max(axis=1) if matrix.shape[1] else np.zeros(len(matrix), dtype=np.float32)
    scales = np.where(peaks > 0, peaks / 127.0, 1.0).astype(np.float32)
    rows = np.empty(len(matrix), dtype=_layout(matrix.shape[1]))
    rows["v"] = np.clip(np.rint(matrix / scales[:, None]), -127, 127)
    rows["scale"] = scales
    raw, width = rows.tobytes(), rows.dtype.itemsize
    return [raw[i : i + width] for i in range(0, len(raw), width)]


def decode(blobs: Sequence[bytes]) -> np.ndarray:
    """Stored vectors (all of one dimension) as a float32 matrix, one row each."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    rows = np.frombuffer(b"".join(blobs), dtype=_layout(len(blobs[0]) - _SCALE_BYTES))
    matrix = rows["v"].astype(np.float32)
    matrix *= rows["scale"][:, None]
    return matrix


def _layout(dim: int) -> np.dtype:
    """A stored vector's bytes: ``dim`` int8 components, then a little-endian float32 scale."""
    return np.dtype([("v", np.int8, (dim,)), ("scale", "<f4")])
