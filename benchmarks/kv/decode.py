"""Compression while generating: the most KV held, and how closely the reply follows the uncompressed one.

    python benchmarks/kv/decode.py --out benchmarks/results/kv

SmolLM2-135M-Instruct writes a long reply to a prompt of about 600 tokens; each policy keeps the
cache at a token budget per head, compressing every ``policy.interval`` generated tokens. Reported:
the peak KV bytes held against the uncompressed run's, and the share of the uncompressed reply's
tokens the compressed run wrote the same (position by position, up to the first difference too).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from eidetica.kv import Budget, LazyEviction, Policy, Scissorhands, StreamingLLM
from eidetica.kv.local import load_smollm2

STORY = (
    "Here are notes from a trip. We left Lisbon on a Monday and drove north along the coast. "
    "In Porto we met Ines, who runs a bookshop, and she told us about the old tram lines. "
    "On Wednesday it rained, so we visited the library and the market instead of the beach. "
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/kv"))
    parser.add_argument("--new-tokens", type=int, default=160)
    parser.add_argument("--budget", type=int, default=192, help="tokens per head kept while generating")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    kv = load_smollm2(threads=2)
    prompt = kv.chat_ids([{"role": "user", "content": STORY * 8 + "\n\nRetell the whole trip in detail."}])
    budget = Budget(tokens=args.budget)
    policies: dict[str, Policy] = {
        "StreamingLLM": StreamingLLM(),
        "Scissorhands": Scissorhands(),
        "LazyEviction": LazyEviction(),
    }
    began = time.perf_counter()
    full = kv.generate(prompt, max_new_tokens=args.new_tokens)
    rows: list[dict[str, Any]] = [
        {
            "policy": "none",
            "peak_kv_bytes": full.peak_kv_bytes,
            "same": 1.0,
            "prefix": len(full.token_ids),
            "seconds": time.perf_counter() - began,
        }
    ]
    for name, policy in policies.items():
        began = time.perf_counter()
        got = kv.generate(
            prompt, policy=policy, budget=budget, decode_budget=budget, max_new_tokens=args.new_tokens
        )
        same = sum(a == b for a, b in zip(got.token_ids, full.token_ids, strict=False))
        prefix = next(
            (i for i, (a, b) in enumerate(zip(got.token_ids, full.token_ids, strict=False)) if a != b),
            min(len(got.token_ids), len(full.token_ids)),
        )
        rows.append(
            {
                "policy": name,
                "peak_kv_bytes": got.peak_kv_bytes,
                "same": same / max(1, len(full.token_ids)),
                "prefix": prefix,
                "seconds": time.perf_counter() - began,
            }
        )
    table = Table(
        title=f"generating {len(full.token_ids)} tokens after {len(prompt)}, {args.budget} tokens a head"
    )
    for column in ("policy", "peak KV MB", "share of full", "same tokens", "same prefix", "seconds"):
        table.add_column(column, justify="right" if column != "policy" else "left")
    for row in rows:
        table.add_row(
            row["policy"],
            f"{row['peak_kv_bytes'] / 1e6:.1f}",
            f"{row['peak_kv_bytes'] / full.peak_kv_bytes:.2f}",
            f"{row['same']:.2f}",
            str(row["prefix"]),
            f"{row['seconds']:.1f}",
        )
    Console().print(table)
    report = {
        "prompt_tokens": len(prompt),
        "new_tokens": len(full.token_ids),
        "budget": args.budget,
        "rows": rows,
    }
    (args.out / "decode.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
