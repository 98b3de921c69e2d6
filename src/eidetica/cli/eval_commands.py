"""``eidetica eval``: evidence recall on LoCoMo and LongMemEval against baselines (and, with
``--llm``, answers scored by LLM judges), and the truth-over-time scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import UsageError
from .common import (
    INTERRUPTED,
    NEEDS_CHAT_MODEL,
    _advance,
    _command,
    _print_json,
    _progress,
    _tracking,
    app,
    err,
    out,
)
from .options import JsonOption, _numbers

if TYPE_CHECKING:
    from ..eval.qa import AnswerEvalSettings
    from ..eval.runner import Benchmark
    from ..llms.base import LLMSettings

eval_app = typer.Typer(
    help="Measure evidence recall on LoCoMo or LongMemEval, against BM25 and dense baselines.",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")

#: Defaults the eval commands share: the budgets recall is scored at, the folder reports go to,
#: and the tokens budgets are counted in.
DEFAULT_BUDGETS = "200,400,1000,2000"
REPORT_DIR = Path("eval-report")
DEFAULT_TOKENIZER = "wordpiece"
#: Defaults of the answer evaluation (``eval locomo --llm``), which tell whether one was given.
ANSWER_EVAL_BUDGET = 1000
ANSWER_EVAL_TIMEOUT_S = 300.0

BudgetsOption = Annotated[
    str, typer.Option("--budgets", help="Context token budgets to score at, comma-separated.")
]
OutOption = Annotated[Path, typer.Option("--out", help="Folder for report.json, report.md and recall.png.")]
EvalDbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Keep the ingested memory here: a file or postgresql:// URL (default: a temporary file)."
    ),
]
NoBaselinesOption = Annotated[
    bool, typer.Option("--no-baselines", help="Score Eidetica alone, without the baselines.")
]
TokenizerOption = Annotated[
    str,
    typer.Option(
        "--tokenizer",
        help="Count budgets in BERT WordPiece tokens (wordpiece, the unit LoCoMo budgets are usually "
        "stated in) or in the Llama-2 BPE tokens Memory counts by default (llama2).",
    ),
]


def _budgets(text: str) -> list[int]:
    try:
        budgets = sorted(set(_numbers("--budgets", text)))
    except UsageError:
        budgets = []
    if not budgets or budgets[0] < 1:
        raise UsageError(f"--budgets takes positive integers separated by commas, like 200,400; got {text!r}")
    return budgets


def _run_eval(
    benchmark: Benchmark,
    path: Path,
    budgets_text: str,
    out_dir: Path,
    db: str | None,
    no_baselines: bool,
    limit: int | None,
    tokenizer: str,
) -> None:
    """Run an evaluation with progress bars, print the table and write the reports."""
    from ..config import embedder_name
    from ..eval.report import markdown_table, write_reports
    from ..eval.runner import run_evaluation

    with _progress(f"ingesting {benchmark.name}") as ingest_bar, _progress("asking") as ask_bar:
        results, meta = run_evaluation(
            benchmark, path,
            budgets=_budgets(budgets_text), db=db, baselines=not no_baselines, limit=limit,
            embedder=embedder_name(), tokenizer=tokenizer,
            ingest_progress=_advance(ingest_bar, ingest_bar.add_task("ingest", total=None)),
            ask_progress=_advance(ask_bar, ask_bar.add_task("ask", total=None)),
        )  # fmt: skip
    paths = write_reports(results, meta, out_dir)
    out.print(markdown_table(results), markup=False, highlight=False, soft_wrap=True)
    for path_written in paths.values():
        out.print(f"wrote {path_written}", markup=False, highlight=False, soft_wrap=True)


def _llm_endpoint(
    base_url: str | None, model: str | None, api_key: str | None, timeout: float
) -> LLMSettings:
    """The chat model from the options or ``EIDETICA_LLM_*``; an error saying what to set if none."""
    import dataclasses

    from ..config import llm_settings

    resolved = llm_settings(base_url, model, api_key)
    if resolved is None:
        raise UsageError(f"{NEEDS_CHAT_MODEL} (or pass --llm-model, --llm-base-url and --llm-api-key)")
    return dataclasses.replace(resolved, timeout=timeout)


def _run_answer_eval(
    path: Path, out_dir: Path, db: str | None, settings: AnswerEvalSettings, endpoint: LLMSettings
) -> None:
    """Answer LoCoMo questions with a chat model, with progress bars; print the table, write reports."""
    import contextlib
    import dataclasses

    from ..eval.answer_report import answers_table, summarise, token_ratio, write_answer_reports
    from ..eval.qa import run_answer_evaluation
    from ..llms.openai import OpenAICompatibleClient

    progress_path = out_dir / "answers.progress.jsonl"
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(OpenAICompatibleClient(endpoint))
        judge = None
        if settings.judge_model and settings.judge_model != endpoint.model:
            judge_settings = dataclasses.replace(endpoint, model=settings.judge_model)
            judge = stack.enter_context(OpenAICompatibleClient(judge_settings))
        ingest_progress = stack.enter_context(_tracking("ingesting LoCoMo", "ingest"))
        ask_progress = stack.enter_context(_tracking("answering", "ask"))
        try:
            run = run_answer_evaluation(
                path,
                progress_path,
                client,
                settings,
                db=db or out_dir / "answers.db",
                judge_client=judge,
                ingest_progress=ingest_progress,
                ask_progress=ask_progress,
            )
        except KeyboardInterrupt:
            err.print(
                f"interrupted: the answers so far are kept in {progress_path}; "
                "run the same command again to resume",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(INTERRUPTED) from None
    results = summarise(run.records, run.systems)
    paths = write_answer_reports(results, run.meta, out_dir, run.records)
    out.print(answers_table(results), markup=False, highlight=False, soft_wrap=True)
    ratio = token_ratio(results)
    if ratio is not None:
        out.print(f"full-context answer tokens per question: {ratio:g}x Eidetica's", highlight=False)
    for path_written in (*paths.values(), progress_path):
        out.print(f"wrote {path_written}", markup=False, highlight=False, soft_wrap=True)


@_command("locomo", group=eval_app)
def eval_locomo(
    path: Annotated[Path, typer.Argument(help="A LoCoMo JSON file such as locomo10.json.")],
    budgets: BudgetsOption = DEFAULT_BUDGETS,
    out_dir: OutOption = REPORT_DIR,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Keep the ingested memory here, a file or postgresql:// URL (default: a temporary "
            "file; with --llm, answers.db in --out, so that a re-run resumes).",
        ),
    ] = None,
    no_baselines: Annotated[
        bool,
        typer.Option(
            "--no-baselines",
            help="Score Eidetica alone, without the baselines (with --llm: the full context).",
        ),
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N conversations, for quick runs.")
    ] = None,
    tokenizer: TokenizerOption = DEFAULT_TOKENIZER,
    llm: Annotated[
        bool,
        typer.Option(
            "--llm",
            help="Score answers instead: a chat model answers from Eidetica's context and from the whole "
            "conversation; F1, BLEU-1 and two LLM judges; writes answers.json and answers.md.",
        ),
    ] = False,
    budget: Annotated[
        int, typer.Option("--budget", help="With --llm: Eidetica's context budget per question, in tokens.")
    ] = ANSWER_EVAL_BUDGET,
    limit_questions: Annotated[
        int | None,
        typer.Option("--limit-questions", help="With --llm: only the first N questions, for quick runs."),
    ] = None,
    llm_extract: Annotated[
        bool,
        typer.Option(
            "--llm-extract",
            help="With --llm: derive facts and events with the model at ingestion, not rules.",
        ),
    ] = False,
    llm_base_url: Annotated[
        str | None,
        typer.Option(
            "--llm-base-url",
            help="OpenAI-compatible base URL, like http://localhost:11434/v1 "
            "(default $EIDETICA_LLM_BASE_URL, else OpenAI's).",
        ),
    ] = None,
    llm_model: Annotated[
        str | None, typer.Option("--llm-model", help="Model that answers (default $EIDETICA_LLM_MODEL).")
    ] = None,
    llm_api_key: Annotated[
        str | None,
        typer.Option("--llm-api-key", help="API key of the endpoint (default $EIDETICA_LLM_API_KEY)."),
    ] = None,
    judge_model: Annotated[
        str | None,
        typer.Option(
            "--judge-model", help="Model that judges the answers, same endpoint (default: --llm-model)."
        ),
    ] = None,
    llm_timeout: Annotated[
        float, typer.Option("--llm-timeout", help="With --llm: seconds to wait for each model reply.")
    ] = ANSWER_EVAL_TIMEOUT_S,
) -> None:
    """Score evidence recall on LoCoMo conversations; each conversation is its own user.

    With --llm, score answers instead: F1, BLEU-1 and two LLM judges, against the full conversation.
    """
    if llm:
        from ..config import embedder_name
        from ..eval.qa import AnswerEvalSettings

        endpoint = _llm_endpoint(llm_base_url, llm_model, llm_api_key, llm_timeout)
        settings = AnswerEvalSettings(
            model=endpoint.model,
            judge_model=judge_model,
            budget=budget,
            full_context=not no_baselines,
            llm_extract=llm_extract,
            limit=limit,
            limit_questions=limit_questions,
            embedder=embedder_name(),
        )
        if tokenizer != DEFAULT_TOKENIZER:
            raise UsageError("--tokenizer applies to recall evaluation only; answers count with Memory's")
        _run_answer_eval(path, out_dir, db, settings, endpoint)
        return
    given = {
        "--limit-questions": limit_questions is not None,
        "--llm-extract": llm_extract,
        "--llm-base-url": llm_base_url is not None,
        "--llm-model": llm_model is not None,
        "--llm-api-key": llm_api_key is not None,
        "--judge-model": judge_model is not None,
        "--budget": budget != ANSWER_EVAL_BUDGET,
        "--llm-timeout": llm_timeout != ANSWER_EVAL_TIMEOUT_S,
    }
    if any(given.values()):
        named = ", ".join(name for name, used in given.items() if used)
        raise UsageError(f"{named} only apply to answer evaluation: add --llm")

    from ..eval.runner import LOCOMO

    _run_eval(LOCOMO, path, budgets, out_dir, db, no_baselines, limit, tokenizer)


@_command("longmemeval", group=eval_app)
def eval_longmemeval(
    path: Annotated[Path, typer.Argument(help="A LongMemEval JSON file such as longmemeval_s.json.")],
    budgets: BudgetsOption = DEFAULT_BUDGETS,
    out_dir: OutOption = REPORT_DIR,
    db: EvalDbOption = None,
    no_baselines: NoBaselinesOption = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N items (questions), for quick runs.")
    ] = None,
    tokenizer: TokenizerOption = DEFAULT_TOKENIZER,
) -> None:
    """Score evidence recall on LongMemEval; each item's haystack is its own user."""
    from ..eval.runner import LONGMEMEVAL

    _run_eval(LONGMEMEVAL, path, budgets, out_dir, db, no_baselines, limit, tokenizer)


@_command("truth", group=eval_app)
def eval_truth(
    db_dir: Annotated[
        Path | None,
        typer.Option("--db-dir", help="Keep each scenario's SQLite file here (default: temporary files)."),
    ] = None,
    postgres: Annotated[
        str | None,
        typer.Option(
            "--postgres",
            help="Run on this PostgreSQL server instead: a postgresql:// URL whose user may create "
            "databases; each scenario gets a fresh database, dropped after.",
        ),
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option("--category", help="Only this category (repeat, or separate with commas)."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for truth.json.")] = REPORT_DIR,
    scenarios_file: Annotated[
        Path | None,
        typer.Option("--scenarios", help="Run these scenarios (JSONL, the bundled file's format) instead."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check that memory keeps the truth over time: changes, corrections, deletions, as_of, forgetting.

    Runs the bundled scenarios, each in a fresh memory, through the public API; prints scenarios
    and checks passed per category and writes every check's result to truth.json.
    """
    from ..config import embedder_name
    from ..embedders import load_embedder
    from ..eval import truth

    scenarios = truth.select(truth.load_scenarios(scenarios_file), category)
    with (
        truth.memories(load_embedder(embedder_name()), db_dir=db_dir, postgres=postgres) as make,
        _tracking("truth scenarios", "run") as progress,
    ):
        report = truth.run_scenarios(make, scenarios, progress=progress)
    path = truth.write_report(report, out_dir)
    if as_json:
        _print_json(truth.report_json(report))
        return
    out.print(truth.truth_table(report))
    out.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)
