"""A KV cache in which every key-value head holds its own tokens and key channels.

Each head is a list of segments. A segment holds the keys (after the rotary embedding, so every
token keeps the position it was read at), the values, the original positions and, when a policy
pruned key channels, the channels kept. Dropping a token or a channel makes the head's tensors
smaller: what a policy evicts is freed, and ``nbytes`` counts what is actually held.

Beside each token a head can keep statistics a policy gathers while attending (attention summed
over an observation window, counts of high-attention steps); they are indexed with the tokens, so
evicting a token drops its statistics too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

__all__ = ["HeadCache", "KVCache", "Segment"]


@dataclass
class Segment:
    """Tokens of one head stored alike: all key channels (``channels is None``) or the same subset."""

    keys: Tensor
    values: Tensor
    positions: Tensor
    channels: Tensor | None = None

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    @property
    def nbytes(self) -> int:
        held = [self.keys, self.values, self.positions]
        if self.channels is not None:
            held.append(self.channels)
        return sum(t.numel() * t.element_size() for t in held)

    def take(self, index: Tensor) -> Segment:
        """The tokens at ``index`` (positions within this segment), copied so the rest is freed."""
        return Segment(
            self.keys[index].clone(), self.values[index].clone(), self.positions[index].clone(), self.channels
        )


@dataclass
class HeadCache:
    """The tokens one key-value head attends to, in the order they were read."""

    segments: list[Segment] = field(default_factory=list)
    stats: dict[str, Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(s) for s in self.segments)

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self.segments) + sum(
            t.numel() * t.element_size() for t in self.stats.values()
        )

    @property
    def kv_nbytes(self) -> int:
        """Bytes of keys and values alone (no positions, channel lists or statistics)."""
        return sum(
            s.keys.numel() * s.keys.element_size() + s.values.numel() * s.values.element_size()
            for s in self.segments
        )

    def append(self, keys: Tensor, values: Tensor, positions: Tensor) -> None:
        """Add tokens with all their key channels after the ones held."""
        last = self.segments[-1] if self.segments else None
        if last is not None and last.channels is None:
            self.segments[-1] = Segment(
                torch.cat([last.keys, keys]),
                torch.cat([last.values, values]),
                torch.cat([last.positions, positions]),
            )
        else:
            self.segments.append(Segment(keys, values, positions))
        for name, stat in self.stats.items():
            self.stats[name] = torch.cat([stat, stat.new_zeros(keys.shape[0])])

    def stat(self, name: str) -> Tensor:
        """The per-token statistic ``name``, created as zeros the first time it is asked for."""
        if name not in self.stats:
            self.stats[name] = torch.zeros(len(self), dtype=torch.float32)
        return self.stats[name]

    def logits(self, queries: Tensor) -> Tensor:
        """``queries [..., head_dim] @ keys.T`` over every segment, each on the channels it kept."""
        parts = [
            (queries if s.channels is None else queries[..., s.channels]) @ s.keys.transpose(0, 1)
            for s in self.segments
        ]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    def values(self) -> Tensor:
        return (
            self.segments[0].values
            if len(self.segments) == 1
            else torch.cat([s.values for s in self.segments])
        )

    def positions(self) -> Tensor:
        return (
            self.segments[0].positions
            if len(self.segments) == 1
            else torch.cat([s.positions for s in self.segments])
        )

    def full_keys(self) -> Tensor:
        """Keys of every token with all channels, zeros where a channel was pruned (for scoring)."""
        out = []
        for s in self.segments:
            if s.channels is None:
                out.append(s.keys)
            else:
                dim = self._head_dim()
                full = s.keys.new_zeros(len(s), dim)
                full[:, s.channels] = s.keys
                out.append(full)
        return torch.cat(out)

    def _head_dim(self) -> int:
        return int(self.segments[0].values.shape[1])

    def keep(self, index: Tensor) -> None:
        """Keep only the tokens at ``index`` (ascending positions in this head); free the rest."""
        index = index.sort().values
        kept: list[Segment] = []
        start = 0
        for s in self.segments:
            local = index[(index >= start) & (index < start + len(s))] - start
            if local.numel():
                kept.append(s.take(local))
            start += len(s)
        self.segments = kept
        self.stats = {name: stat[index].clone() for name, stat in self.stats.items()}

    def prune_channels(self, channels: Tensor) -> None:
        """Keep only ``channels`` of the keys held with all their channels; later tokens keep all."""
        channels = channels.sort().values
        self.segments = [
            Segment(s.keys[:, channels].clone(), s.values, s.positions, channels) if s.channels is None else s
            for s in self.segments
        ]
        self._merge_like_segments()

    def _merge_like_segments(self) -> None:
        merged: list[Segment] = []
        for s in self.segments:
            last = merged[-1] if merged else None
            if last is not None and _same_channels(last.channels, s.channels):
                merged[-1] = Segment(
                    torch.cat([last.keys, s.keys]),
                    torch.cat([last.values, s.values]),
                    torch.cat([last.positions, s.positions]),
                    last.channels,
                )
            else:
                merged.append(s)
        self.segments = merged

    def clone(self) -> HeadCache:
        return HeadCache(
            [
                Segment(s.keys.clone(), s.values.clone(), s.positions.clone(), s.channels)
                for s in self.segments
            ],
            {name: stat.clone() for name, stat in self.stats.items()},
        )


def _same_channels(a: Tensor | None, b: Tensor | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(torch.equal(a, b))


@dataclass
class KVCache:
    """Every layer's heads, and how many tokens have been read (the next token's position)."""

    layers: list[list[HeadCache]]
    seen: int = 0

    @classmethod
    def empty(cls, num_layers: int, num_kv_heads: int) -> KVCache:
        return cls([[HeadCache() for _ in range(num_kv_heads)] for _ in range(num_layers)])

    def heads(self) -> Iterator[tuple[int, int, HeadCache]]:
        for layer, heads in enumerate(self.layers):
            for h, head in enumerate(heads):
                yield layer, h, head

    @property
    def nbytes(self) -> int:
        """Bytes held: keys, values, positions, channel lists and statistics."""
        return sum(head.nbytes for _, _, head in self.heads())

    @property
    def kv_nbytes(self) -> int:
        """Bytes of keys and values alone."""
        return sum(head.kv_nbytes for _, _, head in self.heads())

    def tokens_held(self) -> int:
        """Tokens held summed over every head of every layer."""
        return sum(len(head) for _, _, head in self.heads())

    def clone(self) -> KVCache:
        return KVCache([[head.clone() for head in heads] for heads in self.layers], self.seen)

    def drop_stats(self) -> None:
        """Forget the gathered statistics (a reused cache starts observing afresh)."""
        for _, _, head in self.heads():
            head.stats = {}

    def save(self, path: Path) -> None:
        torch.save(self._state(), path)

    @classmethod
    def load(cls, path: Path) -> KVCache:
        state = torch.load(path, weights_only=True)
        return cls._from_state(state)

    def _state(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "layers": [
                [
                    [
                        {"keys": s.keys, "values": s.values, "positions": s.positions, "channels": s.channels}
                        for s in head.segments
                    ]
                    for head in heads
                ]
                for heads in self.layers
            ],
        }

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> KVCache:
        layers = [
            [HeadCache([Segment(**segment) for segment in head]) for head in heads]
            for heads in state["layers"]
        ]
        return cls(layers, int(state["seen"]))
