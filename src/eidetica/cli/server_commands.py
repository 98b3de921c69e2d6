"""The commands that run rather than read or write a memory: serve (the REST API), demo, bench
and mcp (the MCP tools), in that order on the help page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..config import resolve_db
from ..errors import UsageError
from .common import _command, err, out
from .options import _numbers

# The options serve and mcp share: both open a database and answer HTTP callers.
ServedDbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database path or postgresql:// URL (default: $EIDETICA_DB or the user data dir)."
    ),
]
ApiKeysOption = Annotated[
    str | None,
    typer.Option(
        "--api-keys",
        help="API keys of HTTP callers: key=tenant pairs, comma-separated (k1=acme,k2=globex), or @path "
        "to a file of them (one per line, # comments); prefer @path, since the command line is visible "
        "in ps. Default $EIDETICA_API_KEYS; no keys at all: no auth.",
    ),
]
AllowedHostOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allowed-host",
        help="Without API keys, answer this Host name too (repeatable; name or name:port), besides "
        "localhost, 127.0.0.1 and [::1]; default $EIDETICA_ALLOWED_HOSTS (comma-separated).",
    ),
]


def _print_exposure_warning(warning: str | None) -> None:
    """Print in bold red what a server reachable from other machines without keys exposes."""
    if warning:
        err.print(f"[bold red]WARNING:[/bold red] {escape(warning)}", highlight=False, soft_wrap=True)


@_command()
def serve(
    db: ServedDbOption = None,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes sharing the port.", min=1)] = 1,
    api_keys: ApiKeysOption = None,
    allowed_host: AllowedHostOption = None,
    max_body_mb: Annotated[
        float | None,
        typer.Option(
            "--max-body-mb", help="Largest request body in MiB (default $EIDETICA_MAX_BODY_MB or 8)."
        ),
    ] = None,
) -> None:
    """Serve the REST API (and its OpenAPI document) over HTTP until interrupted."""
    from ..config import redact, redacted_errors, server_settings
    from ..server.launch import exposure_warning, require_server_extra
    from ..server.launch import serve as run_server

    with redacted_errors():
        require_server_extra()
        settings = server_settings(db, api_keys, max_body_mb, allowed_host_names=allowed_host)
        tenants = sorted(set(settings.api_keys.values()))
        auth = (
            f"on: {len(settings.api_keys)} API key(s) for tenant(s) {', '.join(tenants)}"
            if settings.api_keys
            else "off: every caller is in the default tenant (set --api-keys @keys.txt to require keys)"
        )
        shown_host = f"[{host}]" if ":" in host else host
        lines = (
            f"serving {redact(settings.db)} on http://{shown_host}:{port} with {workers} worker(s)",
            f"authentication {auth}",
            f"API document: http://{shown_host}:{port}/docs",
            f"web UI: http://{shown_host}:{port}/ui/",
        )
        for line in lines:
            out.print(line, markup=False, highlight=False, soft_wrap=True)
        _print_exposure_warning(exposure_warning(host, bool(settings.api_keys), settings.allowed_hosts))
        run_server(settings, host=host, port=port, workers=workers)


@_command()
def ui(
    db: ServedDbOption = None,
    port: Annotated[int, typer.Option(help="Loopback TCP port to serve on.", min=1, max=65535)] = 8765,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the web browser on the UI once it answers.")
    ] = True,
) -> None:
    """Open the web UI on a memory: serve it on 127.0.0.1 (no keys needed there) and open the browser."""
    from ..config import redact, redacted_errors, server_settings
    from ..server.launch import open_when_answering
    from ..server.launch import serve as run_server

    with redacted_errors():
        settings = server_settings(db, None, None)
        url = f"http://127.0.0.1:{port}/ui/"
        out.print(f"serving {redact(settings.db)}: the web UI is at {url} (Ctrl-C stops it)", markup=False)
        if open_browser:
            open_when_answering(url)
        run_server(settings, host="127.0.0.1", port=port)


@_command()
def demo(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Keep the demo memory in this file (default: temporary)."),
    ] = None,
) -> None:
    """Ingest bundled sample conversations and answer questions from memory."""
    from ..demo import run_demo

    run_demo(out, db)


@_command()
def bench(
    units: Annotated[
        str, typer.Option(help="Store sizes to measure search at, comma-separated.")
    ] = "10000,100000",
    users: Annotated[int, typer.Option(help="Users the units are spread over.")] = 1000,
    queries: Annotated[int, typer.Option(help="Searches timed per size.")] = 500,
    report: Annotated[Path, typer.Option(help="Where to write the JSON report.")] = Path("bench-report.json"),
    defer_embedding: Annotated[
        bool, typer.Option(help="Embed in the background, as a server with EIDETICA_DEFER_EMBEDDING does.")
    ] = False,
    history: Annotated[
        str,
        typer.Option(help="Sizes (units) of ONE user's history to measure at, comma-separated; empty: skip."),
    ] = "1000,10000,100000",
    lancedb: Annotated[
        bool, typer.Option(help="Measure LanceDB on the same units beside the long history (if installed).")
    ] = True,
    history_db: Annotated[
        str | None,
        typer.Option(help="Hold the long history here (a postgresql:// URL) instead of a temporary file."),
    ] = None,
) -> None:
    """Measure ingest throughput, search latency and bytes per unit; print and write JSON.

    Two cases: units spread over many users (--units, --users), and one user's long history
    (--history), with LanceDB beside it when installed (pip install lancedb). The embedder is
    EIDETICA_EMBEDDER's (wordllama unless set).
    """
    from ..config import embedder_name
    from ..eval.bench import print_report, run_bench

    result = run_bench(
        sizes=_numbers("--units", units),
        users=users,
        queries=queries,
        console=err,
        embedder=embedder_name(),
        defer_embedding=defer_embedding,
        history=_numbers("--history", history),
        lancedb=lancedb,
        history_db=history_db,
    )
    report.write_text(json.dumps(result, indent=2))
    print_report(result, out)
    out.print(f"report written to {report}")


@_command("mcp")
def mcp_(
    transport: Annotated[
        str, typer.Option(help="stdio (the host starts this command) or http (streamable HTTP at /mcp).")
    ] = "stdio",
    db: ServedDbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on (http).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (http).")] = 8765,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant to serve (stdio; over http the API key picks it).")
    ] = None,
    user_id: Annotated[
        str | None,
        typer.Option("--user-id", help="Serve this user only; tools then cannot name another user."),
    ] = None,
    agent_id: Annotated[str | None, typer.Option("--agent-id", help="Agent id stamped on writes.")] = None,
    api_keys: ApiKeysOption = None,
    allowed_host: AllowedHostOption = None,
    session_idle_minutes: Annotated[
        float,
        typer.Option("--session-idle-minutes", help="Close an MCP session idle this long (http).", min=0.01),
    ] = 30.0,
    max_sessions: Annotated[
        int,
        typer.Option("--max-sessions", help="Most MCP sessions open at once; more get 503 (http).", min=1),
    ] = 1000,
) -> None:
    """Serve memory to LLM agents as MCP tools, over stdio or streamable HTTP."""
    import contextlib
    import sys

    from ..config import allowed_hosts, redacted_errors
    from ..config import api_keys as read_api_keys
    from ..model import DEFAULT_TENANT

    try:
        from ..server.launch import exposure_warning
        from ..server.mcp import McpSettings, run_stdio
        from ..server.mcp_http import run_http
        from ..server.tenants import Tenants
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("mcp", "pydantic", "starlette", "uvicorn", "fastapi"):
            raise
        raise UsageError(f"eidetica mcp needs {exc.name}: pip install 'eidetica[server]'") from exc
    if transport not in ("stdio", "http"):
        raise UsageError(f"--transport must be stdio or http, got {transport!r}")
    if transport == "http" and tenant is not None:
        raise UsageError("--tenant is for stdio; over http each API key maps to its tenant (--api-keys)")
    if transport == "stdio" and api_keys is not None:
        raise UsageError("--api-keys is for http; over stdio use --tenant")
    settings = McpSettings(tenant=tenant or DEFAULT_TENANT, user_id=user_id, agent_id=agent_id)
    with redacted_errors():
        keys = read_api_keys(api_keys) if transport == "http" else {}
        hosts = allowed_hosts(allowed_host) if transport == "http" else ()
        # Over stdio, stdout carries the protocol only: anything printed while loading goes to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            tenants = Tenants.open(resolve_db(db), api_keys=keys)
    try:
        if transport == "stdio":
            run_stdio(tenants, settings)
        else:
            err.print(f"serving MCP at http://{host}:{port}/mcp", highlight=False)
            _print_exposure_warning(exposure_warning(host, bool(keys), hosts))
            run_http(
                tenants,
                settings,
                host=host,
                port=port,
                allowed_hosts=hosts,
                session_idle_s=session_idle_minutes * 60,
                max_sessions=max_sessions,
            )
    except KeyboardInterrupt:
        pass
    finally:
        tenants.close()
