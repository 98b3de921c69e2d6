"""The KV benchmark's tasks: passkey retrieval, a multi-key variant, and questions over memory.

Each item is a long ``context`` (what a KV policy compresses), a ``question`` read after it, and
the ``answers`` any of which in the reply counts as right. Passkeys and filler are generated from
a seed; memory questions come from LoCoMo conversations ingested into an Eidetica memory.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "
HAYSTACK_INTRO = (
    "There is an important piece of information hidden inside a lot of irrelevant text. "
    "Find it and memorize it. I will quiz you about it.\n"
)
NUMBER_ONLY = "Answer with the number only."
NAMES = ("amber", "cobalt", "falcon", "juniper", "maple", "orchid", "quartz", "saffron", "tundra", "willow")


@dataclass(frozen=True)
class Item:
    id: str
    task: str
    context: str
    question: str
    answers: tuple[str, ...]
    depth: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _haystack(sentences: int, planted: list[tuple[float, str]]) -> str:
    parts = [FILLER] * sentences
    for depth, text in sorted(planted, reverse=True):
        parts.insert(round(depth * sentences), text)
    return HAYSTACK_INTRO + "".join(parts)


def passkey(lengths: list[int], depths: list[float], seed: int = 0) -> list[Item]:
    """One five-digit pass key planted at each depth of a haystack of each length (in filler sentences)."""
    rng = random.Random(seed)
    items = []
    for sentences in lengths:
        for depth in depths:
            key = str(rng.randrange(10000, 100000))
            planted = f"The pass key is {key}. Remember it. {key} is the pass key. "
            items.append(
                Item(
                    f"passkey-{sentences}-{depth}",
                    "passkey",
                    _haystack(sentences, [(depth, planted)]),
                    f"What is the pass key mentioned in the text above? {NUMBER_ONLY}",
                    (key,),
                    depth,
                )
            )
    return items


def multikey(lengths: list[int], keys: int = 4, per_length: int = 5, seed: int = 1) -> list[Item]:
    """Several named keys planted apart; the question asks for one of them."""
    rng = random.Random(seed)
    items = []
    for sentences in lengths:
        for n in range(per_length):
            names = rng.sample(NAMES, keys)
            values = [str(rng.randrange(10000, 100000)) for _ in names]
            planted = [
                ((i + 0.5) / keys, f"The {name} key is {value}. Remember the {name} key. ")
                for i, (name, value) in enumerate(zip(names, values, strict=True))
            ]
            asked = rng.randrange(keys)
            items.append(
                Item(
                    f"multikey-{sentences}-{n}",
                    "multikey",
                    _haystack(sentences, planted),
                    f"What is the {names[asked]} key mentioned in the text above? {NUMBER_ONLY}",
                    (values[asked],),
                    (asked + 0.5) / keys,
                )
            )
    return items


def locomo(path: Path, questions: int, budget_tokens: int = 1500, seed: int = 2) -> list[Item]:
    """Questions with short answers over one LoCoMo conversation, each with its packed Eidetica context."""
    from eidetica import Memory
    from eidetica.eval.datasets import locomo_questions

    memory = Memory(":memory:")
    memory.import_file(path, format="locomo")
    asked = [q for q in locomo_questions(path) if q.category == "single-hop" and len(q.answer.split()) <= 4]
    user = asked[0].user_id
    asked = [q for q in asked if q.user_id == user]
    items = []
    for n, q in enumerate(random.Random(seed).sample(asked, min(questions, len(asked)))):
        context = memory.context(q.question, user_id=user, budget_tokens=budget_tokens)
        lines = "\n".join(hit.unit.text for hit in context.hits)
        items.append(
            Item(
                f"locomo-{n}",
                "locomo",
                f"Memories:\n{lines}",
                f"{q.question} Answer in a few words.",
                (q.answer,),
            )
        )
    return items


def correct(item: Item, reply: str) -> float:
    """1 when an answer is in the reply (passkeys), else the best token F1 against the answers."""
    if item.task != "locomo":
        return float(any(answer in reply for answer in item.answers))
    return max(_f1(reply, answer) for answer in item.answers)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _f1(reply: str, answer: str) -> float:
    got, gold = _tokens(reply), _tokens(answer)
    common = sum(min(got.count(t), gold.count(t)) for t in set(gold))
    if not got or not gold or not common:
        return 0.0
    precision, recall = common / len(got), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def write_jsonl(items: list[Item], path: Path, max_new_tokens: int) -> None:
    with path.open("w") as out:
        for item in items:
            out.write(
                json.dumps(
                    {
                        "id": item.id,
                        "context": item.context,
                        "question": item.question,
                        "max_new_tokens": max_new_tokens,
                    }
                )
                + "\n"
            )
