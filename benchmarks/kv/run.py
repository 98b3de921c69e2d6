"""KV-cache policies on SmolLM2-135M-Instruct (CPU): accuracy against the KV bytes actually held.

    python benchmarks/kv/run.py --out benchmarks/results/kv
    python benchmarks/kv/run.py --kvpress-python /path/to/kvpress-venv/bin/python   # kvpress beside

For every item (passkey, multi-key, LoCoMo questions over a packed Eidetica context) the prompt is
read once per kind of observation, then each policy compresses a copy to each budget and answers
greedily. kvpress, when its interpreter is given, runs its SnapKV and StreamingLLM presses on the
same prompts in the same run (``kvpress_runner.py``). Then the time to first token with and without
reusing the KV of a stable block of about 2,000 tokens. Prints tables, writes ``report.json`` and
``accuracy.png``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table
from tasks import Item, correct, locomo, multikey, passkey, write_jsonl

from eidetica.kv import (
    BlockCache,
    Budget,
    CompressKV,
    HeadAdaptive,
    KVModel,
    LazyEviction,
    Observation,
    Policy,
    RazorAttention,
    RetentionGates,
    Scissorhands,
    SnapKV,
    StreamingLLM,
    ThinK,
    TrimKV,
    compress,
)
from eidetica.kv.answer import memory_messages, reusable_prefix
from eidetica.kv.heads import retrieval_heads, semantic_heads
from eidetica.kv.local import load_smollm2
from eidetica.model import Context

HERE = Path(__file__).parent
GATES = HERE / "gates" / "smollm2-135m-instruct.pt"
SHARED_LOCOMO = HERE.parents[1].parent / "shared" / "data" / "locomo" / "locomo10_dev.json"
console = Console()


def policies(kv: KVModel, heads: dict[str, Any]) -> dict[str, Policy]:
    found: dict[str, Policy] = {
        "StreamingLLM": StreamingLLM(),
        "SnapKV": SnapKV(),
        "SnapKV+AdaKV": HeadAdaptive(tokens=SnapKV()),
        "Scissorhands": Scissorhands(),
        "LazyEviction": LazyEviction(),
        "RazorAttention": RazorAttention(retrieval_heads=heads["retrieval"]),
        "ThinK(SnapKV)": ThinK(),
        "CompressKV": CompressKV(semantic_heads=heads["semantic"]),
    }
    if GATES.exists():
        found["TrimKV"] = TrimKV(gates=RetentionGates.load(GATES))
    return found


def prompt_ids(kv: KVModel, item: Item) -> list[int]:
    return kv.chat_ids([{"role": "user", "content": f"{item.context}\n\n{item.question}"}])


def run_item(
    kv: KVModel, item: Item, named: dict[str, Policy], ratios: list[float], max_new: int
) -> list[dict[str, Any]]:
    """Every policy at every ratio on one item; one prefill per kind of observation."""
    ids = prompt_ids(kv, item)
    groups: dict[int, list[str]] = defaultdict(list)
    for name, policy in named.items():
        groups[policy.observation.window].append(name)
    rows = []
    full = kv.full_bytes(len(ids))
    began = time.perf_counter()
    plain = kv.prefill(ids)
    prefill_s = time.perf_counter() - began
    reply = kv.decode(plain.cache.clone(), plain.logits, max_new_tokens=max_new)
    rows.append(_row(item, "none", 1.0, reply.text, full, full, prefill_s, reply.decode_s))
    for window, names in groups.items():
        stats = frozenset().union(*(named[n].observation.stats for n in names))
        began = time.perf_counter()
        read = kv.prefill(ids, observation=Observation(window, stats)) if window else plain
        observed_s = time.perf_counter() - began if window else prefill_s
        for name in names:
            for ratio in ratios:
                began = time.perf_counter()
                cache = read.cache.clone()
                compress(cache, named[name], Budget(ratio=ratio), read.session)
                compress_s = time.perf_counter() - began
                held = cache.kv_nbytes
                reply = kv.decode(cache, read.logits, max_new_tokens=max_new)
                rows.append(
                    _row(item, name, ratio, reply.text, held, full, observed_s + compress_s, reply.decode_s)
                )
    return rows


def _row(
    item: Item, policy: str, ratio: float, text: str, held: int, full: int, prefill_s: float, decode_s: float
) -> dict[str, Any]:
    return {
        "id": item.id,
        "task": item.task,
        "policy": policy,
        "ratio": ratio,
        "answer": text,
        "score": correct(item, text),
        "kv_bytes": held,
        "full_kv_bytes": full,
        "kept": held / full,
        "prefill_s": prefill_s,
        "decode_s": decode_s,
    }


def run_kvpress(
    kv: KVModel, python: str, items: list[Item], ratios: list[float], max_new: int, out: Path
) -> list[dict[str, Any]]:
    """kvpress's SnapKV and StreamingLLM on the same prompts, in its own interpreter.

    kvpress compresses the context before the question is read; the question's KV, read after,
    is held whole and counted here.
    """
    inputs, outputs = out / "kvpress_in.jsonl", out / "kvpress_out.jsonl"
    write_jsonl(items, inputs, max_new)
    evict = ",".join(str(round(1 - r, 4)) for r in ratios)  # kvpress takes the share to evict
    command = [python, str(HERE / "kvpress_runner.py"), "--input", str(inputs), "--output", str(outputs)]
    subprocess.run([*command, "--presses", "snapkv,streamingllm", "--ratios", evict], check=True)
    by_id = {item.id: item for item in items}
    per_token = kv.full_bytes(1)
    rows = []
    for line in outputs.read_text().splitlines():
        got = json.loads(line)
        question = per_token * int(got["question_tokens"])
        full = per_token * int(got["context_tokens"]) + question
        held = int(got["kv_bytes"]) + question
        name, ratio = f"kvpress {got['press']}", round(1 - got["ratio"], 4)
        rows.append(
            _row(by_id[got["id"]], name, ratio, got["answer"], held, full, got["prefill_s"], got["decode_s"])
        )
    return rows


def reuse(kv: KVModel, block_tokens: int, questions: int = 3) -> dict[str, float]:
    """Time to first token for questions after a stable block, read each time and reused.

    The prompt and its reusable prefix are the ones ``answer_from_context`` builds.
    """
    facts = [f"Fact {n}: the person's item number {n} is kept in drawer {n * 7 % 31}." for n in range(1, 400)]
    stable = ""
    for fact in facts:
        if len(kv.encode(stable + fact)) > block_tokens:
            break
        stable += fact + "\n"
    nothing = Context(text="", hits=[], tokens=0, budget_tokens=0)
    blocks = BlockCache(kv)
    cold, warm = [], []
    prefix: list[int] = []
    for n in range(questions):
        messages = memory_messages(nothing, f"Where is item number {n + 3} kept?", stable)
        prompt = kv.chat_ids(messages)
        cut = reusable_prefix(kv, messages[:1], prompt)
        prefix = prompt[:cut]
        cold.append(kv.generate(prompt, max_new_tokens=1).ttft_s)
        began = time.perf_counter()
        cache = blocks.get("user", prefix)
        lookup = time.perf_counter() - began
        if n == 0:
            continue  # the first get reads the block: that is the cold path again
        warm.append(lookup + kv.generate(prompt[cut:], prefix=cache, max_new_tokens=1).ttft_s)
    return {
        "block_tokens": len(prefix),
        "ttft_cold_s": statistics.median(cold),
        "ttft_reused_s": statistics.median(warm),
        "speedup": statistics.median(cold) / statistics.median(warm),
    }


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cells: dict[tuple[str, float, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        cells[(row["policy"], row["ratio"], row["task"])].append(row)
    return [
        {
            "policy": policy,
            "ratio": ratio,
            "task": task,
            "items": len(got),
            "accuracy": statistics.mean(r["score"] for r in got),
            "kept": statistics.mean(r["kept"] for r in got),
            "prefill_s": statistics.mean(r["prefill_s"] for r in got),
            "decode_s": statistics.mean(r["decode_s"] for r in got),
        }
        for (policy, ratio, task), got in sorted(cells.items())
    ]


def by_length(rows: list[dict[str, Any]], tokens_per_byte: float) -> list[dict[str, Any]]:
    """Passkey accuracy per policy, budget and prompt length (in tokens, the mean of the items of
    one haystack length): how retrieval holds up as the prompt nears the model's context."""
    cells: dict[tuple[str, float, int], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["task"] == "passkey":
            cells[(row["policy"], row["ratio"], int(row["id"].split("-")[1]))].append(row)
    return [
        {
            "policy": policy,
            "ratio": ratio,
            "sentences": sentences,
            "tokens": round(statistics.mean(r["full_kv_bytes"] for r in got) * tokens_per_byte),
            "items": len(got),
            "accuracy": statistics.mean(r["score"] for r in got),
            "kept": statistics.mean(r["kept"] for r in got),
        }
        for (policy, ratio, sentences), got in sorted(cells.items())
    ]


def show(cells: list[dict[str, Any]], column: str, title: str, label: Callable[[Any], str] = str) -> None:
    """A table of accuracy (and share of KV bytes held) per policy and budget, a column per value
    of ``column`` (a task, a prompt length)."""
    columns = sorted({c[column] for c in cells})
    table = Table(title=f"{title} (share of KV bytes held)")
    table.add_column("policy")
    table.add_column("budget")
    for value in columns:
        table.add_column(label(value), justify="right")
    keyed = {(c["policy"], c["ratio"], c[column]): c for c in cells}
    for policy, ratio in sorted(
        {(c["policy"], c["ratio"]) for c in cells}, key=lambda k: (k[1] != 1.0, k[0], k[1])
    ):
        row = []
        for value in columns:
            c = keyed.get((policy, ratio, value))
            row.append(f"{c['accuracy']:.3f} ({c['kept']:.2f})" if c else "")
        table.add_row(policy, f"{ratio:.2f}", *row)
    console.print(table)


def plot(summary: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({s["task"] for s in summary})
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        for policy in sorted({s["policy"] for s in summary}):
            points = sorted(
                (s["kept"], s["accuracy"]) for s in summary if s["policy"] == policy and s["task"] == task
            )
            if policy == "none":
                ax.axhline(points[0][1], color="black", linestyle=":", label="no compression")
            else:
                ax.plot(
                    *zip(*points, strict=True),
                    marker="o",
                    label=policy,
                    linestyle="--" if "kvpress" in policy else "-",
                )
        ax.set_title(task)
        ax.set_xlabel("share of KV bytes held")
        ax.set_ylabel("accuracy" if task != "locomo" else "F1")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/kv"))
    parser.add_argument(
        "--lengths", default="45,90", help="haystack lengths in filler sentences (~22 tokens each)"
    )
    parser.add_argument("--depths", default="0,0.25,0.5,0.75,1")
    parser.add_argument("--multikey", type=int, default=4, help="multi-key items per length")
    parser.add_argument("--locomo", type=Path, default=SHARED_LOCOMO)
    parser.add_argument("--locomo-questions", type=int, default=12)
    parser.add_argument("--ratios", default="0.1,0.25,0.5")
    parser.add_argument("--kvpress-python", help="an interpreter with kvpress installed (see README)")
    parser.add_argument("--block-tokens", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--policies", help="comma-separated policy names to run (default: all)")
    parser.add_argument("--no-reuse", action="store_true", help="skip the stable-block measurement")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    kv = load_smollm2(threads=args.threads)
    lengths = [int(x) for x in args.lengths.split(",")]
    ratios = [float(x) for x in args.ratios.split(",")]
    items = passkey(lengths, [float(x) for x in args.depths.split(",")])
    items += multikey(lengths, per_length=args.multikey)
    if args.locomo_questions and args.locomo.exists():
        items += locomo(args.locomo, args.locomo_questions)
    heads = {"retrieval": retrieval_heads(kv), "semantic": semantic_heads(kv)}
    named = policies(kv, heads)
    if args.policies:
        named = {name: named[name] for name in args.policies.split(",")}
    rows: list[dict[str, Any]] = []
    with console.status("") as status:
        for n, item in enumerate(items, 1):
            status.update(f"item {n}/{len(items)}: {item.id}")
            max_new = 16
            rows += run_item(kv, item, named, ratios, max_new)
    if args.kvpress_python:
        rows += run_kvpress(kv, args.kvpress_python, items, ratios, 16, args.out)
    summary = summarise(rows)
    show(summary, "task", "accuracy")
    lengths = by_length(rows, 1 / kv.full_bytes(1))
    tokens = {c["sentences"]: c["tokens"] for c in lengths if c["policy"] == "none"}
    show(lengths, "sentences", "passkey accuracy by prompt length", lambda n: f"~{tokens.get(n, '?')} tokens")
    reused = {} if args.no_reuse else reuse(kv, args.block_tokens)
    if reused:
        console.print(
            f"stable block of {reused['block_tokens']} tokens: time to first token "
            f"{reused['ttft_cold_s']:.2f} s read afresh, {reused['ttft_reused_s']:.3f} s reused "
            f"({reused['speedup']:.1f}x)"
        )
    report = {
        "model": kv.name,
        "threads": args.threads,
        "torch": torch.__version__,
        "heads": {k: sorted(v) for k, v in heads.items()},
        "items": len(items),
        "summary": summary,
        "passkey_by_length": lengths,
        "reuse": reused,
        "rows": rows,
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    plot(summary, args.out / "accuracy.png")
    console.print(f"wrote {args.out / 'report.json'} and {args.out / 'accuracy.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
