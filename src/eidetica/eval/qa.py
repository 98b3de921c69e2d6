"""Answer-quality evaluation on LoCoMo: answer each question from Eidetica's packed context and
from the whole conversation, through the same model and prompt, and score both the same way.

Per question and system: token F1 and BLEU-1 against the gold answer, a strict and a lenient LLM
judge (see ``judge``), tokens spent and latency. Adversarial questions (LoCoMo category 5) have
no answer in the conversation; they are scored as abstention: correct when the model declines.
Every answer is appended to a ``ProgressLog`` before the next question is asked, so re-running
the same command resumes; the results are always computed from that log.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InputFormatError, LLMOutputError, UsageError
from ..ingest.llm_extract import EXTRACT_PROMPT, LLMExtractor
from ..llms.answer import ANSWER_PROMPT, answer_question
from ..llms.base import LLMClient
from ..memory import Memory
from ..model import Answer, Context, Hit
from ..retrieve.pack import render
from .answer_metrics import bleu1, says_not_mentioned, token_f1
from .checkpoint import ProgressLog
from .datasets import Question, locomo_questions
from .harness import SEPARATE_CATEGORIES
from .judge import JUDGES, judge_answer
from .runner import first_items

__all__ = ["FULL_CONTEXT", "OURS", "AnswerEvalSettings", "AnswerRun", "full_context", "run_answer_evaluation"]

OURS = "eidetica"
FULL_CONTEXT = "full-context"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AnswerEvalSettings:
    """How to run: the models' names (recorded, and checked when resuming), Eidetica's context
    budget, whether to run the full-context baseline and to extract with the model, and limits."""

    model: str
    judge_model: str | None = None
    budget: int = 1000
    full_context: bool = True
    llm_extract: bool = False
    limit: int | None = None
    limit_questions: int | None = None
    embedder: str = "wordllama"
    answer_max_tokens: int = 256
    judge_max_tokens: int = 64

    def __post_init__(self) -> None:
        if self.budget < 1:
            raise UsageError(f"--budget must be a positive number of tokens, got {self.budget}")
        if self.limit_questions is not None and self.limit_questions < 1:
            raise UsageError(f"--limit-questions must be a positive integer, got {self.limit_questions}")

    def run_header(self, source: str) -> dict[str, Any]:
        """What must stay the same for answers from two runs to be scored together."""
        prompts = [ANSWER_PROMPT, *(j.prompt for j in JUDGES.values())]
        return {
            "dataset": "LoCoMo",
            "source": source,
            "model": self.model,
            "judge_model": self.judge_model or self.model,
            "budget": self.budget,
            "extraction": "llm" if self.llm_extract else "rules",
            "prompts": [*prompts, EXTRACT_PROMPT] if self.llm_extract else prompts,
        }


@dataclass(frozen=True)
class AnswerRun:
    """The answer records of the questions asked for (this run's and earlier ones'), and metadata."""

    records: list[dict[str, Any]]
    meta: dict[str, Any]
    systems: list[str]


@dataclass(frozen=True)
class _Asked:
    key: str
    index: int
    system: str
    question: Question


def run_answer_evaluation(
    path: Path,
    progress_path: Path,
    client: LLMClient,
    settings: AnswerEvalSettings,
    *,
    db: str | Path,
    judge_client: LLMClient | None = None,
    ingest_progress: Progress | None = None,
    ask_progress: Progress | None = None,
) -> AnswerRun:
    """Ingest ``path`` into ``db`` (turns already there are skipped), then answer and score every
    question not yet in the log at ``progress_path``; return the records of all asked-for questions.

    ``judge_client`` judges the answers (default: ``client``). An ``LLMError`` from the endpoint
    stops the run; what was answered before it stays in the log.
    """
    from .. import __version__

    systems = [OURS, FULL_CONTEXT] if settings.full_context else [OURS]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="eidetica-qa-") as tmp:
        source = first_items(path, settings.limit, Path(tmp))
        questions = _indexed(locomo_questions(source))[: settings.limit_questions]
        if not questions:
            raise UsageError(f"{path} holds no questions whose evidence points at a stored turn")
        if settings.limit_questions is not None:
            source = _only_samples(source, {q.user_id for _, q in questions}, Path(tmp))
        extractor = LLMExtractor(client) if settings.llm_extract else None
        with (
            ProgressLog(progress_path, settings.run_header(path.name)) as log,
            Memory(db, embedder=settings.embedder, extractor=extractor) as memory,
        ):
            before = time.perf_counter()
            report = memory.import_file(source, format="locomo", progress=ingest_progress)
            log.add_ingest(
                {
                    "turns": report.turns,
                    "derived": report.derived,
                    "skipped": report.skipped_refs,
                    "llm_calls": extractor.stats.calls if extractor else 0,
                    "extract_stats": _extract_stats(extractor),
                    "seconds": round(time.perf_counter() - before, 2),
                }
            )
            asked = [_Asked(f"{q.user_id}:{i}:{s}", i, s, q) for i, q in questions for s in systems]
            already = _check_resumed(log, asked)
            judge = judge_client or client
            contexts: dict[str, Context] = {}
            done = len(already)
            for item in asked:
                if item.key in already:
                    continue
                if ask_progress is not None:
                    ask_progress(done, len(asked))
                log.add_answer(_answer(memory, client, judge, item, settings, contexts))
                done += 1
            if ask_progress is not None:
                ask_progress(done, len(asked))
            ingests = log.ingests
            llm_turns = sum(int(r["turns"]) for r in ingests) if settings.llm_extract else 0
            llm_calls = sum(int(r["llm_calls"]) for r in ingests)
            meta = {
                **settings.run_header(path.name),
                "limit": settings.limit,
                "limit_questions": settings.limit_questions,
                "systems": systems,
                "questions": len(questions),
                "conversations": len({q.user_id for _, q in questions}),
                "turns": memory.stats().units_by_kind.get("turn", 0),
                "llm_calls_per_turn": round(llm_calls / llm_turns, 4) if llm_turns else None,
                "ingest_llm_calls": llm_calls,
                "embedder": memory.embedder.name,
                "store": type(memory.store).__name__,
                "eidetica": __version__,
                "answered_before": len(already),
                "answered_now": len(asked) - len(already),
                "runs": log.runs,
                "usage": client.usage.as_dict(),
                "judge_usage": judge.usage.as_dict() if judge is not client else None,
                "progress_file": progress_path.name,
                "eval_s": round(time.perf_counter() - started, 2),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            records = [log.answers[item.key] for item in asked]
    return AnswerRun(records, meta, systems)


def full_context(memory: Memory, user_id: str) -> Context:
    """Every stored turn of ``user_id`` in time order, each with its day and speaker, as one context."""
    turns = memory.list(user_id=user_id, kinds=["turn"], limit=None)
    text = "\n".join(render(unit) for unit in turns)
    tokens = memory.tokens.count(text) if text else 0
    return Context(text=text, hits=[Hit(u, 0.0, {}) for u in turns], tokens=tokens, budget_tokens=tokens)


def _indexed(questions: Sequence[Question]) -> list[tuple[int, Question]]:
    """Each question with its position among its conversation's questions (the checkpoint key)."""
    seen: dict[str, int] = {}
    indexed = []
    for q in questions:
        indexed.append((seen.get(q.user_id, 0), q))
        seen[q.user_id] = seen.get(q.user_id, 0) + 1
    return indexed


def _only_samples(source: Path, users: set[str], workdir: Path) -> Path:
    """A copy of the LoCoMo file holding only the samples of ``users``: ingest what is asked about."""
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFormatError(f"cannot read the dataset: {exc}", source=source.name) from exc
    samples = data if isinstance(data, list) else [data]
    copy = workdir / f"asked-{source.name}"
    kept = [s for s in samples if isinstance(s, dict) and str(s.get("sample_id")) in users]
    copy.write_text(json.dumps(kept), encoding="utf-8")
    return copy


def _check_resumed(log: ProgressLog, asked: Sequence[_Asked]) -> set[str]:
    """Keys already answered; a logged question that is not the one asked now is an error."""
    done = set()
    for item in asked:
        record = log.answers.get(item.key)
        if record is None:
            continue
        if record.get("question") != item.question.question:
            raise UsageError(
                f"{log.path} holds another question under {item.key} ({record.get('question')!r}): "
                "the dataset changed; delete the file to start over, or choose another --out"
            )
        done.add(item.key)
    return done


def _extract_stats(extractor: LLMExtractor | None) -> dict[str, int] | None:
    if extractor is None:
        return None
    s = extractor.stats
    counts = ("batches", "calls", "units", "retried_batches", "failed_batches", "invalid_units")
    return {name: int(getattr(s, name)) for name in counts}


def _answer(
    memory: Memory,
    client: LLMClient,
    judge: LLMClient,
    item: _Asked,
    settings: AnswerEvalSettings,
    contexts: dict[str, Context],
) -> dict[str, Any]:
    """Answer one question with one system and score it: the record written to the log."""
    q = item.question
    started = time.perf_counter()
    if item.system == OURS:
        ctx = memory.context(q.question, user_id=q.user_id, budget_tokens=settings.budget)
    else:
        if q.user_id not in contexts:
            contexts[q.user_id] = full_context(memory, q.user_id)
        ctx = contexts[q.user_id]
    context_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    try:
        answer = answer_question(client, q.question, ctx, max_tokens=settings.answer_max_tokens)
        error = None
    except LLMOutputError as exc:  # unreadable even after a repair: a wrong answer, not a crash
        answer = Answer(
            "", prompt_tokens=exc.prompt_tokens, completion_tokens=exc.completion_tokens, structured=False
        )
        error = str(exc)
    record: dict[str, Any] = {
        "key": item.key,
        "conversation": q.user_id,
        "index": item.index,
        "system": item.system,
        "category": q.category,
        "question": q.question,
        "gold": q.answer,
        "answer": answer.text,
        "abstained": answer.abstained,
        "structured": answer.structured,
        "error": error,
        "sources": list(answer.sources),
        "evidence": sorted(q.evidence),
        "context_tokens": ctx.tokens,
        "context_units": len(ctx.hits),
        "answer_prompt_tokens": answer.prompt_tokens,
        "answer_completion_tokens": answer.completion_tokens,
        "context_ms": round(context_ms, 2),
        "answer_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    record.update(_score(judge, q, answer, error is not None, settings.judge_max_tokens))
    return record


def _score(judge: LLMClient, q: Question, answer: Answer, failed: bool, max_tokens: int) -> dict[str, Any]:
    """F1, BLEU-1 and both judges' verdicts; for an adversarial question, whether it declined."""
    scores: dict[str, Any] = {
        "f1": None,
        "bleu1": None,
        "strict": None,
        "lenient": None,
        "abstention_correct": None,
        "judged": False,
        "judge_tokens": 0,
        "judge_ms": 0.0,
    }
    if q.category in SEPARATE_CATEGORIES:
        # No answer exists: declining is right, in our words or in those LoCoMo's scorer looks for.
        scores["abstention_correct"] = answer.abstained or says_not_mentioned(answer.text)
        return scores
    scores["f1"] = round(token_f1(answer.text, q.answer), 4)
    scores["bleu1"] = round(bleu1(answer.text, q.answer), 4)
    if answer.abstained or failed:
        # The gold answer is in the conversation: declining, or no answer at all, is wrong.
        scores["strict"] = scores["lenient"] = False
        return scores
    started = time.perf_counter()
    for rigour in JUDGES:
        verdict = judge_answer(judge, q.question, q.answer, answer.text, rigour=rigour, max_tokens=max_tokens)
        scores[rigour] = verdict.correct
        scores["judge_tokens"] += verdict.tokens
    scores["judged"] = True
    scores["judge_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return scores
