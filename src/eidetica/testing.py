"""Scripted stand-ins for a language model, for testing plumbing (retries, bad JSON), never quality.

``ScriptedLLM`` is an ``LLMClient`` that replays canned replies through the same validation and
repair code as the real client. ``ScriptedOpenAIServer`` is a real HTTP server on 127.0.0.1 that
replays scripted HTTP responses (statuses, delays, broken bodies, ``Retry-After``) and records
every request, to test ``OpenAICompatibleClient`` over a real socket::

    with ScriptedOpenAIServer([ScriptedResponse.error(503), ScriptedResponse.reply("hi")]) as server:
        client = OpenAICompatibleClient(LLMSettings(server.url, "any", backoff=0.01))
        assert client.complete([{"role": "user", "content": "hello"}]).text == "hi"
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .closing import Closing
from .errors import LLMError
from .llms.base import JsonSchema, Message, Usage
from .llms.structured import BaseClient, RawReply

__all__ = ["RecordedRequest", "ScriptedLLM", "ScriptedOpenAIServer", "ScriptedResponse"]


class ScriptedLLM(BaseClient):
    """An ``LLMClient`` that answers each request with the next canned reply.

    A reply that is an exception is raised instead (an ``LLMError`` to simulate an outage). Every
    request is recorded in ``requests`` (repair requests included), so tests can count calls and
    read the prompts. Token counts are word counts, enough to test accounting.
    """

    def __init__(self, replies: Iterable[str | Exception], *, model: str = "scripted") -> None:
        self.model = model
        self.usage = Usage()
        self.requests: list[list[dict[str, str]]] = []
        self._replies: deque[str | Exception] = deque(replies)
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int:
        """How many canned replies are left."""
        return len(self._replies)

    def _model_name(self) -> str:
        return self.model

    def _send(
        self, messages: Sequence[Message], schema: JsonSchema | None, max_tokens: int, temperature: float
    ) -> RawReply:
        """The next canned reply (whatever is asked), validated by ``complete`` as a real client's."""
        with self._lock:
            self.requests.append([dict(m) for m in messages])
            self.usage.add(requests=1)
            if not self._replies:
                raise LLMError(f"ScriptedLLM has no reply left for request {len(self.requests)}")
            reply = self._replies.popleft()
        if isinstance(reply, Exception):
            raise reply
        prompt_words = sum(len(m.get("content", "").split()) for m in messages)
        return RawReply(reply, prompt_tokens=prompt_words, completion_tokens=len(reply.split()))


@dataclass(frozen=True)
class ScriptedResponse:
    """One HTTP response for ``ScriptedOpenAIServer`` to send, after ``delay_s`` seconds."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    @classmethod
    def reply(
        cls,
        content: str,
        *,
        prompt_tokens: int = 10,
        completion_tokens: int = 5,
        delay_s: float = 0.0,
        model: str = "scripted",
    ) -> ScriptedResponse:
        """A successful chat completion whose message is ``content``, shaped like OpenAI's."""
        payload = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return cls.json(payload, delay_s=delay_s)

    @classmethod
    def error(
        cls, status: int, message: str = "scripted failure", *, retry_after: str | float | None = None
    ) -> ScriptedResponse:
        """An error with an OpenAI-style body and, when given, a ``Retry-After`` header."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        payload = {"error": {"message": message, "type": "invalid_request_error", "code": status}}
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers})

    @classmethod
    def json(cls, payload: Any, *, status: int = 200, delay_s: float = 0.0) -> ScriptedResponse:
        """Any JSON body."""
        return cls.raw(json.dumps(payload), status=status, delay_s=delay_s)

    @classmethod
    def raw(cls, body: str | bytes, *, status: int = 200, delay_s: float = 0.0) -> ScriptedResponse:
        """A body sent as is, say a truncated or malformed JSON document."""
        data = body.encode() if isinstance(body, str) else body
        return cls(status, data, {"Content-Type": "application/json"}, delay_s)


@dataclass(frozen=True)
class RecordedRequest:
    """A request the scripted server received; ``json`` is its parsed body (``None`` if not JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    at: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: Iterable[ScriptedResponse]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: deque[ScriptedResponse] = deque(script)
        self.recorded: list[RecordedRequest] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with self.server.lock:
            self.server.recorded.append(
                RecordedRequest(self.command, self.path, dict(self.headers), body, parsed, time.monotonic())
            )
            response = self.server.script.popleft() if self.server.script else _EXHAUSTED
        if response.delay_s:
            time.sleep(response.delay_s)
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:
            pass  # the client gave up (a timeout test): nothing to answer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


_EXHAUSTED = ScriptedResponse.error(500, "ScriptedOpenAIServer: no scripted response left")


class ScriptedOpenAIServer(Closing):
    """A loopback HTTP server that answers requests from a script, in order, and records them.

    ``url`` ends in ``/v1``, as an OpenAI-compatible base URL does. Once the script runs out it
    answers 500. Use it as a context manager, or call ``close``.
    """

    def __init__(self, script: Iterable[ScriptedResponse] = ()) -> None:
        self._server = _Server(script)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="scripted-llm", daemon=True
        )  # a short poll interval makes close() quick
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, oldest first."""
        with self._server.lock:
            return list(self._server.recorded)

    @property
    def remaining(self) -> int:
        """How many scripted responses are left."""
        with self._server.lock:
            return len(self._server.script)

    def add(self, *responses: ScriptedResponse) -> None:
        """Append responses to the script."""
        with self._server.lock:
            self._server.script.extend(responses)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
