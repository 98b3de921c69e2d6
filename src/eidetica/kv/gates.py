"""Learned retention gates for ``TrimKV``: how slowly each token's importance fades.

A gate is a linear map per (layer, kv head) from a token's key and value to a logit; its sigmoid is
the token's retention rate ``beta``. ``benchmarks/kv/train_gates.py`` fits the gates of a model on
text it generates: the attention a token receives ``age`` steps later is modelled as
``c * beta ** age``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["RetentionGates"]


@dataclass(frozen=True)
class RetentionGates:
    """Gate weights ``[layers, kv heads, 2 * head_dim]`` and biases ``[layers, kv heads]``."""

    weight: Tensor
    bias: Tensor
    model: str

    def log_retention(self, layer: int, head: int, keys: Tensor, values: Tensor) -> Tensor:
        """``log(beta)`` of each token from its keys ``[n, head_dim]`` and values ``[n, head_dim]``."""
        features = torch.cat([keys, values], dim=1)
        return F.logsigmoid(features @ self.weight[layer, head] + self.bias[layer, head])

    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.model.encode())
        digest.update(self.weight.numpy().tobytes())
        digest.update(self.bias.numpy().tobytes())
        return digest.hexdigest()[:16]

    def save(self, path: Path) -> None:
        torch.save({"weight": self.weight, "bias": self.bias, "model": self.model}, path)

    @classmethod
    def load(cls, path: Path) -> RetentionGates:
        state = torch.load(path, weights_only=True)
        return cls(state["weight"], state["bias"], str(state["model"]))
