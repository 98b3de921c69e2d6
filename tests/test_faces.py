"""Every face offers the contract: each parameter of each ``MemoryAPI`` operation is offered by
the REST API, the CLI and the MCP tools, or is listed below as a deliberate exception, with why.

``Memory`` and ``Client`` are held to the contract by mypy (both declare ``MemoryAPI``), and here
with ``AsyncMemory`` and ``AsyncClient`` by their signatures; the other faces are read from what
they really expose: the OpenAPI document, the click commands typer builds, the MCP tools' input
schemas. Removing an option from any face fails
this test; so does an exception that is no longer needed.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from eidetica import Client, Memory
from eidetica.aio import AsyncClient, AsyncMemory
from eidetica.api import MemoryAPI
from eidetica.cli import app as cli_app
from eidetica.limits import MAX_BUDGET_TOKENS
from eidetica.model import ENTITY_KINDS
from eidetica.server.mcp import McpSettings, create_server
from eidetica.server.rest import create_app
from eidetica.server.tenants import Tenants
from eidetica.storage import Store, open_store

#: Parameters of the contract that are not request data: callables, or the object itself.
NOT_DATA = {"self", "progress"}
OPERATIONS = [
    name
    for name, member in inspect.getmembers(MemoryAPI, inspect.isfunction)
    if not name.startswith("_") and name != "close"
]

# -- REST ---------------------------------------------------------------------------------------

REST_ROUTES = {
    "add": ("post", "/v1/memories"),
    "search": ("post", "/v1/search"),
    "context": ("post", "/v1/context"),
    "answer": ("post", "/v1/answer"),
    "get": ("get", "/v1/memories/{unit_id}"),
    "list": ("get", "/v1/memories"),
    "update": ("patch", "/v1/memories/{unit_id}"),
    "delete": ("delete", "/v1/memories/{unit_id}"),
    "history": ("get", "/v1/memories/{unit_id}/history"),
    "entities": ("get", "/v1/entities"),
    "entity": ("get", "/v1/entities/{name}"),
    "related": ("get", "/v1/memories/{unit_id}/related"),
    "profile": ("get", "/v1/profile"),
    "summary": ("get", "/v1/sessions/{session_id}/summary"),
    "quarantined": ("get", "/v1/quarantine"),
    "review": ("post", "/v1/quarantine/{unit_id}"),
    "maintain": ("post", "/v1/maintain"),
    "restore": ("post", "/v1/memories/{unit_id}/restore"),
    "forget": ("delete", "/v1/users/{user_id}"),
    "stats": ("get", "/v1/stats"),
    "users": ("get", "/v1/users"),
}
REST_EXCEPTIONS = {
    ("import_file", "*"): "a file is read where it is: Client.import_file validates it locally and adds it",
}

# -- CLI ----------------------------------------------------------------------------------------

CLI_COMMANDS = {
    "add": "add",
    "import_file": "import",
    "search": "search",
    "context": "context",
    "answer": "answer",
    "get": "show",
    "list": "list",
    "update": "update",
    "delete": "delete",
    "history": "history",
    "entities": "entities",
    "entity": "entity",
    "related": "related",
    "profile": "profile",
    "summary": "summary",
    "quarantined": "quarantine",
    "review": "review",
    "maintain": "maintain",
    "restore": "restore",
    "forget": "forget",
    "stats": "stats",
    "users": "users",
}
#: The CLI's short names for the contract's parameters.
CLI_NAMES = {
    "user_id": "user",
    "agent_id": "agent",
    "session_id": "session",
    "kinds": "kind",
    "budget_tokens": "budget",
    "messages": "text",
    "path": "file",
}
CLI_EXCEPTIONS: dict[tuple[str, str], str] = {}

# -- MCP ----------------------------------------------------------------------------------------

MCP_TOOLS = {
    "add": "add_memory",
    "search": "search_memories",
    "context": "get_context",
    "get": "get_memory",
    "list": "list_memories",
    "update": "update_memory",
    "delete": "delete_memory",
    "history": "memory_history",
    "entities": "list_entities",
    "entity": "entity_card",
    "related": "related_memories",
    "profile": "user_profile",
    "summary": "session_summary",
    "restore": "restore_memory",
    "forget": "forget_user",
    "stats": "memory_stats",
    "users": "list_users",
}
MCP_NAMES = {"unit_id": "id"}
MCP_EXCEPTIONS = {
    ("*", "agent_id"): "the agent id is the server's configuration (--agent-id), stamped on every write",
    ("answer", "*"): "the agent calling the tools is the language model: it answers from get_context",
    ("import_file", "*"): "a file is on the server's disk, out of an agent's reach",
    ("forget", "compact"): "compacting locks the tables for every tenant: an operator's step",
    ("quarantined", "*"): "what was held back may be an injected instruction: for a person's eyes",
    ("review", "*"): "approving what was held back is a person's call, never an agent's",
    ("maintain", "*"): "archiving a store's faded memories is an operator's maintenance step, not an agent's",
}


#: What ``list`` takes for browsing a user's memory (a web UI): each face must offer them, with
#: these defaults.
LIST_FILTERS = {"since": None, "until": None, "derived_from": None, "include_deleted": False}


def contract(operation: str) -> list[str]:
    """The data parameters of one operation of the contract."""
    parameters = inspect.signature(getattr(MemoryAPI, operation)).parameters
    return [name for name in parameters if name not in NOT_DATA]


def missing(
    offered: dict[str, set[str]], names: dict[str, str], exceptions: dict[tuple[str, str], str]
) -> tuple[list[str], list[str]]:
    """Contract parameters a face lacks without an exception, and exceptions nothing needs."""
    lacking: list[str] = []
    used: set[tuple[str, str]] = set()
    for operation in OPERATIONS:
        for parameter in contract(operation):
            keys = [(operation, parameter), (operation, "*"), ("*", parameter)]
            excused = next((key for key in keys if key in exceptions), None)
            present = names.get(parameter, parameter) in offered.get(operation, set())
            if excused is not None and not present:
                used.add(excused)
            elif not present:
                lacking.append(f"{operation}({parameter})")
    stale = [f"{key}" for key in exceptions if key not in used]
    return lacking, stale


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    backend = open_store(":memory:")
    yield backend
    backend.close()


def rest_parameters(store: Store, embedder: Any) -> dict[str, set[str]]:
    document = create_app(Tenants(store, embedder=embedder)).openapi()
    schemas = document["components"]["schemas"]
    offered: dict[str, set[str]] = {}
    for operation, (method, path) in REST_ROUTES.items():
        spec = document["paths"][path][method]
        names = {p["name"] for p in spec.get("parameters", [])}
        body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body is not None:
            names |= set(schemas[body["$ref"].rsplit("/", 1)[-1]]["properties"])
        offered[operation] = names
    return offered


def cli_parameters() -> dict[str, set[str]]:
    group: Any = typer.main.get_command(cli_app)
    offered: dict[str, set[str]] = {}
    for operation, command_name in CLI_COMMANDS.items():
        command = group.commands[command_name]
        offered[operation] = {param.name for param in command.params if param.name}
    return offered


def mcp_parameters(store: Store, embedder: Any) -> dict[str, set[str]]:
    server = create_server(Tenants(store, embedder=embedder), McpSettings())
    tools = {tool.name: tool for tool in asyncio.run(server.list_tools())}
    return {
        operation: set(tools[name].input_schema.get("properties", {}))
        for operation, name in MCP_TOOLS.items()
        if name in tools
    }


def test_the_contract_names_every_operation_of_memory() -> None:
    assert set(OPERATIONS) == {
        "add",
        "import_file",
        "search",
        "context",
        "answer",
        "get",
        "list",
        "update",
        "delete",
        "history",
        "entities",
        "entity",
        "related",
        "profile",
        "summary",
        "quarantined",
        "review",
        "maintain",
        "restore",
        "forget",
        "stats",
        "users",
    }


def test_the_rest_api_offers_the_contract(store: Store, embedder: Any) -> None:
    lacking, stale = missing(rest_parameters(store, embedder), {}, REST_EXCEPTIONS)
    assert lacking == [], f"the REST API lacks {lacking}"
    assert stale == [], f"exceptions no longer needed: {stale}"


def test_the_cli_offers_the_contract() -> None:
    lacking, stale = missing(cli_parameters(), CLI_NAMES, CLI_EXCEPTIONS)
    assert lacking == [], f"the CLI lacks {lacking}"
    assert stale == [], f"exceptions no longer needed: {stale}"


def test_the_mcp_tools_offer_the_contract(store: Store, embedder: Any) -> None:
    offered = mcp_parameters(store, embedder)
    absent = [MCP_TOOLS[op] for op in MCP_TOOLS if op not in offered]
    assert absent == [], f"no MCP tool {absent}"
    lacking, stale = missing(offered, MCP_NAMES, MCP_EXCEPTIONS)
    assert lacking == [], f"the MCP tools lack {lacking}"
    assert stale == [], f"exceptions no longer needed: {stale}"


def test_a_face_without_an_option_fails_the_check(store: Store, embedder: Any) -> None:
    offered = rest_parameters(store, embedder)
    offered["search"].discard("as_of")
    assert missing(offered, {}, REST_EXCEPTIONS)[0] == ["search(as_of)"]


def test_the_defaults_agree_across_faces(store: Store, embedder: Any) -> None:
    document = create_app(Tenants(store, embedder=embedder)).openapi()
    schemas = document["components"]["schemas"]
    for operation, model, field in (
        ("search", "SearchRequest", "k"),
        ("context", "ContextRequest", "budget_tokens"),
        ("answer", "AnswerRequest", "budget_tokens"),
    ):
        default = inspect.signature(getattr(MemoryAPI, operation)).parameters[field].default
        assert schemas[model]["properties"][field]["default"] == default, (operation, field)


def test_every_face_lists_entities_with_the_contracts_limit_and_kinds(store: Store, embedder: Any) -> None:
    """The entities' ``limit`` defaults to the contract's on every face, and ``kind`` offers the
    same kinds: the OpenAPI document and the MCP schema list them, the CLI refuses the others."""
    limit = inspect.signature(MemoryAPI.entities).parameters["limit"].default
    document = create_app(Tenants(store, embedder=embedder)).openapi()
    method, path = REST_ROUTES["entities"]
    query = {p["name"]: p["schema"] for p in document["paths"][path][method]["parameters"]}
    assert query["limit"]["default"] == limit
    assert [branch.get("enum") for branch in query["kind"]["anyOf"]] == [list(ENTITY_KINDS), None]
    group: Any = typer.main.get_command(cli_app)
    options = {param.name: param for param in group.commands[CLI_COMMANDS["entities"]].params}
    assert options["limit"].default == limit
    assert options["kind"].opts == ["--kind"]
    server = create_server(Tenants(store, embedder=embedder), McpSettings())
    tool = next(t for t in asyncio.run(server.list_tools()) if t.name == MCP_TOOLS["entities"])
    schema = tool.input_schema["properties"]
    assert schema["limit"]["default"] == limit
    assert [branch.get("enum") for branch in schema["kind"]["anyOf"]] == [list(ENTITY_KINDS), None]


def test_every_face_summarises_with_the_contracts_budget_and_profiles_anyone(
    store: Store, embedder: Any
) -> None:
    """A summary's ``budget_tokens`` defaults to the contract's on every face, and bounds it as
    ``context`` does; a profile's ``name`` and a summary's budget are optional everywhere, the
    session id is not."""
    budget = inspect.signature(MemoryAPI.summary).parameters["budget_tokens"].default
    assert inspect.signature(MemoryAPI.profile).parameters["name"].default is None
    document = create_app(Tenants(store, embedder=embedder)).openapi()
    method, path = REST_ROUTES["summary"]
    query = {p["name"]: p for p in document["paths"][path][method]["parameters"]}
    assert query["budget_tokens"]["schema"]["default"] == budget
    assert (query["budget_tokens"]["schema"]["minimum"], query["budget_tokens"]["schema"]["maximum"]) == (
        1,
        MAX_BUDGET_TOKENS,
    )
    assert query["session_id"]["in"] == "path" and query["session_id"]["required"]
    method, path = REST_ROUTES["profile"]
    profile_query = {p["name"]: p for p in document["paths"][path][method]["parameters"]}
    assert not profile_query["name"].get("required", False)
    group: Any = typer.main.get_command(cli_app)
    summary = {param.name: param for param in group.commands[CLI_COMMANDS["summary"]].params}
    assert summary["budget"].default == budget and summary["budget"].opts == ["--budget"]
    assert summary["session"].required and summary["session"].metavar == "SESSION_ID"
    profile = {param.name: param for param in group.commands[CLI_COMMANDS["profile"]].params}
    assert profile["name"].default is None and profile["name"].opts == ["--name"]
    server = create_server(Tenants(store, embedder=embedder), McpSettings())
    tools = {t.name: t for t in asyncio.run(server.list_tools())}
    schema = tools[MCP_TOOLS["summary"]].input_schema
    assert schema["properties"]["budget_tokens"]["default"] == budget
    assert schema["properties"]["budget_tokens"]["maximum"] == MAX_BUDGET_TOKENS
    assert schema["required"] == ["session_id"]
    assert "required" not in tools[MCP_TOOLS["profile"]].input_schema


@pytest.mark.parametrize("face", [Memory, Client, AsyncMemory, AsyncClient])
def test_the_python_faces_take_the_contracts_parameters(face: type) -> None:
    def parameters(function: Any) -> dict[str, tuple[Any, Any]]:
        signature = inspect.signature(function)
        return {p.name: (p.kind, p.default) for p in signature.parameters.values() if p.name != "self"}

    for operation in OPERATIONS:
        wanted = parameters(getattr(MemoryAPI, operation))
        assert parameters(getattr(face, operation)) == wanted, (face.__name__, operation)


def test_every_face_lists_with_the_browsing_filters(store: Store, embedder: Any) -> None:
    listing = inspect.signature(MemoryAPI.list).parameters
    assert {name: listing[name].default for name in LIST_FILTERS} == LIST_FILTERS
    offered = {
        "REST": rest_parameters(store, embedder)["list"],
        "CLI": cli_parameters()["list"],
        "MCP": mcp_parameters(store, embedder)["list"],
    }
    for face, names in offered.items():
        assert set(LIST_FILTERS) <= names, f"{face} list lacks {set(LIST_FILTERS) - names}"
    # Deleted units are listed only when asked for, on every face.
    document = create_app(Tenants(store, embedder=embedder)).openapi()
    query = {p["name"]: p["schema"] for p in document["paths"]["/v1/memories"]["get"]["parameters"]}
    assert query["include_deleted"]["default"] is False
    group: Any = typer.main.get_command(cli_app)
    options = {param.name: param for param in group.commands["list"].params}
    assert options["include_deleted"].default is False
    assert options["derived_from"].opts == ["--derived-from"]
    assert options["include_deleted"].opts == ["--include-deleted"]
    server = create_server(Tenants(store, embedder=embedder), McpSettings())
    tool = next(t for t in asyncio.run(server.list_tools()) if t.name == MCP_TOOLS["list"])
    assert tool.input_schema["properties"]["include_deleted"]["default"] is False
