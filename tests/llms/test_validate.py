"""Finding JSON in replies, the JSON Schema subset, prompt files, and LLM settings from the environment."""

from __future__ import annotations

from typing import Any

import pytest

from eidetica.config import OPENAI_BASE_URL, llm_settings
from eidetica.errors import UsageError
from eidetica.ingest.llm_extract import EXTRACT_SCHEMA
from eidetica.llms import load_prompt
from eidetica.llms.answer import ANSWER_SCHEMA
from eidetica.llms.validate import find_json, schema_error

UNIT = {"turns": [1], "kind": "fact", "text": "Ann likes tea.", "entities": ["Ann"], "date": None}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("  [1, 2]\n", [1, 2]),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('Here you go:\n```\n{"a": [1, {"b": 2}]}\n```\nAnything else?', {"a": [1, {"b": 2}]}),
        ('Sure! The JSON is {"a": "x}"} as asked.', {"a": "x}"}),
        ('{broken {"a": 1}', {"a": 1}),
    ],
)
def test_find_json_takes_json_from_fences_and_prose(reply: str, expected: Any) -> None:
    assert find_json(reply) == expected


@pytest.mark.parametrize(
    ("reply", "problem"),
    [("", "empty"), ("Boston.", "no JSON"), ('{"a": ', "not valid JSON"), ('"just a string"', "no JSON")],
)
def test_find_json_says_what_is_wrong(reply: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        find_json(reply)


def test_a_valid_reply_has_no_schema_error() -> None:
    assert (
        schema_error({"units": [UNIT, {**UNIT, "kind": "event", "date": "2023-05-07"}]}, EXTRACT_SCHEMA)
        is None
    )
    assert schema_error({"answer": "Boston", "citations": [1, 2.0]}, ANSWER_SCHEMA) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([], "$: expected object, got []"),
        ({}, "$: missing the required field 'units'"),
        ({"units": [], "notes": "x"}, "$: unexpected field 'notes'"),
        ({"units": [UNIT, {**UNIT, "kind": "opinion"}]}, '$.units[1].kind: "opinion" is not one of'),
        ({"units": [{**UNIT, "turns": [True]}]}, "$.units[0].turns[0]: expected integer, got true"),
        ({"units": [{**UNIT, "turns": [1.5]}]}, "$.units[0].turns[0]: expected integer, got 1.5"),
        ({"units": [{**UNIT, "date": "May 7"}]}, '$.units[0].date: "May 7" does not match the pattern'),
        ({"units": [{**UNIT, "date": 7}]}, "$.units[0].date: expected string or null, got 7"),
        (
            {"units": [{k: v for k, v in UNIT.items() if k != "entities"}]},
            "$.units[0]: missing the required field 'entities'",
        ),
    ],
)
def test_schema_errors_name_the_path(value: Any, problem: str) -> None:
    found = schema_error(value, EXTRACT_SCHEMA)
    assert found is not None and found.startswith(problem), found


def test_other_keywords_of_the_subset() -> None:
    schema = {
        "type": "array",
        "minItems": 1,
        "maxItems": 2,
        "items": {"anyOf": [{"type": "string", "minLength": 2, "maxLength": 3}, {"const": 0}]},
    }
    assert schema_error(["ab", 0], schema) is None
    assert schema_error([], schema) == "$: needs at least 1 items, got 0"
    assert schema_error(["ab", "ab", "ab"], schema) == "$: allows at most 2 items, got 3"
    assert schema_error(["a"], schema) == '$[0]: "a" matches none of the allowed forms'
    bounded = {"type": "number", "minimum": 0, "maximum": 1}
    assert schema_error(0.5, bounded) is None
    assert schema_error(2, bounded) == "$: 2 is above the maximum 1"
    assert schema_error({"x": 1}, {"type": "object", "additionalProperties": {"type": "string"}}) is not None


def test_every_shipped_prompt_loads_with_its_version() -> None:
    for name in (
        "extract_v1",
        "extract_v2",
        "answer_v1",
        "answer_v2",
        "repair_v1",
        "format_v1",
        "reconcile_v1",
    ):
        prompt = load_prompt(name)
        assert prompt.version == name and prompt.user
    assert load_prompt("extract_v1").system and not load_prompt("repair_v1").system
    messages = load_prompt("answer_v1").render(context="[1] x", question="Why?")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Question: Why?" in messages[1]["content"]
    assert '{"answer": "Boston", "citations": [3]}' in messages[0]["content"]  # braces need no escaping


def test_prompt_misuse_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="needs a value for \\$question"):
        load_prompt("answer_v1").render(context="x")
    with pytest.raises(UsageError, match="no prompt named"):
        load_prompt("answer_v99")
    with pytest.raises(UsageError, match="look like"):
        load_prompt("../secrets")


def test_llm_settings_from_options_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EIDETICA_LLM_BASE_URL", "EIDETICA_LLM_MODEL", "EIDETICA_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert llm_settings() is None
    monkeypatch.setenv("EIDETICA_LLM_MODEL", "gpt-4o-mini")
    monkeypatch.setenv("EIDETICA_LLM_API_KEY", "sk-env")
    from_env = llm_settings()
    assert from_env is not None
    assert (from_env.base_url, from_env.model, from_env.api_key) == (OPENAI_BASE_URL, "gpt-4o-mini", "sk-env")
    monkeypatch.setenv("EIDETICA_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    chosen = llm_settings(model="llama3.2", api_key="sk-option")
    assert chosen is not None
    assert (chosen.base_url, chosen.model, chosen.api_key) == (
        "http://127.0.0.1:11434/v1",
        "llama3.2",
        "sk-option",
    )
    monkeypatch.delenv("EIDETICA_LLM_MODEL")
    with pytest.raises(UsageError, match="EIDETICA_LLM_MODEL"):
        llm_settings()
