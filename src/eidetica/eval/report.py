"""Write an evaluation's results as JSON, a markdown report and a recall-versus-budget chart.

``results`` is what :func:`eidetica.eval.harness.evaluate` returns; the first system in it is the
one under test ("ours") and is highlighted. matplotlib is imported only when the chart is drawn,
so the tables work without the ``eval`` extra.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .harness import SEPARATE_CATEGORIES

#: The budget the per-category and completeness figures are given at, when it was measured.
REFERENCE_BUDGET = 400


def budgets_of(results: Mapping[str, Any]) -> list[int]:
    """The budgets measured, ascending (every system is run at the same ones)."""
    first: Mapping[str, Any] = next(iter(results.values()), {})
    return sorted(int(b) for b in first)


def reference_budget(results: Mapping[str, Any]) -> int:
    """``REFERENCE_BUDGET`` if measured, else the measured budget closest to it."""
    budgets = budgets_of(results)
    if not budgets:
        raise UsageError("no results to report: run at least one budget")
    return min(budgets, key=lambda b: (abs(b - REFERENCE_BUDGET), b))


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _name(system: str, ours: str | None) -> str:
    return f"**{system}**" if system == ours else system


def _rows(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_table(results: Mapping[str, Any]) -> str:
    """The headline table: evidence recall (%) per budget, then completeness and answer words."""
    budgets = budgets_of(results)
    ref = reference_budget(results)
    ours = next(iter(results), None)
    header = [
        "system",
        *(f"recall@{b}" for b in budgets),
        f"all evidence@{ref}",
        f"answer words@{ref}",
        f"abstained@{ref}",
    ]
    rows = []
    for system, per_budget in results.items():
        overall = per_budget[str(ref)]["overall"]
        rows.append(
            [
                _name(system, ours),
                *(_pct(per_budget[str(b)]["overall"]["evidence_recall"]) for b in budgets),
                _pct(overall["all_evidence"]),
                _pct(overall["answer_word_recall"]),
                _pct(overall.get("abstained", 0.0)),
            ]
        )
    return _rows(header, rows)


def _category_table(results: Mapping[str, Any], ref: int, ours: str | None) -> str:
    categories = sorted(
        {c for pb in results.values() for c in pb[str(ref)]["by_category"]} - SEPARATE_CATEGORIES
    )
    if not categories:
        return "No questions in the reported categories."
    counts: dict[str, int] = {}
    for per_budget in results.values():
        for c in categories:
            counts.setdefault(c, per_budget[str(ref)]["by_category"].get(c, {}).get("questions", 0))
    header = ["system", *(f"{c} ({counts[c]})" for c in categories)]
    rows = []
    for system, per_budget in results.items():
        cats = per_budget[str(ref)]["by_category"]
        rows.append(
            [
                _name(system, ours),
                *(_pct(cats[c]["evidence_recall"]) if c in cats else "–" for c in categories),
            ]
        )
    return _rows(header, rows)


def _separate_tables(results: Mapping[str, Any], budgets: list[int], ours: str | None) -> str:
    present = sorted({c for pb in results.values() for b in pb.values() for c in b["by_category"]})
    parts = []
    for category in (c for c in present if c in SEPARATE_CATEGORIES):
        rows = []
        count = 0
        for system, per_budget in results.items():
            cells = []
            for b in budgets:
                summary = per_budget[str(b)]["by_category"].get(category)
                count = max(count, summary["questions"] if summary else 0)
                cells.append(_pct(summary["evidence_recall"]) if summary else "–")
            abstained = per_budget[str(budgets[-1])]["by_category"].get(category, {}).get("abstained", 0.0)
            rows.append([_name(system, ours), *cells, _pct(abstained)])
        parts.append(
            f"### {category} ({count} question{'' if count == 1 else 's'})\n\n"
            + _rows(["system", *(f"recall@{b}" for b in budgets), f"abstained@{budgets[-1]}"], rows)
        )
    return "\n\n".join(parts) if parts else "No questions in the separately reported categories."


def _cost_table(results: Mapping[str, Any], budgets: list[int], ours: str | None) -> str:
    header = ["system", *(f"tokens@{b}" for b in budgets), *(f"ms@{b}" for b in budgets)]
    rows = []
    for system, per_budget in results.items():
        overall = [per_budget[str(b)]["overall"] for b in budgets]
        rows.append(
            [
                _name(system, ours),
                *(f"{o['mean_tokens']:.0f}" for o in overall),
                *(f"{o['mean_latency_ms']:.1f}" for o in overall),
            ]
        )
    return _rows(header, rows)


def markdown_report(results: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    """The whole markdown report: headline, per category, separate categories, cost."""
    budgets = budgets_of(results)
    ref = reference_budget(results)
    ours = next(iter(results), None)
    first = next(iter(results.values()))
    questions = first[str(budgets[0])]["overall"]["questions"]
    separate = ", ".join(sorted(SEPARATE_CATEGORIES))
    facts = [
        f"- dataset: {meta.get('dataset', '?')} (`{meta.get('source', '?')}`)",
        f"- questions scored: {questions} (plus the separately reported {separate} questions)",
    ]
    for key, label in (
        ("turns", "turns ingested"),
        ("bytes_per_turn", "bytes on disk per turn (the SQLite file, everything included)"),
        ("embedder", "embedder"),
        ("tokenizer", "budgets counted in tokens of"),
        ("created", "created"),
    ):
        if meta.get(key) is not None:
            facts.append(
                f"- {label}: {meta[key]:,}" if isinstance(meta[key], float) else f"- {label}: {meta[key]}"
            )
    return "\n\n".join(
        [
            f"# Evidence recall: {meta.get('dataset', 'evaluation')}",
            "\n".join(facts),
            "Evidence recall is the share of a question's evidence turns named in the sources of the "
            "context packed into the token budget (%, higher is better). Every system answers through "
            "the same `Memory.context` call over the same store; only the retriever differs. "
            "*Abstained* is the share of questions given no context because no stored unit matched "
            "them confidently: a mistake for the scored questions, the right call for adversarial ones.",
            f"## Overall\n\n{markdown_table(results)}",
            f"## By category at {ref} tokens\n\n{_category_table(results, ref, ours)}",
            f"## Reported separately\n\n{_separate_tables(results, budgets, ours)}",
            f"## Cost\n\nMean context tokens and mean latency (ms) per question.\n\n"
            f"{_cost_table(results, budgets, ours)}",
        ]
    )


def plot_recall(results: Mapping[str, Any], path: Path, title: str = "Evidence recall") -> Path:
    """Draw evidence recall against budget, one line per system, the first one highlighted."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import NullLocator
    except ImportError as exc:
        raise UsageError("the recall chart needs matplotlib: pip install 'eidetica[eval]'") from exc
    budgets = budgets_of(results)
    fig = Figure(figsize=(7, 4.5), dpi=120)
    FigureCanvasAgg(fig)  # attaches itself: rendering goes through Agg, no global pyplot state
    ax = fig.add_subplot()
    for i, (system, per_budget) in enumerate(results.items()):
        recall = [100 * per_budget[str(b)]["overall"]["evidence_recall"] for b in budgets]
        if i == 0:
            ax.plot(budgets, recall, marker="o", linewidth=2.8, color="#d62728", label=system, zorder=3)
        else:
            ax.plot(budgets, recall, marker=".", linewidth=1.4, alpha=0.8, label=system)
    ax.set_xscale("log")
    ax.set_xticks(budgets)
    ax.set_xticklabels([str(b) for b in budgets])
    ax.xaxis.set_minor_locator(NullLocator())  # only the budgets are ticks
    ax.set_ylim(0, 100)
    ax.set_xlabel("context budget (tokens, log scale)")
    ax.set_ylabel("evidence recall (%)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def write_reports(results: dict[str, Any], meta: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and ``recall.png`` into ``out_dir``; return their paths."""
    if not results:
        raise UsageError("no results to report: evaluate at least one system")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {"json": out_dir / "report.json", "markdown": out_dir / "report.md"}
        paths["json"].write_text(
            json.dumps({"meta": meta, "results": results}, indent=2, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8",
        )
        paths["markdown"].write_text(markdown_report(results, meta) + "\n", encoding="utf-8")
        title = f"Evidence recall on {meta.get('dataset', 'the benchmark')}"
        paths["chart"] = plot_recall(results, out_dir / "recall.png", title)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from exc
    return paths
