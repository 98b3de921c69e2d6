"""Train TrimKV's retention gates for SmolLM2-135M-Instruct on text generated here.

    python benchmarks/kv/train_gates.py            # writes benchmarks/kv/gates/smollm2-135m-instruct.pt

What is trained: one linear gate per (layer, kv head) from a token's key and value (128 numbers)
to a logit whose sigmoid is the token's retention rate ``beta``. On what: haystacks with pass
keys, named keys and short facts, each followed by a question about one of them (seeded, about
600 tokens each), none of them items the benchmark asks. The target: the attention a token
receives from the prompt's last queries; the model is ``log a = c + age * log(beta)``, fitted
per gate by least squares with Adam on the model's own attention. How long: printed at the end
(a few minutes on two cores). This is a small-scale reading of TRIM-KV's learned retention, not
its training recipe (which distils the model's outputs through the gated attention).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from eidetica.kv import KVModel, RetentionGates
from eidetica.kv.heads import _attentions
from eidetica.kv.local import load_smollm2

HERE = Path(__file__).parent
#: A token's features, its age to each late query, and the attention it got from them.
Sample = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
SUBJECTS = (
    "The red door",
    "Grandma's bakery",
    "The night train",
    "Our team lead",
    "The blue notebook",
    "Dr. Osei",
)
VERBS = ("opens at", "was moved to", "costs", "is stored in", "was renamed to", "meets at")
FILLERS = (
    "The river runs past the mill. Birds sing in the morning. ",
    "The grass is green. The sky is blue. The sun is yellow. ",
    "Rain fell over the hills all week. The roads were quiet. ",
)


def documents(count: int, seed: int) -> list[tuple[str, str]]:
    """(haystack, question) pairs: facts planted in filler, the question asking one of them."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        filler = rng.choice(FILLERS)
        facts = []
        for _ in range(rng.randint(1, 4)):
            value = str(rng.randrange(100, 100000))
            facts.append((f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {value}. ", value))
        parts = [filler] * rng.randint(15, 30)
        for fact, _ in facts:
            parts.insert(rng.randrange(len(parts) + 1), fact)
        asked = rng.choice(facts)[0].split(" ")[:-1]
        out.append(("".join(parts), f"What about this: {' '.join(asked)}?"))
    return out


def collect(kv: KVModel, docs: list[tuple[str, str]], rows: int) -> dict[tuple[int, int], list[Sample]]:
    """Per (layer, kv head): features of every token, its age to each late query, and the attention it got."""
    samples: dict[tuple[int, int], list[Sample]] = {}
    group = kv.num_heads // kv.num_kv_heads
    for text, question in docs:
        ids = kv.chat_ids([{"role": "user", "content": f"{text}\n\n{question}"}])
        cache, _ = kv.read(ids)
        attentions = _attentions(kv, ids)
        n = len(ids)
        late = torch.arange(n - rows, n)
        for layer, attention in enumerate(attentions):
            for h, head in enumerate(cache.layers[layer]):
                got = attention[h * group : (h + 1) * group, late, :].amax(dim=0)  # [rows, n]
                features = torch.cat([head.full_keys(), head.values()], dim=1)
                age = (late.unsqueeze(1) - torch.arange(n).unsqueeze(0)).float()
                samples.setdefault((layer, h), []).append((features, age, got))
    return samples


def fit(samples: list[Sample], steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    weight = torch.zeros(samples[0][0].shape[1], requires_grad=True)
    bias = torch.full((), 2.0, requires_grad=True)
    offset = torch.zeros((), requires_grad=True)
    optimiser = torch.optim.Adam([weight, bias, offset], lr=0.02)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = torch.zeros(())
        for features, age, got in samples:
            log_beta = F.logsigmoid(features @ weight + bias)
            visible = age > 0
            predicted = offset + age * log_beta.unsqueeze(0)
            target = got.clamp_min(1e-6).log()
            loss = loss + ((predicted - target) ** 2)[visible].mean()
        loss.backward()
        optimiser.step()
    return weight.detach(), bias.detach()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=24)
    parser.add_argument("--rows", type=int, default=32, help="late queries whose attention is the target")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE / "gates" / "smollm2-135m-instruct.pt")
    args = parser.parse_args()
    began = time.perf_counter()
    torch.manual_seed(args.seed)
    kv = load_smollm2(threads=2)
    samples = collect(kv, documents(args.docs, args.seed), args.rows)
    collected = time.perf_counter() - began
    weights = torch.zeros(kv.num_layers, kv.num_kv_heads, 2 * kv.head_dim)
    biases = torch.zeros(kv.num_layers, kv.num_kv_heads)
    for (layer, h), got in samples.items():
        weights[layer, h], biases[layer, h] = fit(got, args.steps)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    RetentionGates(weights, biases, kv.name).save(args.out)
    print(
        f"trained {len(samples)} gates on {args.docs} generated documents ({args.rows} late queries each), "
        f"{args.steps} Adam steps per gate: {collected:.0f} s reading, "
        f"{time.perf_counter() - began:.0f} s in all; "
        f"wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
