"""The README runs: its Python session as a doctest, its CLI block line by line."""

from __future__ import annotations

import doctest
import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

import eidetica
from eidetica.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def _block(after: str) -> str:
    """The first fenced block that follows the heading or sentence ``after``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(after)
    match = re.search(r"```\w*\n(.*?)```", text[start:], re.S)
    assert match, f"no code block after {after!r}"
    return match.group(1)


def _run_session(after: str) -> doctest.TestResults:
    """Run the README's Python session that follows ``after`` as a doctest, in the current folder."""
    test = doctest.DocTestParser().get_doctest(_block(after), {}, "README", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    return runner.summarize(verbose=False)


def test_readme_python_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run_session("In Python:")
    assert result.failed == 0 and result.attempted > 5
    assert (tmp_path / "memory.db").exists()


def test_readme_cli_block(tmp_path: Path) -> None:
    env = {"EIDETICA_DB": str(tmp_path / "cli.db")}
    (tmp_path / "conversations.jsonl").write_text(
        json.dumps({"speaker": "Alice", "text": "I switched to oolong last week", "id": "c1"}) + "\n"
    )
    runner = CliRunner()
    unit_id = held_id = archived_id = None
    outputs: dict[str, str] = {}
    lines = [ln.split("#")[0].strip() for ln in _block("## Command line").splitlines()]
    for line in filter(None, lines):
        args = shlex.split(line)[1:]
        if "UNIT_ID" in args:
            assert unit_id, "a fact must exist before commands that take its id"
            args = [unit_id if a == "UNIT_ID" else a for a in args]
        if "HELD_ID" in args:
            assert held_id, "a message must be held back before review takes its id"
            args = [held_id if a == "HELD_ID" else a for a in args]
        if "ARCHIVED_ID" in args:
            assert archived_id, "maintain must archive a unit before restore takes its id"
            args = [archived_id if a == "ARCHIVED_ID" else a for a in args]
        args = [str(tmp_path / a) if a.endswith(".jsonl") else a for a in args]
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, f"{line}: {result.output}"
        outputs[args[0]] = result.output
        if args[0] == "list":
            listed = json.loads(runner.invoke(app, [*args, "--json"], env=env).stdout)
            unit_id = unit_id or listed[0]["id"]
            archived_id = next((u["id"] for u in listed if u["status"] == "archived"), None)
        if args[0] == "quarantine":
            held = json.loads(runner.invoke(app, [*args, "--json"], env=env).stdout)
            held_id = next(u["id"] for u in held if u["kind"] == "turn")
    assert "rejected" in outputs["review"] and "archived" in outputs["list"]
    assert "removed" in outputs["forget"]
    assert "oolong" in outputs["search"] or "tea" in outputs["search"]


def test_readme_mentions_every_command() -> None:
    text = README.read_text(encoding="utf-8")
    for command in app.registered_commands:
        name = command.name or command.callback.__name__  # type: ignore[union-attr]
        assert f"eidetica {name}" in text, f"README does not show `eidetica {name}`"


def test_exported_names_are_pinned() -> None:
    assert sorted(eidetica.__all__) == [
        "AddResult", "Answer", "AuthError", "Client", "Context", "EideticaError", "EmbedderError",
        "Entity", "EntityCard", "HistoryEntry", "Hit", "ImportReport", "InputFormatError", "LLMError",
        "Link", "MaintainReport", "Memory", "MemoryUnit", "NotFoundError", "Profile", "ProfileLine",
        "Relation", "Scope", "ScopeError", "ServerError", "Stats", "StoreError", "Summary", "TurnInput",
        "UsageError",
        "__version__",
    ]  # fmt: skip
    for name in eidetica.__all__:
        assert hasattr(eidetica, name)


def test_readme_people_places_and_things_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run_session("## People, places and things")
    assert result.failed == 0 and result.attempted > 6


def test_readme_memory_over_time_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run_session("## Memory over time")
    assert result.failed == 0 and result.attempted > 8
