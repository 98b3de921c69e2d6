"""The truth scenarios load, run over SQLite and PostgreSQL with one result per check, render and
write JSON; the checks fail when the behaviour they check is missing; and every category passes at
least its share in ``FLOORS`` (the scenarios pass as measured when the floor was set; raise a floor
when a behaviour improves, never lower one to let a change in)."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from eidetica.cli import app
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.errors import InputFormatError
from eidetica.eval.truth import (
    CATEGORIES,
    Scenario,
    TruthReport,
    call_with,
    load_scenarios,
    memories,
    report_json,
    run_scenarios,
    truth_table,
)

#: The share of each category's scenarios that must pass on SQLite.
FLOORS: dict[str, float] = {
    "change": 0.95,
    "additive": 1.0,
    "correction": 1.0,
    "deletion": 1.0,
    "as_of": 0.85,
    "short": 0.85,
    "long_turn": 1.0,
    "speakerless": 1.0,
    "forget": 1.0,
    "abstain": 0.90,
}
#: Categories whose every scenario must pass, on SQLite and on the PostgreSQL subset.
ENFORCED = frozenset(category for category, floor in FLOORS.items() if floor == 1.0)
#: Scenarios per category run on PostgreSQL (a database each): enough to compare, cheap to run.
POSTGRES_PER_CATEGORY = 2
FEW = {"abstain", "forget"}


@pytest.fixture(scope="module")
def scenarios() -> list[Scenario]:
    return load_scenarios()


@pytest.fixture(scope="module")
def sqlite_report(
    scenarios: list[Scenario], embedder: WordLlamaEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> TruthReport:
    with memories(embedder, db_dir=tmp_path_factory.mktemp("truth")) as make:
        return run_scenarios(make, scenarios)


def _failures(report: TruthReport, category: str) -> list[str]:
    return [
        f"{s.id} {c.kind}: {c.message}"
        for s in report.scenarios
        if s.category == category
        for c in s.checks
        if not c.passed
    ]


def test_every_category_has_enough_scenarios_each_with_checks(scenarios: list[Scenario]) -> None:
    counts = Counter(s.category for s in scenarios)
    assert set(counts) == set(CATEGORIES)
    for category in CATEGORIES:
        assert counts[category] >= (10 if category in FEW else 20), category
    assert all(s.checks and s.steps for s in scenarios)
    assert len({s.id for s in scenarios}) == len(scenarios)


def test_long_turns_are_long(scenarios: list[Scenario]) -> None:
    for s in scenarios:
        if s.category == "long_turn":
            longest = max(len(str(m["content"]).split()) for step in s.steps for m in step.messages)
            assert 400 <= longest <= 1500, s.id


def test_sqlite_report_has_one_result_per_check(
    scenarios: list[Scenario], sqlite_report: TruthReport
) -> None:
    assert sqlite_report.backend == "SQLiteStore"
    assert [s.id for s in sqlite_report.scenarios] == [s.id for s in scenarios]
    for result, scenario in zip(sqlite_report.scenarios, scenarios, strict=True):
        assert [c.kind for c in result.checks] == [c.kind for c in scenario.checks]
    assert all(c.message for s in sqlite_report.scenarios for c in s.checks if not c.passed)
    totals = sqlite_report.by_category()
    assert sum(t.total for t in totals.values()) == len(scenarios)
    assert sum(t.total for t in sqlite_report.by_check().values()) == sum(len(s.checks) for s in scenarios)


@pytest.mark.parametrize("category", sorted(FLOORS))
def test_category_passes_its_floor_on_sqlite(sqlite_report: TruthReport, category: str) -> None:
    failures = _failures(sqlite_report, category)
    if category in ENFORCED:
        assert failures == []
    results = [s.passed for s in sqlite_report.scenarios if s.category == category]
    assert sum(results) / len(results) >= FLOORS[category], failures


def test_table_and_json(sqlite_report: TruthReport) -> None:
    buffer = io.StringIO()
    Console(file=buffer, width=200).print(truth_table(sqlite_report))
    shown = buffer.getvalue()
    assert all(category in shown for category in CATEGORIES) and "search_top" in shown
    data = json.loads(json.dumps(report_json(sqlite_report)))
    assert list(data["categories"]) == list(CATEGORIES)
    assert data["checks"]["search_top"]["total"] == sqlite_report.by_check()["search_top"].total
    assert len(data["scenarios"]) == len(sqlite_report.scenarios)


def test_postgres_subset(
    scenarios: list[Scenario], embedder: WordLlamaEmbedder, postgres_server: str
) -> None:
    taken: Counter[str] = Counter()
    subset = []
    for scenario in scenarios:
        taken[scenario.category] += 1
        if taken[scenario.category] <= POSTGRES_PER_CATEGORY:
            subset.append(scenario)
    with memories(embedder, postgres=postgres_server) as make:
        report = run_scenarios(make, subset)
    assert report.backend == "PostgresStore"
    for result, scenario in zip(report.scenarios, subset, strict=True):
        assert len(result.checks) == len(scenario.checks)
        assert not any(c.message.startswith("memory failed") for c in result.checks), result.checks
    for category in ENFORCED:
        assert _failures(report, category) == []


def test_cli_writes_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["eval", "truth", "--category", "forget", "--out", str(tmp_path), "--db-dir", str(tmp_path / "db")],
    )
    assert result.exit_code == 0, result.output
    assert "forget" in result.output and "truth.json" in result.output
    data = json.loads((tmp_path / "truth.json").read_text())
    assert list(data["categories"]) == ["forget"]
    assert len(list((tmp_path / "db").glob("*.db"))) == data["categories"]["forget"]["total"]


def test_cli_refuses_an_unknown_category_and_two_backends(tmp_path: Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(app, ["eval", "truth", "--category", "moods", "--out", str(tmp_path)])
    assert unknown.exit_code == 1 and "unknown category moods" in unknown.output
    both = runner.invoke(
        app,
        [
            "eval",
            "truth",
            "--db-dir",
            str(tmp_path),
            "--postgres",
            "postgresql://x/y",
            "--out",
            str(tmp_path),
        ],
    )
    assert both.exit_code == 1 and "not both" in both.output


# -- the checks themselves ----------------------------------------------------------------------

CONTROLS = [
    {
        "id": "control/no-change",
        "category": "change",
        "description": "Nothing changed: the new value is nowhere and the old one is current.",
        "steps": [
            {
                "op": "add",
                "user_id": "u",
                "timestamp": "2024-01-05T10:00:00Z",
                "messages": [{"role": "user", "name": "Maria", "content": "I live in Lisbon."}],
            }
        ],
        "checks": [
            {"kind": "search_top", "user_id": "u", "query": "Where does Maria live?", "expect": ["Oslo"]},
            {
                "kind": "context_current",
                "user_id": "u",
                "query": "Where does Maria live?",
                "expect": ["Oslo"],
                "stale": ["Lisbon"],
            },
            {
                "kind": "as_of",
                "user_id": "u",
                "query": "Where does Maria live?",
                "at": "2023-01-01T00:00:00Z",
                "expect": ["Lisbon"],
            },
            {"kind": "absent", "user_id": "u", "words": ["Lisbon"], "queries": ["Where does Maria live?"]},
            {"kind": "search_top", "user_id": "u", "query": "Where?", "expect": ["Lisbon"], "k": 0},
        ],
    },
    {
        "id": "control/bad-step",
        "category": "correction",
        "description": "An update whose target no derived unit mentions fails every check.",
        "steps": [
            {"op": "add", "user_id": "u", "messages": [{"role": "user", "content": "I live in Lisbon."}]},
            {"op": "update", "user_id": "u", "query": "live", "target": "Oslo", "text": "I live in Oslo."},
        ],
        "checks": [{"kind": "search_top", "user_id": "u", "query": "Where?", "expect": ["Lisbon"]}],
    },
]


def test_checks_fail_when_the_behaviour_is_missing(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    path = tmp_path / "controls.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in CONTROLS))
    with memories(embedder) as make:
        report = run_scenarios(make, load_scenarios(path))
    no_change, bad_step = report.scenarios
    assert [c.passed for c in no_change.checks] == [False] * 5
    search, context, as_of, absent, raised = (c.message for c in no_change.checks)
    assert "'Oslo' in no hit" in search
    assert "'Oslo' not in the context" in context and "stale 'Lisbon' on a current line" in context
    assert "'Lisbon' in no hit as of 2023-01-01" in as_of
    assert "finds 'Lisbon'" in absent and "list holds 'Lisbon'" in absent
    assert raised.startswith("raised UsageError")
    assert bad_step.checks[0].message.startswith("step 2 (update) failed: LookupError: no fact or event")


def test_unknown_parameters_are_reported_not_passed() -> None:
    def add(text: str, *, user_id: str | None = None) -> str:
        return f"{text} {user_id}"

    result, missing = call_with(add, "hi", optional={"user_name": "Sam"}, user_id="u")
    assert result == "hi u" and missing == [f"{add.__qualname__}(user_name=)"]
    _, passed_on = call_with(add, "hi", optional={"user_id": "v"})
    assert passed_on == []


def test_a_bad_line_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps(CONTROLS[1])
    path.write_text(good.replace("control/bad-step", "a") + "\n" + good.replace('"steps"', '"stpes"'))
    with pytest.raises(InputFormatError, match=r"line 2: .*unknown field"):
        load_scenarios(path)


def test_cli_runs_another_scenario_file(tmp_path: Path) -> None:
    probe = Path(__file__).resolve().parents[2] / "benchmarks" / "scenarios" / "truth_probe.jsonl"
    result = CliRunner().invoke(
        app, ["eval", "truth", "--scenarios", str(probe), "--category", "deletion", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "truth.json").read_text())
    assert data["categories"]["deletion"]["total"] == sum(
        1 for s in load_scenarios(probe) if s.category == "deletion"
    )
