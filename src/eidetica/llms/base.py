"""The LLM seam: one ``complete`` method, the value objects around it, and usage accounting."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args, runtime_checkable

from ..errors import UsageError

__all__ = ["Completion", "JsonMode", "JsonSchema", "LLMClient", "LLMSettings", "Message", "Usage"]

#: A chat message as OpenAI-compatible servers take it: ``{"role": "user", "content": "..."}``.
Message = Mapping[str, str]
#: A JSON Schema document; its ``title`` names it where a server wants a name.
JsonSchema = Mapping[str, Any]
#: How structured output is requested: ``schema`` (``response_format`` with a JSON Schema),
#: ``json_object`` (JSON mode, schema in the prompt), ``none`` (schema in the prompt only), or
#: ``auto`` (start with ``schema`` and step down when the server rejects it).
JsonMode = Literal["schema", "json_object", "none", "auto"]


@dataclass(frozen=True)
class LLMSettings:
    """Where an OpenAI-compatible chat endpoint is and how patiently to talk to it.

    ``timeout`` is seconds per HTTP request; ``max_retries`` counts retries after the first try
    (on connection errors, timeouts, 408, 429 and 5xx); ``backoff`` is the first retry's base delay in
    seconds, doubled each retry and capped at ``max_backoff``.
    """

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 60.0
    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    json_mode: JsonMode = "auto"

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"LLM base URL must start with http:// or https://, got {self.base_url!r}")
        if not self.model.strip():
            raise UsageError("LLM model name is empty: name the model the server should run")
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise UsageError(f"LLM timeout must be a positive number of seconds, got {self.timeout}")
        if self.max_retries < 0:
            raise UsageError(f"LLM max_retries must be 0 or more, got {self.max_retries}")
        if not (math.isfinite(self.backoff) and self.backoff >= 0 and self.max_backoff >= 0):
            raise UsageError("LLM backoff delays must be 0 or more seconds")
        if self.json_mode not in get_args(JsonMode):
            raise UsageError(f"LLM json_mode must be one of {get_args(JsonMode)}, got {self.json_mode!r}")


@dataclass(frozen=True)
class Completion:
    """One answered ``complete`` call.

    ``parsed`` is the validated JSON value when a schema was given, else ``None``. Token counts and
    ``attempts`` (HTTP requests, retries and the repair included) cover the whole call.
    """

    text: str
    parsed: Any = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    attempts: int = 1
    repaired: bool = False
    model: str = ""

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Counters:
    """Integer counters that several threads update: ``stats.add(calls=1)`` adds atomically."""

    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add to the counters atomically: ``stats.add(calls=1)``."""
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


@dataclass
class Usage:
    """Running totals over a client's life; safe to update from several threads.

    ``calls`` are ``complete`` calls, ``requests`` the HTTP requests they made (retries and
    repairs included), ``failures`` the calls that raised, ``repairs`` the calls whose first reply
    did not validate. ``cost`` is known when both prices (per 1,000 tokens) are given.
    """

    price_per_1k_prompt: float | None = None
    price_per_1k_completion: float | None = None
    calls: int = 0
    requests: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: int = 0
    repairs: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def add(
        self,
        *,
        calls: int = 0,
        requests: int = 0,
        retries: int = 0,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        failures: int = 0,
        repairs: int = 0,
    ) -> None:
        """Add to the totals atomically."""
        with self._lock:
            self.calls += calls
            self.requests += requests
            self.retries += retries
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            self.failures += failures
            self.repairs += repairs

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost(self) -> float | None:
        """Spent so far in the prices' currency, or ``None`` when no prices were given."""
        if self.price_per_1k_prompt is None or self.price_per_1k_completion is None:
            return None
        with self._lock:
            return (
                self.prompt_tokens * self.price_per_1k_prompt
                + self.completion_tokens * self.price_per_1k_completion
            ) / 1000

    def as_dict(self) -> dict[str, int | float | None]:
        """The totals as plain values, for logs and reports."""
        with self._lock:
            counts: dict[str, int | float | None] = {
                "calls": self.calls,
                "requests": self.requests,
                "retries": self.retries,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "failures": self.failures,
                "repairs": self.repairs,
            }
        counts["cost"] = self.cost
        return counts


@runtime_checkable
class LLMClient(Protocol):
    """A chat model behind one method; OpenAI-compatible servers and scripted fakes both fit.

    With ``schema`` the reply is parsed and validated against it (one repair attempt on failure)
    and returned in ``Completion.parsed``; a reply that still does not validate raises
    ``LLMOutputError``. Any other failure raises ``LLMError``.
    """

    usage: Usage

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema | None = None,
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> Completion:
        """Send ``messages`` and return the model's reply."""
        ...
