"""Robustness: bad input, odd input, concurrent writers, crashes and foreign files.

Every test runs the real stack (an SQLite file, the WordLlama embedder, the ``eidetica`` console
script, real writer processes) and checks two things: the caller gets an Eidetica error whose
message says what is wrong and where, and nothing that was already stored is lost or changed.
The database is inspected through a second, independent ``sqlite3`` connection, so a test never
trusts the code under test to report on its own writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eidetica import InputFormatError, Memory, NotFoundError, StoreError, UsageError
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.ingest.formats import MAX_TURN_CHARS
from eidetica.memory import IMPORT_BATCH

EIDETICA = Path(sys.executable).parent / "eidetica"
SUBPROCESS_TIMEOUT_S = 180
WORDS = (
    "garden river kitten painting support group concert hiking lighthouse recipe violin harbour "
    "museum bicycle lantern orchard meadow library festival pottery marathon canyon"
).split()

# One writer of the concurrency test: opens the store, says "ready", waits for "go" on stdin
# (so both writers really overlap), then adds its turns one ``add`` call each.
WRITER_SCRIPT = """
import sys
from eidetica import Memory

db, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with Memory(db) as memory:
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        memory.add(
            [{"role": "user", "name": "Writer", "id": f"{tag}-{i}",
              "content": f"Writer {tag} planted a new rose bush in the garden, entry {i}"}],
            user_id="shared", session_id=tag,
        )
print("done", flush=True)
"""

# A whole-file import, run in a process the test kills with SIGKILL part-way through.
IMPORTER_SCRIPT = """
import sys
from eidetica import Memory

with Memory(sys.argv[1]) as memory:
    report = memory.import_file(sys.argv[2])
print(report.turns, flush=True)
"""


# --- helpers -------------------------------------------------------------------------------------


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    """Write one JSON document per line (UTF-8, trailing newline)."""
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def connect(db: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """An independent connection to the database file, outside the code under test."""
    if read_only:
        return sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=30)
    return sqlite3.connect(db, timeout=30)


def stored_rows(db: Path) -> dict[str, Any]:
    """Everything the store holds, as plain data: two equal snapshots mean nothing changed."""
    conn = connect(db, read_only=True)
    try:
        units = conn.execute(
            "SELECT id, kind, user_id, session_id, text, ref, metadata, version, status, "
            "derived_from FROM units ORDER BY id"
        ).fetchall()
        vectors = conn.execute("SELECT rid, vector FROM vectors ORDER BY rid").fetchall()
        history = conn.execute("SELECT unit_id, version, op, text FROM history ORDER BY seq")
        indexed = conn.execute(
            "SELECT l.rid, l.body, c.text FROM lexicon l "
            "LEFT JOIN lexicon_contexts c ON c.id = l.context_id ORDER BY l.rid"
        )
        return {
            "units": units,
            "vectors": vectors,
            "history": history.fetchall(),
            "indexed": indexed.fetchall(),
        }
    finally:
        conn.close()


def integrity(db: Path) -> str:
    """SQLite's own verdict on the file: ``ok`` or a list of problems."""
    conn = connect(db)
    try:
        return "\n".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def turn_count(memory: Memory, user_id: str | None = None) -> int:
    """Active turns, as the public API reports them."""
    return memory.stats(user_id=user_id).units_by_kind.get("turn", 0)


def polled_turns(db: Path) -> int | None:
    """Committed turns seen by a fresh read-only connection; None while the file is not ready."""
    try:
        conn = connect(db, read_only=True)
    except sqlite3.Error:
        return None
    try:
        return int(conn.execute("SELECT count(*) FROM units WHERE kind = 'turn'").fetchone()[0])
    except sqlite3.Error:
        return None  # not created yet, or tables not migrated yet
    finally:
        conn.close()


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``eidetica`` console script as a user's shell or a CI job would.

    COLUMNS is dropped so the output width is whatever the CLI picks for a pipe, not the width
    of the terminal that happens to run the tests.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run(
        [str(EIDETICA), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    """Lines of the CLI's stderr that carry an error message."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def varied_text(chars: int, seed: int = 7) -> str:
    """Deterministic prose-like text of exactly ``chars`` characters."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        parts.append(word)
        size += len(word) + 1
    return " ".join(parts)[:chars]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def seeded(memory: Memory, db_path: Path) -> dict[str, Any]:
    """Two users' memories already on disk; returns their snapshot for "nothing lost" checks."""
    memory.add(
        [
            {
                "role": "user",
                "name": "Caroline",
                "content": "I went to the support group yesterday",
                "id": "D1:3",
            }
        ],
        user_id="caroline",
        session_id="s1",
        timestamp="2023-05-08T13:56:00Z",
    )
    memory.add("I adopted a kitten called Miso", user_id="caroline", timestamp="2023-05-09T10:00:00Z")
    memory.add("Melanie painted a sunrise over the lake", user_id="melanie")
    snapshot = stored_rows(db_path)
    assert len(snapshot["units"]) >= 3
    return snapshot


# --- 1, 2: malformed files -----------------------------------------------------------------------


def five_lines_with_bad_third(path: Path) -> Path:
    lines = [
        json.dumps({"id": "L1", "speaker": "Ann", "text": "I started learning the violin"}),
        json.dumps({"id": "L2", "speaker": "Ann", "text": "My sister moved to Lisbon"}),
        '{"id": "L3", "speaker": "Ann", "text": "this line is cut off',
        json.dumps({"id": "L4", "speaker": "Ann", "text": "We went hiking in the canyon"}),
        json.dumps({"id": "L5", "speaker": "Ann", "text": "The orchard blossomed early"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_malformed_jsonl_line_names_the_line_and_stores_nothing(
    memory: Memory, db_path: Path, seeded: dict[str, Any], tmp_path: Path
) -> None:
    source = five_lines_with_bad_third(tmp_path / "chat.jsonl")

    with pytest.raises(InputFormatError) as caught:
        memory.import_file(source, user_id="ann")

    assert caught.value.line == 3
    assert "chat.jsonl, line 3: malformed JSON" in str(caught.value)
    assert turn_count(memory, "ann") == 0
    assert stored_rows(db_path) == seeded


def test_skip_invalid_stores_the_good_lines_and_reports_the_bad_one(
    memory: Memory, db_path: Path, seeded: dict[str, Any], tmp_path: Path
) -> None:
    source = five_lines_with_bad_third(tmp_path / "chat.jsonl")

    report = memory.import_file(source, user_id="ann", skip_invalid=True)

    assert report.turns == 4
    assert len(report.errors) == 1
    assert "line 3" in report.errors[0]
    stored = memory.list(user_id="ann", kinds=["turn"])
    assert sorted(u.ref for u in stored if u.ref) == ["L1", "L2", "L4", "L5"]
    after = stored_rows(db_path)
    assert set(seeded["units"]) <= set(after["units"])
    assert set(seeded["history"]) <= set(after["history"])


def test_invalid_utf8_in_jsonl_names_the_line(
    memory: Memory, db_path: Path, seeded: dict[str, Any], tmp_path: Path
) -> None:
    source = tmp_path / "chat.jsonl"
    source.write_bytes(
        b'{"text": "first line is fine"}\n'
        b'{"text": "second line is fine"}\n'
        b'{"text": "caf\xe9 in Latin-1, not UTF-8"}\n'
    )

    with pytest.raises(InputFormatError) as caught:
        memory.import_file(source)

    assert caught.value.line == 3
    assert str(caught.value) == "chat.jsonl, line 3: invalid UTF-8 at byte offset 76"
    assert stored_rows(db_path) == seeded


def test_cli_import_of_invalid_utf8_prints_one_error_line_and_exits_1(
    memory: Memory, db_path: Path, seeded: dict[str, Any], tmp_path: Path
) -> None:
    # A realistic export name: the message must stay on one line however long it is, so that
    # `eidetica import ... 2>&1 | grep error:` shows the whole of it.
    source = tmp_path / "support-chat-export-2023-05-08.jsonl"
    source.write_bytes(
        b'{"text": "first line is fine"}\n'
        b'{"text": "second line is fine"}\n'
        b'{"text": "caf\xe9 in Latin-1, not UTF-8"}\n'
    )

    result = run_cli("import", source.name, "--db", db_path, cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert error_lines(result.stderr) == [
        "error: support-chat-export-2023-05-08.jsonl, line 3: invalid UTF-8 at byte offset 76"
    ], result.stderr
    assert stored_rows(db_path) == seeded


# --- 3: wrong types ------------------------------------------------------------------------------

WRONG_CALLS: dict[str, tuple[Callable[[Memory], object], str]] = {
    "content int": (
        lambda m: m.add([{"role": "user", "content": 42}]),
        r"message 0: content must be a string, got int",
    ),
    "messages int": (lambda m: m.add(42), r"messages must be a str, a dict or a list"),  # type: ignore[arg-type]
    "user_id int": (
        lambda m: m.add("I like green tea", user_id=5),  # type: ignore[arg-type]
        r"user_id must be a string, got int",
    ),
    "user_id with NUL": (
        lambda m: m.add("I like green tea", user_id="ana\x00"),
        r"user_id contains a NUL character",
    ),
    "agent_id list": (
        lambda m: m.add("I like green tea", agent_id=["a"]),  # type: ignore[arg-type]
        r"agent_id must be a string, got list",
    ),
    "session_id float": (
        lambda m: m.add("I like green tea", session_id=1.5),  # type: ignore[arg-type]
        r"session_id must be a string, got float",
    ),
    "role list": (
        lambda m: m.add([{"role": ["user"], "content": "I like green tea"}]),
        r"message 0: role must be a string, got list",
    ),
    "metadata str": (
        lambda m: m.add([{"role": "user", "content": "I like green tea", "metadata": "tea"}]),
        r"message 0: metadata must be an object \(dict\), got str",
    ),
    "timestamp words": (
        lambda m: m.add("I like green tea", timestamp="next tuesdayish"),
        r"cannot read timestamp 'next tuesdayish'",
    ),
    "search k=0": (lambda m: m.search("tea", k=0), r"k must be a positive integer, got 0"),
    "search k='3'": (
        lambda m: m.search("tea", k="3"),  # type: ignore[arg-type]
        r"k must be a positive integer, got '3'",
    ),
    "context budget -1": (
        lambda m: m.context("tea", budget_tokens=-1),
        r"budget_tokens must be a positive integer, got -1",
    ),
}


@pytest.mark.parametrize("case", list(WRONG_CALLS))
def test_wrong_argument_types_raise_usage_error_naming_the_field(
    memory: Memory, db_path: Path, seeded: dict[str, Any], case: str
) -> None:
    call, message = WRONG_CALLS[case]
    units_before = memory.stats().units

    with pytest.raises(UsageError, match=message):
        call(memory)

    assert memory.stats().units == units_before
    assert stored_rows(db_path) == seeded


# --- 4, 5: content edge cases --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ("", r"text is empty"),
        ("   \n\t  ", r"text is empty"),
        ([{"role": "user", "content": " \n "}], r"message 0: content is empty"),
    ],
    ids=["empty", "whitespace", "whitespace message"],
)
def test_empty_content_is_rejected(
    memory: Memory, db_path: Path, seeded: dict[str, Any], messages: Any, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        memory.add(messages)
    assert stored_rows(db_path) == seeded


def test_one_megabyte_turn_is_stored_verbatim_and_searchable(memory: Memory) -> None:
    # The marker sits at the very end, far past what the embedder reads, so only a complete
    # lexical index of the text can find it.
    text = varied_text(1_000_000 - len(" zanzibarquux")) + " zanzibarquux"
    assert len(text) == 1_000_000
    memory.add("I like green tea in the morning")
    memory.add("The harbour was foggy on Sunday")

    [turn] = memory.add(text, user_id="default").turns

    assert memory.get(turn.id).text == text
    hits = memory.search("zanzibarquux", k=3)
    assert hits[0].id == turn.id
    assert hits[0].scores.get("lexical", 0) > 0


def test_text_over_the_limit_is_rejected(memory: Memory, db_path: Path, seeded: dict[str, Any]) -> None:
    text = varied_text(MAX_TURN_CHARS + 1)

    with pytest.raises(UsageError, match=r"the limit is 4,000,000 per turn.*split it"):
        memory.add(text)

    assert stored_rows(db_path) == seeded


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("I paid with a card \udcff yesterday", r"lone surrogate U\+DCFF at offset 19"),
        ("I paid with a card \x00 yesterday", r"NUL character \(\\x00\) at offset 19"),
    ],
    ids=["lone surrogate", "NUL"],
)
def test_unstorable_characters_are_rejected(
    memory: Memory, db_path: Path, seeded: dict[str, Any], text: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        memory.add(text)
    with pytest.raises(UsageError, match=message):
        memory.add([{"role": "user", "name": "Ann", "content": text}])
    assert stored_rows(db_path) == seeded


def test_lone_surrogate_escape_in_jsonl_is_rejected_with_its_line(
    memory: Memory, db_path: Path, seeded: dict[str, Any], tmp_path: Path
) -> None:
    # Valid UTF-8 and valid JSON, but "\udcff" decodes to a lone surrogate.
    source = tmp_path / "chat.jsonl"
    source.write_text('{"text": "fine"}\n{"text": "bad \\udcff escape"}\n', encoding="utf-8")

    with pytest.raises(InputFormatError, match=r"chat.jsonl, line 2: .*lone surrogate U\+DCFF"):
        memory.import_file(source)

    assert stored_rows(db_path) == seeded


# --- 6: unknown ids ------------------------------------------------------------------------------

UNKNOWN_ID_CALLS: dict[str, Callable[[Memory, str], object]] = {
    "get": lambda m, uid: m.get(uid),
    "update": lambda m, uid: m.update(uid, "a new text for the unit"),
    "delete": lambda m, uid: m.delete(uid),
    "history": lambda m, uid: m.history(uid),
}


@pytest.mark.parametrize("operation", list(UNKNOWN_ID_CALLS))
def test_unknown_id_raises_not_found(
    memory: Memory, db_path: Path, seeded: dict[str, Any], operation: str
) -> None:
    with pytest.raises(NotFoundError, match=r"no memory unit with id 'NOPE'"):
        UNKNOWN_ID_CALLS[operation](memory, "NOPE")
    assert stored_rows(db_path) == seeded


def test_another_users_id_is_not_found_for_this_user(
    memory: Memory, db_path: Path, seeded: dict[str, Any]
) -> None:
    [melanie_turn] = memory.list(user_id="melanie", kinds=["turn"])

    with pytest.raises(NotFoundError, match=r"for user 'caroline'"):
        memory.delete(melanie_turn.id, user_id="caroline")

    assert memory.get(melanie_turn.id, user_id="melanie").status == "active"
    assert stored_rows(db_path) == seeded


def test_cli_show_of_unknown_id_exits_1_with_a_message(
    memory: Memory, db_path: Path, seeded: dict[str, Any], tmp_path: Path
) -> None:
    result = run_cli("show", "NOPE", "--db", db_path, cwd=tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = error_lines(result.stderr)
    assert "no memory unit with id 'NOPE'" in line
    assert stored_rows(db_path) == seeded


# --- 7: timestamps -------------------------------------------------------------------------------

MAY_8_1356 = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


@pytest.mark.parametrize(
    "timestamp",
    [
        "1:56 pm on 8 May, 2023",
        1683554160,
        1683554160.0,
        "2023-05-08T13:56:00Z",
        "2023-05-08 13:56",
        "2023-05-08T15:56:00+02:00",
        datetime(2023, 5, 8, 13, 56),
    ],
    ids=["locomo", "epoch int", "epoch float", "iso Z", "space separated", "offset", "naive"],
)
def test_odd_timestamp_formats_are_stored_as_utc(memory: Memory, timestamp: object) -> None:
    [turn] = memory.add("I fed the ducks at the harbour", timestamp=timestamp).turns  # type: ignore[arg-type]

    stored = memory.get(turn.id).occurred_at
    assert stored == MAY_8_1356
    assert stored is not None and stored.utcoffset() == timedelta(0)


# --- 8: two writer processes ---------------------------------------------------------------------


def test_two_processes_writing_one_file_lose_and_duplicate_nothing(
    db_path: Path, embedder: WordLlamaEmbedder
) -> None:
    per_writer = 150
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, str(db_path), tag, str(per_writer)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    try:
        # Both open the fresh file at the same time (migrations race), then write together.
        for proc in writers:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                pytest.fail(f"writer failed to open the store: {proc.communicate()[1]}")
        for proc in writers:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()

        seen: list[int] = []
        with Memory(db_path, embedder=embedder) as reader:
            while any(p.poll() is None for p in writers):
                seen.append(turn_count(reader, "shared"))
                reader.search("Who planted a rose bush?", user_id="shared", k=5)
            seen.append(turn_count(reader, "shared"))
        results = [p.communicate(timeout=SUBPROCESS_TIMEOUT_S) for p in writers]
    finally:
        for proc in writers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()

    for proc, (out, err) in zip(writers, results, strict=True):
        assert proc.returncode == 0, err
        assert out.strip().endswith("done")
    assert seen == sorted(seen), "a reader saw the turn count go down"
    assert seen[-1] == 2 * per_writer
    conn = connect(db_path, read_only=True)
    try:
        refs = [r[0] for r in conn.execute("SELECT ref FROM units WHERE kind = 'turn'")]
    finally:
        conn.close()
    expected = {f"{tag}-{i}" for tag in ("a", "b") for i in range(per_writer)}
    assert len(refs) == 2 * per_writer
    assert set(refs) == expected
    assert integrity(db_path) == "ok"


# --- 9: a killed import --------------------------------------------------------------------------


def kill_during_import(tmp_path: Path) -> tuple[Path, Path, int]:
    """Start an import in a child process and SIGKILL it once a batch is committed.

    Returns (database, file, turns in the file) for the first file size at which the kill
    landed mid-import; grows the file when the import finished first, skips after 60k lines.
    """
    for lines in (6_000, 20_000, 60_000):
        db = tmp_path / f"killed-{lines}.db"
        source = write_jsonl(
            tmp_path / f"conversation-{lines}.jsonl",
            [
                {"id": f"t{i}", "speaker": "Caroline", "text": "I went to the support group yesterday"}
                for i in range(lines)
            ],
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", IMPORTER_SCRIPT, str(db), str(source)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            while proc.poll() is None:
                count = polled_turns(db)
                if count is not None and count >= IMPORT_BATCH:
                    os.kill(proc.pid, signal.SIGKILL)
                    break
                time.sleep(0.002)
            _, err = proc.communicate(timeout=SUBPROCESS_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if proc.returncode == -signal.SIGKILL and (polled_turns(db) or 0) < lines:
            return db, source, lines
        assert proc.returncode in (0, -signal.SIGKILL), err.decode(errors="replace")
    pytest.skip("a 60,000-line import always finished before it could be killed")


def lineage(db: Path) -> tuple[set[str], dict[str, int], int]:
    """Turn ids, how many derived units cite each turn, and rows in units/fts/history (if equal).

    A unit restated many times keeps only its first and newest sources; the history entries of
    its mentions name the others (``earlier_turns``).
    """
    conn = connect(db, read_only=True)
    try:
        turn_ids = {r[0] for r in conn.execute("SELECT id FROM units WHERE kind = 'turn'")}
        parents = [
            json.loads(r[0]) for r in conn.execute("SELECT derived_from FROM units WHERE kind != 'turn'")
        ]
        parents += [
            json.loads(r[0]).get("earlier_turns", [])
            for r in conn.execute("SELECT metadata FROM history WHERE op = 'mention'")
        ]
        rows = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("units", "units_fts")
        }
        # Reconciliation adds history rows of its own (mentions, supersessions); every unit has one add.
        rows["history adds"] = conn.execute("SELECT count(*) FROM history WHERE op = 'add'").fetchone()[0]
    finally:
        conn.close()
    assert all(p and set(p) <= turn_ids for p in parents), "a derived unit cites a missing turn"
    assert len(set(rows.values())) == 1, f"units, lexical index and history disagree: {rows}"
    cited = dict.fromkeys(turn_ids, 0)
    for p in parents:
        for turn_id in p:
            cited[turn_id] += 1
    return turn_ids, cited, rows["units"]


def test_killed_import_keeps_whole_batches_and_resumes(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    db, source, lines = kill_during_import(tmp_path)

    with Memory(db, embedder=embedder) as memory:
        assert integrity(db) == "ok"
        turn_ids, cited, _ = lineage(db)
        before = len(turn_ids)
        assert 0 < before < lines
        assert before % IMPORT_BATCH == 0, f"{before} turns: a batch was half written"
        # Every line says the same thing, so every committed turn is cited by derived units.
        assert min(cited.values()) >= 1, "a committed turn lost its derived units"

        report = memory.import_file(source)

        assert report.skipped_refs == before
        assert report.turns == lines - before
        assert report.errors == []
        assert turn_count(memory) == lines
    assert integrity(db) == "ok"
    turn_ids, cited, _ = lineage(db)
    assert len(turn_ids) == lines
    assert min(cited.values()) >= 1
    conn = connect(db, read_only=True)
    try:
        refs = [r[0] for r in conn.execute("SELECT ref FROM units WHERE kind = 'turn'")]
    finally:
        conn.close()
    assert sorted(refs) == sorted(f"t{i}" for i in range(lines))


# --- 10: files that are not Eidetica databases ---------------------------------------------------


def test_random_bytes_file_raises_store_error_and_is_left_untouched(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(random.Random(0).randbytes(64 * 1024))
    digest = sha256(path)

    with pytest.raises(StoreError, match=r"cannot open .*x\.db as an Eidetica database"):
        Memory(path, embedder=embedder)

    assert sha256(path) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.db"]


def test_cli_on_random_bytes_file_exits_1_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(random.Random(1).randbytes(64 * 1024))
    digest = sha256(path)

    result = run_cli("stats", "--db", path.name, cwd=tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = error_lines(result.stderr)
    assert "as an Eidetica database" in line
    assert sha256(path) == digest


def test_another_applications_sqlite_file_is_refused_without_changing_it(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE units (sku TEXT, price REAL)")
    conn.execute("INSERT INTO units VALUES ('kettle', 19.5)")
    conn.commit()
    conn.close()
    digest = sha256(path)

    with pytest.raises(StoreError, match=r"app\.db.*Eidetica"):
        Memory(path, embedder=embedder)

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT * FROM units").fetchall() == [("kettle", 19.5)]
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert tables == ["units"], "Eidetica wrote its own tables into a foreign database"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()
    assert sha256(path) == digest


# --- 11: huge and deep metadata ------------------------------------------------------------------


def test_metadata_with_ten_thousand_keys_round_trips(
    memory: Memory, db_path: Path, seeded: dict[str, Any], tmp_path: Path
) -> None:
    metadata = {f"key-{i:05d}": {"n": i, "tag": WORDS[i % len(WORDS)]} for i in range(10_000)}
    [added] = memory.add(
        [{"role": "user", "content": "I keep my notes in a ledger", "metadata": metadata}]
    ).turns
    source = write_jsonl(
        tmp_path / "meta.jsonl",
        [{"id": "m1", "text": "I keep my receipts in a shoebox", "metadata": metadata}],
    )
    memory.import_file(source, user_id="ann")
    [imported] = memory.list(user_id="ann", kinds=["turn"])

    assert memory.get(added.id).metadata == metadata
    assert imported.metadata == metadata
    assert memory.history(added.id)[0].metadata == metadata
    after = stored_rows(db_path)
    assert set(seeded["units"]) <= set(after["units"])


def test_nested_metadata_round_trips_and_pathological_nesting_is_refused(
    memory: Memory, db_path: Path, seeded: dict[str, Any], tmp_path: Path
) -> None:
    def nested(depth: int) -> dict[str, Any]:
        value: dict[str, Any] = {"leaf": True}
        for level in range(depth):
            value = {f"level{level}": value}
        return value

    deep = nested(100)
    [turn] = memory.add([{"role": "user", "content": "Nested notes", "metadata": deep}]).turns
    assert memory.get(turn.id).metadata == deep
    snapshot = stored_rows(db_path)

    with pytest.raises(UsageError, match=r"message 0: metadata is not JSON-serialisable"):
        memory.add([{"role": "user", "content": "Too deep", "metadata": nested(100_000)}])
    depth = 100_000
    source = tmp_path / "deep.jsonl"
    source.write_text(
        '{"text": "fine"}\n'
        + '{"text": "too deep", "metadata": '
        + '{"a": ' * depth
        + "1"
        + "}" * depth
        + "}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputFormatError, match=r"deep.jsonl, line 2: malformed JSON: nested too deeply"):
        memory.import_file(source)

    assert stored_rows(db_path) == snapshot
    assert set(seeded["units"]) <= set(snapshot["units"])
