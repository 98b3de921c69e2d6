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


def encode(vector: Vectors) -> bytes:
    """One vector as stored: int8 components, then its float32 scale."""
    values = np.asarray(vector, dtype=np.float32).ravel()
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    scale = peak / 127.0 if peak > 0 else 1.0
    quantised = np.clip(np.rint(values / scale), -127, 127).astype(np.int8)
    return bytes(quantised.tobytes() + np.float32(scale).tobytes())


def decode(blobs: Sequence[bytes]) -> np.ndarray:
    """Stored vectors (all of one dimension) as a float32 matrix, one row each."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    dim = len(blobs[0]) - _SCALE_BYTES
    rows = np.frombuffer(b"".join(blobs), dtype=np.dtype([("v", np.int8, (dim,)), ("scale", "<f4")]))
    matrix = rows["v"].astype(np.float32)
    matrix *= rows["scale"][:, None]
    return matrix
