"""An append-only JSONL log of an answer evaluation, so that an interrupted run resumes where it stopped.

The first line describes the run (``{"type": "run", ...}``: model, budget, prompts); a log made with
other settings is refused rather than mixed in. Then one line per ingestion (``"ingest"``) and per
answered question (``"answer"``), each written whole, flushed and synced before the next question
is asked: an interrupted run loses at most the question in flight. A last line cut short by the
interruption is dropped when the log is opened again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from ..closing import Closing
from ..errors import UsageError

__all__ = ["ProgressLog"]


class ProgressLog(Closing):
    """The records of one evaluation, read at open and appended to as questions are answered."""

    def __init__(self, path: Path, run: Mapping[str, Any]) -> None:
        self.path = path
        self.run = dict(run)
        self.ingests: list[dict[str, Any]] = []
        self.answers: dict[str, dict[str, Any]] = {}
        self.runs = 1  # runs that wrote to this log, this one included
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = self._read_whole_lines()
        except OSError as exc:
            raise UsageError(f"cannot read the progress file {path}: {exc.strerror or exc}") from exc
        if lines:
            self._load(lines)
        try:
            self._file: IO[str] = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the progress file {path}: {exc.strerror or exc}") from exc
        # Every run that writes here starts with its own header line, so the log tells its history.
        self._write({"type": "run", **self.run, **({"resumed": True} if lines else {})})

    def _load(self, lines: list[str]) -> None:
        """Check the header against this run's settings and read the records."""
        header = _parse(lines[0], self.path, 1)
        if header.get("type") != "run":
            raise UsageError(
                f"{self.path} is not an evaluation progress file; delete it or choose another --out"
            )
        changed = [k for k, v in self.run.items() if header.get(k) != v]
        if changed:
            was = ", ".join(f"{k}={header.get(k)!r}" for k in changed)
            now = ", ".join(f"{k}={self.run[k]!r}" for k in changed)
            raise UsageError(
                f"{self.path} was written by a run with {was}, not {now}: delete it to start over, "
                "or choose another --out"
            )
        for number, line in enumerate(lines[1:], 2):
            record = _parse(line, self.path, number)
            if record.get("type") == "run":
                self.runs += 1
            elif record.get("type") == "ingest":
                self.ingests.append(record)
            elif record.get("type") == "answer":
                self.answers[str(record["key"])] = record
        self.runs += 1

    def _read_whole_lines(self) -> list[str]:
        """The file's complete lines; a trailing partial line (a write cut short) is cut off."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            with self.path.open("r+b") as handle:
                handle.truncate(end)
        return [line for line in data[:end].decode("utf-8").splitlines() if line.strip()]

    def __contains__(self, key: str) -> bool:
        return key in self.answers

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.answers.values())

    def add_answer(self, record: Mapping[str, Any]) -> None:
        """Record one answered question (its ``key`` names conversation, question and system)."""
        entry = {"type": "answer", **record}
        self._write(entry)
        self.answers[str(entry["key"])] = entry

    def add_ingest(self, record: Mapping[str, Any]) -> None:
        """Record what one ingestion stored and what it cost."""
        entry = {"type": "ingest", **record}
        self._write(entry)
        self.ingests.append(entry)

    def _write(self, record: Mapping[str, Any]) -> None:
        try:
            self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise UsageError(f"cannot write the progress file {self.path}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        self._file.close()


def _parse(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}, line {number}: not JSON ({exc.msg}); delete the file to start over"
        ) from exc
    if not isinstance(record, dict):
        raise UsageError(f"{path}, line {number}: not a JSON object; delete the file to start over")
    return record
