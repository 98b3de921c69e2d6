"""One store and one embedder shared by every tenant a server process serves.

A server answers many tenants from one database: each request gets the ``Memory`` of its tenant,
built once over the shared store, embedder and tokenizer, so no tenant pays a model load and no
request can name a tenant other than the one its API key maps to.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import TYPE_CHECKING

from ..embedders import Embedder, load_embedder
from ..errors import AuthError
from ..guard.policy import PersonalData, policy_of
from ..lifecycle.decay import Decay
from ..memory import Memory
from ..model import DEFAULT_TENANT, Scope
from ..storage import Store, UnitFilter, open_store
from ..tokens import BundledTokenCounter, TokenCounter

if TYPE_CHECKING:
    from ..llms.base import LLMClient, LLMSettings


class Tenants:
    """The ``Memory`` of each tenant over one shared store; keys map callers to tenants.

    With no API keys configured every caller is in the default tenant (one machine, one team).
    """

    def __init__(
        self,
        store: Store,
        *,
        embedder: Embedder | None = None,
        api_keys: dict[str, str] | None = None,
        token_counter: TokenCounter | None = None,
        llm: LLMClient | None = None,
        defer_embedding: bool = False,
        personal_data: dict[str, PersonalData] | None = None,
        decay: Decay | None = None,
    ) -> None:
        self.store = store
        #: How fast memory fades when a tenant's ``maintain`` runs (``lifecycle.decay``).
        self.decay = decay
        self.defer_embedding = defer_embedding
        #: Each tenant's personal data policy, ``*`` for the others (``guard.policy``).
        self.personal_data = personal_data or {}
        self.embedder = embedder or load_embedder("wordllama")
        self.tokens = token_counter or BundledTokenCounter()
        # Only digests are kept: every lookup then compares equal-length values (see tenant_for).
        self._keys = tuple((_digest(key), tenant) for key, tenant in (api_keys or {}).items())
        self.llm = llm
        self._memories: dict[str, Memory] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, location: str, *, api_keys: dict[str, str] | None = None, llm: LLMSettings | None = None
    ) -> Tenants:
        """Open the store at ``location`` (a path or ``postgresql://`` URL) with the configured
        embedder (``EIDETICA_EMBEDDER``), in the background with ``EIDETICA_DEFER_EMBEDDING``, each
        tenant's personal data policy from ``EIDETICA_PERSONAL_DATA``, decay from
        ``EIDETICA_DECAY``; with ``llm`` settings, ``answer`` uses that chat model."""
        from ..config import decay, defer_embedding, embedder_name, personal_data

        client = None
        if llm is not None:
            from ..llms.openai import OpenAICompatibleClient

            client = OpenAICompatibleClient(llm)
        embedder = load_embedder(embedder_name())
        return cls(
            open_store(location),
            embedder=embedder,
            api_keys=api_keys,
            llm=client,
            defer_embedding=defer_embedding(),
            personal_data=personal_data(),
            decay=decay(),
        )

    @property
    def requires_key(self) -> bool:
        """Whether callers must bring an API key (the server was given some)."""
        return bool(self._keys)

    def tenant_for(self, api_key: str | None) -> str:
        """The tenant an API key belongs to; AuthError when keys are configured and this one is not.

        The key's digest is compared with every configured key's, in constant time and without
        stopping at a match, so the time a lookup takes tells nothing about the keys (a dict
        lookup would end sooner for a key sharing a prefix, or a hash bucket, with a real one).
        """
        if not self._keys:
            return DEFAULT_TENANT
        if not api_key:
            raise AuthError("this server needs an API key: send 'Authorization: Bearer <key>'")
        digest = _digest(api_key)
        found: str | None = None
        for known, tenant in self._keys:
            if hmac.compare_digest(known, digest):
                found = tenant
        if found is None:
            raise AuthError("unknown API key: check the key, or ask the server's operator for one")
        return found

    def memory(self, tenant: str) -> Memory:
        """The tenant's ``Memory`` over the shared store (built on first use)."""
        with self._lock:
            memory = self._memories.get(tenant)
            if memory is None:
                memory = Memory(
                    store=self.store,
                    embedder=self.embedder,
                    token_counter=self.tokens,
                    tenant=tenant,
                    llm=self.llm,
                    defer_embedding=self.defer_embedding,
                    personal_data=policy_of(tenant, self.personal_data),
                    decay=self.decay,
                )
                self._memories[tenant] = memory
            return memory

    def check(self) -> None:
        """Ask the store a cheap question; StoreError (or another error) when it cannot answer."""
        self.store.count(UnitFilter(Scope()))

    def close(self) -> None:
        """Stop every tenant's background embedder and close the shared store; every tenant's
        ``Memory`` is unusable afterwards."""
        with self._lock:
            for memory in self._memories.values():
                memory.stop_background()
        self.store.close()


def _digest(api_key: str) -> bytes:
    """A fixed-length digest of a key, so comparisons never depend on the key's length."""
    return hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).digest()
