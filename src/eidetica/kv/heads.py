"""Find the heads a policy treats apart, by reading a short probe with the model's own attention.

- **Retrieval heads** (RazorAttention): on a random token sequence read twice, a head that, at a
  token of the second copy, attends to the same token in the first copy (echo) or to the token
  after it (induction) can fetch from anywhere in the context.
- **Semantic retrieval heads** (CompressKV): asked for a fact planted in filler, a head that puts
  its attention on the whole of the fact's span, not only on one token to copy.

Scores are per key-value head: the highest of the query heads that share it.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from .attention import ATTENTION_NAME

if TYPE_CHECKING:
    from .generate import KVModel

__all__ = ["retrieval_heads", "semantic_heads"]

FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "
FACT = "The secret ingredient of Marta's soup is smoked paprika from the market in Valencia. "
QUESTION = "What is the secret ingredient of Marta's soup?"


@torch.inference_mode()
def _attentions(kv: KVModel, ids: list[int]) -> list[Tensor]:
    """Each layer's attention ``[query heads, tokens, tokens]`` from the model's eager attention."""
    model: Any = kv.model
    model.set_attn_implementation("eager")
    try:
        out = model(input_ids=torch.tensor([ids]), output_attentions=True, use_cache=False)
    finally:
        model.set_attn_implementation(ATTENTION_NAME)
    return [a[0] for a in out.attentions]


def _per_kv_head(scores: Tensor, kv_heads: int) -> Tensor:
    """``[query heads]`` → ``[kv heads]``, the highest of each group."""
    return scores.view(kv_heads, -1).max(dim=1).values


def _top(scores: dict[tuple[int, int], float], fraction: float) -> frozenset[tuple[int, int]]:
    count = max(1, round(fraction * len(scores)))
    return frozenset(sorted(scores, key=lambda k: -scores[k])[:count])


def head_scores_retrieval(kv: KVModel, length: int = 96, seed: int = 0) -> dict[tuple[int, int], float]:
    """Echo plus induction score of every (layer, kv head) on a random sequence read twice."""
    rng = random.Random(seed)
    vocab = int(kv.model.config.vocab_size)
    sequence = [rng.randrange(1000, vocab - 1000) for _ in range(length)]
    ids = sequence + sequence
    scores: dict[tuple[int, int], float] = {}
    rows = torch.arange(length + 1, 2 * length)
    echo_cols = rows - length
    induction_cols = echo_cols + 1
    for layer, attention in enumerate(_attentions(kv, ids)):
        echo = attention[:, rows, echo_cols].mean(dim=1)
        induction = attention[:, rows, induction_cols].mean(dim=1)
        for h, value in enumerate(_per_kv_head(echo + induction, kv.num_kv_heads).tolist()):
            scores[(layer, h)] = value
    return scores


def retrieval_heads(kv: KVModel, fraction: float = 0.15, seed: int = 0) -> frozenset[tuple[int, int]]:
    """The ``fraction`` of (layer, kv head) pairs with the highest echo and induction scores."""
    return _top(head_scores_retrieval(kv, seed=seed), fraction)


def head_scores_semantic(kv: KVModel, filler_sentences: int = 24) -> dict[tuple[int, int], float]:
    """Attention mass each (layer, kv head) puts on a planted fact when asked for it."""
    # Tokenise the pieces apart so the fact's span is known exactly.
    head = kv.encode(FILLER * (filler_sentences // 2))
    fact = kv.encode(FACT)
    tail = kv.encode(FILLER * (filler_sentences // 2) + QUESTION)
    ids = head + fact + tail
    span = slice(len(head), len(head) + len(fact))
    window = slice(len(ids) - len(kv.encode(QUESTION)), len(ids))
    scores: dict[tuple[int, int], float] = {}
    for layer, attention in enumerate(_attentions(kv, ids)):
        on_fact = attention[:, window, span]
        # Mass on the span times how evenly it is spread over it: a copy head piles it on one token.
        mass = on_fact.sum(dim=-1).mean(dim=-1)
        share = on_fact.mean(dim=1)
        share = share / share.sum(dim=-1, keepdim=True).clamp_min(1e-9)
        entropy = -(share * share.clamp_min(1e-9).log()).sum(dim=-1) / torch.log(
            torch.tensor(float(len(fact)))
        )
        for h, value in enumerate(_per_kv_head(mass * entropy, kv.num_kv_heads).tolist()):
            scores[(layer, h)] = value
    return scores


def semantic_heads(kv: KVModel, fraction: float = 0.2) -> frozenset[tuple[int, int]]:
    """The ``fraction`` of (layer, kv head) pairs that attend most, and most evenly, to an asked-for fact."""
    return _top(head_scores_semantic(kv), fraction)
