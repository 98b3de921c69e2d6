"""Load benchmark of the REST server: concurrent clients over loopback, a restart in the middle.

    python benchmarks/load.py [--clients 16] [--seconds 30] [--db PATH_OR_URL] [--workers 1]
                              [--restart-after 10] [--write-share 0.3] [--report load.json]

Starts ``eidetica serve`` as a subprocess, runs ``--clients`` threads that each loop over mixed
writes (``add``, one turn) and reads (``search``) for ``--seconds``, kills the server with SIGKILL
after ``--restart-after`` seconds (every worker) and starts it again on the same port. Clients count requests
that fail while it is down as errors and carry on. Afterwards every acknowledged write is read back
by id: a write the server acknowledged must survive the kill.

Prints a table (throughput, p50/p95/p99 per operation, errors) and writes a JSON report.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from eidetica import Client, EideticaError, NotFoundError

WORDS = "trip Paris Lisbon guitar marathon sister Bob Alice dinner museum book recipe garden exam".split()
NAMES = ["Alice", "Bob", "Carol", "Dan"]


@dataclass
class ClientLog:
    """What one client thread did: latencies per operation, errors, acknowledged unit ids."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"add": [], "search": []})
    errors: dict[str, int] = field(default_factory=dict)
    acknowledged: list[tuple[str, str]] = field(default_factory=list)  # (user_id, unit id)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db: str, port: int, workers: int, api_key: str, log: Path) -> subprocess.Popen[bytes]:
    """Start ``eidetica serve`` and wait until it is ready; its log lines go to ``log``."""
    env = {**os.environ, "EIDETICA_API_KEYS": f"{api_key}=load"}
    command = [sys.executable, "-m", "eidetica", "serve", "--db", db, "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("ab") as sink:
        # Its own process group: with --workers N, killing the server means killing every worker.
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited; its log:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not become ready within 120 s")


def run_client(
    url: str, api_key: str, index: int, stop: threading.Event, share: float, log: ClientLog
) -> None:
    rng = random.Random(index)
    user = f"user-{index % 8}"
    with Client(url, api_key=api_key, timeout=30) as client:
        sequence = 0
        while not stop.is_set():
            op = "add" if rng.random() < share else "search"
            started = time.perf_counter()
            try:
                if op == "add":
                    sequence += 1
                    first, second = rng.choice(WORDS), rng.choice(WORDS)
                    text = f"{rng.choice(NAMES)} talked about the {first} and the {second}"
                    message = {"role": "user", "content": text, "id": f"c{index}-{sequence}"}
                    result = client.add([message], user_id=user, infer=False)
                    log.acknowledged.extend((user, unit.id) for unit in result.turns)
                else:
                    client.search(f"what about the {rng.choice(WORDS)}?", user_id=user, k=10)
            except EideticaError as exc:
                kind = type(exc).__name__
                log.errors[kind] = log.errors.get(kind, 0) + 1
                time.sleep(0.05)
                continue
            log.latencies[op].append(time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def verify(url: str, api_key: str, logs: list[ClientLog]) -> int:
    """Read back every acknowledged write; return how many are missing."""
    missing = 0
    with Client(url, api_key=api_key, timeout=30) as client:
        for log in logs:
            for user, unit_id in log.acknowledged:
                try:
                    client.get(unit_id, user_id=user)
                except NotFoundError:
                    missing += 1
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--db", help="path or postgresql:// URL (default: a fresh SQLite file)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--restart-after", type=float, default=10.0, help="0 to never restart")
    parser.add_argument("--write-share", type=float, default=0.3)
    parser.add_argument("--report", type=Path, default=Path("load-report.json"))
    args = parser.parse_args()
    console = Console()
    api_key = "load-" + os.urandom(8).hex()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "load.db")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(db, port, args.workers, api_key, Path(tmp) / "server.log")
        logs = [ClientLog() for _ in range(args.clients)]
        stop = threading.Event()
        threads = [
            threading.Thread(target=run_client, args=(url, api_key, i, stop, args.write_share, logs[i]))
            for i in range(args.clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        downtime = 0.0
        if 0 < args.restart_after < args.seconds:
            time.sleep(args.restart_after)
            down = time.perf_counter()
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            server = start_server(db, port, args.workers, api_key, Path(tmp) / "server.log")
            downtime = time.perf_counter() - down
        time.sleep(max(0.0, args.seconds - (time.perf_counter() - started)))
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        missing = verify(url, api_key, logs)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    report = summarise(args, logs, elapsed, downtime, missing)
    args.report.write_text(json.dumps(report, indent=2))
    show(console, report)
    console.print(f"report written to {args.report}")
    if missing:
        raise SystemExit(f"{missing} acknowledged writes are missing")


def summarise(
    args: argparse.Namespace, logs: list[ClientLog], elapsed: float, downtime: float, missing: int
) -> dict[str, object]:
    operations: dict[str, object] = {}
    for op in ("add", "search"):
        values = [v for log in logs for v in log.latencies[op]]
        operations[op] = {
            "count": len(values),
            "per_second": len(values) / elapsed,
            "p50_ms": 1000 * percentile(values, 0.50),
            "p95_ms": 1000 * percentile(values, 0.95),
            "p99_ms": 1000 * percentile(values, 0.99),
        }
    errors: dict[str, int] = {}
    for log in logs:
        for kind, count in log.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    return {
        "clients": args.clients,
        "seconds": elapsed,
        "workers": args.workers,
        "backend": "postgresql" if (args.db or "").startswith("postgres") else "sqlite",
        "restart_downtime_s": downtime,
        "operations": operations,
        "errors": errors,
        "acknowledged_writes": sum(len(log.acknowledged) for log in logs),
        "missing_writes": missing,
    }


def show(console: Console, report: dict[str, object]) -> None:
    table = Table(title=f"{report['clients']} clients, {report['seconds']:.0f} s, {report['backend']}")
    for column in ("operation", "count", "per s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right")
    operations = report["operations"]
    assert isinstance(operations, dict)
    for op, row in operations.items():
        table.add_row(
            op,
            str(row["count"]),
            f"{row['per_second']:.1f}",
            f"{row['p50_ms']:.1f}",
            f"{row['p95_ms']:.1f}",
            f"{row['p99_ms']:.1f}",
        )
    console.print(table)
    console.print(
        f"errors: {report['errors'] or 'none'}; restart downtime {report['restart_downtime_s']:.1f} s; "
        f"acknowledged writes {report['acknowledged_writes']}, missing {report['missing_writes']}"
    )


if __name__ == "__main__":
    main()
