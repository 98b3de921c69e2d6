"""Sortable unique ids (ULID layout): 48-bit milliseconds then 80 random bits, Crockford base32.

Sortable ids keep insertion order in indexes and make ``list`` cheap to page through.
"""

from __future__ import annotations

import base64
import os
import threading
import time

# base64's RFC 4648 base32 alphabet mapped onto Crockford's, so the C encoder does the work.
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789ABCDEFGHJKMNPQRSTVWXYZ")
_lock = threading.Lock()
_last_ms = 0
_last_rand = 0


def new_id() -> str:
    """Return a 26-character id that sorts after every id made before it in this process."""
    global _last_ms, _last_rand
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            # Same millisecond (or a clock step back): bump the random part to stay monotonic.
            ms = _last_ms
            rand = _last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last_ms, _last_rand = ms, rand
    value = (ms << 80) | (rand & ((1 << 80) - 1))
    # 4 zero bytes + 16 value bytes = 160 bits = 32 base32 characters; the first 6 encode only
    # zero padding bits, the last 26 are the 130-bit ULID.
    encoded = base64.b32encode(b"\0\0\0\0" + value.to_bytes(16, "big"))[6:]
    return encoded.translate(_TO_CROCKFORD).decode()
