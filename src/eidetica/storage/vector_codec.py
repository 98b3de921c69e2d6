"""How the SQLite store keeps a vector on disk: 4 bits a component, an eighth of float32.

Each vector is stored as 16 evenly spaced levels between its own smallest and largest component:
its lowest value and the step between levels (two float32), a byte saying whether the last
nibble is padding (odd dimensions), then two components a byte. For unit vectors of 256
dimensions the cosine between a vector and its decoded copy is about 0.994, and LoCoMo recall
moved by at most 0.0003 against 8-bit storage (see docs/performance.md): dense search is one
channel of several, and the query vector itself stays float32. The row shrinks from 1,024 bytes
(float32) or 260 (8-bit, the format before) to 137.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..embedders.base import Vectors

#: Levels a component may take: 4 bits.
_LEVELS = 16
_HEADER = np.dtype([("low", "<f4"), ("step", "<f4"), ("padded", "u1")])


def stored_size(dim: int) -> int:
    """The bytes a vector of ``dim`` components takes on disk."""
    return _HEADER.itemsize + (dim + 1) // 2


def stored_size_sql(dim: str) -> str:
    """``stored_size`` in SQL, over an expression giving the dimension (for a trigger's check)."""
    return f"({_HEADER.itemsize} + (({dim}) + 1) / 2)"


def encode_all(vectors: Sequence[Vectors]) -> list[bytes]:
    """Vectors (all of one dimension) as stored, quantised together in numpy."""
    if not vectors:
        return []
    matrix = np.asarray([np.asarray(v, dtype=np.float32).ravel() for v in vectors], dtype=np.float32)
    dim = matrix.shape[1]
    low = matrix.min(axis=1) if dim else np.zeros(len(matrix), dtype=np.float32)
    high = matrix.max(axis=1) if dim else low
    step = np.where(high > low, (high - low) / (_LEVELS - 1), 1.0).astype(np.float32)
    codes = np.clip(np.rint((matrix - low[:, None]) / step[:, None]), 0, _LEVELS - 1).astype(np.uint8)
    if dim % 2:
        codes = np.concatenate([codes, np.zeros((len(codes), 1), dtype=np.uint8)], axis=1)
    packed = (codes[:, 0::2] << 4) | codes[:, 1::2]
    rows = np.empty(len(matrix), dtype=_layout(packed.shape[1]))
    rows["head"]["low"], rows["head"]["step"], rows["head"]["padded"] = low, step, dim % 2
    rows["nibbles"] = packed
    raw, width = rows.tobytes(), rows.dtype.itemsize
    return [raw[i : i + width] for i in range(0, len(raw), width)]


def decode(blobs: Sequence[bytes]) -> np.ndarray:
    """Stored vectors (all of one dimension) as a float32 matrix, one row each."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    rows = np.frombuffer(b"".join(blobs), dtype=_layout(len(blobs[0]) - _HEADER.itemsize))
    packed = rows["nibbles"]
    codes = np.empty((len(rows), 2 * packed.shape[1]), dtype=np.float32)
    codes[:, 0::2] = packed >> 4
    codes[:, 1::2] = packed & 0x0F
    if len(rows) and rows["head"]["padded"][0]:
        codes = codes[:, :-1]
    codes *= rows["head"]["step"][:, None]
    codes += rows["head"]["low"][:, None]
    return codes


def decode_int8(blobs: Sequence[bytes]) -> np.ndarray:
    """Vectors in the 8-bit format files held before (int8 components, then a float32 scale):
    read once, by the migration that re-encodes them."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    layout = np.dtype([("v", np.int8, (len(blobs[0]) - 4,)), ("scale", "<f4")])
    rows = np.frombuffer(b"".join(blobs), dtype=layout)
    matrix: np.ndarray = rows["v"].astype(np.float32) * rows["scale"][:, None]
    return matrix


def _layout(packed_bytes: int) -> np.dtype:
    """A stored vector's bytes: the header, then ``packed_bytes`` bytes of two nibbles each."""
    return np.dtype([("head", _HEADER), ("nibbles", np.uint8, (packed_bytes,))])
