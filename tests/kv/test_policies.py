"""Every KV policy on a tiny randomly initialised Llama built here: shapes, positions, bytes freed,
determinism, and attention that matches the model's own where nothing is evicted."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from eidetica.errors import UsageError
from eidetica.kv import (
    BlockCache,
    Budget,
    CompressKV,
    HeadAdaptive,
    KVCache,
    KVModel,
    LazyEviction,
    Policy,
    RazorAttention,
    RetentionGates,
    Scissorhands,
    SnapKV,
    StreamingLLM,
    ThinK,
    TrimKV,
    compress,
)

LAYERS, HEADS, KV_HEADS, HEAD_DIM, VOCAB = 3, 4, 2, 16, 128
PROMPT = 150


def tiny_llama(seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=HEADS * HEAD_DIM,
        intermediate_size=96,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        num_key_value_heads=KV_HEADS,
        head_dim=HEAD_DIM,
        max_position_embeddings=1024,
    )
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope="module")
def kv() -> KVModel:
    return KVModel(tiny_llama(), None, name="tiny-llama", prefill_chunk=64)


def prompt(n: int = PROMPT, seed: int = 1) -> list[int]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, VOCAB, (n,), generator=generator).tolist()


def gates() -> RetentionGates:
    generator = torch.Generator().manual_seed(3)
    return RetentionGates(
        torch.randn(LAYERS, KV_HEADS, 2 * HEAD_DIM, generator=generator),
        torch.zeros(LAYERS, KV_HEADS),
        "tiny-llama",
    )


POLICIES: dict[str, Policy] = {
    "streaming": StreamingLLM(),
    "snapkv": SnapKV(window=16),
    "scissorhands": Scissorhands(history=64, recent=8),
    "lazy": LazyEviction(window=16, recent=8),
    "razor": RazorAttention(retrieval_heads=frozenset({(2, 0)})),
    "think": ThinK(tokens=SnapKV(window=16), keep_channels=0.5),
    "compresskv": CompressKV(semantic_heads=frozenset({(1, 0)}), window=16),
    "adaptive": HeadAdaptive(tokens=SnapKV(window=16)),
    "trimkv": TrimKV(gates=gates()),
}


def reference_logits(kv: KVModel, ids: list[int]) -> torch.Tensor:
    """The model's own attention (PyTorch SDPA), no cache."""
    kv.model.set_attn_implementation("sdpa")
    try:
        with torch.inference_mode():
            return kv.model(input_ids=torch.tensor([ids])).logits[0, -1]
    finally:
        kv.model.set_attn_implementation("eidetica_kv")


def test_attention_matches_the_models_own_when_nothing_is_evicted(kv: KVModel) -> None:
    ids = prompt()
    cache, logits = kv.read(ids)
    assert torch.allclose(logits, reference_logits(kv, ids), atol=1e-4)
    assert cache.seen == PROMPT and all(len(head) == PROMPT for _, _, head in cache.heads())
    # Read on, token by token, after the prompt (the chunked path): still the model's own attention.
    more = prompt(5, seed=2)
    cache, logits = kv.read(more[:3], cache)
    cache, logits = kv.read(more[3:], cache)
    assert torch.allclose(logits, reference_logits(kv, ids + more), atol=1e-4)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_policy_keeps_its_budget_frees_the_rest_and_keeps_positions(kv: KVModel, name: str) -> None:
    policy = POLICIES[name]
    ids = prompt()
    cache, _ = kv.read(ids, policy=policy, budget=Budget(tokens=32))
    full = kv.full_bytes(PROMPT)
    assert cache.seen == PROMPT
    assert 0 < cache.kv_nbytes < full / 2
    if not isinstance(policy, RazorAttention):
        assert cache.tokens_held() <= 32 * LAYERS * KV_HEADS
    for layer, h, head in cache.heads():
        positions = head.positions()
        kept = positions[positions >= 0]
        if isinstance(policy, RazorAttention) and (layer, h) in policy.retrieval_heads:
            assert len(head) == PROMPT
        elif not isinstance(policy, CompressKV | HeadAdaptive):  # these share the budget unevenly
            assert len(head) <= 32
        assert torch.equal(kept, kept.sort().values), "tokens stay in the order they were read"
        assert int(kept.max()) < PROMPT and len(set(kept.tolist())) == kept.numel()
        for segment in head.segments:
            # What was evicted is freed: each tensor owns exactly the storage it shows.
            assert (
                segment.keys.untyped_storage().nbytes() == segment.keys.numel() * segment.keys.element_size()
            )
            assert segment.values.untyped_storage().nbytes() == segment.values.numel() * 4


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_generation_after_compression_is_deterministic_and_continues_positions(
    kv: KVModel, name: str
) -> None:
    policy = POLICIES[name]
    first = kv.generate(prompt(), policy=policy, budget=Budget(ratio=0.25), max_new_tokens=6)
    second = kv.generate(prompt(), policy=policy, budget=Budget(ratio=0.25), max_new_tokens=6)
    assert first.token_ids == second.token_ids and len(first.token_ids) == 6
    assert first.kv_bytes < 0.3 * first.full_kv_bytes
    assert first.full_kv_bytes == kv.full_bytes(PROMPT)


def test_generated_tokens_are_read_at_their_true_positions(kv: KVModel) -> None:
    cache, _ = kv.read(prompt(), policy=StreamingLLM(), budget=Budget(tokens=20))
    kv.read([5, 6], cache)
    positions = cache.layers[0][0].positions().tolist()
    assert positions[-2:] == [PROMPT, PROMPT + 1]
    assert positions[:4] == [0, 1, 2, 3]  # the attention sinks


def test_a_budget_above_the_prompt_changes_nothing(kv: KVModel) -> None:
    ids = prompt()
    cache, logits = kv.read(ids, policy=SnapKV(), budget=Budget(tokens=PROMPT + 10))
    assert all(len(head) == PROMPT for _, _, head in cache.heads())
    assert torch.allclose(logits, reference_logits(kv, ids), atol=1e-4)


def test_think_stores_half_the_key_channels(kv: KVModel) -> None:
    snap, _ = kv.read(prompt(), policy=SnapKV(window=16), budget=Budget(tokens=40))
    think, _ = kv.read(prompt(), policy=ThinK(tokens=SnapKV(window=16)), budget=Budget(tokens=40))
    for _, _, head in think.heads():
        pruned = head.segments[0]
        assert pruned.channels is not None and pruned.keys.shape[1] == HEAD_DIM // 2
    assert think.kv_nbytes == pytest.approx(snap.kv_nbytes * 0.75)
    # A ratio of bytes buys ThinK more tokens than a policy that keeps every channel.
    ratio = Budget(ratio=0.25)
    assert ratio.per_head(PROMPT, 0.5) > ratio.per_head(PROMPT)


def test_razor_heads_keep_everything_and_the_others_get_a_compensation_token(kv: KVModel) -> None:
    policy = POLICIES["razor"]
    assert isinstance(policy, RazorAttention)
    cache, _ = kv.read(prompt(), policy=policy, budget=Budget(tokens=40))
    for layer, h, head in cache.heads():
        if (layer, h) in policy.retrieval_heads:
            assert len(head) == PROMPT
        else:
            assert int((head.positions() == -1).sum()) == 1
    assert cache.tokens_held() <= 40 * LAYERS * KV_HEADS


def test_compresskv_gives_layers_different_budgets_within_the_total(kv: KVModel) -> None:
    cache, _ = kv.read(prompt(300), policy=CompressKV(window=16), budget=Budget(tokens=48))
    lengths = [len(heads[0]) for heads in cache.layers]
    assert all(len({len(head) for head in heads}) == 1 for heads in cache.layers), "one budget a layer"
    assert sum(lengths) <= 48 * LAYERS + LAYERS
    assert all(length >= 16 for length in lengths)


def test_generation_can_be_compressed_as_it_goes(kv: KVModel) -> None:
    reply = kv.generate(
        prompt(),
        policy=StreamingLLM(),
        budget=Budget(tokens=40),
        decode_budget=Budget(tokens=40),
        max_new_tokens=40,
    )
    per_token_head = kv.full_bytes(1) // (LAYERS * KV_HEADS)
    assert reply.peak_kv_bytes <= (40 + StreamingLLM().interval) * per_token_head * LAYERS * KV_HEADS
    assert len(reply.token_ids) == 40


def test_budgets_are_checked() -> None:
    with pytest.raises(UsageError, match="not both"):
        Budget(tokens=3, ratio=0.5)
    with pytest.raises(UsageError, match=r"\(0, 1\]"):
        Budget(ratio=1.5)
    with pytest.raises(UsageError, match="at least 1"):
        Budget(tokens=0)


def test_a_saved_cache_reads_back_the_same(kv: KVModel, tmp_path: Path) -> None:
    cache, _ = kv.read(prompt(), policy=ThinK(), budget=Budget(tokens=30))
    cache.save(tmp_path / "c.pt")
    back = KVCache.load(tmp_path / "c.pt")
    assert back.seen == cache.seen and back.kv_nbytes == cache.kv_nbytes
    a, b = kv.read([7], cache)[1], kv.read([7], back)[1]
    assert torch.equal(a, b)


def test_a_stable_block_is_read_once_reused_and_replaced_when_it_changes(kv: KVModel, tmp_path: Path) -> None:
    blocks = BlockCache(kv, folder=tmp_path)
    block, question = prompt(120), prompt(12, seed=9)
    whole = kv.generate(block + question, max_new_tokens=5)
    for _ in range(2):
        reused = kv.generate(question, prefix=blocks.get("alice", block), max_new_tokens=5)
        assert reused.token_ids == whole.token_ids
    assert (blocks.stats.hits, blocks.stats.misses) == (1, 1)
    assert blocks.get("alice", block).seen == 120, "generating from a block leaves it as it was"
    changed = prompt(120, seed=5)
    assert blocks.get("alice", changed).seen == 120
    assert blocks.stats.misses == 2 and len(list(tmp_path.glob("*.pt"))) == 1
    # Another process finds the block on disk.
    again = BlockCache(kv, folder=tmp_path)
    again.get("alice", changed)
    assert (again.stats.hits, again.stats.misses) == (1, 0)


def test_compress_on_an_empty_cache_does_nothing(kv: KVModel) -> None:
    cache = kv.new_cache()
    compress(cache, SnapKV(), Budget(tokens=4))
    assert cache.tokens_held() == 0


def test_head_adaptive_budgets_differ_between_heads_and_sum_to_the_layers(kv: KVModel) -> None:
    cache, _ = kv.read(prompt(300), policy=HeadAdaptive(tokens=SnapKV(window=16)), budget=Budget(tokens=48))
    lengths = [[len(head) for head in heads] for heads in cache.layers]
    assert all(sum(layer) <= 48 * KV_HEADS for layer in lengths)
    assert any(len(set(layer)) > 1 for layer in lengths), lengths
