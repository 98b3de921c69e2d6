"""Any OpenAI-compatible ``/embeddings`` endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

Uses only the standard library so the embedded install stays light; the endpoint is the only
network destination, and only when the user configures it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence

import numpy as np

from ..errors import EmbedderError
from .base import Vectors, normalise


class OpenAIEmbedder:
    """Embeds through ``POST {base_url}/embeddings``; ``dim`` is learnt from the first reply."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        dim: int | None = None,
        timeout_s: float = 30.0,
        batch_size: int = 128,
    ) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout_s
        self._batch_size = batch_size
        self.dim = dim if dim is not None else len(self.embed(["dimension probe"])[0])
        self.name = f"openai/{model}/{self.dim}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed in batches; any HTTP or payload problem becomes an EmbedderError."""
        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            rows.extend(self._post(list(texts[start : start + self._batch_size])))
        if not rows:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        return normalise(np.asarray(rows, dtype=np.float32))

    def _post(self, batch: list[str]) -> list[list[float]]:
        body = json.dumps({"model": self.model, "input": batch}).encode()
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(
            f"{self.base_url}/embeddings", data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                payload = json.loads(response.read())
            data = sorted(payload["data"], key=lambda item: item["index"])
            vectors = [item["embedding"] for item in data]
        except urllib.error.HTTPError as exc:
            raise EmbedderError(
                f"{self.base_url}/embeddings answered HTTP {exc.code}: {exc.read()[:200]!r}"
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise EmbedderError(f"cannot reach {self.base_url}/embeddings: {exc}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbedderError(f"{self.base_url}/embeddings returned an unexpected payload: {exc}") from exc
        if len(vectors) != len(batch):
            raise EmbedderError(
                f"{self.base_url}/embeddings returned {len(vectors)} vectors for {len(batch)} texts"
            )
        return vectors
