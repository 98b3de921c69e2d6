"""End to end with a real model: SmolLM2-135M behind a local OpenAI-compatible server, on CPU.

The server enforces ``response_format`` JSON Schemas by constrained decoding, as llama.cpp, vLLM
and Ollama do, so every reply parses and fits: these tests check that the client asks for the
schema, that nothing needs repair or retry, and that what the model wrote comes out as sound units
and cited answers. A 135M model is far too small to extract or answer well; the tests assert the
plumbing and the bookkeeping, never the wisdom (the printed output shows what the model wrote).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from eidetica.errors import LLMOutputError
from eidetica.ingest.llm_extract import EXTRACT_SCHEMA, LLMExtractor, render_turns
from eidetica.llms import (
    Completion,
    JsonSchema,
    LLMClient,
    LLMSettings,
    Message,
    OpenAICompatibleClient,
    answer_question,
    load_prompt,
)
from eidetica.llms.answer import ANSWER_SCHEMA
from eidetica.llms.validate import schema_error
from eidetica.model import Hit, MemoryUnit, Scope, TurnInput
from eidetica.retrieve.pack import pack
from eidetica.tokens import BundledTokenCounter

pytestmark = pytest.mark.llm

TS = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
TURNS = [
    TurnInput("I went to a LGBTQ support group yesterday and it was so powerful.", "Caroline", timestamp=TS),
    TurnInput(
        "That's great! I'm painting a sunset for my sister's birthday.",
        "Melanie",
        timestamp=TS + timedelta(minutes=1),
    ),
    TurnInput(
        "I'm moving to Boston next month to start a counselling course.",
        "Caroline",
        timestamp=TS + timedelta(minutes=2),
    ),
]
# Every keyword the server's decoder enforces, in one schema.
EVERY_KEYWORD: JsonSchema = {
    "type": "object",
    "properties": {
        "mood": {"type": "string", "enum": ["happy", "sad", "calm"]},
        "score": {"type": "integer", "minimum": 1, "maximum": 5},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
        "day": {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "people": {"type": ["integer", "null"]},
        "sure": {"type": "boolean"},
        "version": {"const": 2},
    },
    "required": ["mood", "score", "tags", "day", "people", "sure", "version"],
    "additionalProperties": False,
}
DAY_QUESTION = [
    {
        "role": "user",
        "content": "Describe your day as JSON: your mood, a score from 1 to 5, a few tags, the date, "
        "how many people you met, and whether you are sure.",
    }
]


class Recording:
    """An ``LLMClient`` that passes calls through and keeps each completion."""

    def __init__(self, client: LLMClient) -> None:
        self.client = client
        self.usage = client.usage
        self.completions: list[Completion] = []

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema | None = None,
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> Completion:
        completion = self.client.complete(
            messages, schema=schema, max_tokens=max_tokens, temperature=temperature
        )
        self.completions.append(completion)
        return completion


@pytest.fixture
def client(local_llm_url: str) -> Iterator[OpenAICompatibleClient]:
    settings = LLMSettings(local_llm_url, "smollm2-135m-instruct", timeout=180, max_retries=1)
    with OpenAICompatibleClient(settings) as client:
        yield client


def chat(url: str, messages: list[dict[str, str]], schema: JsonSchema, max_tokens: int) -> httpx.Response:
    """One raw request with a JSON Schema ``response_format``, as the client sends it."""
    body = {
        "model": "smollm2-135m-instruct",
        "messages": messages,
        "max_tokens": max_tokens,
        "response_format": {"type": "json_schema", "json_schema": {"name": "t", "schema": schema}},
    }
    return httpx.post(f"{url}/chat/completions", json=body, timeout=180)


def reply_of(response: httpx.Response) -> tuple[Any, str, int]:
    """The reply's JSON value, finish reason and completion tokens."""
    assert response.status_code == 200, response.text
    payload = response.json()
    choice = payload["choices"][0]
    return (
        json.loads(choice["message"]["content"]),
        choice["finish_reason"],
        payload["usage"]["completion_tokens"],
    )


def test_extraction_yields_real_units_without_a_repair(client: OpenAICompatibleClient) -> None:
    assert isinstance(client, LLMClient) and client.json_mode == "schema"
    recorder = Recording(client)
    # extract_v2 shows the reply's form without an example unit: a model this small copies
    # extract_v1's example word for word (and the extractor drops it as a copy).
    extractor = LLMExtractor(recorder, max_tokens=160, prompt="extract_v2")
    units = extractor.extract(TURNS)
    stats, usage = extractor.stats, client.usage
    (completion,) = recorder.completions
    print(f"\nSmolLM2 extraction reply: {completion.text}\nunits: {units}\n{stats}, {usage.as_dict()}")

    assert schema_error(json.loads(completion.text), EXTRACT_SCHEMA) is None and not completion.repaired
    assert client.json_mode == "schema"  # the server took the JSON Schema response_format
    assert (stats.batches, stats.calls, stats.retried_batches, stats.failed_batches) == (1, 1, 0, 0)
    assert (usage.calls, usage.requests, usage.repairs, usage.failures) == (1, 1, 0, 0)
    assert 0 < usage.completion_tokens <= 160 and usage.prompt_tokens > 0
    assert units and stats.units == len(units)
    instructions = " ".join(extractor.template.system.split()).lower()
    for unit in units:
        assert unit.kind in ("fact", "event")
        assert unit.text.strip() and unit.text.lower() not in instructions
        assert unit.turn_indexes and all(0 <= i < len(TURNS) for i in unit.turn_indexes)
        assert unit.occurred_at is None or unit.occurred_at.tzinfo is not None


def test_answer_is_structured_and_cites_only_the_context(client: OpenAICompatibleClient) -> None:
    now = TS + timedelta(days=1)
    facts = [
        "Caroline went to an LGBTQ support group on 7 May 2023.",
        "Melanie is painting a sunset for her sister's birthday.",
        "Caroline is moving to Boston in June 2023.",
    ]
    units = [
        MemoryUnit(
            id=f"u{i}",
            kind="fact",
            text=text,
            scope=Scope(),
            recorded_at=now,
            valid_from=TS,
            sources=(f"D1:{i}",),
        )
        for i, text in enumerate(facts, 1)
    ]
    context = pack([Hit(u, 1.0, {}) for u in units], BundledTokenCounter(), 400)
    recorder = Recording(client)
    # Not "where is Caroline moving": the prompt's own example answer is "Boston".
    answer = answer_question(recorder, "What is Melanie painting?", context, max_tokens=48)
    (completion,) = recorder.completions
    print(f"\nSmolLM2 answer reply: {completion.text}\n{answer}")

    assert schema_error(completion.parsed, ANSWER_SCHEMA) is None and not completion.repaired
    assert answer.structured and answer.text.strip()
    assert (client.usage.calls, client.usage.repairs, client.usage.failures) == (1, 0, 0)
    assert set(answer.unit_ids) <= {u.id for u in units}
    assert set(answer.sources) <= {s for u in units for s in u.sources}
    # The schema does not bound the numbers (invented ones are dropped, not repaired): this is the model.
    assert set(completion.parsed["citations"]) <= {1, 2, 3}
    assert answer.prompt_tokens > 0 and 0 < answer.completion_tokens <= 48


def test_every_supported_keyword_is_enforced(local_llm_url: str) -> None:
    value, finish, tokens = reply_of(chat(local_llm_url, DAY_QUESTION, EVERY_KEYWORD, 100))
    print(f"\nSmolLM2 with every keyword: {value}")
    assert schema_error(value, EVERY_KEYWORD) is None
    assert finish == "stop" and tokens <= 100


def test_a_reply_cut_by_max_tokens_still_parses(local_llm_url: str) -> None:
    extract = [dict(m) for m in load_prompt("extract_v2").render(turns=render_turns(TURNS))]
    story: JsonSchema = {"type": "object", "properties": {"story": {"type": "string"}}}
    tell = [{"role": "user", "content": "Write a long story about a lighthouse keeper, as JSON."}]
    for messages, schema, max_tokens in [(extract, EXTRACT_SCHEMA, 20), (tell, story, 16)]:
        value, finish, tokens = reply_of(chat(local_llm_url, messages, schema, max_tokens))
        print(f"\nSmolLM2 in {max_tokens} tokens: {value}")
        assert schema_error(value, schema) is None
        assert finish == "length" and tokens <= max_tokens


def test_a_schema_the_server_cannot_enforce_makes_the_client_fall_back(
    local_llm_url: str, client: OpenAICompatibleClient
) -> None:
    unsupported: JsonSchema = {"type": "object", "properties": {"answer": {"type": "string", "minLength": 1}}}
    refused = chat(local_llm_url, DAY_QUESTION, unsupported, 8)
    assert refused.status_code == 400 and "response_format" in refused.text
    # Free text from a 135M model in 8 tokens rarely fits the schema; the fallback is what counts.
    with contextlib.suppress(LLMOutputError):
        client.complete(DAY_QUESTION, schema=unsupported, max_tokens=8)
    assert client.json_mode == "json_object"
