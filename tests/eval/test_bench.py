"""The benchmark runs end to end on a small size and writes a complete report (no timing asserts)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from eidetica.cli import app
from eidetica.eval.bench import print_report, run_bench
from eidetica.eval.bench_lancedb import lancedb_available


def test_bench_report_has_every_figure() -> None:
    report = run_bench(sizes=[200, 400], users=10, queries=20, ingest_turns=300)
    assert report["ingest"]["turns"] == 300 and report["ingest"]["turns_per_s"] > 0
    assert [row["stored_units"] >= 200 for row in report["search"]] == [True, True]
    assert report["search"][1]["stored_units"] >= 400
    for row in report["search"]:
        assert row["users"] == 10
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert row["bytes_per_unit"] > 0
    out = io.StringIO()
    print_report(report, Console(file=out, width=120))
    assert "turns/s" in out.getvalue() and "search p95 ms" in out.getvalue()


def test_bench_command_writes_json(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--units",
            "150",
            "--users",
            "5",
            "--queries",
            "10",
            "--history",
            "300",
            "--report",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(target.read_text())
    assert report["search"][0]["users"] == 5
    assert report["history"][0]["units"] >= 300 and "LanceDB" in result.output


def test_bench_with_deferred_embedding_reports_when_the_vectors_were_all_stored(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--units",
            "150",
            "--users",
            "5",
            "--queries",
            "5",
            "--defer-embedding",
            "--history",
            "",
            "--report",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    ingest = json.loads(target.read_text())["ingest"]
    assert ingest["embedded_s"] >= ingest["seconds"] > 0
    assert "embedded in the background" in result.output


def test_long_history_case_measures_one_user_and_lancedb_beside_it() -> None:
    """CI installs the bench extra: LanceDB must be there, not silently left out."""
    assert lancedb_available(), "pip install -e '.[dev]' installs lancedb (the bench extra)"
    report = run_bench(sizes=[], queries=5, ingest_turns=100, history=[300, 600])
    rows = report["history"]
    assert [row["units"] >= size for row, size in zip(rows, (300, 600), strict=True)] == [True, True]
    assert rows[0]["units"] < rows[1]["units"]
    for row in rows:
        assert row["turns"] > 0 and row["bytes_per_turn"] > 0 and row["ingest_turns_per_s"] > 0
        assert 0 < row["p50_ms"] <= row["p95_ms"] and 0 < row["context_p50_ms"] <= row["context_p95_ms"]
        assert 0 < row["lancedb"]["p50_ms"] <= row["lancedb"]["p95_ms"]
        assert row["lancedb"]["bytes_per_turn"] > 0
    out = io.StringIO()
    print_report(report, Console(file=out, width=200))
    assert "one user's history" in out.getvalue() and "LanceDB" in out.getvalue()


def test_bench_sizes_that_are_not_numbers_are_one_line_errors(tmp_path: Path) -> None:
    for option in ("--units", "--history"):
        result = CliRunner().invoke(app, ["bench", option, "10,x", "--report", str(tmp_path / "r.json")])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"{option} takes whole numbers separated by commas" in result.output
        assert not (tmp_path / "r.json").exists()
