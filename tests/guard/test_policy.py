"""Each tenant's policy decides what memory does with personal data: keep, mask what a model
reads, store it redacted, or refuse the message. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eidetica import Memory
from eidetica.config import personal_data
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.errors import InputFormatError, UsageError
from eidetica.guard.policy import PersonalData, policy_of, tenant_policies
from eidetica.server.tenants import Tenants
from eidetica.storage import Store, open_store

from ..postgres_server import BACKENDS, store_location

SAID = "My card is 4111 1111 1111 1111 and my email is ana.lima@example.org, call me on Fridays."


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend = open_store(store_location(request, tmp_path / "m.db"))
    yield backend
    backend.close()


def memory(store: Store, embedder: WordLlamaEmbedder, policy: PersonalData, tenant: str = "t") -> Memory:
    return Memory(store=store, embedder=embedder, personal_data=policy, tenant=tenant)


def test_mask_keeps_what_was_said_but_shows_a_model_only_its_kind(
    store: Store, embedder: WordLlamaEmbedder
) -> None:
    mem = memory(store, embedder, "mask")
    added = mem.add([{"role": "user", "content": SAID, "name": "Ana"}], user_id="ana")
    assert mem.get(added.turns[0].id, user_id="ana").text == SAID  # the owner's record is whole
    context = mem.context("What is Ana's card number and email?", user_id="ana").text
    assert "[card]" in context and "[email]" in context
    assert "4111" not in context and "ana.lima" not in context


def test_redact_never_stores_the_values(store: Store, embedder: WordLlamaEmbedder) -> None:
    mem = memory(store, embedder, "redact")
    mem.add([{"role": "user", "content": SAID, "name": "Ana"}], user_id="ana")
    texts = [u.text for u in mem.list(user_id="ana", limit=None)]
    assert texts and not any("4111" in t or "ana.lima" in t for t in texts)
    assert any("[card]" in t for t in texts)


def test_refuse_stores_nothing_of_the_add_and_names_only_the_kinds(
    store: Store, embedder: WordLlamaEmbedder
) -> None:
    mem = memory(store, embedder, "refuse")
    with pytest.raises(InputFormatError, match=r"message 2 holds personal data \(card, email\)") as raised:
        mem.add([{"content": "I moved to Lisbon."}, {"content": SAID}], user_id="ana")
    assert "4111" not in str(raised.value)
    assert mem.list(user_id="ana", limit=None) == []  # not even the harmless first message
    mem.add("I moved to Lisbon.", user_id="ana")
    assert len(mem.list(user_id="ana", kinds=["turn"], limit=None)) == 1


def test_keep_is_the_default(store: Store, embedder: WordLlamaEmbedder) -> None:
    mem = Memory(store=store, embedder=embedder)
    mem.add([{"role": "user", "content": SAID, "name": "Ana"}], user_id="ana")
    assert "4111 1111 1111 1111" in mem.context("What is Ana's card number?", user_id="ana").text


def test_policies_per_tenant_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, store: Store, embedder: WordLlamaEmbedder
) -> None:
    monkeypatch.setenv("EIDETICA_PERSONAL_DATA", "acme=redact, globex=refuse, *=mask")
    policies = personal_data()
    assert policies == {"acme": "redact", "globex": "refuse", "*": "mask"}
    tenants = Tenants(store, embedder=embedder, personal_data=policies)
    assert [tenants.memory(t).personal_data for t in ("acme", "globex", "initech")] == [
        "redact",
        "refuse",
        "mask",
    ]
    assert tenant_policies("mask") == {"*": "mask"} and policy_of("x", {}) == "keep"
    monkeypatch.setenv("EIDETICA_PERSONAL_DATA", "acme=shred")
    with pytest.raises(UsageError, match="EIDETICA_PERSONAL_DATA: unknown personal data policy 'shred'"):
        personal_data()
