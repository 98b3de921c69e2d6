"""OpenAICompatibleClient over a real loopback HTTP server that replays scripted responses."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from eidetica.errors import LLMError, LLMOutputError, UsageError
from eidetica.llms import Completion, LLMClient, LLMSettings, OpenAICompatibleClient, Usage
from eidetica.llms.answer import ANSWER_SCHEMA
from eidetica.testing import ScriptedLLM, ScriptedOpenAIServer, ScriptedResponse

HELLO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]
GOOD_ANSWER = '{"answer": "Boston", "citations": [1]}'


def settings(url: str, **overrides: Any) -> LLMSettings:
    values: dict[str, Any] = {"model": "test-model", "backoff": 0.01, "timeout": 5.0, **overrides}
    return LLMSettings(url, **values)


@contextmanager
def scripted(
    *script: ScriptedResponse, usage: Usage | None = None, **overrides: Any
) -> Iterator[tuple[ScriptedOpenAIServer, OpenAICompatibleClient]]:
    """A scripted server and a client pointed at it; the server's record outlives both."""
    with (
        ScriptedOpenAIServer(script) as server,
        OpenAICompatibleClient(settings(server.url, **overrides), usage=usage) as client,
    ):
        yield server, client


def test_both_clients_implement_the_protocol() -> None:
    with scripted() as (_, client):
        assert isinstance(client, LLMClient)
    assert isinstance(ScriptedLLM([]), LLMClient)


def test_plain_completion_sends_an_openai_request_and_counts_usage() -> None:
    with scripted(ScriptedResponse.reply("Hello!", prompt_tokens=12, completion_tokens=3), api_key="sk") as (
        server,
        client,
    ):
        completion = client.complete(HELLO, max_tokens=20, temperature=0.2)
    (request,) = server.requests
    assert completion.text == "Hello!"
    assert completion.parsed is None
    assert (completion.prompt_tokens, completion.completion_tokens, completion.tokens) == (12, 3, 15)
    assert completion.attempts == 1 and not completion.repaired
    assert completion.latency_s > 0 and completion.model == "test-model"
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk"
    assert request.json == {"model": "test-model", "max_tokens": 20, "temperature": 0.2, "messages": HELLO}
    assert client.usage.as_dict() == {
        "calls": 1,
        "requests": 1,
        "retries": 0,
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "failures": 0,
        "repairs": 0,
        "cost": None,
    }


def test_5xx_is_retried_with_growing_backoff_then_succeeds() -> None:
    script = (ScriptedResponse.error(500), ScriptedResponse.error(503), ScriptedResponse.reply("ok"))
    with scripted(*script, backoff=0.1, max_retries=3) as (server, client):
        completion = client.complete(HELLO)
    times = [r.at for r in server.requests]
    assert completion.text == "ok"
    assert completion.attempts == 3
    assert client.usage.retries == 2 and client.usage.requests == 3 and client.usage.failures == 0
    # Equal jitter: the first wait is 0.05-0.1 s, the second 0.1-0.2 s.
    assert 0.05 <= times[1] - times[0] < 1.0
    assert 0.1 <= times[2] - times[1] < 1.0


def test_429_waits_as_long_as_retry_after_says() -> None:
    script = (ScriptedResponse.error(429, "slow down", retry_after=1), ScriptedResponse.reply("ok"))
    with scripted(*script) as (server, client):
        assert client.complete(HELLO).text == "ok"
    first, second = server.requests
    assert second.at - first.at >= 0.95


def test_retry_after_longer_than_max_backoff_fails_at_once() -> None:
    with (
        scripted(ScriptedResponse.error(429, retry_after=3600), max_backoff=5) as (server, client),
        pytest.raises(LLMError, match="asks to wait 3600 s"),
    ):
        client.complete(HELLO)
    assert len(server.requests) == 1
    assert client.usage.failures == 1


@pytest.mark.parametrize(("status", "hint"), [(400, "refused"), (401, "API key"), (404, "base URL")])
def test_other_4xx_fail_without_retry(status: int, hint: str) -> None:
    with (
        scripted(ScriptedResponse.error(status, "nope"), ScriptedResponse.reply("x")) as (server, client),
        pytest.raises(LLMError, match=hint) as caught,
    ):
        client.complete(HELLO)
    assert len(server.requests) == 1
    assert f"HTTP {status}" in str(caught.value)
    assert not isinstance(caught.value, LLMOutputError)
    assert client.usage.failures == 1


def test_408_is_retried_and_a_redirect_is_explained() -> None:
    with scripted(ScriptedResponse.error(408), ScriptedResponse.reply("ok")) as (_, client):
        assert client.complete(HELLO).text == "ok"
    moved = ScriptedResponse(301, b"", {"Location": "https://llm.example/v1/chat/completions"})
    with (
        scripted(moved, ScriptedResponse.reply("x")) as (server, client),
        pytest.raises(LLMError, match="redirects"),
    ):
        client.complete(HELLO)
    assert len(server.requests) == 1


def test_timeouts_are_retried_a_bounded_number_of_times() -> None:
    script = [ScriptedResponse.reply("late", delay_s=1.5) for _ in range(3)]
    started = time.monotonic()
    with (
        scripted(*script, timeout=0.2, max_retries=2) as (server, client),
        pytest.raises(LLMError, match=r"did not answer within 0\.2 s.*3 attempts"),
    ):
        client.complete(HELLO)
    assert time.monotonic() - started < 1.5
    assert len(server.requests) == 3
    assert client.usage.retries == 2 and client.usage.failures == 1


def test_an_unreachable_server_is_an_llm_error() -> None:
    with socket.socket() as s:  # a port nobody listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        OpenAICompatibleClient(settings(f"http://127.0.0.1:{port}/v1", max_retries=1)) as client,
        pytest.raises(LLMError, match=r"could not be reached.*2 attempts"),
    ):
        client.complete(HELLO)


def test_a_broken_body_is_retried() -> None:
    with scripted(ScriptedResponse.raw('{"choices": [{"mess'), ScriptedResponse.reply("fine")) as (_, client):
        assert client.complete(HELLO).text == "fine"
    assert client.usage.retries == 1


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"choices": []}, "unexpected payload"),
        ({"choices": [{"message": {"content": None, "refusal": "I can't."}}]}, "refused: I can't"),
    ],
)
def test_a_reply_without_content_is_an_llm_error(payload: dict[str, Any], problem: str) -> None:
    with scripted(ScriptedResponse.json(payload)) as (_, client), pytest.raises(LLMError, match=problem):
        client.complete(HELLO)


def test_content_parts_are_joined() -> None:
    parts = [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]
    payload = {"choices": [{"message": {"role": "assistant", "content": parts}}]}
    with scripted(ScriptedResponse.json(payload)) as (_, client):
        assert client.complete(HELLO).text == "Hello"


def test_schema_is_sent_as_strict_json_schema_and_the_reply_validated() -> None:
    with scripted(ScriptedResponse.reply(GOOD_ANSWER)) as (server, client):
        completion = client.complete(HELLO, schema=ANSWER_SCHEMA)
    body = server.requests[0].json
    assert completion.parsed == {"answer": "Boston", "citations": [1]}
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "answer" and fmt["json_schema"]["strict"] is True
    assert "title" not in fmt["json_schema"]["schema"]
    assert fmt["json_schema"]["schema"]["required"] == ["answer", "citations"]
    assert body["messages"] == HELLO  # the server enforces the schema: no need to spell it out


def test_auto_mode_falls_back_to_json_object_then_to_none_and_remembers() -> None:
    script = (
        ScriptedResponse.error(400, "response_format 'json_schema' is not supported by this model"),
        ScriptedResponse.error(400, "Invalid value for response_format.type: json_object"),
        ScriptedResponse.reply(GOOD_ANSWER),
        ScriptedResponse.reply(GOOD_ANSWER),
    )
    with scripted(*script) as (server, client):
        first = client.complete(HELLO, schema=ANSWER_SCHEMA)
        second = client.complete(HELLO, schema=ANSWER_SCHEMA)
    bodies = [r.json for r in server.requests]
    assert first.parsed == second.parsed == {"answer": "Boston", "citations": [1]}
    assert first.attempts == 3 and second.attempts == 1
    assert client.json_mode == "none"
    assert bodies[0]["response_format"]["type"] == "json_schema"
    assert bodies[1]["response_format"] == {"type": "json_object"}
    assert "response_format" not in bodies[2] and "response_format" not in bodies[3]
    # Without server-side enforcement the schema goes into the system message.
    assert '"citations"' in bodies[1]["messages"][0]["content"]
    assert bodies[2]["messages"][0]["content"].startswith("Be brief.")
    assert "JSON Schema" in bodies[3]["messages"][0]["content"]
    assert len(bodies[3]["messages"]) == 2


def test_without_a_system_message_the_schema_gets_one() -> None:
    with scripted(ScriptedResponse.reply(GOOD_ANSWER), json_mode="none") as (server, client):
        client.complete(HELLO[1:], schema=ANSWER_SCHEMA)
    messages = server.requests[0].json["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "JSON Schema" in messages[0]["content"]


def test_a_400_about_something_else_does_not_change_the_mode() -> None:
    with (
        scripted(ScriptedResponse.error(400, "max_tokens is too large")) as (_, client),
        pytest.raises(LLMError, match="max_tokens is too large"),
    ):
        client.complete(HELLO, schema=ANSWER_SCHEMA)
    assert client.json_mode == "schema"


def test_a_fixed_json_mode_never_falls_back() -> None:
    with (
        scripted(ScriptedResponse.error(400, "response_format not supported"), json_mode="schema") as (
            server,
            client,
        ),
        pytest.raises(LLMError, match="HTTP 400"),
    ):
        client.complete(HELLO, schema=ANSWER_SCHEMA)
    assert len(server.requests) == 1


def test_invalid_json_gets_one_repair_with_the_error_shown() -> None:
    first = 'Sure! {"answer": 42, "citations": []}'
    script = (
        ScriptedResponse.reply(first, completion_tokens=6),
        ScriptedResponse.reply(f"```json\n{GOOD_ANSWER}\n```", completion_tokens=9),
    )
    with scripted(*script) as (server, client):
        completion = client.complete(HELLO, schema=ANSWER_SCHEMA)
    repair = server.requests[1].json["messages"]
    assert completion.parsed == {"answer": "Boston", "citations": [1]}
    assert completion.repaired and completion.attempts == 2
    assert completion.completion_tokens == 15
    assert client.usage.repairs == 1 and client.usage.failures == 0 and client.usage.calls == 1
    assert repair[:2] == HELLO
    assert repair[2] == {"role": "assistant", "content": first}
    assert repair[3]["role"] == "user"
    assert "$.answer: expected string, got 42" in repair[3]["content"]
    assert '"required":["answer","citations"]' in repair[3]["content"]


def test_still_invalid_after_the_repair_raises_and_is_counted() -> None:
    script = (ScriptedResponse.reply("no json here"), ScriptedResponse.reply('{"answer": "x"}'))
    with (
        scripted(*script) as (server, client),
        pytest.raises(LLMOutputError, match="missing the required field 'citations'") as caught,
    ):
        client.complete(HELLO, schema=ANSWER_SCHEMA)
    assert len(server.requests) == 2
    assert caught.value.replies == ("no json here", '{"answer": "x"}')
    assert caught.value.parsed == {"answer": "x"}
    assert caught.value.completion_tokens == 10
    assert client.usage.as_dict() == {
        "calls": 1,
        "requests": 2,
        "retries": 0,
        "prompt_tokens": 20,
        "completion_tokens": 10,
        "failures": 1,
        "repairs": 1,
        "cost": None,
    }


def test_usage_accumulates_across_calls_and_prices_give_a_cost() -> None:
    usage = Usage(price_per_1k_prompt=0.5, price_per_1k_completion=2.0)
    script = [ScriptedResponse.reply("a", prompt_tokens=1000, completion_tokens=500)] * 2
    with scripted(*script, usage=usage) as (_, client):
        client.complete(HELLO)
        client.complete(HELLO)
    assert client.usage is usage
    assert (usage.calls, usage.prompt_tokens, usage.completion_tokens, usage.tokens) == (2, 2000, 1000, 3000)
    assert usage.cost == pytest.approx(3.0)
    assert usage.as_dict()["cost"] == pytest.approx(3.0)


def test_one_client_serves_many_threads() -> None:
    n = 16
    script = [ScriptedResponse.reply(GOOD_ANSWER, prompt_tokens=2, completion_tokens=1)] * n
    results: list[Completion] = []
    with scripted(*script) as (_, client):
        threads = [
            threading.Thread(target=lambda: results.append(client.complete(HELLO, schema=ANSWER_SCHEMA)))
            for _ in range(n)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == n and all(r.parsed["answer"] == "Boston" for r in results)
    assert (client.usage.calls, client.usage.prompt_tokens, client.usage.completion_tokens) == (n, 2 * n, n)


def test_settings_are_checked() -> None:
    with pytest.raises(UsageError, match="http"):
        LLMSettings("localhost:8080", "m")
    with pytest.raises(UsageError, match="model"):
        LLMSettings("http://localhost:8080/v1", " ")
    with pytest.raises(UsageError, match="json_mode"):
        LLMSettings("http://localhost:8080/v1", "m", json_mode="xml")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="max_retries"):
        LLMSettings("http://localhost:8080/v1", "m", max_retries=-1)
    with pytest.raises(UsageError, match="timeout"):
        LLMSettings("http://localhost:8080/v1", "m", timeout=0)


def test_scripted_server_records_requests_and_answers_500_when_exhausted() -> None:
    with scripted(max_retries=0) as (server, client):
        with pytest.raises(LLMError, match="no scripted response left"):
            client.complete(HELLO)
        server.add(ScriptedResponse.reply("late addition"))
        assert server.remaining == 1
        assert client.complete(HELLO).text == "late addition"
    assert json.loads(server.requests[0].body)["messages"] == HELLO
