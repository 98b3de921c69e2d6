"""Any OpenAI-compatible ``/chat/completions`` endpoint: OpenAI, vLLM, Ollama, llama.cpp, LM Studio.

Retries connection errors, timeouts, 408, 429 and 5xx with exponential backoff and jitter (honouring
``Retry-After``); other 4xx and redirects fail at once. Structured output is asked for with a JSON Schema
``response_format``; in ``auto`` mode a server that rejects it is asked again with JSON mode, then
with the schema in the prompt only, and the client remembers what worked. Whatever the server
promises, replies are validated here (see ``structured``).
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from ..closing import Closing
from ..errors import LLMError
from .base import JsonSchema, LLMSettings, Message, Usage
from .structured import BaseClient, RawReply, schema_instruction

__all__ = ["OpenAICompatibleClient"]

logger = logging.getLogger("eidetica.llm")

_Mode = Literal["schema", "json_object", "none"]
_FALLBACK: dict[_Mode, _Mode] = {"schema": "json_object", "json_object": "none"}
_REJECTS_FORMAT_RE = re.compile(r"response.?format|json.?schema|json.?object|structured", re.IGNORECASE)
_NAME_RE = re.compile(r"[^a-zA-Z0-9_-]+")
_RETRIED_4XX = frozenset({408, 429})  # request timeout, rate limit: worth another try


class _Rejected(Exception):
    """The server answered a 4xx other than 429: the request itself is wrong, retrying won't help."""

    def __init__(self, status: int, detail: str, attempts: int) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail
        self.attempts = attempts


class OpenAICompatibleClient(BaseClient, Closing):
    """Chat completions over HTTP, with retries, structured output and usage accounting.

    One client may be shared by threads; close it (or use it as a context manager) when done.
    """

    def __init__(self, settings: LLMSettings, *, usage: Usage | None = None) -> None:
        self.settings = settings
        self.usage = usage if usage is not None else Usage()
        self.url = settings.base_url.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._http = httpx.Client(timeout=settings.timeout, headers=headers)
        self._mode: _Mode = "schema" if settings.json_mode == "auto" else settings.json_mode
        self._lock = threading.Lock()
        self._random = random.Random()

    @property
    def json_mode(self) -> _Mode:
        """How structured output is requested now (``auto`` settles on one of these)."""
        return self._mode

    def close(self) -> None:
        self._http.close()

    # -----------------------------------------------------------------------------------------

    def _model_name(self) -> str:
        return self.settings.model

    def _send(
        self, messages: Sequence[Message], schema: JsonSchema | None, max_tokens: int, temperature: float
    ) -> RawReply:
        attempts = 0
        while True:
            mode = self._mode
            body = self._body(messages, schema, mode, max_tokens, temperature)
            try:
                payload, tries = self._request(body)
            except _Rejected as exc:
                attempts += exc.attempts
                if not (self._falls_back(schema, mode) and _REJECTS_FORMAT_RE.search(exc.detail)):
                    raise LLMError(self._rejected_message(exc)) from None
                with self._lock:
                    if self._mode == mode:
                        self._mode = _FALLBACK[mode]
                        logger.info("%s rejected response_format %r; using %r", self.url, mode, self._mode)
                continue
            return _reply(payload, self.url, attempts + tries)

    def _falls_back(self, schema: JsonSchema | None, mode: _Mode) -> bool:
        return schema is not None and self.settings.json_mode == "auto" and mode in _FALLBACK

    def _body(
        self,
        messages: Sequence[Message],
        schema: JsonSchema | None,
        mode: _Mode,
        max_tokens: int,
        temperature: float,
    ) -> dict[str, Any]:
        sent = [dict(m) for m in messages]
        body: dict[str, Any] = {
            "model": self.settings.model,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if schema is not None:
            if mode == "schema":
                name = _NAME_RE.sub("_", str(schema.get("title", "output")))[:64] or "output"
                plain = {k: v for k, v in schema.items() if k != "title"}
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": name, "schema": plain, "strict": True},
                }
            else:
                if mode == "json_object":
                    body["response_format"] = {"type": "json_object"}
                hint = schema_instruction(schema)
                if sent and sent[0].get("role") == "system":
                    sent[0]["content"] = f"{sent[0]['content']}\n\n{hint}"
                else:
                    sent.insert(0, {"role": "system", "content": hint})
        body["messages"] = sent
        return body

    def _request(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """POST with bounded retries; return the JSON payload and how many attempts it took."""
        retries = self.settings.max_retries
        for attempt in range(retries + 1):
            self.usage.add(requests=1, retries=1 if attempt else 0)
            wait: float | None = None
            try:
                response = self._http.post(self.url, json=body)
            except httpx.TimeoutException as exc:
                problem: str = f"did not answer within {self.settings.timeout:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                problem = f"could not be reached ({exc})"
            else:
                status = response.status_code
                if 400 <= status < 500 and status not in _RETRIED_4XX:
                    raise _Rejected(status, response.text[:500], attempt + 1)
                if 300 <= status < 400:
                    raise LLMError(
                        f"{self.url} redirects (HTTP {status}) to {response.headers.get('location')!r}: "
                        "use that address as the base URL"
                    )
                if status < 300:
                    try:
                        payload = response.json()
                        if isinstance(payload, dict):
                            return payload, attempt + 1
                        problem = "returned JSON that is not an object"
                    except ValueError:
                        problem = f"returned a body that is not JSON: {response.text[:120]!r}"
                else:
                    problem = f"answered HTTP {status}: {response.text[:200]!r}"
                    wait = _retry_after(response)
            if attempt == retries:
                raise LLMError(f"{self.url} {problem}; gave up after {attempt + 1} attempts")
            if wait is not None and wait > self.settings.max_backoff:
                raise LLMError(
                    f"{self.url} {problem} and asks to wait {wait:.0f} s, longer than max_backoff "
                    f"({self.settings.max_backoff:g} s): try again later or raise max_backoff"
                )
            delay = wait if wait is not None else self._backoff(attempt)
            logger.info("%s %s; retry %d/%d in %.2f s", self.url, problem, attempt + 1, retries, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _backoff(self, attempt: int) -> float:
        # "Equal jitter": between half and all of the exponential delay, so retries spread out.
        base = min(self.settings.max_backoff, self.settings.backoff * 2.0**attempt)
        return base / 2 + self._random.uniform(0, base / 2)

    def _rejected_message(self, exc: _Rejected) -> str:
        hint = {
            401: "check the API key",
            403: "check the API key and that it may use this model",
            404: f"check the base URL (it usually ends in /v1) and the model name {self.settings.model!r}",
            413: "the prompt is too large for this server; use smaller batches",
        }.get(exc.status, "the server refused the request")
        return f"{self.url} answered HTTP {exc.status}: {exc.detail[:200]!r}; {hint}"


def _reply(payload: dict[str, Any], url: str, attempts: int) -> RawReply:
    try:
        message = payload["choices"][0]["message"]
        content = message.get("content")
        if content is None and message.get("refusal"):
            raise LLMError(f"the model at {url} refused: {message['refusal']}")
        if isinstance(content, list):  # content parts, as some servers send
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        if not isinstance(content, str):
            raise TypeError(f"message content is {type(content).__name__}")
        usage = payload.get("usage") or {}
        return RawReply(
            text=content,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            attempts=attempts,
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise LLMError(f"{url} returned an unexpected payload ({exc}): {str(payload)[:200]}") from exc


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks to wait, from ``Retry-After`` (seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
