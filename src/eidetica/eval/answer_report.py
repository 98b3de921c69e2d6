"""Summarise answer records per system and category; write them as JSON and a markdown report.

``records`` are what :func:`eidetica.eval.qa.run_answer_evaluation` returns, one per question and
system. Categories in ``SEPARATE_CATEGORIES`` (LoCoMo's adversarial questions) are scored as
abstention and kept out of "overall", as in the retrieval report.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .harness import SEPARATE_CATEGORIES
from .qa import FULL_CONTEXT, OURS
from .report import _pct, _rows

__all__ = ["answers_markdown", "answers_table", "summarise", "token_ratio", "write_answer_reports"]


def _mean(values: Iterable[float]) -> float:
    kept = list(values)
    return round(statistics.fmean(kept), 4) if kept else 0.0


def _costs(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    return {
        "answer_tokens": _mean(r["answer_prompt_tokens"] + r["answer_completion_tokens"] for r in records),
        "context_tokens": _mean(r["context_tokens"] for r in records),
        "judge_tokens": _mean(r["judge_tokens"] for r in records),
        "latency_ms": _mean(r["context_ms"] + r["answer_ms"] for r in records),
    }


def _scored(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Means over answerable questions; an unparsed judgement (``None``) counts as wrong."""
    return {
        "questions": len(records),
        "f1": _mean(r["f1"] for r in records),
        "bleu1": _mean(r["bleu1"] for r in records),
        "strict_judge": _mean(float(r["strict"] is True) for r in records),
        "lenient_judge": _mean(float(r["lenient"] is True) for r in records),
        "judge_unparsed": sum(r["judged"] and None in (r["strict"], r["lenient"]) for r in records),
        "abstained": _mean(float(r["abstained"]) for r in records),
        "errors": sum(r["error"] is not None for r in records),
        **_costs(records),
    }


def _abstention(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "questions": len(records),
        "abstention_accuracy": _mean(float(r["abstention_correct"]) for r in records),
        "errors": sum(r["error"] is not None for r in records),
        **_costs(records),
    }


def summarise(records: Sequence[Mapping[str, Any]], systems: Sequence[str]) -> dict[str, Any]:
    """``{system: {"overall": {...}, "by_category": {category: {...}}, "all": {...}}}``.

    "overall" covers the answerable categories; "all" is every question's cost, adversarial included.
    """
    results: dict[str, Any] = {}
    for system in systems:
        mine = [r for r in records if r["system"] == system]
        by_category: dict[str, list[Mapping[str, Any]]] = {}
        for r in mine:
            by_category.setdefault(str(r["category"]), []).append(r)
        results[system] = {
            "overall": _scored([r for r in mine if r["category"] not in SEPARATE_CATEGORIES]),
            "by_category": {
                c: _abstention(rs) if c in SEPARATE_CATEGORIES else _scored(rs)
                for c, rs in sorted(by_category.items())
            },
            "all": {"questions": len(mine), **_costs(mine)},
        }
    return results


def token_ratio(results: Mapping[str, Any]) -> float | None:
    """How many times the answer tokens per question of the full context are Eidetica's (all questions)."""
    if OURS not in results or FULL_CONTEXT not in results:
        return None
    ours = results[OURS]["all"]["answer_tokens"]
    return round(results[FULL_CONTEXT]["all"]["answer_tokens"] / ours, 2) if ours else None


def answers_table(results: Mapping[str, Any]) -> str:
    """The headline table: each answerable category and overall, every system, every score (%)."""
    header = ["category", "system", "questions", "F1", "BLEU-1", "strict judge", "lenient judge", "tokens/q"]
    ours = next(iter(results), None)
    categories = sorted(
        {c for r in results.values() for c in r["by_category"] if c not in SEPARATE_CATEGORIES}
    )
    rows = []
    for category in ["overall", *categories]:
        for system, result in results.items():
            s = result["overall"] if category == "overall" else result["by_category"].get(category)
            if s is None:
                continue
            rows.append(
                [
                    f"**{category}**" if category == "overall" else category,
                    f"**{system}**" if system == ours else system,
                    str(s["questions"]),
                    _pct(s["f1"]),
                    _pct(s["bleu1"]),
                    _pct(s["strict_judge"]),
                    _pct(s["lenient_judge"]),
                    f"{s['answer_tokens']:.0f}",
                ]
            )
    return _rows(header, rows)


def _headline(results: Mapping[str, Any]) -> str:
    ratio = token_ratio(results)
    parts = [f"{system} {r['all']['answer_tokens']:,.0f}" for system, r in results.items()]
    line = "Answer tokens per question (prompt and completion, all questions): " + ", ".join(parts)
    return line + (f"; the full context costs {ratio:g}× as many." if ratio is not None else ".")


def _separate_table(results: Mapping[str, Any]) -> str:
    rows = []
    for system, result in results.items():
        for category, s in result["by_category"].items():
            if category in SEPARATE_CATEGORIES:
                abstained = _pct(s["abstention_accuracy"])
                rows.append([category, system, str(s["questions"]), abstained, f"{s['answer_tokens']:.0f}"])
    if not rows:
        return "No questions in the separately reported categories."
    return _rows(["category", "system", "questions", "abstention accuracy", "tokens/q"], rows)


def _cost_table(results: Mapping[str, Any]) -> str:
    header = ["system", "answer tokens/q", "context tokens/q", "judge tokens/q", "latency ms", "errors"]
    rows = []
    for system, result in results.items():
        a = result["all"]
        errors = sum(s["errors"] for s in result["by_category"].values())
        rows.append(
            [
                system,
                f"{a['answer_tokens']:.0f}",
                f"{a['context_tokens']:.0f}",
                f"{a['judge_tokens']:.0f}",
                f"{a['latency_ms']:.0f}",
                str(errors),
            ]
        )
    return _rows(header, rows)


def answers_markdown(results: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    """The whole markdown report: facts, scores by category, abstention, cost."""
    facts = [
        f"- dataset: {meta.get('dataset', '?')} (`{meta.get('source', '?')}`)",
        f"- answering model: {meta.get('model')}; judge model: {meta.get('judge_model')}",
        f"- Eidetica's context budget: {meta.get('budget')} tokens; extraction: {meta.get('extraction')}",
        f"- questions: {meta.get('questions')} in {meta.get('conversations')} conversation(s)",
    ]
    if meta.get("llm_calls_per_turn") is not None:
        facts.append(f"- LLM calls per ingested turn: {meta['llm_calls_per_turn']:g}")
    for key, label in (("prompts", "prompts"), ("runs", "runs"), ("created", "created")):
        if key in meta:
            value = ", ".join(meta[key]) if isinstance(meta[key], list) else meta[key]
            facts.append(f"- {label}: {value}")
    return "\n\n".join(
        [
            f"# Answer quality: {meta.get('dataset', 'evaluation')}",
            "\n".join(facts),
            "Each question is answered by the same model with the same prompt, from Eidetica's context "
            "(`Memory.context` within the budget) and from the whole conversation (every turn with its "
            "date and speaker). F1 and BLEU-1 compare the answer's words with the gold answer's after "
            "LoCoMo's normalisation; the strict judge (LongMemEval's prompt) accepts an answer that "
            "states the gold answer's fact, the lenient one (Mem0's prompt) one that touches the same "
            "topic or date. All figures are % of questions, higher is better.",
            f"## Scores\n\n{answers_table(results)}\n\n{_headline(results)}",
            "## Adversarial questions\n\nThe conversation does not hold their answer: an answer is "
            "correct when the model declines (says it is not mentioned).\n\n" + _separate_table(results),
            "## Cost\n\nMeans per question over all questions; latency is context plus answer, "
            "without the judges.\n\n" + _cost_table(results),
        ]
    )


def write_answer_reports(
    results: dict[str, Any], meta: dict[str, Any], out_dir: Path, records: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Path]:
    """Write ``answers.json`` (meta, results, token ratio, records) and ``answers.md`` into ``out_dir``."""
    if not results:
        raise UsageError("no results to report: evaluate at least one system")
    payload = {
        "meta": meta,
        "token_ratio": token_ratio(results),
        "results": results,
        "records": list(records),
    }
    paths = {"json": out_dir / "answers.json", "markdown": out_dir / "answers.md"}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths["json"].write_text(
            json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
        paths["markdown"].write_text(answers_markdown(results, meta) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from exc
    return paths
