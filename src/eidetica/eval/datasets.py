"""Benchmark questions with their evidence, loaded from public dataset formats.

A dataset is a file to import through the public ``Memory`` API plus questions, each pointing at
the user (conversation) it is about and the turn ids that hold its evidence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputFormatError

#: Upstream LoCoMo category numbers; 5 (adversarial) is reported apart from the others.
LOCOMO_CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
_DIA_ID = re.compile(r"D\s*:?\s*(\d+)\s*:\s*0*(\d+)")


@dataclass(frozen=True)
class Question:
    """One question: whose memory it asks, the gold answer and the evidence turn ids."""

    user_id: str
    question: str
    answer: str
    evidence: frozenset[str]
    category: str


def normalise_evidence(items: list[object], known: set[str]) -> frozenset[str]:
    """Split and repair LoCoMo evidence ids ("D8:6; D9:17", "D:11:26", "D30:05") and drop ids
    that point at no turn."""
    ids = set()
    for item in items:
        for match in _DIA_ID.finditer(str(item)):
            ids.add(f"D{int(match.group(1))}:{int(match.group(2))}")
    return frozenset(ids & known)


def locomo_questions(path: Path) -> list[Question]:
    """Every LoCoMo question with evidence that exists; the user id is the sample id."""
    try:
        samples = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFormatError(f"cannot read LoCoMo questions: {exc}", source=path.name) from exc
    if isinstance(samples, dict):
        samples = [samples]
    questions = []
    for sample in samples:
        conversation = sample["conversation"]
        known = {
            str(turn["dia_id"])
            for key, turns in conversation.items()
            if re.fullmatch(r"session_\d+", key)
            for turn in turns
        }
        for qa in sample.get("qa", []):
            evidence = normalise_evidence(list(qa.get("evidence", [])), known)
            if not evidence:
                continue
            answer = qa.get("answer", qa.get("adversarial_answer", ""))
            questions.append(
                Question(
                    user_id=str(sample["sample_id"]),
                    question=str(qa["question"]),
                    answer=str(answer),
                    evidence=evidence,
                    category=LOCOMO_CATEGORIES.get(int(qa["category"]), str(qa["category"])),
                )
            )
    return questions
