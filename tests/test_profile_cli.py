"""``eidetica profile`` and ``eidetica summary`` end to end: a real SQLite file, the real embedder,
the output a person reads and the JSON a script reads (``wire.to_wire`` of what ``Memory``
returns)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eidetica import Memory, UsageError, wire
from eidetica.cli import app
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.model import AddResult

from .test_cli import ANSI, RUNNER, _error, _invoke, _json, _ok, _plain

#: Sam lives in Lisbon, has a sister and loves jazz (session s1); then moves to Oslo (s2).
SAM = [
    ("s1", "I live in Lisbon. My sister Ana works at Nubank. I love jazz.", "2024-03-01T10:00:00+00:00"),
    ("s2", "I moved from Lisbon to Oslo last week.", "2024-05-02T10:00:00+00:00"),
]


@pytest.fixture
def added(db_path: Path, embedder: WordLlamaEmbedder) -> list[AddResult]:
    """Sam's two sessions, stored in ``db_path`` one add each."""
    with Memory(db_path, embedder=embedder) as memory:
        return [
            memory.add(
                [{"role": "user", "name": "Sam", "content": text}],
                user_id="sam",
                session_id=session,
                timestamp=when,
            )
            for session, text, when in SAM
        ]


def _memory(db_path: Path, embedder: WordLlamaEmbedder) -> Memory:
    return Memory(db_path, embedder=embedder)


def _at_80(db_path: Path, *args: str) -> tuple[str, str]:
    """A command's stdout and stderr at 80 columns, colour codes removed."""
    result = RUNNER.invoke(app, [*args, "--db", str(db_path)], env={"COLUMNS": "80"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)


def test_profile_prints_the_sections_with_dates_and_ids(
    db_path: Path, embedder: WordLlamaEmbedder, added: list[AddResult]
) -> None:
    with _memory(db_path, embedder) as memory:
        found = memory.profile(user_id="sam")
        ana = memory.profile(user_id="sam", name="Ana")
    assert _json(db_path, "profile", "--user", "sam") == wire.to_wire(found)
    assert _json(db_path, "profile", "--user", "sam", "--name", "ana") == wire.to_wire(ana)
    shown, size = _at_80(db_path, "profile", "--user", "sam")
    assert all(len(line) <= 80 for line in shown.splitlines())
    assert shown.startswith("Sam  person, 4 mentions, 2024-03-01 to 2024-05-02")
    headings = [line for line in shown.splitlines() if line in ("attributes", "relationships", "preferences")]
    assert headings == ["attributes", "relationships", "preferences"]
    for line in found.lines:
        text_at = shown.index(line.text)
        assert shown.index(line.section) < text_at < shown.index(line.unit_id)  # under its heading, id after
        assert line.said_at is not None
        assert line.said_at.strftime("%Y-%m-%d") in shown[shown.rindex("\n", 0, text_at) : text_at]
    assert "Ana works at Nubank" in shown.split("relationships")[1]
    assert "Oslo" in shown.split("attributes")[1].split("relationships")[0]
    assert "Sam lives in Lisbon." not in shown
    assert size.strip() == f"{found.tokens} tokens"
    shown, _ = _at_80(db_path, "profile", "--user", "sam", "--name", "ANA")
    assert shown.startswith("Ana  person, 1 mention") and ana.lines[0].unit_id in shown


def test_summary_prints_the_text_then_its_size_and_quotes(
    db_path: Path, embedder: WordLlamaEmbedder, added: list[AddResult]
) -> None:
    with _memory(db_path, embedder) as memory:
        found = memory.summary("s1", user_id="sam")
        small = memory.summary("s1", user_id="sam", budget_tokens=15)
    assert _json(db_path, "summary", "s1", "--user", "sam") == wire.to_wire(found)
    assert _json(db_path, "summary", "s1", "--user", "sam", "--budget", "15") == wire.to_wire(small)
    assert found.unit_ids and {u.id for u in added[1].derived}.isdisjoint(found.unit_ids)
    shown, size = _at_80(db_path, "summary", "s1", "--user", "sam")
    assert shown == found.text + "\n"
    assert "Sam lives in Lisbon." not in shown and "Oslo" not in shown
    assert _plain(size) == (
        f"{found.tokens}/{found.budget_tokens} tokens, {len(found.unit_ids)} units quoted: "
        + ", ".join(found.unit_ids)
    )
    shown, size = _at_80(db_path, "summary", "s1", "--user", "sam", "--budget", "5")
    assert shown.strip() == "session s1 has no current fact or event that fits in 5 tokens"
    assert size.strip() == "0/5 tokens, 0 units quoted"


def test_summary_takes_a_session_id_with_slashes_and_spaces(db_path: Path) -> None:
    said = "I flew to Porto with my friend Rita last Friday."
    _ok(db_path, "add", said, "--user", "sam", "--speaker", "Sam", "--session", "trips/2024 spring")
    summary = _json(db_path, "summary", "trips/2024 spring", "--user", "sam")
    assert summary["session_id"] == "trips/2024 spring" and "Porto" in summary["text"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("summary", "s1", "--user", "sam", "--budget", "0"),
            "error: --budget must be a positive integer, got 0",
        ),
        (("summary", "s1", "--budget", "100001"), "error: --budget must be at most 100,000, got 100001"),
        (("summary", "s9", "--user", "sam"), "error: no session 's9' in this user's memory"),
        (("summary", "s1", "--user", "ben"), "error: no session 's1' in this user's memory"),
        (("summary", "s1", "--user", ""), "error: --user must not be empty"),
        (
            ("profile", "--user", "sam", "--name", "zed"),
            "error: no entity 'zed' in this memory; `entities` lists",
        ),
        (("profile", "--name", " "), "error: name must be a non-empty string"),
        (("profile", "--user", ""), "error: --user must not be empty"),
        (("profile", "--user", "ben"), "error: this memory has no user who gave a name; name the person"),
    ],
)
def test_bad_usage_is_one_line_in_cli_words(
    db_path: Path, added: list[AddResult], args: tuple[str, ...], expected: str
) -> None:
    assert _plain(_error(db_path, *args)).startswith(expected)


def test_a_user_who_never_gave_a_name_gets_the_librarys_message(
    db_path: Path, embedder: WordLlamaEmbedder
) -> None:
    _ok(db_path, "add", "I like green tea.", "--user", "anon")
    with _memory(db_path, embedder) as memory, pytest.raises(UsageError) as raised:
        memory.profile(user_id="anon")
    assert _plain(_error(db_path, "profile", "--user", "anon")) == f"error: {raised.value}"


def test_a_budget_that_is_not_a_number_is_refused_before_the_store_opens(db_path: Path) -> None:
    result = _invoke(db_path, "summary", "s1", "--budget", "many")
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--budget'" in _plain(result.output.replace("│", " "))
    assert not db_path.exists()
