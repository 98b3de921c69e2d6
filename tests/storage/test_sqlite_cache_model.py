"""Random writes by one connection, searches by another: the cached answer is always the fresh one.

A reader that keeps its caches between searches is compared, after every write, with a store
opened anew on the same file (nothing cached). Any write the caches missed, or misread, shows as
a difference in the ranked ids or their scores.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from eidetica.model import MemoryUnit, Scope
from eidetica.storage import NewUnit, NewVersion, Revision, UnitFilter
from eidetica.storage.sqlite import SQLiteStore

from .test_contract import DIM, unit, vec

WORDS = "harbour lighthouse ferry kitten violin garden marathon pottery lisbon porto".split()
USERS = ("u1", "u2")


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))


def _answers(store: SQLiteStore, rng_seed: int) -> list[object]:
    rng = random.Random(rng_seed)
    out: list[object] = []
    for user in USERS:
        where = UnitFilter(Scope(user_id=user))
        for _ in range(3):
            words = rng.sample(WORDS, 2)
            out.append(
                [(i, round(s, 6)) for i, s in store.search_lexical(where, words, 5, context_weight=0.8)]
            )
            out.append([(i, round(s, 4)) for i, s in store.search_vector(where, vec(rng.randrange(50)), 5)])
        turns = UnitFilter(Scope(user_id=user), kinds=("turn",))
        out.append([i for i, _ in store.search_lexical(turns, rng.sample(WORDS, 2), 3)])
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cached_searches_match_a_fresh_store_through_random_writes(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "model.db"
    writer, reader = SQLiteStore(path), SQLiteStore(path)
    writer.check_embedder("test/8", DIM)
    stored: dict[str, MemoryUnit] = {}
    for step in range(60):
        action = rng.choice(["add", "add", "add", "delete", "update", "revise", "late", "forget"])
        live = [u for u in stored.values() if u.status == "active"]
        if action == "add" or not live:
            batch = [
                unit(_text(rng), user=rng.choice(USERS), kind=rng.choice(["turn", "fact"]))
                for _ in range(rng.randint(1, 4))
            ]
            vectors = [None if rng.random() < 0.2 else vec(rng.randrange(50)) for _ in batch]
            writer.add([NewUnit(u, v, u.text, _text(rng)) for u, v in zip(batch, vectors, strict=True)])
            stored.update({u.id: u for u in batch})
        elif action == "delete":
            gone = rng.choice(live)
            stored[gone.id] = writer.delete(gone.id, tenant="default")
        elif action == "update":
            edited = rng.choice(live)
            text = _text(rng)
            stored[edited.id] = writer.update(
                NewVersion(edited.id, text, vec(rng.randrange(50)), text), tenant="default"
            )
        elif action == "revise":
            moved = rng.choice(live)
            retire = rng.random() < 0.5
            revised = dataclasses.replace(moved, status="deleted" if retire else "active")
            lexical = None if retire else (moved.text, _text(rng))
            writer.add([], revisions=[Revision(revised, "source_deleted", lexical=lexical)])
            stored[moved.id] = revised
        elif action == "late":
            pending = writer.unembedded("default", None, 10)
            if pending:
                writer.set_vectors("default", {u.id: vec(rng.randrange(50)) for u in pending})
        else:
            user = rng.choice(USERS)
            writer.forget("default", user)
            stored = {i: u for i, u in stored.items() if u.scope.user_id != user}
        fresh = SQLiteStore(path)
        try:
            assert _answers(reader, step) == _answers(fresh, step), f"step {step}: {action}"
        finally:
            fresh.close()
    writer.close()
    reader.close()
