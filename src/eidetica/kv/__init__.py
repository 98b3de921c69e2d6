"""Activation memory: KV-cache compression policies and reusable KV for a local model.

An optional extra (``pip install 'eidetica[kv]'``): it needs torch and transformers, which the
core install never imports. See ``docs/kv.md``.
"""

from .answer import KVChatClient, answer_from_context, memory_messages
from .attention import Observation
from .blocks import BlockCache
from .cache import KVCache
from .gates import RetentionGates
from .generate import Generation, KVModel
from .policies import (
    Budget,
    CompressKV,
    HeadAdaptive,
    LazyEviction,
    Policy,
    RazorAttention,
    Scissorhands,
    SnapKV,
    StreamingLLM,
    ThinK,
    TrimKV,
    compress,
)

__all__ = [
    "BlockCache",
    "Budget",
    "CompressKV",
    "Generation",
    "HeadAdaptive",
    "KVCache",
    "KVChatClient",
    "KVModel",
    "LazyEviction",
    "Observation",
    "Policy",
    "RazorAttention",
    "RetentionGates",
    "Scissorhands",
    "SnapKV",
    "StreamingLLM",
    "ThinK",
    "TrimKV",
    "answer_from_context",
    "compress",
    "memory_messages",
]
