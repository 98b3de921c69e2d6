"""The part of ``complete`` every client shares: validate JSON replies, repair once, keep the books.

A client supplies ``send`` (one model reply for a list of messages, with its own retries); this
module parses the reply, checks it against the schema, asks the model once to fix it when it
does not fit, and records calls, tokens, repairs and failures in the client's ``Usage``.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Generic, TypeVar

from ..errors import LLMError, LLMOutputError, UsageError
from .base import Completion, Counters, JsonSchema, LLMClient, Message, Usage
from .prompt import Prompt, load_prompt
from .validate import find_json, schema_error

__all__ = [
    "BaseClient",
    "BatchStats",
    "BatchedTask",
    "RawReply",
    "Send",
    "check_reply",
    "complete",
    "schema_instruction",
    "schema_text",
    "strict_object",
]

logger = logging.getLogger("eidetica.llm")

REPAIR_PROMPT = "repair_v1"
FORMAT_PROMPT = "format_v1"
_SHOWN_REPLY_CHARS = 4000  # a runaway reply is cut before it is sent back for repair


@dataclass(frozen=True)
class RawReply:
    """What one model request returned: its text, token counts and HTTP attempts (retries included)."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 1


Send = Callable[[Sequence[Message]], RawReply]


def schema_text(schema: JsonSchema) -> str:
    """The schema as compact JSON, for prompts."""
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))


def strict_object(properties: Mapping[str, JsonSchema], *, title: str | None = None) -> JsonSchema:
    """An object schema requiring every property and allowing no other: the only objects a strict
    ``response_format`` (OpenAI's ``"strict": true``) accepts, so every reply schema is one."""
    schema: dict[str, Any] = {} if title is None else {"title": title}
    schema.update(type="object", properties=dict(properties), required=list(properties))
    schema["additionalProperties"] = False
    return schema


def schema_instruction(schema: JsonSchema) -> str:
    """The sentence that asks for JSON matching ``schema``, for servers that cannot enforce it."""
    return load_prompt(FORMAT_PROMPT).render(schema=schema_text(schema))[-1]["content"]


def check_reply(text: str, schema: JsonSchema) -> tuple[Any, str | None]:
    """Return the reply's JSON value (``None`` if there is none) and what is wrong with it, if anything."""
    try:
        value = find_json(text)
    except ValueError as exc:
        return None, str(exc)
    return value, schema_error(value, schema)


def complete(
    send: Send,
    messages: Sequence[Message],
    *,
    schema: JsonSchema | None,
    usage: Usage,
    model: str,
) -> Completion:
    """Run one ``complete`` call over ``send``: one request, plus one repair when the JSON is unusable."""
    started = time.perf_counter()
    replies: list[RawReply] = []
    try:
        replies.append(send(messages))
        usage.add(prompt_tokens=replies[-1].prompt_tokens, completion_tokens=replies[-1].completion_tokens)
        parsed: Any = None
        if schema is not None:
            parsed, problem = check_reply(replies[-1].text, schema)
            if problem is not None:
                usage.add(repairs=1)
                logger.info("%s reply did not fit the schema (%s); asking for a repair", model, problem)
                replies.append(send(_repair_messages(messages, replies[-1].text, problem, schema)))
                last = replies[-1]
                usage.add(prompt_tokens=last.prompt_tokens, completion_tokens=last.completion_tokens)
                parsed, problem = check_reply(last.text, schema)
                if problem is not None:
                    logger.warning("%s reply still did not fit the schema after a repair: %s", model, problem)
                    raise LLMOutputError(
                        f"the model's reply did not fit the schema, even after a repair: {problem}. "
                        "A larger model, or a server that enforces response_format, avoids this.",
                        replies=tuple(r.text for r in replies),
                        parsed=parsed,
                        prompt_tokens=sum(r.prompt_tokens for r in replies),
                        completion_tokens=sum(r.completion_tokens for r in replies),
                    )
    except LLMError:
        usage.add(calls=1, failures=1)
        raise
    usage.add(calls=1)
    return Completion(
        text=replies[-1].text,
        parsed=parsed,
        prompt_tokens=sum(r.prompt_tokens for r in replies),
        completion_tokens=sum(r.completion_tokens for r in replies),
        latency_s=time.perf_counter() - started,
        attempts=sum(r.attempts for r in replies),
        repaired=len(replies) > 1,
        model=model,
    )


class BaseClient(ABC):
    """An ``LLMClient`` whose subclass only sends: ``_send`` returns one reply (with the client's
    own retries), and ``complete`` around it validates, repairs and keeps the books, alike for all."""

    usage: Usage

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema | None = None,
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> Completion:
        """Send ``messages``; with ``schema``, return validated JSON in ``parsed`` (see ``LLMClient``)."""

        def send(batch: Sequence[Message]) -> RawReply:
            return self._send(batch, schema, max_tokens, temperature)

        return complete(send, messages, schema=schema, usage=self.usage, model=self._model_name())

    @abstractmethod
    def _send(
        self, messages: Sequence[Message], schema: JsonSchema | None, max_tokens: int, temperature: float
    ) -> RawReply:
        """One reply of the model to ``messages`` (a request or a repair)."""

    @abstractmethod
    def _model_name(self) -> str:
        """The model's name, for the ``Completion`` and the logs."""


@dataclass
class BatchStats(Counters):
    """What every ``BatchedTask`` counts: the ``batches`` asked and the ``calls`` it took (the
    client's repairs are inside them), the batches asked again (``retried_batches``) and those that
    never got a valid reply (``failed_batches``)."""

    batches: int = 0
    calls: int = 0
    retried_batches: int = 0
    failed_batches: int = 0


StatsT = TypeVar("StatsT", bound=BatchStats)


@dataclass(eq=False)
class BatchedTask(Generic[StatsT]):
    """What a model task that sends its input in batches keeps: the client, the prompt and how to
    ask, and its ``stats`` (``BatchStats`` and the task's own counts).

    A batch whose reply does not validate even after the client's repair is asked once more, at
    ``retry_temperature``: a deterministic model would only repeat its mistake at the same setting.

    The constructor arguments are declared here once. A task, itself a
    ``@dataclass(eq=False, kw_only=True)``, names its ``prompt`` and its ``stats`` factory, and may
    change a default (``max_tokens``) or add arguments of its own.
    """

    client: LLMClient
    _: KW_ONLY
    batch_size: int = 20
    max_tokens: int = 1024
    temperature: float = 0.0
    retry_temperature: float = 0.7
    #: The prompt's name, like ``extract_v1``; ``template`` is the prompt it names.
    prompt: str
    stats: StatsT = field(init=False)
    template: Prompt = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise UsageError(f"batch_size must be at least 1, got {self.batch_size}")
        self.template = load_prompt(self.prompt)

    @property
    def prompt_version(self) -> str:
        """The prompt in use, like ``extract_v1``: store it to trace what it produced."""
        return self.template.version

    def ask(
        self, messages: Sequence[Message], schema: JsonSchema, what: str
    ) -> tuple[Completion | None, list[LLMOutputError]]:
        """One batch's reply, asked again at the retry temperature when it does not validate.

        Returns the completion, or None and the failures whose replies a caller may salvage.
        """
        self.stats.add(batches=1)
        failures: list[LLMOutputError] = []
        for temperature in (self.temperature, self.retry_temperature):
            self.stats.add(calls=1)
            try:
                completion = self.client.complete(
                    messages, schema=schema, max_tokens=self.max_tokens, temperature=temperature
                )
                return completion, failures
            except LLMOutputError as exc:
                failures.append(exc)
                if len(failures) == 1:
                    self.stats.add(retried_batches=1)
                    logger.warning("%s: reply unusable (%s); retrying", what, exc)
        self.stats.add(failed_batches=1)
        return None, failures


def _repair_messages(
    messages: Sequence[Message], reply: str, problem: str, schema: JsonSchema
) -> list[Message]:
    if len(reply) > _SHOWN_REPLY_CHARS:
        reply = reply[:_SHOWN_REPLY_CHARS] + " ..."
    ask = load_prompt(REPAIR_PROMPT).render(problem=problem, schema=schema_text(schema))
    return [*messages, {"role": "assistant", "content": reply}, *ask]
