"""Answer from memory with a local model whose KV cache a policy compresses.

Two ways in:

- ``KVChatClient`` is an ``LLMClient``: ``Memory(llm=KVChatClient(kv, policy, budget))`` makes
  ``Memory.answer`` (and extraction, and anything else that calls an LLM) run on the local model.
- ``answer_from_context`` takes an Eidetica ``Context`` and a question, and a stable block (a
  user's profile, pinned facts) whose KV a ``BlockCache`` reads once and reuses across questions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ..errors import LLMOutputError, UsageError
from ..llms.answer import numbered, numbered_lines
from ..llms.base import Completion, JsonSchema, Message, Usage
from ..llms.validate import find_json, schema_error
from ..model import Context
from .blocks import BlockCache
from .generate import Generation, KVModel
from .policies import Budget, Policy

__all__ = ["KVChatClient", "answer_from_context", "memory_messages"]

INSTRUCTIONS = (
    "You answer questions from a person's memories. Use only the memories given. Answer in a few "
    "words. If the memories do not say, answer: not mentioned."
)


class KVChatClient:
    """An ``LLMClient`` over a local ``KVModel``, every prompt compressed by ``policy`` to ``budget``.

    Greedy decoding only (``temperature`` is ignored). With a schema, the reply must hold JSON
    that fits it, else ``LLMOutputError`` carries the reply for the caller to salvage: a model this
    small often answers in prose.
    """

    def __init__(self, kv: KVModel, policy: Policy | None = None, budget: Budget | None = None) -> None:
        if (policy is None) != (budget is None):
            raise UsageError("give a KV policy and a budget together, or neither")
        self.kv = kv
        self.policy = policy
        self.budget = budget
        self.usage = Usage()

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema | None = None,
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> Completion:
        began = time.perf_counter()
        prompt = self.kv.chat_ids([dict(m) for m in messages])
        reply = self.kv.generate(prompt, policy=self.policy, budget=self.budget, max_new_tokens=max_tokens)
        self.usage.add(calls=1, requests=1, prompt_tokens=len(prompt), completion_tokens=len(reply.token_ids))
        parsed: Any = None
        if schema is not None:
            parsed = _parse(reply.text, schema, len(prompt), len(reply.token_ids))
        return Completion(
            text=reply.text,
            parsed=parsed,
            prompt_tokens=len(prompt),
            completion_tokens=len(reply.token_ids),
            latency_s=time.perf_counter() - began,
            model=self.kv.name,
        )


def _parse(text: str, schema: JsonSchema, prompt_tokens: int, completion_tokens: int) -> Any:
    value: Any = None
    try:
        value = find_json(text)
        problem = schema_error(value, schema)
    except ValueError as exc:
        problem = str(exc)
    if problem is not None:
        raise LLMOutputError(
            f"the local model's reply does not fit the schema: {problem}",
            replies=(text,),
            parsed=value,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
    return value


def memory_messages(context: Context, question: str, stable: str | None = None) -> list[dict[str, str]]:
    """The chat: instructions and the stable block first (the reusable prefix), then memories and question."""
    system = INSTRUCTIONS if not stable else f"{INSTRUCTIONS}\n\nWhat you know for good:\n{stable.strip()}"
    lines = numbered_lines([hit.unit for hit in numbered(context)])
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Memories:\n{lines or '(none)'}\n\nQuestion: {question.strip()}"},
    ]


def answer_from_context(
    kv: KVModel,
    context: Context,
    question: str,
    *,
    stable: str | None = None,
    slot: str = "default",
    blocks: BlockCache | None = None,
    policy: Policy | None = None,
    budget: Budget | None = None,
    max_new_tokens: int = 48,
) -> Generation:
    """Answer ``question`` from ``context``; the stable block's KV comes from ``blocks`` when given."""
    if not question.strip():
        raise UsageError("the question is empty")
    messages = memory_messages(context, question, stable)
    prompt = kv.chat_ids(messages)
    if blocks is None:
        return kv.generate(prompt, policy=policy, budget=budget, max_new_tokens=max_new_tokens)
    prefix = reusable_prefix(kv, messages[:1], prompt)
    cache = blocks.get(slot, prompt[:prefix])
    return kv.generate(
        prompt[prefix:], prefix=cache, policy=policy, budget=budget, max_new_tokens=max_new_tokens
    )


def reusable_prefix(kv: KVModel, head: list[dict[str, str]], prompt: list[int]) -> int:
    """How many of ``prompt``'s tokens are the chat ``head`` alone: the part the next question shares."""
    ids = kv.encode(kv.chat_text(head, reply=False))
    if prompt[: len(ids)] != ids:
        raise UsageError("the model's chat template does not keep the system message as a prefix")
    return len(ids)
