"""Embedders: the bundled WordLlama model, and the OpenAI-compatible client over real loopback HTTP."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eidetica import EmbedderError, Memory, StoreError, UsageError
from eidetica.embedders import Embedder, load_embedder
from eidetica.embedders.openai import OpenAIEmbedder
from eidetica.embedders.wordllama import WordLlamaEmbedder


def test_wordllama_loads_from_its_wheel_and_embeds_unit_vectors(embedder: WordLlamaEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    vectors = embedder.embed(["I drink green tea", "Alice prefers green tea", "The stock market fell"])
    assert vectors.shape == (3, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embedder.embed([]).shape == (0, 256)


def test_loading_wordllama_leaves_the_applications_logging_alone() -> None:
    # wordllama calls logging.basicConfig(level=INFO) on import; a fresh process shows whether
    # that leaked (root at INFO with a handler, so every library's INFO lines would print).
    script = (
        "import logging, json\n"
        "from eidetica.embedders.wordllama import WordLlamaEmbedder\n"
        "WordLlamaEmbedder().embed(['tea'])\n"
        "root = logging.getLogger()\n"
        "print(json.dumps([root.level, len(root.handlers)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [logging.WARNING, 0]
    assert "INFO" not in done.stderr


def test_unknown_embedder_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="wordllama"):
        load_embedder("nope")


class _Server:
    """A loopback /v1/embeddings endpoint; ``mode`` switches it to misbehave."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"body": body, "auth": self.headers.get("Authorization")})
                if server.mode == "error":
                    self.send_response(503)
                    self.end_headers()
                    self.wfile.write(b"overloaded")
                    return
                if server.mode == "garbage":
                    payload: Any = {"nothing": "here"}
                else:
                    payload = {
                        "data": [{"index": i, "embedding": _vector(t)} for i, t in enumerate(body["input"])]
                    }
                raw = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


def _vector(text: str) -> list[float]:
    """A deterministic bag-of-letters vector: enough to test plumbing, not quality."""
    v = [0.0] * 26
    for ch in text.lower():
        if "a" <= ch <= "z":
            v[ord(ch) - 97] += 1.0
    return v


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.httpd.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def test_openai_compatible_endpoint_round_trip(server: _Server) -> None:
    emb = OpenAIEmbedder("test-model", base_url=server.url, api_key="k-123", batch_size=2)
    assert emb.dim == 26 and emb.name == "openai/test-model/26"
    vectors = emb.embed(["abc", "zzz", "abd"])
    assert vectors.shape == (3, 26)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert [len(r["body"]["input"]) for r in server.requests[1:]] == [2, 1]  # batched
    assert server.requests[0]["auth"] == "Bearer k-123"
    assert server.requests[0]["body"]["model"] == "test-model"


def test_openai_endpoint_failures_are_embedder_errors(server: _Server) -> None:
    emb = OpenAIEmbedder("m", base_url=server.url)
    server.mode = "error"
    with pytest.raises(EmbedderError, match="HTTP 503"):
        emb.embed(["x"])
    server.mode = "garbage"
    with pytest.raises(EmbedderError, match="unexpected payload"):
        emb.embed(["x"])
    with pytest.raises(EmbedderError, match="cannot reach"):
        OpenAIEmbedder("m", base_url="http://127.0.0.1:9/v1", timeout_s=2)


def test_memory_runs_on_an_endpoint_and_refuses_a_model_swap(server: _Server, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    emb = OpenAIEmbedder("m", base_url=server.url)
    with Memory(db, embedder=emb) as memory:
        memory.add("I keep bees", user_id="u")
        assert {h.text for h in memory.search("bees", user_id="u")} == {"I keep bees", "The user keeps bees."}
    with pytest.raises(StoreError, match="same embedder"):
        Memory(db)


def test_an_endpoint_that_is_down_loses_no_turn_and_is_caught_up_on(server: _Server, tmp_path: Path) -> None:
    with Memory(tmp_path / "m.db", embedder=OpenAIEmbedder("m", base_url=server.url)) as memory:
        server.mode = "error"
        result = memory.add("I keep bees in the garden", user_id="u")
        assert result.warnings and "embedding failed" in result.warnings[0]
        [turn] = result.turns
        assert memory.get(turn.id).text == "I keep bees in the garden"
        hits = memory.search("bees", user_id="u")  # found by its words meanwhile
        assert turn.id in {h.id for h in hits} and not any("dense" in h.scores for h in hits)
        with pytest.raises(EmbedderError):  # nothing is derived from a half-embedded memory
            memory.rebuild(user_id="u")
        assert memory.get(turn.id).text == "I keep bees in the garden"
        jsonl = tmp_path / "more.jsonl"
        jsonl.write_text('{"speaker": "u", "text": "My hives are by the pond"}\n')
        report = memory.import_file(jsonl, user_id="u")
        assert report.turns == 1 and len(report.warnings) == 1
        assert memory.stats(user_id="u").unembedded == memory.stats(user_id="u").units

        server.mode = "ok"
        assert not memory.add("The honey was good this year", user_id="u").warnings
        hits = {h.id: h for h in memory.search("bees garden", user_id="u", k=20)}
        assert "dense" in hits[turn.id].scores  # the next add embedded what was missed
        assert memory.embed_missing(user_id="u") == 0 == memory.stats(user_id="u").unembedded


def test_another_embedders_store_is_refused_before_its_model_loads(
    tmp_path: Path, embedder: WordLlamaEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "words.db"
    with Memory(db, embedder=embedder) as memory:
        memory.add("I keep bees", user_id="u")

    def must_not_load(name: str) -> Embedder:
        raise AssertionError(f"loaded {name} for a store it cannot open")

    monkeypatch.setattr("eidetica.memory.load_embedder", must_not_load)
    with pytest.raises(StoreError, match=r"holds vectors from embedder 'wordllama/.*', not 'minilm'"):
        Memory(db, embedder="minilm")
    with Memory(db, embedder=embedder) as again:  # the store was closed, not damaged
        assert again.stats(user_id="u").units >= 1
