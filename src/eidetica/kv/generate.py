"""Read a prompt into a compressed KV cache and generate from it, greedily.

``KVModel`` wraps a Hugging Face causal LM (any whose attention calls transformers' attention
interface: Llama, Qwen2, Mistral, SmolLM) and its tokenizer. A prompt is read in chunks into a
``KVCache``; after it is read, the policy compresses the cache to the budget; generation may
compress again every ``policy.interval`` tokens. Positions continue from the tokens read, not from
the tokens held, so the model sees every later token where it stands.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..errors import UsageError
from .attention import KVSession, Observation, register_attention
from .cache import KVCache
from .policies import Budget, Policy, compress

__all__ = ["Decoded", "Generation", "KVModel", "Prefill"]


@dataclass(frozen=True)
class Generation:
    """A generated reply and what it cost.

    ``kv_bytes`` are the keys and values held once the prompt was read and compressed;
    ``held_bytes`` add positions, channel lists and statistics; ``full_kv_bytes`` is what the same
    prompt takes uncompressed. ``ttft_s`` is the time to the first generated token.
    """

    text: str
    token_ids: tuple[int, ...]
    prompt_tokens: int
    kv_bytes: int
    held_bytes: int
    full_kv_bytes: int
    peak_kv_bytes: int
    prefill_s: float
    ttft_s: float
    decode_s: float


@dataclass(frozen=True)
class Prefill:
    """A prompt read into a cache: the cache, the logits after its last token, and what was observed."""

    cache: KVCache
    logits: Tensor
    session: KVSession


@dataclass(frozen=True)
class Decoded:
    """Generated tokens, the most KV held meanwhile, and the times to the first token and to the end."""

    text: str
    token_ids: tuple[int, ...]
    peak_kv_bytes: int
    first_token_s: float
    decode_s: float


class KVModel:
    """A causal LM whose attention reads a ``KVCache``; one sequence at a time.

    Without a tokenizer it reads and generates token ids only (tests use a model built in place).
    """

    def __init__(self, model: Any, tokenizer: Any | None, *, name: str, prefill_chunk: int = 2048) -> None:
        register_attention(model)
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.prefill_chunk = prefill_chunk
        config = model.config
        self.num_layers = int(config.num_hidden_layers)
        self.num_heads = int(config.num_attention_heads)
        self.num_kv_heads = int(getattr(config, "num_key_value_heads", None) or self.num_heads)
        self.head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // self.num_heads)
        self.stop_ids = self._stop_ids()

    def _stop_ids(self) -> frozenset[int]:
        if self.tokenizer is None:
            return frozenset()
        ids = {self.tokenizer.eos_token_id}
        for token in ("<|im_end|>", "<|eot_id|>", "<|endoftext|>"):
            found = self.tokenizer.convert_tokens_to_ids(token)
            if isinstance(found, int) and found != self.tokenizer.unk_token_id:
                ids.add(found)
        return frozenset(i for i in ids if i is not None)

    def new_cache(self) -> KVCache:
        return KVCache.empty(self.num_layers, self.num_kv_heads)

    def full_bytes(self, tokens: int) -> int:
        """Bytes of keys and values an uncompressed cache holds for ``tokens`` tokens."""
        element = int(next(self.model.parameters()).element_size())
        return 2 * self.num_layers * self.num_kv_heads * self.head_dim * tokens * element

    def _text_tokenizer(self) -> Any:
        if self.tokenizer is None:
            raise UsageError("this model was given no tokenizer: pass token ids")
        return self.tokenizer

    def encode(self, text: str) -> list[int]:
        return list(self._text_tokenizer()(text, add_special_tokens=False)["input_ids"])

    def chat_text(self, messages: Sequence[dict[str, str]], *, reply: bool = True) -> str:
        """A chat as the model's template writes it; with ``reply``, ready for the assistant's turn."""
        text = self._text_tokenizer().apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=reply
        )
        return str(text)

    def chat_ids(self, messages: Sequence[dict[str, str]]) -> list[int]:
        """Token ids of a chat, ready for the assistant's reply."""
        return self.encode(self.chat_text(messages))

    def _session(self, cache: KVCache, observation: Observation, upto: int) -> KVSession:
        return KVSession(cache, self.num_heads, observation, observe_from=upto - observation.window)

    @torch.inference_mode()
    def _step(self, session: KVSession, ids: Sequence[int]) -> Tensor:
        """Read ``ids`` after what the cache holds; return the logits after the last one."""
        start = session.cache.seen
        input_ids = torch.tensor([list(ids)], dtype=torch.long)
        positions = torch.arange(start, start + len(ids), dtype=torch.long).unsqueeze(0)
        out = self.model(
            input_ids=input_ids, position_ids=positions, use_cache=False, kv_session=session, logits_to_keep=1
        )
        return out.logits[0, -1]  # type: ignore[no-any-return]

    def prefill(
        self, ids: Sequence[int], cache: KVCache | None = None, observation: Observation | None = None
    ) -> Prefill:
        """Read ``ids`` after what ``cache`` holds (a new cache by default), observing the last queries.

        Nothing is evicted: pass the result to ``compress`` (several policies may share one
        prefill when they observe alike; compress a ``clone`` for each).
        """
        if not ids:
            raise UsageError("nothing to read: the prompt has no tokens")
        cache = cache if cache is not None else self.new_cache()
        session = self._session(cache, observation or Observation(), cache.seen + len(ids))
        logits = torch.empty(0)
        for a in range(0, len(ids), self.prefill_chunk):
            logits = self._step(session, ids[a : a + self.prefill_chunk])
        return Prefill(cache, logits, session)

    def read(
        self,
        ids: Sequence[int],
        cache: KVCache | None = None,
        policy: Policy | None = None,
        budget: Budget | None = None,
    ) -> tuple[KVCache, Tensor]:
        """Read ``ids`` into ``cache`` (a new one by default), compress it, return it and the last logits."""
        compressing = policy is not None and budget is not None
        read = self.prefill(ids, cache, policy.observation if policy is not None and compressing else None)
        if policy is not None and budget is not None:
            compress(read.cache, policy, budget, read.session)
        return read.cache, read.logits

    def decode(
        self,
        cache: KVCache,
        logits: Tensor,
        *,
        max_new_tokens: int = 32,
        policy: Policy | None = None,
        decode_budget: Budget | None = None,
    ) -> Decoded:
        """Generate greedily after ``cache`` from ``logits``; compress every ``policy.interval`` tokens."""
        began = time.perf_counter()
        peak = cache.kv_nbytes
        tokens: list[int] = []
        first = 0.0
        observation = (
            policy.observation if policy is not None and decode_budget is not None else Observation()
        )
        session = self._session(cache, observation, 0)
        while len(tokens) < max_new_tokens:
            token = int(logits.argmax())
            first = first or time.perf_counter() - began
            if token in self.stop_ids:
                break
            tokens.append(token)
            if len(tokens) == max_new_tokens:
                break
            logits = self._step(session, [token])
            peak = max(peak, cache.kv_nbytes)
            if policy is not None and decode_budget is not None and len(tokens) % policy.interval == 0:
                compress(cache, policy, decode_budget, session)
                session.reset_observation()
        text = self.tokenizer.decode(tokens, skip_special_tokens=True) if self.tokenizer else ""
        return Decoded(text, tuple(tokens), peak, first, time.perf_counter() - began)

    def generate(
        self,
        prompt: Sequence[int],
        *,
        policy: Policy | None = None,
        budget: Budget | None = None,
        max_new_tokens: int = 32,
        prefix: KVCache | None = None,
        decode_budget: Budget | None = None,
    ) -> Generation:
        """Greedy reply to ``prompt`` (token ids read after ``prefix``, a cache this call does not change).

        With ``policy`` and ``budget`` the cache is compressed once the prompt is read; with
        ``decode_budget`` too, again every ``policy.interval`` generated tokens.
        """
        began = time.perf_counter()
        cache = prefix.clone() if prefix is not None else None
        if cache is not None:
            cache.drop_stats()
        cache, logits = self.read(prompt, cache, policy, budget)
        prefill_s = time.perf_counter() - began
        kv_bytes, held_bytes, full_bytes = cache.kv_nbytes, cache.nbytes, self.full_bytes(cache.seen)
        reply = self.decode(
            cache, logits, max_new_tokens=max_new_tokens, policy=policy, decode_budget=decode_budget
        )
        return Generation(
            text=reply.text,
            token_ids=reply.token_ids,
            prompt_tokens=len(prompt) + (prefix.seen if prefix is not None else 0),
            kv_bytes=kv_bytes,
            held_bytes=held_bytes,
            full_kv_bytes=full_bytes,
            peak_kv_bytes=max(kv_bytes, reply.peak_kv_bytes),
            prefill_s=prefill_s,
            ttft_s=prefill_s + reply.first_token_s,
            decode_s=reply.decode_s,
        )
