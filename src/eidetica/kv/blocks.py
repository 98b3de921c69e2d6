"""Reusable KV for stable memory blocks (MemOS's activation memory).

A user's stable block (profile lines, pinned facts) opens every prompt the same way, so its KV can
be read once and reused: the next question reads only what follows it. A block is stored under a
slot (the user, say) with a key made of the model, the block's text hash and the policy, so a
changed block, another model or another policy never reuses a stale cache; a changed block
replaces the slot's cache. Caches live in memory, and on disk when a folder is given.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .cache import KVCache
from .generate import KVModel
from .policies import Budget, Policy

__all__ = ["BlockCache", "BlockStats"]


@dataclass
class BlockStats:
    """Reads served from a stored block (``hits``) and blocks read afresh (``misses``)."""

    hits: int = 0
    misses: int = 0


class BlockCache:
    """Prefilled caches of stable prompt prefixes, one per slot, least recently used dropped first."""

    def __init__(self, kv: KVModel, *, capacity: int = 16, folder: Path | None = None) -> None:
        if capacity < 1:
            raise UsageError(f"capacity is at least 1, got {capacity}")
        self.kv = kv
        self.capacity = capacity
        self.folder = folder
        self.stats = BlockStats()
        self._slots: OrderedDict[str, tuple[str, KVCache]] = OrderedDict()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def key(self, prefix: Sequence[int], policy: Policy | None = None, budget: Budget | None = None) -> str:
        """What a cached block is valid for: the model, the block's tokens and how it was compressed."""
        digest = hashlib.sha256()
        for part in (
            self.kv.name,
            policy.describe() if policy else "none",
            budget.describe() if budget else "none",
        ):
            digest.update(part.encode())
            digest.update(b"\0")
        digest.update(",".join(map(str, prefix)).encode())
        return digest.hexdigest()

    def get(
        self, slot: str, prefix: Sequence[int], policy: Policy | None = None, budget: Budget | None = None
    ) -> KVCache:
        """The cache of ``prefix`` for ``slot``: stored when its key matches, else read now and stored.

        The cache returned is the stored one: pass it as ``KVModel.generate(prefix=...)``, which
        works on a copy.
        """
        key = self.key(prefix, policy, budget)
        held = self._slots.get(slot)
        if held is not None and held[0] == key:
            self._slots.move_to_end(slot)
            self.stats.hits += 1
            return held[1]
        cache = self._from_disk(key)
        if cache is None:
            self.stats.misses += 1
            cache, _ = self.kv.read(prefix, policy=policy, budget=budget)
            cache.drop_stats()
            self._to_disk(key, cache)
        else:
            self.stats.hits += 1
        self.invalidate(slot)
        self._slots[slot] = (key, cache)
        while len(self._slots) > self.capacity:
            self._slots.popitem(last=False)
        return cache

    def invalidate(self, slot: str) -> None:
        """Forget the slot's block (its file too): the next ``get`` reads it afresh."""
        held = self._slots.pop(slot, None)
        if held is not None and self.folder is not None:
            (self.folder / f"{held[0]}.pt").unlink(missing_ok=True)

    def _from_disk(self, key: str) -> KVCache | None:
        if self.folder is None:
            return None
        path = self.folder / f"{key}.pt"
        return KVCache.load(path) if path.exists() else None

    def _to_disk(self, key: str, cache: KVCache) -> None:
        if self.folder is not None:
            tmp = self.folder / f"{key}.pt.tmp"
            cache.save(tmp)
            tmp.replace(self.folder / f"{key}.pt")
