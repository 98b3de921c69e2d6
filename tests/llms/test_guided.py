"""The local server's schema-guided decoder, without a model: the subset it enforces, what it refuses."""

from __future__ import annotations

import json

import pytest

from eidetica.ingest.llm_extract import EXTRACT_SCHEMA, UNIT_SCHEMA
from eidetica.llms import JsonSchema
from eidetica.llms.answer import ANSWER_SCHEMA
from eidetica.llms.validate import schema_error

from ..support.guided import UnsupportedSchema, minimal_json
from ..support.local_llm import requested_schema


@pytest.mark.parametrize("schema", [EXTRACT_SCHEMA, UNIT_SCHEMA, ANSWER_SCHEMA])
def test_eidetica_schemas_are_in_the_subset_and_their_cheapest_reply_fits(schema: JsonSchema) -> None:
    assert schema_error(json.loads(minimal_json(schema)), schema) is None


def test_the_cheapest_reply_honours_every_keyword() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 3, "maximum": 9},
            "pair": {"type": "array", "items": {"type": "boolean"}, "minItems": 2},
            "day": {"type": "string", "pattern": r"^\d{4}-\d\d-[0-9]{2}T\.$"},
            "mood": {"enum": ["happy", "ok"]},
            "v": {"const": [1]},
            "maybe": {"type": ["array", "null"], "items": {"type": "string"}},
        },
    }
    assert json.loads(minimal_json(schema)) == {
        "n": 3,
        "pair": [True, True],
        "day": "0000-00-00T.",
        "mood": "ok",
        "v": [1],
        "maybe": None,
    }
    assert schema_error(json.loads(minimal_json(schema)), schema) is None


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "string", "minLength": 1}, "minLength"),
        ({"anyOf": [{"type": "string"}]}, "anyOf"),
        ({"type": "number"}, "number"),
        ({"type": ["string", "integer"]}, "one type"),
        ({"type": "array"}, "items"),
        ({"type": "integer", "minimum": -1}, "bounds"),
        ({"type": "string", "pattern": "[a-z]+"}, "anchored"),
        ({"type": "string", "pattern": "^[a-z]+$"}, "only literals"),
        ({"type": "object", "properties": {"x": {"type": "string", "format": "date"}}}, "format"),
    ],
)
def test_schemas_outside_the_subset_are_refused(schema: JsonSchema, problem: str) -> None:
    with pytest.raises(UnsupportedSchema, match=problem):
        minimal_json(schema)
    request = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    with pytest.raises(ValueError, match="response_format json_schema is not supported"):
        requested_schema(request)


def test_only_a_json_schema_response_format_is_enforced() -> None:
    assert requested_schema(None) is None
    assert requested_schema({"type": "json_object"}) is None
    assert requested_schema({"type": "text"}) is None
    wanted = {"type": "json_schema", "json_schema": {"name": "a", "schema": ANSWER_SCHEMA, "strict": True}}
    assert requested_schema(wanted) == ANSWER_SCHEMA
