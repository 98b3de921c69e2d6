"""Attention over a ``KVCache``, plugged into an unmodified Hugging Face model.

transformers lets a model call a registered attention function in place of its own
(``AttentionInterface``); the model still projects queries, keys and values and applies the rotary
embedding, so this module never copies modelling code. The function is given this step's new keys
and values, appends them to the session's cache and attends over what each head holds: heads of
different lengths, keys with pruned channels. Queries are read in chunks, so a long prompt never
builds a full attention matrix; a prompt read into an empty cache takes PyTorch's fused attention.

While attending it gathers what the session's policy asked for, over the observed queries (the last
``window`` of the prompt, then every generated token):

- ``window``: attention each token received, summed (SnapKV's observation-window vote);
- ``hits``: how often a token received more than an even share (Scissorhands' persistence);
- ``last_hit``, ``interval``: when a token last did so and the longest gap between two such steps
  (LazyEviction's recurrence interval);
- per-head query energy per key channel (ThinK's channel scores).

Batches of one sequence only: a memory answers one question at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import UsageError
from .cache import HeadCache, KVCache

__all__ = ["ATTENTION_NAME", "KVSession", "Observation", "register_attention"]

#: The name the attention function is registered under in transformers.
ATTENTION_NAME = "eidetica_kv"
#: Query rows read together: bounds the attention matrix to ``CHUNK × tokens held`` per head.
CHUNK = 256
#: The statistics a policy may ask to gather.
STATS = frozenset({"window", "hits", "recurrence", "query_energy"})


@dataclass(frozen=True)
class Observation:
    """What a policy wants gathered while the model attends, over how many of the prompt's last queries."""

    window: int = 0
    stats: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = self.stats - STATS
        if unknown:
            raise UsageError(f"unknown statistics {sorted(unknown)}; known: {sorted(STATS)}")


@dataclass
class KVSession:
    """One cache being read into and attended over, and what is observed meanwhile."""

    cache: KVCache
    num_query_heads: int
    observation: Observation = field(default_factory=Observation)
    #: Queries at positions from here on are observed.
    observe_from: int = 0
    #: Sum over observed queries of each key channel's squared value, per (layer, kv head).
    query_energy: dict[tuple[int, int], Tensor] = field(default_factory=dict)

    def reset_observation(self) -> None:
        """Start a fresh observation window (after a compression)."""
        for _, _, head in self.cache.heads():
            for name in ("window", "hits"):
                if name in head.stats:
                    head.stats[name].zero_()
        self.query_energy.clear()

    def attend(self, layer: int, query: Tensor, key: Tensor, value: Tensor, scaling: float) -> Tensor:
        """Append this step's keys and values to ``layer`` and attend; returns ``[1, tokens, heads, dim]``."""
        if query.shape[0] != 1:
            raise UsageError("the KV cache reads one sequence at a time (batch size 1)")
        steps = query.shape[2]
        start = self.cache.seen
        positions = torch.arange(start, start + steps, dtype=torch.int32)
        heads = self.cache.layers[layer]
        group = self.num_query_heads // len(heads)
        out = torch.empty_like(query[0])
        for h, head in enumerate(heads):
            fresh = len(head) == 0
            head.append(key[0, h], value[0, h], positions)
            queries = query[0, h * group : (h + 1) * group]
            observed = self._observed_rows(start, steps)
            if fresh:
                out[h * group : (h + 1) * group] = F.scaled_dot_product_attention(
                    queries,
                    key[0, h].expand(group, -1, -1),
                    value[0, h].expand(group, -1, -1),
                    is_causal=True,
                    scale=scaling,
                )
                if observed < steps:
                    self._observe_rows(layer, h, head, queries, scaling, observed, steps, start)
            else:
                out[h * group : (h + 1) * group] = self._attend_chunks(
                    layer, h, head, queries, scaling, observed, start
                )
        if layer == len(self.cache.layers) - 1:
            self.cache.seen += steps
        return out.transpose(0, 1).unsqueeze(0)

    def _observed_rows(self, start: int, steps: int) -> int:
        """The first of this step's query rows that is observed (``steps`` when none is)."""
        if not self.observation.stats:
            return steps
        return min(steps, max(0, self.observe_from - start))

    def _attend_chunks(
        self, layer: int, h: int, head: HeadCache, queries: Tensor, scaling: float, observed: int, start: int
    ) -> Tensor:
        steps = queries.shape[1]
        values = head.values()
        out = queries.new_empty(queries.shape[0], steps, values.shape[1])
        for a in range(0, steps, CHUNK):
            b = min(steps, a + CHUNK)
            weights = self._weights(head, queries[:, a:b], scaling, a, steps)
            out[:, a:b] = weights @ values
            if observed < b:
                first = max(a, observed)
                self._gather(
                    layer, h, head, queries[:, first:b], weights[:, first - a :], start + first, steps - first
                )
        return out

    def _observe_rows(
        self,
        layer: int,
        h: int,
        head: HeadCache,
        queries: Tensor,
        scaling: float,
        observed: int,
        steps: int,
        start: int,
    ) -> None:
        for a in range(observed, steps, CHUNK):
            b = min(steps, a + CHUNK)
            weights = self._weights(head, queries[:, a:b], scaling, a, steps)
            self._gather(layer, h, head, queries[:, a:b], weights, start + a, steps - a)

    @staticmethod
    def _weights(head: HeadCache, queries: Tensor, scaling: float, first_row: int, steps: int) -> Tensor:
        """Softmax attention of query rows ``first_row...`` (of ``steps`` new ones) over the head's tokens."""
        logits = head.logits(queries) * scaling
        held = logits.shape[-1]
        rows = torch.arange(first_row, first_row + queries.shape[1]).unsqueeze(1)
        new = torch.arange(steps).unsqueeze(0)
        future = new > rows  # a new token may not see the new tokens after it
        logits[..., held - steps :] = logits[..., held - steps :].masked_fill(future, float("-inf"))
        return torch.softmax(logits, dim=-1)

    def _gather(
        self,
        layer: int,
        h: int,
        head: HeadCache,
        queries: Tensor,
        weights: Tensor,
        position: int,
        unseen: int,
    ) -> None:
        """Add observed rows' attention (``weights [group, rows, held]``) to the head's statistics.

        ``unseen`` counts the new tokens from the first observed row on: row ``r`` sees all held
        tokens but the last ``unseen - r - 1``.
        """
        stats = self.observation.stats
        if "window" in stats:
            head.stat("window").add_(weights.sum(dim=(0, 1)))
        if "query_energy" in stats:
            energy = queries.pow(2).sum(dim=(0, 1))
            key = (layer, h)
            self.query_energy[key] = self.query_energy.get(key, torch.zeros_like(energy)) + energy
        if not stats & {"hits", "recurrence"}:
            return
        held = weights.shape[-1]
        visible = held - unseen + 1 + torch.arange(weights.shape[1])
        above = weights > (1.0 / visible).unsqueeze(1)  # [group, rows, held]
        if "hits" in stats:
            head.stat("hits").add_(above.sum(dim=(0, 1)).float())
        if "recurrence" in stats:
            _track_recurrence(head, above.any(dim=0), position)


def _track_recurrence(head: HeadCache, hit_rows: Tensor, position: int) -> None:
    """Per token, the step it last stood out at (1-based; 0 = never) and the longest gap between two."""
    last = head.stat("last_hit")
    interval = head.stat("interval")
    for r in range(hit_rows.shape[0]):
        step = float(position + r + 1)
        hit = hit_rows[r]
        again = hit & (last > 0)
        interval.copy_(torch.where(again, torch.maximum(interval, step - last), interval))
        last.copy_(torch.where(hit, torch.full_like(last, step), last))


def kv_attention(
    module: Any,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attention_mask: Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[Tensor, None]:
    """The attention function transformers calls; the session comes in the forward's ``kv_session``."""
    session = kwargs.get("kv_session")
    if not isinstance(session, KVSession):
        raise UsageError(f"a model set to {ATTENTION_NAME!r} attention must be called with kv_session=...")
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    return session.attend(module.layer_idx, query, key, value, scale), None


def register_attention(model: Any) -> None:
    """Register the attention function and make ``model`` use it."""
    from transformers import AttentionInterface

    AttentionInterface.register(ATTENTION_NAME, kv_attention)
    model.set_attn_implementation(ATTENTION_NAME)
