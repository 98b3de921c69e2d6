"""Answer evaluation: scoring, category 5 as abstention, checkpoint and resume, the CLI.

The model here is scripted (replies chosen by which prompt is asked), to test the plumbing: what is
asked, what is recorded, what a resumed run skips. No answer quality is measured with it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eidetica.cli import app
from eidetica.errors import UsageError
from eidetica.eval.answer_report import answers_markdown, summarise, token_ratio, write_answer_reports
from eidetica.eval.checkpoint import ProgressLog
from eidetica.eval.qa import FULL_CONTEXT, OURS, AnswerEvalSettings, run_answer_evaluation
from eidetica.llms.base import Completion, JsonSchema, Message, Usage
from eidetica.llms.structured import RawReply, complete
from eidetica.testing import ScriptedOpenAIServer, ScriptedResponse

from .test_harness import TINY_LOCOMO

RUNNER = CliRunner(
    env={
        "COLUMNS": "200",
        "EIDETICA_DB": None,
        **dict.fromkeys(("EIDETICA_LLM_BASE_URL", "EIDETICA_LLM_MODEL", "EIDETICA_LLM_API_KEY")),
    }
)
ANSWERS = {
    "Where did Ben buy the xylophone?": "At the flea market",
    "Who teaches Ana pottery?": "Gretchen",
    "When did Ana start pottery?": "8 May 2023",
    "Where did Cleo run a marathon?": "Berlin",
    # Not listed: the model says "not mentioned" (the adversarial question and the bagpipes one).
}
QUESTIONS = 6  # in TINY_LOCOMO, after the one pointing at no turn is dropped
_QUESTION_RE = re.compile(r"\nQuestion: (.*)\nAnswer as JSON:")


class RoutedLLM:
    """An ``LLMClient`` whose reply depends on the prompt: the answer prompt gets the canned answer
    for its question, each judge its canned label. ``interrupt_at`` raises ``KeyboardInterrupt`` on
    that answer call (1-based), as Ctrl-C would while it waits for the model."""

    def __init__(
        self,
        answers: Mapping[str, str] = ANSWERS,
        *,
        strict: str = "yes",
        lenient: str = "CORRECT",
        interrupt_at: int | None = None,
    ) -> None:
        self.usage = Usage()
        self.answers = answers
        self.labels = {"strict": strict, "lenient": lenient}
        self.interrupt_at = interrupt_at
        self.asked: list[str] = []  # the question of each answer call
        self.judged: list[str] = []  # "strict" or "lenient", per judge call

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: JsonSchema | None = None,
        max_tokens: int = 1024,
        temperature: float = 0.0,
    ) -> Completion:
        content = messages[-1]["content"]
        found = _QUESTION_RE.search(content)
        if found:
            self.asked.append(found.group(1))
            if len(self.asked) == self.interrupt_at:
                raise KeyboardInterrupt
            reply = json.dumps(
                {"answer": self.answers.get(found.group(1), "not mentioned"), "citations": [1]}
            )
        else:
            rigour = "strict" if content.startswith("I will give you a question") else "lenient"
            self.judged.append(rigour)
            reply = json.dumps({"label": self.labels[rigour]})

        def send(batch: Sequence[Message]) -> RawReply:
            return RawReply(reply, prompt_tokens=len(content.split()), completion_tokens=len(reply.split()))

        return complete(send, messages, schema=schema, usage=self.usage, model="routed")


@pytest.fixture
def locomo_file(tmp_path: Path) -> Path:
    path = tmp_path / "locomo_tiny.json"
    path.write_text(json.dumps(TINY_LOCOMO), encoding="utf-8")
    return path


def _run(path: Path, out: Path, llm: RoutedLLM, **options: Any) -> Any:
    settings = AnswerEvalSettings(model="routed", **options)
    return run_answer_evaluation(path, out / "answers.progress.jsonl", llm, settings, db=out / "answers.db")


def _answer_lines(progress: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in progress.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line["type"] == "answer"]


# -- one run, scored ------------------------------------------------------------------------------


def test_run_scores_both_systems_and_adversarial_as_abstention(locomo_file: Path, tmp_path: Path) -> None:
    llm = RoutedLLM()
    run = _run(locomo_file, tmp_path, llm)
    assert run.systems == [OURS, FULL_CONTEXT] and len(run.records) == 2 * QUESTIONS
    assert len(llm.asked) == 2 * QUESTIONS  # the contexts are never empty here: one answer call each
    # Judges only for answers that say something, never for the adversarial question.
    assert Counter(llm.judged) == {"strict": 2 * 4, "lenient": 2 * 4}

    by_key = {r["key"]: r for r in run.records}
    xylophone = by_key["s1:0:eidetica"]
    assert xylophone["answer"] == "At the flea market" and xylophone["category"] == "single-hop"
    assert xylophone["f1"] == pytest.approx(0.8) and xylophone["bleu1"] == pytest.approx(0.6667)
    assert xylophone["strict"] is True and xylophone["lenient"] is True and xylophone["judged"]
    assert xylophone["judge_tokens"] > 0 and xylophone["answer_prompt_tokens"] > 0
    assert xylophone["evidence"] == ["D1:2"] and xylophone["sources"]  # cited line 1 maps to a turn
    adversarial = by_key["s1:3:full-context"]
    assert adversarial["category"] == "adversarial" and adversarial["abstained"]
    assert adversarial["abstention_correct"] is True and adversarial["f1"] is None
    bagpipes = by_key["s2:1:eidetica"]
    assert bagpipes["abstained"] and bagpipes["strict"] is False and not bagpipes["judged"]
    full = by_key["s2:0:full-context"]
    assert full["context_units"] == 4 and full["context_tokens"] > 0  # every turn of s2

    results = summarise(run.records, run.systems)
    overall = results[OURS]["overall"]
    assert overall["questions"] == 5  # adversarial reported apart
    assert overall["f1"] == pytest.approx((0.8 + 1 + 1 + 1 + 0) / 5)
    assert overall["strict_judge"] == overall["lenient_judge"] == pytest.approx(0.8)
    assert overall["abstained"] == pytest.approx(0.2) and overall["errors"] == 0
    assert results[OURS]["by_category"]["adversarial"]["abstention_accuracy"] == 1.0
    assert results[FULL_CONTEXT]["all"]["questions"] == QUESTIONS
    assert token_ratio(results) is not None and token_ratio(results) > 0
    meta = run.meta
    assert meta["questions"] == QUESTIONS and meta["conversations"] == 2 and meta["turns"] == 11
    assert meta["extraction"] == "rules" and meta["llm_calls_per_turn"] is None
    assert meta["answered_now"] == 2 * QUESTIONS and meta["answered_before"] == 0
    assert meta["prompts"] == ["answer_v2", "judge_strict_v1", "judge_lenient_v1"]


def test_an_adversarial_answer_that_does_not_decline_is_wrong(locomo_file: Path, tmp_path: Path) -> None:
    llm = RoutedLLM({"What did Ana buy at the flea market?": "a xylophone"}, strict="no", lenient="WRONG")
    run = _run(locomo_file, tmp_path, llm, full_context=False, limit=1)
    assert run.systems == [OURS] and len(run.records) == 4
    [adversarial] = [r for r in run.records if r["category"] == "adversarial"]
    assert adversarial["answer"] == "a xylophone" and adversarial["abstention_correct"] is False
    results = summarise(run.records, run.systems)
    assert results[OURS]["by_category"]["adversarial"]["abstention_accuracy"] == 0.0
    assert results[OURS]["overall"]["strict_judge"] == 0.0  # every other answer declined


def test_unparsed_judgements_count_as_wrong_and_are_counted(locomo_file: Path, tmp_path: Path) -> None:
    run = _run(locomo_file, tmp_path, RoutedLLM(strict="perhaps", lenient="CORRECT"), limit_questions=1)
    [record] = [r for r in run.records if r["system"] == OURS]
    assert record["strict"] is None and record["lenient"] is True
    overall = summarise(run.records, run.systems)[OURS]["overall"]
    assert overall["strict_judge"] == 0.0 and overall["judge_unparsed"] == 1


def test_limit_questions_ingests_only_the_conversations_asked_about(
    locomo_file: Path, tmp_path: Path
) -> None:
    llm = RoutedLLM()
    run = _run(locomo_file, tmp_path, llm, limit_questions=2)
    assert [r["key"] for r in run.records] == [
        "s1:0:eidetica",
        "s1:0:full-context",
        "s1:1:eidetica",
        "s1:1:full-context",
    ]
    assert run.meta["turns"] == 7 and run.meta["conversations"] == 1  # s2 was not ingested


# -- checkpoint and resume ----------------------------------------------------------------------


def test_interrupted_run_resumes_without_asking_twice(locomo_file: Path, tmp_path: Path) -> None:
    progress = tmp_path / "answers.progress.jsonl"
    first = RoutedLLM(interrupt_at=3)
    with pytest.raises(KeyboardInterrupt):
        _run(locomo_file, tmp_path, first)
    kept = _answer_lines(progress)
    assert [r["key"] for r in kept] == ["s1:0:eidetica", "s1:0:full-context"]  # the third was in flight
    # A write cut short by the interruption leaves half a line: it is dropped on resume.
    with progress.open("a", encoding="utf-8") as handle:
        handle.write('{"type": "answer", "key": "s1:1:eid')

    second = RoutedLLM()
    run = _run(locomo_file, tmp_path, second)
    assert len(second.asked) == 2 * QUESTIONS - 2
    assert second.asked.count("Where did Ben buy the xylophone?") == 0  # answered before the interruption
    lines = _answer_lines(progress)
    keys = [r["key"] for r in lines]
    assert len(keys) == len(set(keys)) == 2 * QUESTIONS  # each answer logged once
    assert [r["key"] for r in run.records] == sorted(keys, key=[r["key"] for r in run.records].index)
    assert run.meta["answered_before"] == 2 and run.meta["answered_now"] == 2 * QUESTIONS - 2
    assert run.meta["runs"] == 2

    third = RoutedLLM()
    again = _run(locomo_file, tmp_path, third)  # everything answered: nothing is asked
    assert third.asked == [] and third.judged == [] and again.records == run.records
    assert run.meta["turns"] == again.meta["turns"] == 11  # the kept database skips stored turns


def test_resume_refuses_a_log_written_with_other_settings(locomo_file: Path, tmp_path: Path) -> None:
    _run(locomo_file, tmp_path, RoutedLLM(), limit_questions=1)
    with pytest.raises(UsageError, match=r"budget=1000.*not budget=400.*delete it"):
        _run(locomo_file, tmp_path, RoutedLLM(), limit_questions=1, budget=400)


def test_progress_log_rejects_a_changed_dataset_and_garbage(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"type": "run", "budget": 1}\nnot json\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"line 2: not JSON"):
        ProgressLog(path, {"budget": 1})
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"not an evaluation progress file|not a JSON object"):
        ProgressLog(path, {"budget": 1})


def test_a_changed_dataset_is_not_mixed_in(locomo_file: Path, tmp_path: Path) -> None:
    _run(locomo_file, tmp_path, RoutedLLM(), limit_questions=1)
    changed = json.loads(locomo_file.read_text(encoding="utf-8"))
    changed[0]["qa"][0]["question"] = "Where did Ben sell the xylophone?"
    locomo_file.write_text(json.dumps(changed), encoding="utf-8")
    with pytest.raises(UsageError, match=r"another question under s1:0:eidetica.*dataset changed"):
        _run(locomo_file, tmp_path, RoutedLLM(), limit_questions=1)


def test_reports_hold_every_field(locomo_file: Path, tmp_path: Path) -> None:
    run = _run(locomo_file, tmp_path, RoutedLLM())
    results = summarise(run.records, run.systems)
    paths = write_answer_reports(results, run.meta, tmp_path / "out", run.records)
    report = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert set(report) == {"meta", "token_ratio", "results", "records"} and len(report["records"]) == 12
    scored = report["results"][OURS]["by_category"]["single-hop"]
    assert set(scored) == {
        "questions",
        "f1",
        "bleu1",
        "strict_judge",
        "lenient_judge",
        "judge_unparsed",
        "abstained",
        "errors",
        "answer_tokens",
        "context_tokens",
        "judge_tokens",
        "latency_ms",
    }
    markdown = paths["markdown"].read_text(encoding="utf-8")
    header = "| category | system | questions | F1 | BLEU-1 | strict judge | lenient judge | tokens/q |"
    assert header in markdown and "| **overall** | **eidetica** | 5 | 76.0 |" in markdown
    assert "| adversarial | full-context | 1 | 100.0 |" in markdown
    assert "the full context costs" in markdown and markdown == answers_markdown(results, run.meta) + "\n"


# -- the command line, over HTTP to a scripted server -------------------------------------------


def _reply(payload: dict[str, Any]) -> ScriptedResponse:
    return ScriptedResponse.reply(json.dumps(payload), prompt_tokens=100, completion_tokens=10)


ANSWER_Q0 = _reply({"answer": "At the flea market", "citations": [2]})
ANSWER_Q1 = _reply({"answer": "Gretchen", "citations": [5]})
YES, CORRECT = _reply({"label": "yes"}), _reply({"label": "CORRECT"})


def _cli(*args: str) -> Any:
    return RUNNER.invoke(app, ["eval", "locomo", *args], catch_exceptions=False)


def test_cli_llm_run_over_http_with_a_judge_model(locomo_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    script = [ANSWER_Q0, YES, CORRECT, ANSWER_Q1, YES, _reply({"label": "WRONG"})]
    with ScriptedOpenAIServer(script) as server:
        result = _cli(
            str(locomo_file),
            "--llm",
            "--llm-base-url",
            server.url,
            "--llm-model",
            "answerer",
            "--judge-model",
            "judge",
            "--limit-questions",
            "2",
            "--no-baselines",
            "--out",
            str(out),
        )
        requests = server.requests
    assert result.exit_code == 0, result.output
    assert [r.json["model"] for r in requests] == ["answerer", "judge", "judge"] * 2
    assert requests[0].json["response_format"]["type"] == "json_schema"  # structured output asked for
    assert requests[1].json["response_format"]["json_schema"]["schema"]["properties"]["label"]["enum"] == [
        "yes",
        "no",
    ]
    stdout = " ".join(result.stdout.split())
    assert "| **overall** | **eidetica** | 2 | 90.0 |" in stdout  # F1 (0.8 + 1.0) / 2
    for name in ("answers.json", "answers.md", "answers.progress.jsonl"):
        assert f"wrote {out / name}" in stdout
    report = json.loads((out / "answers.json").read_text(encoding="utf-8"))
    meta, overall = report["meta"], report["results"][OURS]["overall"]
    assert (meta["model"], meta["judge_model"], meta["budget"]) == ("answerer", "judge", 1000)
    assert meta["systems"] == [OURS] and report["token_ratio"] is None
    assert overall["strict_judge"] == 1.0 and overall["lenient_judge"] == 0.5
    assert overall["answer_tokens"] == 110 and overall["judge_tokens"] == 220
    assert meta["judge_usage"]["calls"] == 4 and meta["usage"]["calls"] == 2
    assert (out / "answers.db").exists()


def test_cli_llm_extract_reports_calls_per_turn(locomo_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    units = _reply({"units": []})
    with ScriptedOpenAIServer([units, units, ANSWER_Q0, YES, CORRECT]) as server:
        result = _cli(
            str(locomo_file),
            "--llm",
            "--llm-extract",
            "--llm-base-url",
            server.url,
            "--llm-model",
            "m",
            "--limit-questions",
            "1",
            "--no-baselines",
            "--out",
            str(out),
        )
        assert server.remaining == 0
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "answers.json").read_text(encoding="utf-8"))["meta"]
    assert meta["extraction"] == "llm" and meta["prompts"][-1] == "extract_v1"
    assert meta["ingest_llm_calls"] == 2 and meta["llm_calls_per_turn"] == round(2 / 7, 4)  # one per session
    assert "LLM calls per ingested turn: 0.2857" in (out / "answers.md").read_text(encoding="utf-8")


def test_cli_llm_without_a_model_says_what_to_set(locomo_file: Path, tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["eval", "locomo", str(locomo_file), "--llm", "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    message = " ".join(result.stderr.split())
    assert message.startswith("error: --llm needs a chat model: set EIDETICA_LLM_MODEL")
    assert "EIDETICA_LLM_BASE_URL" in message and "--llm-model" in message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--llm-extract",), "error: --llm-extract only apply to answer evaluation: add --llm"),
        (("--limit-questions", "2", "--budget", "50"), "error: --limit-questions, --budget only apply"),
        (
            ("--llm", "--llm-model", "m", "--limit-questions", "0"),
            "error: --limit-questions must be a positive",
        ),
        (("--llm", "--llm-model", "m", "--budget", "0"), "error: --budget must be a positive number"),
        (("--llm", "--llm-base-url", "http://127.0.0.1:9/v1"), "error: an LLM base URL"),
    ],
)
def test_cli_llm_option_errors(
    locomo_file: Path, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    result = RUNNER.invoke(app, ["eval", "locomo", str(locomo_file), *args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert " ".join(result.stderr.split()).startswith(expected), result.stderr


def test_ctrl_c_keeps_the_answers_and_the_same_command_resumes(locomo_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    args = [
        "eval",
        "locomo",
        str(locomo_file),
        "--llm",
        "--llm-model",
        "m",
        "--limit-questions",
        "2",
        "--no-baselines",
        "--out",
        str(out),
    ]
    slow = ScriptedResponse.reply(json.dumps({"answer": "Gretchen", "citations": []}), delay_s=30)
    with ScriptedOpenAIServer([ANSWER_Q0, YES, CORRECT, slow]) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EIDETICA_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "eidetica", *args, "--llm-base-url", server.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + 120
        while len(server.requests) < 4 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)  # while the second question waits for its answer
        stdout, stderr = process.communicate(timeout=60)
        url = server.url
    assert process.returncode == 130, stdout + stderr
    assert "interrupted: the answers so far are kept in" in " ".join(stderr.split())
    progress = out / "answers.progress.jsonl"
    assert [r["key"] for r in _answer_lines(progress)] == ["s1:0:eidetica"]

    with ScriptedOpenAIServer([ANSWER_Q1, YES, CORRECT]) as server:
        result = RUNNER.invoke(app, [*args, "--llm-base-url", server.url], catch_exceptions=False)
        asked = [r.json["messages"][-1]["content"] for r in server.requests]
    assert url != server.url and result.exit_code == 0, result.output
    assert len(asked) == 3 and "Who teaches Ana pottery?" in asked[0]
    assert not any("Question: Where did Ben buy the xylophone?" in c for c in asked)  # not asked again
    report = json.loads((out / "answers.json").read_text(encoding="utf-8"))
    assert [r["key"] for r in report["records"]] == ["s1:0:eidetica", "s1:1:eidetica"]
    assert report["meta"]["answered_before"] == 1 and report["meta"]["runs"] == 2


# -- docs -----------------------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "answering.md"


def test_docs_commands_parse_and_name_every_option() -> None:
    """Every command in docs/answering.md parses with this CLI; every --llm option is documented."""
    text = DOC.read_text(encoding="utf-8")
    lines = [
        line.strip() for body in re.findall(r"```bash\n(.*?)```", text, re.S) for line in body.splitlines()
    ]
    commands = [shlex.split(line)[1:] for line in lines if line.startswith("eidetica ")]
    assert len(commands) >= 4 and all(args[:2] == ["eval", "locomo"] and "--llm" in args for args in commands)
    for args in commands:
        # --help comes last: click still rejects an unknown option before it prints the help.
        result = RUNNER.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, f"{args}: {result.output}"
    for variable in ("EIDETICA_LLM_BASE_URL", "EIDETICA_LLM_MODEL", "EIDETICA_LLM_API_KEY"):
        assert f"export {variable}=" in text
    for option in (
        "--llm",
        "--budget",
        "--limit-questions",
        "--judge-model",
        "--llm-extract",
        "--llm-timeout",
        "--llm-base-url",
        "--llm-model",
        "--llm-api-key",
    ):
        assert f"`{option}" in text, option
    for name in ("judge_strict_v1", "judge_lenient_v1", "LongMemEval", "Mem0", "135M"):
        assert name in text
