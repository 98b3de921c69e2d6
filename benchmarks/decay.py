"""Measure decay on a generated two-year history: how much ``maintain`` archives, whether the
topics a user still talks about stay found, and whether everything archived comes back.

    python benchmarks/decay.py [--seed 7] [--out benchmarks/results]

One user talks every other day for two years, ending today: topics that recur until the end
(a dog, tennis, a sister abroad...), topics that stopped a year ago, and one-off remarks (most of
the turns). Each question about a topic has one answer word; a question is recalled when the
word is in the top 10 hits of ``search``, or in ``context`` at 400 tokens. Recall is measured on
a copy of the store before ``maintain`` (reads count as uses, so measuring on the store itself
would keep alive what the questions find), then on the store after it, by default and with
``include_archived=True``. Last, every archived unit is restored and looked up. Rules only, no
LLM, the default decay. Writes ``decay.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from eidetica import Memory

HERE = Path(__file__).resolve().parent
USER = "ria"
DAYS = 730


@dataclass(frozen=True)
class Topic:
    """Something the user talks about every ``every`` days, between ``from_day`` and ``to_day``."""

    said: tuple[str, ...]
    questions: tuple[tuple[str, str], ...]  # (question, answer word)
    every: int
    to_day: int = DAYS


TOPICS = [
    Topic(
        (
            "Took Biscuit, my beagle, to the park after work.",
            "Biscuit the beagle stole a sock again.",
            "Biscuit needs a vet check for his ears.",
            "Long walk with Biscuit along the canal today.",
            "My beagle Biscuit finally learned to sit on command.",
        ),
        (
            ("What is the name of Ria's dog?", "Biscuit"),
            ("What breed is Ria's dog?", "beagle"),
            ("Who did Ria take to the park?", "Biscuit"),
            ("Which pet needs a vet check?", "Biscuit"),
        ),
        every=6,
    ),
    Topic(
        (
            "Tennis with Marco on Saturday, I lost in three sets.",
            "Marco and I booked the tennis court again.",
            "My backhand in tennis is getting better, Marco says.",
            "Played doubles tennis with Marco and his cousin.",
        ),
        (
            ("What sport does Ria play on weekends?", "tennis"),
            ("Who does Ria play tennis with?", "Marco"),
            ("Who says Ria's backhand is improving?", "Marco"),
            ("What does Ria play with Marco?", "tennis"),
        ),
        every=9,
    ),
    Topic(
        (
            "Called my sister Lena in Graz tonight.",
            "Lena sent photos from Graz, the old town is lovely.",
            "Planning to visit Lena in Graz in the spring.",
            "My sister Lena got a promotion at her firm in Graz.",
        ),
        (
            ("Where does Ria's sister live?", "Graz"),
            ("What is the name of Ria's sister?", "Lena"),
            ("Who did Ria call tonight?", "Lena"),
            ("Which city does Ria plan to visit?", "Graz"),
        ),
        every=12,
    ),
    Topic(
        (
            "Busy day at Nordlicht, the quarterly data report is due.",
            "My manager at Nordlicht liked my dashboard.",
            "Nordlicht is moving our analytics team to the fourth floor.",
            "Long meeting at Nordlicht about the data pipeline.",
        ),
        (
            ("Where does Ria work?", "Nordlicht"),
            ("Which company is moving its analytics team?", "Nordlicht"),
            ("Whose manager liked the dashboard?", "Nordlicht"),
            ("At which company is the data report due?", "Nordlicht"),
        ),
        every=5,
    ),
    Topic(
        (
            "Japanese class tonight, we learned the te-form.",
            "I practised Japanese kanji for an hour.",
            "My Japanese tutor says my listening improved.",
            "Watched a film in Japanese without subtitles.",
        ),
        (
            ("What language is Ria learning?", "Japanese"),
            ("What does Ria practise kanji for?", "Japanese"),
            ("Which class did Ria have tonight?", "Japanese"),
            ("In what language did Ria watch a film?", "Japanese"),
        ),
        every=7,
    ),
    Topic(
        (
            "Picked tomatoes at my allotment this evening.",
            "The allotment tomatoes have blight again.",
            "Planted new tomato seedlings at the allotment.",
            "Gave away a bag of allotment tomatoes to the neighbours.",
        ),
        (
            ("What does Ria grow in her allotment?", "tomato"),
            ("Where does Ria grow tomatoes?", "allotment"),
            ("What did Ria give the neighbours?", "tomato"),
            ("What has blight at the allotment?", "tomato"),
        ),
        every=11,
    ),
    Topic(
        (
            "Sunday dinner at grandma Ilse's, she made goulash.",
            "Grandma Ilse taught me her dumpling recipe on Sunday.",
            "Sunday lunch with grandma Ilse and the cousins.",
            "Grandma Ilse turned 88 and we had cake on Sunday.",
        ),
        (
            ("Who does Ria have Sunday dinner with?", "Ilse"),
            ("Who taught Ria a dumpling recipe?", "Ilse"),
            ("What is the name of Ria's grandmother?", "Ilse"),
            ("Who made goulash on Sunday?", "Ilse"),
        ),
        every=8,
    ),
    Topic(
        (
            "Ran 15 km, training for the Vienna half marathon.",
            "Half marathon training: intervals on the track today.",
            "Bought new running shoes for the half marathon.",
            "Long run done, the half marathon plan is on track.",
        ),
        (
            ("What race is Ria training for?", "marathon"),
            ("Why did Ria buy new running shoes?", "marathon"),
            ("What is Ria's training plan for?", "marathon"),
            ("Which half marathon is Ria training for?", "Vienna"),
        ),
        every=4,
    ),
]
#: Topics the user stopped talking about a year ago: decay may let them go (reported apart).
LAPSED = [
    Topic(
        (
            "Violin lesson with Mrs Okafor, scales again.",
            "Mrs Okafor gave me a new violin etude.",
            "Practised the violin for my lesson with Mrs Okafor.",
        ),
        (("Who is Ria's violin teacher?", "Okafor"), ("What instrument does Ria take lessons on?", "violin")),
        every=7,
        to_day=DAYS - 365,
    ),
    Topic(
        (
            "My flatmate Joost left the dishes again.",
            "Joost and I repainted the kitchen of our flat.",
            "Joost, my flatmate, is moving out soon.",
        ),
        (
            ("What is the name of Ria's flatmate?", "Joost"),
            ("Who did Ria repaint the kitchen with?", "Joost"),
        ),
        every=10,
        to_day=DAYS - 400,
    ),
]
_ONE_OFF = [
    "Tried a {adj} {food} place called {name}'s today.",
    "Saw a {adj} {animal} near the {place} this morning.",
    "A coworker recommended a {adj} podcast about {subject}.",
    "The {place} was {adj} today, full of {animal} photographers.",
    "Finished a {adj} documentary on {subject} last night.",
    "Lost my umbrella somewhere between the {place} and the {food} stall.",
    "Met {name} at the {place}, we talked about {subject} for ages.",
]
_WORDS = {
    "adj": "quiet busy strange lovely noisy tiny huge odd cosy chilly sunny grey".split(),
    "food": "ramen falafel pho curry tapas dumpling pierogi taco sushi waffle".split(),
    "animal": "heron fox squirrel swan kestrel hedgehog otter crow".split(),
    "place": "library market station harbour museum bakery square bridge".split(),
    "subject": "volcanoes bridges chess fungi glaciers typography bees lighthouses".split(),
    "name": "Anouk Bram Cleo Dario Elif Femke Gus Hiro Ines Jonas".split(),
}


def history(rng: random.Random, end: datetime) -> list[list[dict[str, Any]]]:
    """Sessions every other day for ``DAYS`` days up to ``end``, as lists of messages."""
    sessions = []
    start = end - timedelta(days=DAYS)
    for day in range(0, DAYS, 2):
        lines = [
            t.said[(day // t.every) % len(t.said)]
            for t in TOPICS + LAPSED
            if day % t.every < 2 and day <= t.to_day
        ]
        lines += [
            rng.choice(_ONE_OFF).format(**{k: rng.choice(v) for k, v in _WORDS.items()}) for _ in range(4)
        ]
        rng.shuffle(lines)
        moment = start + timedelta(days=day, hours=19)
        sessions.append(
            [
                {
                    "role": "user",
                    "name": "Ria",
                    "content": text,
                    "timestamp": (moment + timedelta(minutes=i)).isoformat(),
                }
                for i, text in enumerate(lines)
            ]
        )
    return sessions


def recall(memory: Memory, topics: list[Topic], include_archived: bool = False) -> dict[str, Any]:
    """Which of the topics' questions have their answer word found by search and by context
    (indices into the questions, in order), and the share of each."""
    asked = [q for t in topics for q in t.questions]
    found: dict[str, list[int]] = {"search": [], "context": []}
    for i, (question, word) in enumerate(asked):
        hits = memory.search(question, user_id=USER, k=10, include_archived=include_archived)
        if any(word.lower() in h.text.lower() for h in hits):
            found["search"].append(i)
        packed = memory.context(question, user_id=USER, budget_tokens=400, include_archived=include_archived)
        if word.lower() in packed.text.lower():
            found["context"].append(i)
    shares = {name: round(len(ids) / len(asked), 4) for name, ids in found.items()}
    return {"questions": len(asked), **shares, "found": found}


def kept(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    """Of the questions recalled before ``maintain``, the share still recalled after it."""
    return {
        name: round(len(set(was) & set(after["found"][name])) / max(len(was), 1), 4)
        for name, was in before["found"].items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    console = Console()
    report: dict[str, Any] = {"seed": args.seed, "days": DAYS}
    with tempfile.TemporaryDirectory() as tmp:
        path, copy = Path(tmp) / "decay.db", Path(tmp) / "before.db"
        with Memory(path) as memory:
            sessions = history(random.Random(args.seed), datetime.now(UTC))
            for i, messages in enumerate(sessions):
                memory.add(messages, user_id=USER, session_id=f"day-{i}")
            before = memory.stats(user_id=USER)
        shutil.copy(path, copy)
        with Memory(copy) as untouched:
            report["recall_before"] = {
                "recurring": recall(untouched, TOPICS),
                "lapsed": recall(untouched, LAPSED),
            }
        with Memory(path) as memory:
            t0 = time.perf_counter()
            done = memory.maintain()
            report["maintain_seconds"] = round(time.perf_counter() - t0, 2)
            after = memory.stats(user_id=USER)
            report["recall_after"] = {"recurring": recall(memory, TOPICS), "lapsed": recall(memory, LAPSED)}
            report["recall_after_with_archived"] = {
                "recurring": recall(memory, TOPICS, include_archived=True),
                "lapsed": recall(memory, LAPSED, include_archived=True),
            }
            report["kept"] = {
                kind: kept(report["recall_before"][kind], report["recall_after"][kind])
                for kind in ("recurring", "lapsed")
            }
            archived = [
                u
                for u in memory.list(user_id=USER, include_archived=True, limit=None)
                if u.status == "archived"
            ]
            restored = [memory.restore(u.id) for u in archived]
            back = memory.stats(user_id=USER)
            report["restore"] = {
                "archived": len(archived),
                "restored_active": sum(u.status == "active" for u in restored),
                "texts_unchanged": sum(r.text == u.text for r, u in zip(restored, archived, strict=True)),
                "active_after_restore": back.units,
                "archived_after_restore": back.archived,
            }
    report |= {
        "turns": sum(len(s) for s in sessions),
        "active_before": before.units,
        "active_after": after.units,
        "archived": done.archived,
        "shrink": round(1 - after.units / before.units, 4),
    }
    _print(console, report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "decay.json").write_text(json.dumps(report, indent=2) + "\n")


def _print(console: Console, report: dict[str, Any]) -> None:
    console.print(
        f"{report['turns']:,} turns over {DAYS} days: {report['active_before']:,} active units before "
        f"maintain, {report['active_after']:,} after ({report['shrink']:.0%} archived: {report['archived']}) "
        f"in {report['maintain_seconds']} s"
    )
    table = Table(
        title="Questions whose answer word is in the top-10 search / the context at 400 tokens "
        "(kept: of those found before maintain, the share found after)"
    )
    columns = {
        "before": "recall_before",
        "after": "recall_after",
        "kept": "kept",
        "after, archived included": "recall_after_with_archived",
    }
    table.add_column("topics")
    table.add_column("questions", justify="right")
    for column in columns:
        table.add_column(column, justify="right")
    for kind in ("recurring", "lapsed"):
        cells = [report[key][kind] for key in columns.values()]
        figures = [f"{c['search']:.3f} / {c['context']:.3f}" for c in cells]
        table.add_row(kind, str(report["recall_before"][kind]["questions"]), *figures)
    console.print(table)
    restore = report["restore"]
    console.print(
        f"restored {restore['restored_active']:,} of {restore['archived']:,} archived units, "
        f"{restore['texts_unchanged']:,} with their text unchanged; "
        f"archived left: {restore['archived_after_restore']}"
    )


if __name__ == "__main__":
    main()
