"""``eidetica eval`` end to end: tiny LoCoMo and LongMemEval files written here, real reports out.

Every run goes through the real CLI, a real SQLite file and the real embedder; the figures checked
are ones the tiny data settles (a unique word only one turn holds), not quality claims.
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from eidetica import Memory, UsageError
from eidetica.cli import app
from eidetica.eval.datasets import locomo_questions, normalise_evidence
from eidetica.eval.longmemeval import (
    ingest_longmemeval,
    longmemeval_questions,
    longmemeval_turns,
    parse_haystack_date,
)
from eidetica.eval.report import markdown_table, reference_budget

from ..conftest import LOCOMO

RUNNER = CliRunner(env={"COLUMNS": "120", "EIDETICA_DB": None})
README = Path(__file__).resolve().parents[2] / "README.md"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SYSTEMS = ["eidetica", "bm25-turns", "dense-turns", "rrf-turns"]


def _turns(session: int, lines: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"speaker": s, "dia_id": f"D{session}:{i}", "text": t} for i, (s, t) in enumerate(lines, 1)]


def _sample(sample_id: str, a: str, b: str, sessions: list[list[str]], qa: list[dict[str, Any]]) -> Any:
    conversation: dict[str, Any] = {"speaker_a": a, "speaker_b": b}
    for n, texts in enumerate(sessions, 1):
        conversation[f"session_{n}_date_time"] = f"1:56 pm on {n + 7} May, 2023"
        conversation[f"session_{n}"] = _turns(n, [((a, b)[i % 2], text) for i, text in enumerate(texts)])
    return {"sample_id": sample_id, "conversation": conversation, "qa": qa}


def _qa(question: str, answer: str, evidence: list[str], category: int) -> dict[str, Any]:
    key = "adversarial_answer" if category == 5 else "answer"
    return {"question": question, key: answer, "evidence": evidence, "category": category}


TINY_LOCOMO = [
    _sample(
        "s1",
        "Ana",
        "Ben",
        [
            [
                "Hi Ben, how was your weekend?",
                "Great, I finally bought a xylophone at the flea market.",
                "I started learning pottery at the community studio.",
                "My sister moved to Lisbon last month.",
            ],
            [
                "My pottery teacher is called Gretchen, she is strict but kind.",
                "I adopted a parrot and named him Mango.",
                "We are planning a hiking trip to Norway in August.",
            ],
        ],
        [
            # The only single-hop question; "xylophone" appears in one turn only.
            _qa("Where did Ben buy the xylophone?", "flea market", ["D1:2"], 4),
            # A malformed id ("D:2:1" is D2:1) that must be repaired, not dropped.
            _qa("Who teaches Ana pottery?", "Gretchen", ["D1:3", "D:2:1"], 1),
            _qa("When did Ana start pottery?", "8 May 2023", ["D1:3"], 2),
            _qa("What did Ana buy at the flea market?", "a xylophone", ["D1:2"], 5),
            # Points at no turn: dropped.
            _qa("What is Ben's car?", "a van", ["D9:99"], 4),
        ],
    ),
    _sample(
        "s2",
        "Cleo",
        "Dan",
        [
            ["I just finished a marathon in Berlin!", "Congratulations, how long did it take?"],
            ["Three hours and ten minutes, a personal best.", "I am learning the bagpipes these days."],
        ],
        [
            _qa("Where did Cleo run a marathon?", "Berlin", ["D1:1"], 2),
            _qa("Which instrument is Dan learning?", "bagpipes", ["D2:2"], 3),
        ],
    ),
]


def _lme_item(qid: str, qtype: str, question: str, answer: str, sessions: list[Any]) -> dict[str, Any]:
    return {
        "question_id": qid,
        "question_type": qtype,
        "question": question,
        "answer": answer,
        "question_date": "2023/06/01 (Thu) 10:00",
        "haystack_dates": [date for _, date, _ in sessions],
        "haystack_session_ids": [sid for sid, _, _ in sessions],
        "haystack_sessions": [turns for _, _, turns in sessions],
        "answer_session_ids": [sid for sid, _, turns in sessions if any(t.get("has_answer") for t in turns)],
    }


def _u(text: str, has_answer: bool = False) -> dict[str, Any]:
    return {"role": "user", "content": text, **({"has_answer": True} if has_answer else {})}


def _a(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


SHARED_SESSION = ("shared_1", "2023/05/18 (Thu) 09:00", [_u("Suggest a pasta recipe?"), _a("Carbonara.")])
KAYAK = [_u("I bought a red kayak and named it Pebble.", True), _a("Lovely name!")]
TINY_LME = [
    _lme_item("q1", "single-session-user", "What did I name my kayak?", "Pebble", [
        ("sess_a", "2023/05/20 (Sat) 02:21", [_u("Tips for painting my fence?"), _a("Use a primer.")]),
        ("sess_b", "2023/05/21 (Sun) 14:05", KAYAK),
        SHARED_SESSION,
    ]),
    _lme_item("q2", "multi-session", "How many concerts did I go to in May?", "2", [
        SHARED_SESSION,
        ("sess_c", "2023/05/10 (Wed) 20:00", [_u("I saw a jazz concert tonight.", True), _a("Fun.")]),
        ("sess_d", "2023/05/25 (Thu) 21:30", [_a("How was your evening?"), _u("A symphony concert!", True)]),
    ]),
    # An abstention item: no turn has the answer, so no question; an empty turn is left out.
    _lme_item("q3_abs", "single-session-user", "What is my cat's name?", "not mentioned", [
        ("sess_e", "2023/04/02 (Sun) 08:15", [_u("Good morning"), _a("   "), _u("What's the weather like?")]),
        ("sess_f", "2023/04/03 (Mon) 08:15", [_u("Recommend a podcast about history.")]),
    ]),
]  # fmt: skip


@pytest.fixture
def locomo_file(tmp_path: Path) -> Path:
    path = tmp_path / "locomo_tiny.json"
    path.write_text(json.dumps(TINY_LOCOMO), encoding="utf-8")
    return path


@pytest.fixture
def lme_file(tmp_path: Path) -> Path:
    path = tmp_path / "longmemeval_tiny.json"
    path.write_text(json.dumps(TINY_LME), encoding="utf-8")
    return path


def _eval(*args: str) -> str:
    result = RUNNER.invoke(app, ["eval", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return report


def _check_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5_000


# -- LoCoMo ---------------------------------------------------------------------------------------


def test_eval_locomo_writes_json_markdown_and_chart(locomo_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    stdout = _eval("locomo", str(locomo_file), "--budgets", "50,400", "--out", str(out))
    assert (
        "| system | recall@50 | recall@400 | all evidence@400 | answer words@400 | abstained@400 |" in stdout
    )
    for name in ("report.json", "report.md", "recall.png"):
        assert f"wrote {out / name}" in " ".join(stdout.split())

    report = _report(out)
    meta, results = report["meta"], report["results"]
    assert meta["dataset"] == "LoCoMo" and meta["budgets"] == [50, 400]
    assert meta["questions"] == 6  # seven asked, one pointing at no turn dropped
    assert meta["turns"] == 11 and meta["ours"] == "eidetica"
    # The evaluation's own SQLite file, over its turns: a small file is mostly fixed pages.
    assert meta["bytes_per_turn"] > 1000 and "bytes on disk per turn" in (out / "report.md").read_text()
    assert list(results) == SYSTEMS  # ours first
    for system, per_budget in results.items():
        assert list(per_budget) == ["50", "400"]
        for budget, block in per_budget.items():
            overall, cats = block["overall"], block["by_category"]
            # Adversarial is reported on its own and kept out of the overall figure.
            assert overall["questions"] == 5, system
            assert cats["adversarial"]["questions"] == 1
            assert sum(c["questions"] for name, c in cats.items() if name != "adversarial") == 5
            assert cats["multi-hop"]["questions"] == 1  # the "D:2:1" question survived
            assert 0.0 <= overall["all_evidence"] <= overall["evidence_recall"] <= 1.0
            assert 0 < overall["mean_tokens"] <= int(budget)
            assert overall["mean_latency_ms"] > 0
    assert results["bm25-turns"]["400"]["by_category"]["single-hop"]["evidence_recall"] == 1.0
    assert results["eidetica"]["400"]["overall"]["evidence_recall"] >= 0.5

    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert (
        "| system | recall@50 | recall@400 | all evidence@400 | answer words@400 | abstained@400 |"
        in markdown
    )
    assert "| **eidetica** |" in markdown and "| bm25-turns |" in markdown
    assert "## By category at 400 tokens" in markdown and "single-hop (1)" in markdown
    assert "### adversarial (1 question)" in markdown
    assert "| system | tokens@50 | tokens@400 | ms@50 | ms@400 |" in markdown
    _check_png(out / "recall.png")


def test_eval_counts_budgets_in_the_tokenizer_asked_for(locomo_file: Path, tmp_path: Path) -> None:
    tokens = {}
    for tokenizer in ("wordpiece", "llama2"):
        out = tmp_path / tokenizer
        args = ["--limit", "1", "--no-baselines", "--budgets", "60", "--tokenizer", tokenizer]
        _eval("locomo", str(locomo_file), *args, "--out", str(out))
        report = _report(out)
        assert report["meta"]["tokenizer"] == tokenizer
        assert f"budgets counted in tokens of: {tokenizer}" in (out / "report.md").read_text(encoding="utf-8")
        tokens[tokenizer] = report["results"]["eidetica"]["60"]["overall"]["mean_tokens"]
    assert all(0 < t <= 60 for t in tokens.values())
    result = RUNNER.invoke(app, ["eval", "locomo", str(locomo_file), "--tokenizer", "gpt"])
    assert result.exit_code == 1 and "error: unknown tokenizer 'gpt'" in result.stderr


def test_eval_locomo_limit_and_no_baselines_keep_a_db(locomo_file: Path, tmp_path: Path) -> None:
    out, db = tmp_path / "one", tmp_path / "kept.db"
    args = ["locomo", str(locomo_file), "--limit", "1", "--no-baselines", "--budgets", "400"]
    _eval(*args, "--out", str(out), "--db", str(db))
    report = _report(out)
    assert list(report["results"]) == ["eidetica"]
    assert report["meta"]["questions"] == 4 and report["meta"]["turns"] == 7  # sample s1 only
    assert report["meta"]["bytes_per_turn"] is None  # a database of the caller's may hold more
    with Memory(db) as memory:
        assert memory.stats().users == 1
    _eval(*args, "--out", str(out), "--db", str(db))  # re-running skips the stored turns
    assert _report(out)["meta"]["turns"] == 7


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--budgets", "400,abc"), "error: --budgets takes positive integers"),
        (("--budgets", "0"), "error: --budgets takes positive integers"),
        (("--limit", "0"), "error: --limit must be a positive integer"),
    ],
)
def test_eval_bad_options_are_one_line_errors(
    locomo_file: Path, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    result = RUNNER.invoke(app, ["eval", "locomo", str(locomo_file), *args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert " ".join(result.stderr.split()).startswith(expected)


def test_eval_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    for command in ("locomo", "longmemeval"):
        result = RUNNER.invoke(app, ["eval", command, str(tmp_path / "nope.json")])
        assert result.exit_code == 1
        assert "error: file not found:" in result.stderr and "nope.json" in result.stderr


def test_normalise_evidence_repairs_and_drops_ids() -> None:
    known = {"D8:6", "D9:17", "D11:26", "D30:5", "D1:2", "D1:3"}
    assert normalise_evidence(["D8:6; D9:17"], known) == {"D8:6", "D9:17"}
    assert normalise_evidence(["D:11:26", "D30:05"], known) == {"D11:26", "D30:5"}
    assert normalise_evidence(["D1:2 D1:3"], known) == {"D1:2", "D1:3"}
    assert normalise_evidence(["D1:2", "D1:2"], known) == {"D1:2"}
    assert normalise_evidence(["D1:99", "D40:1"], known) == frozenset()  # past the last turn
    assert normalise_evidence(["", "nonsense", 7], known) == frozenset()


def test_locomo_questions_map_categories(locomo_file: Path) -> None:
    questions = locomo_questions(locomo_file)
    assert len(questions) == 6
    by_text = {q.question: q for q in questions}
    assert by_text["Who teaches Ana pottery?"].evidence == {"D1:3", "D2:1"}
    adversarial = by_text["What did Ana buy at the flea market?"]
    assert (adversarial.category, adversarial.answer) == ("adversarial", "a xylophone")
    assert by_text["Which instrument is Dan learning?"].user_id == "s2"


# -- LongMemEval ----------------------------------------------------------------------------------


def test_parse_haystack_date() -> None:
    assert parse_haystack_date("2023/05/20 (Sat) 02:21") == datetime(2023, 5, 20, 2, 21, tzinfo=UTC)
    assert parse_haystack_date("2023/5/2") == datetime(2023, 5, 2, tzinfo=UTC)
    assert parse_haystack_date("2023-05-20T02:21:00") == datetime(2023, 5, 20, 2, 21, tzinfo=UTC)
    with pytest.raises(UsageError):
        parse_haystack_date("2023/13/40 (Sat) 02:21")


def test_longmemeval_turns_and_questions(lme_file: Path) -> None:
    turns = longmemeval_turns(lme_file)
    assert len(turns) == 6 + 6 + 3  # the blank assistant turn of q3_abs is left out
    assert [t.user_id for t in turns] == ["q1"] * 6 + ["q2"] * 6 + ["q3_abs"] * 3
    q1 = [t for t in turns if t.user_id == "q1"]
    assert [t.ref for t in q1] == ["sess_a:0", "sess_a:1", "sess_b:0", "sess_b:1", "shared_1:0", "shared_1:1"]
    assert [t.speaker for t in q1[:2]] == ["user", "assistant"]
    assert q1[0].timestamp == datetime(2023, 5, 20, 2, 21, tzinfo=UTC)
    assert q1[1].timestamp == q1[0].timestamp + timedelta(seconds=1)
    assert q1[2].session_id == "sess_b" and q1[2].content == "I bought a red kayak and named it Pebble."
    assert [t.ref for t in turns if t.user_id == "q3_abs"] == ["sess_e:0", "sess_e:2", "sess_f:0"]

    questions = longmemeval_questions(lme_file)
    assert [(q.user_id, q.category) for q in questions] == [
        ("q1", "single-session-user"),
        ("q2", "multi-session"),
    ]
    assert questions[0].evidence == {"sess_b:0"} and questions[0].answer == "Pebble"
    assert questions[1].evidence == {"sess_c:0", "sess_d:1"}


def test_ingest_longmemeval_stores_each_item_as_its_user(memory: Memory, lme_file: Path) -> None:
    seen: list[tuple[int, int]] = []
    assert ingest_longmemeval(memory, lme_file, progress=lambda d, t: seen.append((d, t))) == 15
    assert seen[-1] == (15, 15) and len(seen) == 8  # one call per session
    assert ingest_longmemeval(memory, lme_file) == 0  # stored refs are skipped
    # The same session in two haystacks is stored for each user.
    for user in ("q1", "q2"):
        refs = {u.ref for u in memory.list(user_id=user, kinds=["turn"])}
        assert {"shared_1:0", "shared_1:1"} <= refs
    [kayak] = [u for u in memory.list(user_id="q1", kinds=["turn"]) if u.ref == "sess_b:0"]
    assert kayak.occurred_at == datetime(2023, 5, 21, 14, 5, tzinfo=UTC) and kayak.role == "user"


def test_longmemeval_bad_file_names_the_item(tmp_path: Path) -> None:
    broken = [dict(TINY_LME[0], haystack_dates=["2023/05/20 (Sat) 02:21"])]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(UsageError, match=r"broken.json: item q1: haystack_session_ids"):
        longmemeval_turns(path)


def test_eval_longmemeval_end_to_end(lme_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "lme"
    stdout = _eval("longmemeval", str(lme_file), "--budgets", "50,400", "--out", str(out))
    assert "| **eidetica** |" in stdout
    report = _report(out)
    assert report["meta"]["dataset"] == "LongMemEval" and report["meta"]["questions"] == 2
    assert list(report["results"]) == SYSTEMS
    bm25 = report["results"]["bm25-turns"]["400"]
    assert bm25["overall"]["questions"] == 2
    assert set(bm25["by_category"]) == {"single-session-user", "multi-session"}
    assert bm25["by_category"]["single-session-user"]["evidence_recall"] == 1.0  # "kayak" is unique
    assert "| system | recall@50 | recall@400 |" in (out / "report.md").read_text(encoding="utf-8")
    _check_png(out / "recall.png")


# -- CLI help and README ------------------------------------------------------------------------


def test_eval_commands_have_help_and_appear_in_readme() -> None:
    group = get_command(app).commands["eval"]  # type: ignore[attr-defined]
    assert group.help and set(group.commands) == {"locomo", "longmemeval", "truth"}
    readme = README.read_text(encoding="utf-8")
    for name, command in group.commands.items():
        assert command.help and command.help.strip(), name
        for param in command.params:
            assert getattr(param, "help", None), f"eval {name}: parameter {param.name} has no help"
        result = RUNNER.invoke(app, ["eval", name, "--help"])
        assert result.exit_code == 0 and ("--budgets" in result.stdout or name == "truth")
        assert f"eidetica eval {name}" in readme


def test_readme_evaluation_block_runs(locomo_file: Path, lme_file: Path, tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"## Evaluation.*?```\w*\n(.*?)```", text, re.S)
    assert match
    files = {"path/to/locomo10.json": locomo_file, "path/to/longmemeval_s.json": lme_file}
    for line in filter(None, (ln.split("#")[0].strip() for ln in match.group(1).splitlines())):
        args = [str(files.get(a, a)) for a in shlex.split(line)[1:]]
        out = tmp_path / args[1]
        result = RUNNER.invoke(app, [*args, "--out", str(out)], catch_exceptions=False)
        assert result.exit_code == 0, f"{line}: {result.output}"
        assert (out / "report.md").exists()


# -- the real LoCoMo dev file ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not LOCOMO.exists(), reason=f"{LOCOMO} not present")
def test_eval_locomo_on_the_real_dev_file(tmp_path: Path) -> None:
    out = tmp_path / "real"
    _eval("locomo", str(LOCOMO), "--limit", "1", "--budgets", "400", "--no-baselines", "--out", str(out))
    report = _report(out)
    assert report["meta"]["questions"] > 100
    assert report["results"]["eidetica"]["400"]["overall"]["evidence_recall"] > 0.4


def test_markdown_table_uses_the_budget_nearest_400_when_400_was_not_run() -> None:
    summary = {"questions": 1, "evidence_recall": 0.5, "all_evidence": 0.0, "answer_word_recall": 1.0}
    block = {"overall": {**summary, "mean_tokens": 90.0, "mean_latency_ms": 1.0}, "by_category": {}}
    results = {"ours": {"1000": block, "200": block}, "other": {"200": block, "1000": block}}
    assert reference_budget(results) == 200
    lines = markdown_table(results).splitlines()
    assert (
        lines[0]
        == "| system | recall@200 | recall@1000 | all evidence@200 | answer words@200 | abstained@200 |"
    )
    assert lines[2] == "| **ours** | 50.0 | 50.0 | 0.0 | 100.0 | 0.0 |"
    assert lines[3].startswith("| other |")


def test_eval_keeps_its_memory_in_postgres_when_given_a_url(
    locomo_file: Path, tmp_path: Path, postgres_url: str
) -> None:
    out = tmp_path / "r"
    args = ["eval", "locomo", str(locomo_file), "--db", postgres_url, "--budgets", "400", "--out", str(out)]
    result = RUNNER.invoke(app, [*args, "--no-baselines"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert "postgres" in json.dumps(report.get("meta", {})).lower()
    with Memory(postgres_url) as memory:
        assert memory.stats().units > 0
