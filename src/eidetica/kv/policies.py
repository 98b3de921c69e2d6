"""KV eviction policies: a scorer per head and token, then a selector that keeps a budget.

A policy scores each token of each key-value head from what the session observed (``scores``);
``inf`` marks a token it must keep (attention sinks, the observation window). It may share a
budget unevenly between heads and layers (``budgets``), and may act on what it evicts (``evict``:
RazorAttention folds it into a compensation token) or on what it keeps (``after``: ThinK prunes
key channels). ``compress`` applies one to a cache; every head ends with at most its budget.

- ``StreamingLLM``: attention sinks and the most recent tokens.
- ``SnapKV``: attention from the prompt's last queries (the observation window), pooled.
- ``Scissorhands``: persistence of importance: how often a token stood out, over a long window.
- ``LazyEviction``: tokens that keep coming back (recurrence interval) before those that once did;
  in generation it evicts only every ``window`` steps (lagged).
- ``RazorAttention``: retrieval heads keep everything; other heads keep sinks, recent tokens and
  one compensation token holding the mean of what they dropped.
- ``HeadAdaptive``: a token policy whose layer budget goes to the heads that need it most (Ada-KV).
- ``ThinK``: a token policy plus pruning of the key channels queries use least.
- ``CompressKV``: the semantic retrieval heads' votes choose the tokens of their whole layer, and
  layers whose attention is spread get more of the budget.
- ``TrimKV``: learned per-token retention gates; a token's score decays with age at its gate's rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import UsageError
from .attention import Observation
from .cache import HeadCache, KVCache

if TYPE_CHECKING:
    from .attention import KVSession
    from .gates import RetentionGates

__all__ = [
    "Budget",
    "CompressKV",
    "HeadAdaptive",
    "LazyEviction",
    "Policy",
    "RazorAttention",
    "Scissorhands",
    "SnapKV",
    "StreamingLLM",
    "ThinK",
    "TrimKV",
    "compress",
]

INF = float("inf")


@dataclass(frozen=True)
class Budget:
    """How much KV to keep: ``tokens`` per head, or ``ratio`` of the bytes the full cache would hold.

    A ratio counts keys and values: a policy that keeps half the key channels keeps more tokens
    for the same ratio.
    """

    tokens: int | None = None
    ratio: float | None = None

    def __post_init__(self) -> None:
        if (self.tokens is None) == (self.ratio is None):
            raise UsageError("give a budget as tokens or as a ratio, not both")
        if self.tokens is not None and self.tokens < 1:
            raise UsageError(f"a token budget is at least 1, got {self.tokens}")
        if self.ratio is not None and not 0 < self.ratio <= 1:
            raise UsageError(f"a budget ratio is in (0, 1], got {self.ratio}")

    def per_head(self, read: int, key_fraction: float = 1.0) -> int:
        """Tokens each head keeps, on average, of ``read`` tokens read."""
        if self.tokens is not None:
            return min(read, self.tokens)
        assert self.ratio is not None
        return max(1, min(read, int(self.ratio * read * 2 / (1 + key_fraction))))

    def describe(self) -> str:
        return f"tokens={self.tokens}" if self.tokens is not None else f"ratio={self.ratio}"


@dataclass(frozen=True)
class Policy:
    """The default policy keeps the most recent tokens; subclasses score differently."""

    @property
    def interval(self) -> int:
        """Generated tokens between two compressions when generation is compressed."""
        return 16

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def observation(self) -> Observation:
        return Observation()

    @property
    def key_fraction(self) -> float:
        """Share of key channels kept."""
        return 1.0

    def describe(self) -> str:
        """The policy and its settings, as a key for stored caches."""
        return repr(self)

    def scores(self, cache: KVCache, layer: int) -> list[Tensor]:
        return [head.positions().float() for head in cache.layers[layer]]

    def budgets(self, cache: KVCache, scores: list[list[Tensor]], tokens: int) -> list[list[int]]:
        """Tokens each head keeps; by default every head the same."""
        return [[tokens] * len(heads) for heads in cache.layers]

    def evict(self, cache: KVCache, layer: int, h: int, keep: Tensor) -> None:
        cache.layers[layer][h].keep(keep)

    def after(self, cache: KVCache, session: KVSession | None) -> None:
        """Act on what was kept (nothing by default)."""


def select(scores: Tensor, positions: Tensor, budget: int) -> Tensor:
    """Indices of the ``budget`` best tokens; among tokens that must stay, the most recent first."""
    protected = torch.isinf(scores) & (scores > 0)
    if int(protected.sum()) >= budget:
        recent = torch.where(protected, positions.float(), torch.full_like(scores, -INF))
        return recent.topk(budget).indices
    return scores.topk(budget).indices


def compress(cache: KVCache, policy: Policy, budget: Budget, session: KVSession | None = None) -> None:
    """Evict from every head down to its share of ``budget``, then let the policy act on what is kept."""
    longest = max((len(head) for _, _, head in cache.heads()), default=0)
    if longest == 0:
        return
    tokens = budget.per_head(longest, policy.key_fraction)
    scores = [policy.scores(cache, layer) for layer in range(len(cache.layers))]
    budgets = policy.budgets(cache, scores, tokens)
    for layer, h, head in cache.heads():
        keep_n = budgets[layer][h]
        if len(head) > keep_n:
            policy.evict(cache, layer, h, select(scores[layer][h], head.positions(), keep_n))
    policy.after(cache, session)


def _protect(scores: Tensor, mask: Tensor) -> Tensor:
    return torch.where(mask, torch.full_like(scores, INF), scores)


def _recent(head: HeadCache, cache: KVCache, count: int) -> Tensor:
    return head.positions() >= cache.seen - count


def _sinks(head: HeadCache, count: int) -> Tensor:
    positions = head.positions()
    return (positions >= 0) & (positions < count)


def _pooled(votes: Tensor, kernel: int) -> Tensor:
    """Average votes over neighbouring tokens, so a kept token keeps its neighbours (SnapKV's clustering)."""
    if kernel <= 1 or votes.numel() < kernel:
        return votes
    return F.avg_pool1d(
        votes.view(1, 1, -1), kernel, stride=1, padding=kernel // 2, count_include_pad=False
    ).view(-1)


def _share(scores: list[Tensor], held: list[int], total: int, floor: int = 0) -> list[int]:
    """Split ``total`` kept tokens between score vectors by their best normalised scores.

    Each vector first gets its protected (``inf``) tokens, or ``floor`` if more; the rest goes to
    the tokens whose score, as a share of their vector's sum, is among the best of all.
    """
    free = [torch.where(torch.isinf(s), torch.zeros_like(s), s) for s in scores]
    base = [max(floor, int(torch.isinf(s).sum())) for s in scores]
    shares = [f / f.sum().clamp_min(1e-9) for f in free]
    flat = torch.cat(shares)
    owner = torch.cat([torch.full((f.numel(),), i) for i, f in enumerate(shares)])
    pool = max(0, total - sum(base))
    best = owner[flat.topk(min(pool, flat.numel())).indices]
    counts = torch.bincount(best, minlength=len(scores)).tolist()
    return [min(n, b + c) for n, b, c in zip(held, base, counts, strict=True)]


@dataclass(frozen=True)
class StreamingLLM(Policy):
    """The first ``sinks`` tokens and the most recent ones (Xiao et al., 2023)."""

    sinks: int = 4

    def scores(self, cache: KVCache, layer: int) -> list[Tensor]:
        return [_protect(head.positions().float(), _sinks(head, self.sinks)) for head in cache.layers[layer]]


@dataclass(frozen=True)
class SnapKV(Policy):
    """Tokens the prompt's last ``window`` queries attend to, pooled over ``kernel`` (Li et al., 2024)."""

    window: int = 32
    kernel: int = 7

    @property
    def observation(self) -> Observation:
        return Observation(self.window, frozenset({"window"}))

    def scores(self, cache: KVCache, layer: int) -> list[Tensor]:
        return [
            _protect(_pooled(head.stat("window"), self.kernel), _recent(head, cache, self.window))
            for head in cache.layers[layer]
        ]


@dataclass(frozen=True)
class Scissorhands(Policy):
    """Tokens that stood out (above an even share of attention) most often, over ``history`` queries.

    Liu et al., 2023: a token that mattered persistently keeps mattering. The ``recent`` tokens
    have had no time to stand out and are kept.
    """

    history: int = 256
    recent: int = 32

    @property
    def observation(self) -> Observation:
        return Observation(self.history, frozenset({"hits", "window"}))

    def scores(self, cache: KVCache, layer: int) -> list[Tensor]:
        out = []
        for head in cache.layers[layer]:
            attention = head.stat("window")
            tie_break = attention / (float(attention.max()) + 1.0)  # below one hit
            out.append(_protect(head.stat("hits") + tie_break, _recent(head, cache, self.recent)))
        return out


@dataclass(frozen=True)
class LazyEviction(Policy):
    """Tokens whose attention recurs, kept until their recurrence is overdue (lagged eviction).

    Each token has the longest interval between two steps at which it stood out. A token seen
    again within its interval is expected back and ranks above tokens that stood out once; then
    attention over the window decides. In generation it compresses every ``window`` steps only, so
    a token gets a whole window to recur before it can go.
    """

    window: int = 64
    recent: int = 16

    @property
    def interval(self) -> int:
        return self.window

    @property
    def observation(self) -> Observation:
        return Observation(self.window, frozenset({"window", "recurrence"}))

    def scores(self, cache: KVCache, layer: int) -> list[Tensor]:
        out = []
        now = float(cache.seen)
        for head in cache.layers[layer]:
            attention = head.stat("window")
            last, interval = head.stat("last_hit"), head.stat("interval")
            recurring = (interval > 0) & (now + 1 - last <= interval)
            score = attention + recurring.float() * (float(attention.max()) + 1.0)
            out.append(_protect(score, _recent(head, cache, self.recent)))
        return out


@dataclass(frozen=True)
class RazorAttention(Policy):
    """Retrieval heads keep every token; the others keep sinks and a recent window (Tang et al., 2024).

    ``retrieval_heads`` are (layer, kv head) pairs, found by ``heads.retrieval_heads`` (echo and
    induction scores on a repeated random sequence). What a non-retrieval head drops is folded
    into one compensation token: the mean of the dropped keys and values.
    """

    retrieval_heads: frozenset[tuple[int, int]] = frozenset()
    sinks: int = 4
    compensate: bool = True

    def scores(self, cache: KVCache, layer: int) -> list[Tensor]:
        out = []
        for h, head in enumerate(cache.layers[layer]):
            positions = head.positions().float()
            if (layer, h) in self.retrieval_heads:
                out.append(torch.full_like(positions, INF))
            else:
                # A former compensation token (position -1) ranks last: it is folded into the next one.
                score = torch.where(positions < 0, torch.full_like(positions, -INF), positions)
                out.append(_protect(score, _sinks(head, self.sinks)))
        return out

    def budgets(self, cache: KVCache, scores: list[list[Tensor]], tokens: int) -> list[list[int]]:
        """Retrieval heads keep all; the others share what is left of the whole cache's budget."""
        total = tokens * sum(len(heads) for heads in cache.layers)
        full = sum(
            len(cache.layers[layer][h]) for layer, h in self.retrieval_heads if layer < len(cache.layers)
        )
        others = sum(len(heads) for heads in cache.layers) - len(self.retrieval_heads)
        share = max(self.sinks + 1, (total - full) // max(others, 1)) - int(self.compensate)
        return [
            [
                len(head) if (layer, h) in self.retrieval_heads else max(1, share)
                for h, head in enumerate(heads)
            ]
            for layer, heads in enumerate(cache.layers)
        ]

    def evict(self, cache: KVCache, layer: int, h: int, keep: Tensor) -> None:
        head = cache.layers[layer][h]
        if not self.compensate:
            head.keep(keep)
            return
        dropped = torch.ones(len(head), dtype=torch.bool)
        dropped[keep] = False
        key = head.full_keys()[dropped].mean(dim=0, keepdim=True)
        value = head.values()[dropped].mean(dim=0, keepdim=True)
        head.keep(keep)
        head.append(key, value, torch.tensor([-1], dtype=torch.int32))


@dataclass(frozen=True)
class Wrapping(Policy):
    """A policy that adds to the token policy it wraps; everything it does not change is the inner one's."""

    tokens: Policy = field(default_factory=SnapKV)

    @property
    def interval(self) -> int:
        return self.tokens.interval

    @property
    def observation(self) -> Observation:
        return self.tokens.observation

    @property
    def key_fraction(self) -> float:
        return self.tokens.key_fraction

    def scores(self, cache: KVCache, layer: int) -> list[Tensor]:
        return self.tokens.scores(cache, layer)

    def budgets(self, cache: KVCache, scores: list[list[Tensor]], tokens: int) -> list[list[int]]:
        return self.tokens.budgets(cache, scores, tokens)

    def evict(self, cache: KVCache, layer: int, h: int, keep: Tensor) -> None:
        self.tokens.evict(cache, layer, h, keep)

    def after(self, cache: KVCache, session: KVSession | None) -> None:
        self.tokens.after(cache, session)


@dataclass(frozen=True)
class HeadAdaptive(Wrapping):
    """A token policy whose layer budget goes to the heads that need it (after Ada-KV, Feng et al., 2024).

    Each head's scores are normalised to sum to one, and the layer keeps the tokens with the best
    normalised scores over all its heads: a head that attends to a few tokens gives up budget to
    one whose attention is spread.
    """

    def budgets(self, cache: KVCache, scores: list[list[Tensor]], tokens: int) -> list[list[int]]:
        out = []
        for layer, per_head in enumerate(scores):
            held = [len(head) for head in cache.layers[layer]]
            out.append(_share(per_head, held, tokens * len(per_head)))
        return out


@dataclass(frozen=True)
class ThinK(Wrapping):
    """A token policy, then only the key channels queries lean on most (Xu et al., 2024).

    A channel's score is the norm of the observed queries on it times the norm of the kept keys
    on it; the top ``keep_channels`` share stays, and the pruned keys are stored smaller. Tokens
    read later keep all their channels.
    """

    keep_channels: float = 0.5

    @property
    def observation(self) -> Observation:
        inner = self.tokens.observation
        return Observation(max(inner.window, 32), inner.stats | {"query_energy"})

    @property
    def key_fraction(self) -> float:
        return self.keep_channels * self.tokens.key_fraction

    def after(self, cache: KVCache, session: KVSession | None) -> None:
        self.tokens.after(cache, session)
        if session is None:
            return
        for layer, h, head in cache.heads():
            energy = session.query_energy.get((layer, h))
            full = [s for s in head.segments if s.channels is None]
            if energy is None or not full:
                continue
            keys = torch.cat([s.keys for s in full])
            channel_scores = energy.sqrt() * keys.norm(dim=0)
            kept = max(1, math.ceil(self.keep_channels * keys.shape[1]))
            head.prune_channels(channel_scores.topk(kept).indices)


@dataclass(frozen=True)
class CompressKV(Policy):
    """Semantic retrieval heads choose the tokens for their layer; layers get budgets by need.

    After Lin et al., 2025. Each layer's tokens are ranked by the pooled window votes of its
    semantic retrieval heads (``heads.semantic_heads``: heads that attend to the whole of a fact
    when asked for it, not only to a token to copy), or of all its heads when it has none. The
    cache's budget is shared between layers by attention mass: a layer whose votes are spread
    over many tokens loses more by eviction and gets more tokens. The observation window is kept.
    """

    semantic_heads: frozenset[tuple[int, int]] = frozenset()
    window: int = 32
    kernel: int = 7

    @property
    def observation(self) -> Observation:
        return Observation(self.window, frozenset({"window"}))

    def _layer_votes(self, cache: KVCache, layer: int) -> Tensor:
        heads = cache.layers[layer]
        chosen = [h for h in range(len(heads)) if (layer, h) in self.semantic_heads] or list(
            range(len(heads))
        )
        votes = torch.stack([_pooled(heads[h].stat("window"), self.kernel) for h in chosen]).sum(dim=0)
        return votes / votes.sum().clamp_min(1e-9)

    def scores(self, cache: KVCache, layer: int) -> list[Tensor]:
        heads = cache.layers[layer]
        if len({len(head) for head in heads}) != 1:  # heads differ after an earlier compression
            return SnapKV(window=self.window, kernel=self.kernel).scores(cache, layer)
        votes = self._layer_votes(cache, layer)
        protected = _recent(heads[0], cache, self.window)
        return [_protect(votes, protected) for _ in heads]

    def budgets(self, cache: KVCache, scores: list[list[Tensor]], tokens: int) -> list[list[int]]:
        """Give each layer the tokens whose normalised votes are among the whole cache's best."""
        firsts = [layer_scores[0] for layer_scores in scores]
        held = [len(heads[0]) for heads in cache.layers]
        floor = min(tokens, self.window + self.kernel)
        shares = _share(firsts, held, tokens * len(scores), floor)
        return [[share] * len(heads) for share, heads in zip(shares, cache.layers, strict=True)]


@dataclass(frozen=True)
class TrimKV(Policy):
    """Learned retention: each token's gate says how slowly its importance fades (after TRIM-KV).

    ``gates`` (trained by ``benchmarks/kv/train_gates.py``) give each token of each head a
    retention rate ``beta`` in (0, 1) from its key and value; the token's score is
    ``age * log(beta)``, so a token with a high rate outlives many newer ones.
    """

    gates: RetentionGates | None = None
    sinks: int = 4

    def describe(self) -> str:
        return f"TrimKV(gates={self.gates.fingerprint() if self.gates else None}, sinks={self.sinks})"

    def scores(self, cache: KVCache, layer: int) -> list[Tensor]:
        if self.gates is None:
            raise UsageError("TrimKV needs trained gates: TrimKV(gates=RetentionGates.load(path))")
        out = []
        for h, head in enumerate(cache.layers[layer]):
            log_beta = self.gates.log_retention(layer, h, head.full_keys(), head.values())
            age = (cache.seen - head.positions()).float()
            out.append(_protect(age * log_beta, _sinks(head, self.sinks)))
        return out
