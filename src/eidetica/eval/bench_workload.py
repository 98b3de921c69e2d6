"""The benchmark's workload: synthetic chat turns, the questions asked of them, and their timing.

Templated chat about people, places and plans, with relative dates, so the benchmark needs no
dataset.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from ..memory import Memory

_NAMES = "Alice Bruno Chen Dana Emeka Farah Goran Hana Ivan Jia Kofi Lena Mateo Nadia Omar Priya".split()
_PLACES = "Lisbon Kyoto Nairobi Oslo Lima Hanoi Denver Porto Cairo Quebec Tbilisi Perth".split()
_THINGS = (
    "pottery class|half marathon|book club|new job|garden|guitar lessons|camping trip|"
    "birthday party|cooking course|yoga retreat|chess tournament|art exhibition"
).split("|")
_TEMPLATES = [
    "I went to the {thing} in {place} yesterday with {name} and it was wonderful.",
    "My friend {name} just started a {thing} near {place}, we should go next week.",
    "Honestly the {thing} last weekend was exhausting but {name} loved it.",
    "I've been thinking about moving to {place} since {name} told me about the {thing}.",
    "Do you remember when we talked about the {thing}? {name} finally signed up!",
    "{name} and I are planning a trip to {place} next month for the {thing}.",
    "I prefer quiet evenings, but the {thing} with {name} two days ago was fun.",
]
_QUESTIONS = [
    "When did {name} go to the {thing}?",
    "Who is planning a trip to {place}?",
    "What did {name} think of the {thing}?",
    "Where is the {thing}?",
]


def synthetic_turns(rng: random.Random, count: int, start: datetime) -> list[dict[str, Any]]:
    """Chat turns with names, places and relative dates, one minute apart."""
    turns = []
    for i in range(count):
        words = {
            "name": rng.choice(_NAMES),
            "place": rng.choice(_PLACES),
            "thing": rng.choice(_THINGS),
        }
        turns.append(
            {
                "role": "user" if i % 2 == 0 else "assistant",
                "name": "Sam" if i % 2 == 0 else "Assistant",
                "content": rng.choice(_TEMPLATES).format(**words),
                "timestamp": (start + timedelta(minutes=i)).isoformat(),
            }
        )
    return turns


def question(rng: random.Random) -> str:
    """A random question of the kind the synthetic turns answer."""
    words = {"name": rng.choice(_NAMES), "place": rng.choice(_PLACES), "thing": rng.choice(_THINGS)}
    return rng.choice(_QUESTIONS).format(**words)


def percentiles(milliseconds: list[float], prefix: str) -> dict[str, float]:
    """p50, p95 and p99 of timings, keyed ``{prefix}p50_ms`` and so on."""
    return {f"{prefix}p{pct}_ms": round(float(np.percentile(milliseconds, pct)), 3) for pct in (50, 95, 99)}


def time_queries(memory: Memory, asked: Sequence[tuple[str, str]]) -> dict[str, float]:
    """Time ``search`` (k=10) and ``context`` (400 tokens) for each ``(question, user)``, as
    percentiles (``p50_ms``... for search, ``context_p50_ms``... for context)."""
    search, context = [], []
    for question_, user in asked:
        t0 = time.perf_counter()
        memory.search(question_, user_id=user, k=10)
        t1 = time.perf_counter()
        memory.context(question_, user_id=user, budget_tokens=400)
        t2 = time.perf_counter()
        search.append((t1 - t0) * 1000)
        context.append((t2 - t1) * 1000)
    return {**percentiles(search, ""), **percentiles(context, "context_")}
