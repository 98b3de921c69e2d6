"""``Memory``: the one object users touch to write, search and manage long-term memory."""

from __future__ import annotations

import builtins
import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from . import model
from .api import (
    DEFAULT_ANSWER_BUDGET,
    DEFAULT_CONTEXT_BUDGET,
    DEFAULT_ENTITY_LIMIT,
    DEFAULT_K,
    DEFAULT_LIST_LIMIT,
    DEFAULT_SUMMARY_BUDGET,
    MemoryAPI,
)
from .background import BackgroundEmbedder
from .dates import parse_moment, parse_timestamp
from .embedders import Embedder, load_embedder
from .errors import DuplicateTurnError, LLMError, UsageError
from .graph.entities import entities, entity_card
from .graph.profile import profile
from .graph.related import related as related_units
from .graph.summary import session_summary
from .guard.flood import said_before
from .guard.lessons import MAX_LESSONS, learned
from .guard.policy import PersonalData, check_policy, for_reading, for_writing
from .guard.quarantine import (
    QUARANTINE,
    flagged_as_their_turns,
    held_apart,
    held_reasons,
    quarantined,
    reviewed,
    screen,
    turns_of_held,
)
from .ingest.base import Extractor
from .ingest.extract import RuleExtractor
from .ingest.formats import from_messages, read_file
from .ingest.importing import owned_by, store_batches
from .ingest.index_texts import embed_text, lexical_text, preceding_texts
from .ingest.names import is_role_label, name_user_turns
from .ingest.reconcile import Reconciler, ask, plan, reconcile
from .ingest.write import derive, new_turns, rows_to_store, turn_unit
from .lifecycle.decay import Decay
from .lifecycle.lineage import close, closed_turns, source_closures, turn_closures, turn_deletion
from .lifecycle.maintain import maintain, restored
from .lifecycle.rebuild import plan_rebuild
from .lifecycle.recalls import Recalls
from .lifecycle.transfer import (
    ExportReport,
    export_records,
    import_export,
    is_export,
    read_export,
    write_export,
    write_graph,
)
from .lifecycle.vectors import MissingVectors
from .limits import (
    MAX_BUDGET_TOKENS,
    MAX_K,
    MAX_LIMIT,
    MAX_OFFSET,
    check_count,
    check_flag,
    check_id,
    check_metadata,
    check_query,
    check_text,
)
from .metadata import check_filter, check_tags
from .metadata import updated as updated_metadata
from .model import DEFAULT_TENANT, DEFAULT_USER, DERIVED_KINDS, ENTITY_KINDS, Scope, TurnInput
from .retrieve.base import Retriever
from .retrieve.confidence import related
from .retrieve.hybrid import HybridRetriever
from .retrieve.overtaken import as_shown
from .retrieve.pack import pack, text_key
from .storage import NewVersion, Replacement, Revision, Store, UnitFilter, open_store
from .storage.base import embedder_mismatch
from .tokens import BundledTokenCounter, TokenCounter

if TYPE_CHECKING:
    from .llms.base import LLMClient

log = logging.getLogger("eidetica")
#: How the warning of an add whose extraction failed begins (its turns are stored).
EXTRACTION_FAILED = "extraction failed"
#: Marks a log record whose message the caller also gets in a result's warnings.
REPORTED = {"reported": True}

T = TypeVar("T")
#: Turns written per transaction by ``import_file``: a killed import keeps every finished batch.
#: Within ``limits.MAX_MESSAGES``, the most one ``add`` takes (a test holds it there).
IMPORT_BATCH = 500
#: Adds again after a concurrent writer stored the same turn ids first (each retry skips more).
DUPLICATE_RETRIES = 3


class Memory(MemoryAPI):
    """Long-term memory over one store: ``Memory("memory.db")`` or ``Memory(store=..., embedder=...)``.

    Every ``add`` stores the turns verbatim, derives facts and events from them (rules by default),
    embeds everything, and commits it all in one transaction. ``location`` may also be a
    ``postgresql://`` URL. Every read and write stays inside ``tenant``, even when many tenants'
    ``Memory`` objects share one store.

    ``defer_embedding=True`` moves embedding out of ``add`` into a background thread, for slow
    embedders (MiniLM, a remote endpoint): an add returns once its text is stored and searchable by
    words, and its vectors follow (``wait_for_embeddings`` blocks until they have).

    ``personal_data`` is what happens to emails, card numbers, API keys and the like
    (``guard.policy``): ``keep`` them, ``mask`` them in what a model reads, store them ``redact``-ed,
    or ``refuse`` the message.

    ``decay`` is how fast unused units fade when ``maintain`` runs (``lifecycle.decay``); reads
    count as uses (``lifecycle.recalls``).
    """

    def __init__(
        self,
        location: str | Path | None = None,
        *,
        store: Store | None = None,
        embedder: Embedder | str | None = None,
        extractor: Extractor | None = None,
        reconciler: Reconciler | None = None,
        token_counter: TokenCounter | None = None,
        retriever: Retriever | None = None,
        tenant: str = DEFAULT_TENANT,
        llm: LLMClient | None = None,
        defer_embedding: bool = False,
        personal_data: PersonalData = "keep",
        decay: Decay | None = None,
    ) -> None:
        if store is not None and location is not None:
            raise UsageError("pass either a location or a store, not both")
        self.tenant = check_id("tenant", tenant)
        if store is None:
            if location is None:
                from .config import default_db_path

                location = default_db_path()
            store = open_store(location)
        self.store = store
        if embedder is None or isinstance(embedder, str):
            embedder = self._load_embedder(embedder or "wordllama")
        self.embedder = embedder
        self.extractor: Extractor = extractor or RuleExtractor()
        self.reconciler = reconciler  # e.g. LLMReconciler: adds what the rules cannot see
        self.tokens: TokenCounter = token_counter or BundledTokenCounter()
        self.retriever: Retriever = retriever or HybridRetriever()
        self.llm = llm
        #: What ``add`` stores and ``context`` shows of personal data (``guard.policy``).
        self.personal_data = check_policy(personal_data)
        #: How fast unused units fade when ``maintain`` runs (``lifecycle.decay``).
        self.decay = decay or Decay()
        try:
            self.store.check_embedder(embedder.name, embedder.dim)
        except BaseException:
            self.store.close()
            raise
        self._user_names: dict[tuple[str, str], str | None] = {}  # (tenant, user) -> the user's name
        self._missing = MissingVectors(self.store, self.embedder, self.tenant)
        self._recalls = Recalls(self.store)
        self._background = (
            BackgroundEmbedder(lambda: sum(self._missing.embed_batch(None))) if defer_embedding else None
        )

    def _load_embedder(self, name: str) -> Embedder:
        """Load the embedder ``name`` unless the store holds another's vectors: refusing first
        spares loading a model (seconds, for MiniLM) only to refuse it."""
        stored = self.store.stored_embedder()
        if stored is not None and stored.split("/", 1)[0] != name:
            self.store.close()
            raise embedder_mismatch("the store", stored, name)
        return load_embedder(name)

    # -- writing ------------------------------------------------------------------------------

    def add(
        self,
        messages: str | dict[str, Any] | Sequence[dict[str, Any]],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        timestamp: datetime | str | float | None = None,
        infer: bool = True,
        user_name: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> model.AddResult:
        """Store messages verbatim and derive memory units from them, in one transaction.

        ``messages`` is a text, an OpenAI-style message dict, or a list of them (``role``,
        ``content``, optional ``name``, ``id``, ``timestamp``, ``metadata``). Messages whose ``id``
        is already stored for this user are skipped and listed in ``skipped_refs``.

        User messages without a ``name`` are said by the user: they take ``user_name`` when given,
        else the name the user gave earlier ("I'm Sam", learned and kept with the turns), else
        they read as "the user" ("The user lives in Paris.").

        ``metadata`` tags every message of the call (a message's own ``metadata`` wins key by key);
        the facts and events derived from a message carry its tags, so reads can filter on them
        (``search(..., metadata=...)``). Keys Eidetica keeps itself (``metadata.SYSTEM_KEYS``) are
        refused.

        ``eidetica.limits`` bounds what one add takes: ``MAX_MESSAGES`` messages, each text up to
        ``MAX_TURN_CHARS`` characters, times in the years ``MIN_YEAR`` to ``MAX_YEAR`` (UTC).
        """
        when = None if timestamp is None else parse_timestamp(timestamp)
        session = None if session_id is None else check_id("session_id", session_id)
        name = None if user_name is None else check_id("user_name", user_name)
        turns = from_messages(messages, session_id=session, timestamp=when)
        if metadata:
            tags = check_tags("metadata", metadata)
            turns = [dataclasses.replace(t, metadata={**tags, **t.metadata}) for t in turns]
        return self._store_turns(turns, self._scope(user_id, agent_id), infer=infer, user_name=name)

    def import_file(
        self,
        path: str | Path,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        format: str | None = None,
        skip_invalid: bool = False,
        infer: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> model.ImportReport:
        """Import a JSONL, JSON messages, LoCoMo or text file.

        The whole file is validated first: a bad line raises ``InputFormatError`` naming it and
        nothing is stored (or, with ``skip_invalid``, bad lines are reported and the rest stored).
        Turns are written in batches of ``IMPORT_BATCH``, each its own transaction; re-running an
        interrupted import skips the turns already stored (by their id or, without one, a hash of
        their content: the same file renamed imports nothing twice).

        An export (``export``) is read back as it was written: every unit with its id, status and
        history, as the memory of ``user_id`` (else of the user it was exported from); units the
        store holds already are skipped (``skipped_refs`` counts them).
        """
        if format == "export" or (format is None and is_export(Path(path))):
            header, units = read_export(Path(path))
            owner = self._scope(user_id if user_id is not None else str(header["user_id"]), agent_id)
            return import_export(self.store, self.embedder, owner, units, progress)
        parsed = owned_by(read_file(Path(path), format=format, skip_invalid=skip_invalid), user_id)
        scope = self._scope(user_id, agent_id)
        batches = (parsed.turns[i : i + IMPORT_BATCH] for i in range(0, len(parsed.turns), IMPORT_BATCH))
        return store_batches(
            parsed, batches, lambda batch: self._store_turns(batch, scope, infer=infer), progress
        )

    def _store_turns(
        self, turns: Sequence[TurnInput], scope: Scope, *, infer: bool, user_name: str | None = None
    ) -> model.AddResult:
        """Store turns (and what they yield); when another writer stored some of the same turn ids
        between our check and our write, the write was rolled back whole: add again, skipping them."""
        turns = for_writing(turns, self.personal_data)
        for _attempt in range(DUPLICATE_RETRIES):
            try:
                return self._store_turns_once(turns, scope, infer=infer, user_name=user_name)
            except DuplicateTurnError:
                continue
        return self._store_turns_once(turns, scope, infer=infer, user_name=user_name)

    def _store_turns_once(
        self, turns: Sequence[TurnInput], scope: Scope, *, infer: bool, user_name: str | None = None
    ) -> model.AddResult:
        now = datetime.now(UTC)
        before: dict[str, str] = {}
        stored_turns: list[model.MemoryUnit] = []
        stored_derived: list[model.MemoryUnit] = []
        revisions: list[Revision] = []
        skipped: list[str] = []
        warnings: list[str] = []
        owners: list[Scope] = []
        lessons = self.store.lessons(self.tenant, MAX_LESSONS)
        for owner, owned in _group(turns, key=lambda t: t.user_id or scope.user_id).items():
            owner_scope = dataclasses.replace(scope, user_id=check_id("user_id", owner))
            fresh = new_turns(
                self.store, owner_scope, self._name_user(owner_scope, owned, user_name), skipped
            )
            derived: list[model.MemoryUnit] = []
            owner_turns: list[model.MemoryUnit] = []
            for _session, session_turns in _group(fresh, key=lambda t: t.session_id).items():
                anchored = [dataclasses.replace(t, timestamp=t.timestamp or now) for t in session_turns]
                units = [turn_unit(t, owner_scope, now) for t in anchored]
                before.update(preceding_texts(units))
                owner_turns.extend(units)
                if infer:
                    derived.extend(self._derive_or_warn(anchored, units, now, warnings))
            # What looks like an attack is kept but quarantined, and replaces nothing.
            owner_turns, derived = screen(
                owner_turns, derived, now, lessons, said_before(self.store, owner_scope, QUARANTINE)
            )
            clean, held = held_apart(derived)
            reconciled = plan(self.store, owner_scope, clean, self.reconciler, owner_turns)
            # A message is held with what it said that was held (a contradiction of the user).
            owner_turns = turns_of_held(owner_turns, reconciled.new, now)
            # Turns whose statements stopped holding are closed too: their own, or stored ones.
            closing = closed_turns(reconciled.new + [r.unit for r in reconciled.revisions])
            stored_turns.extend(close(t, closing.pop(t.id)) if t.id in closing else t for t in owner_turns)
            stored_derived.extend(reconciled.new + held)
            revisions.extend(reconciled.revisions)
            revisions.extend(turn_closures(self.store, owner_scope, closing))
            owners.append(owner_scope)
        if stored_turns or revisions:
            rows = rows_to_store(
                self.embedder, stored_turns + stored_derived, before, warnings, embed=self._background is None
            )
            self.store.add(rows, revisions=revisions)
            if self._background is not None:
                self._background.notify()
            elif all(row.vector is not None for row in rows):
                self._missing.catch_up(owners)
        return model.AddResult(
            turns=stored_turns,
            derived=stored_derived,
            skipped_refs=skipped,
            revised=[r.unit for r in revisions],
            warnings=warnings,
        )

    def _derive_or_warn(
        self, turns: list[TurnInput], units: list[model.MemoryUnit], now: datetime, warnings: list[str]
    ) -> list[model.MemoryUnit]:
        """Derive units; when the LLM endpoint fails, keep the turns and say so instead of failing."""
        try:
            return derive(self.extractor, turns, units, now, warnings)
        except LLMError as exc:
            # The details (an endpoint's address) go to the log; the caller gets the warning.
            log.warning("extraction failed, turns stored without derived units: %s", exc, extra=REPORTED)
            warnings.append(
                f"{EXTRACTION_FAILED} ({type(exc).__name__}, logged), turns stored without derived "
                "units; run rebuild later"
            )
            return []

    def wait_for_embeddings(self, timeout: float | None = None) -> bool:
        """With ``defer_embedding``, block until every unit added so far has its vector (or was
        set aside as one the embedder refuses, see ``lifecycle.vectors``); False if ``timeout``
        seconds passed first. Without it, there is never anything to wait for."""
        return True if self._background is None else self._background.wait(timeout)

    def embed_missing(self, *, user_id: str | None = None) -> int:
        """Embed the user's units stored while the embedder failed; return how many. Units the
        embedder refused before are tried again too."""
        self._missing.refused.clear()
        return self._missing.embed_all(self._scope(user_id, None).user_id)

    def _name_user(self, scope: Scope, turns: list[TurnInput], given: str | None) -> list[TurnInput]:
        """The user's unnamed turns with the user's name: ``given``, else the one the user's stored
        turns carry, else one the turns introduce ("I'm Sam"), remembered for the next adds."""
        if not any(
            t.role in (None, "user") and (t.speaker is None or is_role_label(t.speaker)) for t in turns
        ):
            return turns
        key = (scope.tenant, scope.user_id)
        if key not in self._user_names:  # looked up once: the user's stored turns carry the name
            owner = Scope(user_id=scope.user_id, tenant=scope.tenant)
            names = {
                s for s in self.store.speakers(UnitFilter(owner, roles=("user",))) if not is_role_label(s)
            }
            self._user_names[key] = names.pop() if len(names) == 1 else None
        named, learned = name_user_turns(turns, given or self._user_names[key])
        if learned is not None:
            self._user_names[key] = learned
        return named

    def rebuild(self, *, user_id: str | None = None) -> int:
        """Derive the user's facts and events again from the stored turns; return how many there
        are now (active ones).

        Turns stored while the embedder failed are embedded first. What the user did survives:
        a unit extracted again keeps its id, versions and history; an edited unit keeps its edit
        and a deleted one stays deleted; only untouched units nothing produces any more go, and
        new extractions are reconciled against what stays (with the ``reconciler``, if any).
        Everything is derived and embedded before one transaction swaps it in: an extractor or
        embedder that fails, or a process killed half way, leaves the old units as they were.
        Turns never change.
        """
        scope = self._scope(user_id, None)
        self._missing.embed_all(scope.user_id)  # turns stored while the embedder failed
        turns = self.store.list_units(UnitFilter(scope, kinds=("turn",), include_archived=True))
        derived: list[model.MemoryUnit] = []
        before: dict[str, str] = {}
        for _session, units in _group(turns, key=lambda u: u.scope.session_id).items():
            before.update(preceding_texts(units))
            inputs = [
                TurnInput(
                    content=u.text,
                    speaker=u.speaker,
                    role=u.role,
                    timestamp=u.occurred_at,
                    session_id=u.scope.session_id,
                    ref=u.ref,
                )
                for u in units
            ]
            derived += derive(self.extractor, inputs, units, datetime.now(UTC))
        read = {u.id for u in turns}
        stored = [
            u
            for u in self.store.list_units(UnitFilter(scope, kinds=DERIVED_KINDS, include_deleted=True))
            if read.issuperset(u.derived_from)  # not from turns an add stored after we read
        ]
        kept = plan_rebuild(stored, derived)
        # What comes from a message waiting for review waits with it, and replaces nothing.
        new = flagged_as_their_turns(kept.new, held_reasons(turns), datetime.now(UTC))
        fresh, held = held_apart(new)
        reconciled = reconcile(kept.current, fresh, ask(self.reconciler, kept.current, fresh), turns)
        closing = closed_turns(reconciled.new + [r.unit for r in reconciled.revisions])
        replacement = Replacement(
            rows_to_store(self.embedder, reconciled.new + held, before),
            drop={u.id for u in stored} - {u.id for u in kept.keep},
            revisions=reconciled.revisions + turn_closures(self.store, scope, closing),
        )
        self.store.replace_derived(scope, replacement)
        return sum(u.status == "active" for u in kept.keep) + len(reconciled.new) + len(held)

    def export(
        self,
        out: TextIO,
        *,
        user_id: str | None = None,
        graph: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> ExportReport:
        """Write the user's whole memory to ``out`` as JSON Lines (``lifecycle.transfer``): every
        unit, deleted and archived ones too, with its history, then the entities and relations;
        ``import_file`` reads it back as it was. ``graph`` writes GraphML instead (entities,
        facts and events, and the edges between them: ``graph.graphml``), for a graph tool."""
        records = export_records(self.store, self._scope(user_id, None), self.embedder.name, progress)
        return (write_graph if graph else write_export)(records, out)

    # -- reading ------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        k: int = DEFAULT_K,
        kinds: Iterable[model.UnitKind] | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        as_of: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
        include_archived: bool = False,
    ) -> list[model.Hit]:
        """Return up to ``k`` units that best answer ``query``, best first, within one user.

        Current units rank before the ones a newer statement superseded. ``as_of`` asks what
        memory held at that time instead: only units already true then and not yet superseded.
        ``metadata`` keeps only units tagged with each of its keys and an equal value.
        ``include_archived`` searches the units that faded too (``maintain``).
        """
        check_query("query", query)
        check_count("k", k, maximum=MAX_K)
        where = self._filter(
            user_id, agent_id, session_id, kinds, since, until, metadata, include_archived, as_of
        )
        hits = self.retriever.retrieve(self.store, self.embedder, query, where, k)
        if where.as_of is not None:  # what a newer statement had probably replaced by then
            hits = [h for h in hits if h.overtaken_by is None]
        self._recalls.note([h.unit for h in hits], datetime.now(UTC))
        return hits

    def context(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        budget_tokens: int = DEFAULT_CONTEXT_BUDGET,
        as_of: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
        include_archived: bool = False,
    ) -> model.Context:
        """Pack the best evidence for ``query`` into ``budget_tokens``, without duplicates.

        When the user's whole history fits the budget it is returned entire, in time order:
        cheaper and more complete than ranking. When no stored unit matches the question
        confidently (``Hit.confident``), the context is empty and ``abstained``, with a reason.
        ``as_of`` packs what memory held at that time, as it held it: what was true then reads
        as current, even if it has changed since. ``include_archived`` reads the units that
        faded too (``maintain``).
        """
        check_query("query", query)
        check_count("budget_tokens", budget_tokens, maximum=MAX_BUDGET_TOKENS)
        where = self._filter(
            user_id, agent_id, session_id, None, None, None, metadata, include_archived, as_of
        )
        packed = self._packed(query, where, budget_tokens)
        # What is packed is recalled (the candidates that did not fit were not).
        self._recalls.note([h.unit for h in packed.hits], datetime.now(UTC))
        return packed

    def _packed(self, query: str, where: UnitFilter, budget_tokens: int) -> model.Context:
        moment = where.as_of
        # Enough candidates to fill the budget with short lines, no more: each one is loaded.
        depth = min(max(budget_tokens // 10, 20), 200)
        hits = as_shown(
            [
                dataclasses.replace(h, unit=for_reading(h.unit.held_at(moment), self.personal_data))
                for h in self.retriever.retrieve(self.store, self.embedder, query, where, depth)
            ]
        )
        # A small history goes whole unless nothing in it is related to the question at all: the
        # model reading it tells a kitten from pets better than coverage and cosine can.
        whole = self._whole_history(where, budget_tokens)
        if whole and any(related(h) for h in hits):
            scored = {h.id: h for h in hits}
            shown = [
                scored.get(u.id) or model.Hit(for_reading(u, self.personal_data), 0.0, {}) for u in whole
            ]
            packed = pack(shown, self.tokens, budget_tokens)
            # Measured by the packer itself, so "fits" means exactly what the context holds
            # (a turn repeating another's text word for word is packed once).
            if {text_key(h.unit) for h in packed.hits} == {text_key(u) for u in whole}:
                return packed
        if not any(h.confident for h in hits):
            reason = (
                "no stored memory matches the question" if hits else "nothing is stored in this scope yet"
            )
            return model.Context(
                text="", hits=[], tokens=0, budget_tokens=budget_tokens, abstained=True, reason=reason
            )
        return pack(hits, self.tokens, budget_tokens)

    def answer(
        self,
        question: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        budget_tokens: int = DEFAULT_ANSWER_BUDGET,
        as_of: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> model.Answer:
        """Answer from memory with the configured LLM, citing the units (and turns) it used.

        The model sees only ``context(question, budget_tokens=..., as_of=...)``; it abstains
        ("not mentioned") when that holds no evidence.
        """
        check_query("question", question)
        if self.llm is None:
            raise UsageError(
                "answer needs an LLM: pass Memory(llm=...) or, on the command line and servers, set "
                "EIDETICA_LLM_BASE_URL and EIDETICA_LLM_MODEL"
            )
        from .llms.answer import answer_question

        found = self.context(
            question,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            budget_tokens=budget_tokens,
            as_of=as_of,
            metadata=metadata,
        )
        return answer_question(self.llm, question, found)

    def _whole_history(self, reading: UnitFilter, budget: int) -> builtins.list[model.MemoryUnit] | None:
        """Every turn ``reading`` selects, and the current units that stand for turns no longer
        holding (a corrected fact, say), or None when that cannot fit ``budget`` (or the retriever
        never packs it); with ``as_of``, as memory held them then."""
        if not self.retriever.packs_whole_history:
            return None
        where = dataclasses.replace(reading, kinds=("turn",))
        as_of = where.as_of
        # Each line costs at least a few tokens: more turns than this cannot fit.
        if self.store.count(where, at_most=budget // 4 + 1) > budget // 4:
            return None
        turns = [t.held_at(as_of) for t in self.store.list_units(where) if not quarantined(t)]
        past = {t.id for t in turns if t.valid_to is not None}
        if not past:
            return turns
        derived = self.store.list_units(dataclasses.replace(where, kinds=DERIVED_KINDS))
        return turns + [
            u for u in derived if u.valid_to is None and set(u.derived_from) <= past and not quarantined(u)
        ]

    def get(self, unit_id: str, *, user_id: str | None = None) -> model.MemoryUnit:
        """Return one unit by id (deleted ones too, with ``status == "deleted"``)."""
        unit_id = check_id("unit_id", unit_id)
        return self.store.get(unit_id, tenant=self.tenant, user_id=self._user_or_none(user_id))

    def list(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        kinds: Iterable[model.UnitKind] | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        derived_from: str | None = None,
        include_deleted: bool = False,
        limit: int | None = DEFAULT_LIST_LIMIT,
        offset: int = 0,
        metadata: dict[str, Any] | None = None,
        include_archived: bool = False,
    ) -> list[model.MemoryUnit]:
        """Return the user's active units in time order, to browse them.

        ``since`` and ``until`` keep what happened in that range as ``search`` reads them (from
        ``since`` on, before ``until``; undated units, such as facts, are then left out);
        ``derived_from`` keeps the units drawn from that unit (the facts and events of a turn);
        ``metadata`` keeps the units tagged so. ``include_deleted`` adds the deleted units, with
        ``status`` "deleted", so that a deletion can be reviewed; ``include_archived`` the units
        that faded (``maintain``), with ``status`` "archived".
        """
        if limit is not None:
            check_count("limit", limit, maximum=MAX_LIMIT, minimum=0, fix="; page with offset")
        check_count("offset", offset, maximum=MAX_OFFSET, minimum=0)
        where = self._filter(user_id, agent_id, session_id, kinds, since, until, metadata, include_archived)
        if derived_from is not None:
            where = dataclasses.replace(where, derived_from=check_id("derived_from", derived_from))
        where = dataclasses.replace(where, include_deleted=include_deleted)
        return self.store.list_units(where, limit=limit, offset=offset)

    def update(
        self,
        unit_id: str,
        text: str,
        *,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> model.MemoryUnit:
        """Give a derived unit a new text; the old version stays in ``history``.

        Turns are the verbatim record and never change: add a correction instead. ``metadata``
        replaces the caller's tags; the keys Eidetica keeps itself stay as they are.
        """
        unit_id = check_id("unit_id", unit_id)
        check_text("text", text, fix=", as for a turn")  # the very checks every added turn passes
        given = None if metadata is None else check_metadata("metadata", metadata)
        owner = self._user_or_none(user_id)
        current = self.store.get(unit_id, tenant=self.tenant, user_id=owner)
        if current.kind == "turn":
            raise UsageError(
                f"unit {unit_id} is a verbatim turn and is never changed; add a correction instead"
            )
        changed = dataclasses.replace(current, text=text)
        edited = NewVersion(
            unit_id,
            text,
            self.embedder.embed([embed_text(changed)])[0],
            lexical_text(changed),
            None if given is None else updated_metadata(given, current.metadata),
        )
        # The turns it came from say what the correction replaced: they now read as past.
        closed = source_closures(self.store, current, datetime.now(UTC))
        return self.store.update(edited, tenant=self.tenant, user_id=owner, revisions=closed)

    def delete(self, unit_id: str, *, user_id: str | None = None) -> model.MemoryUnit:
        """Hide a unit from every read; the deletion is recorded in its ``history``.

        Deleting a turn retires what was derived from it alone (recorded in their history) and
        takes its words out of every index; deleting a derived unit marks the turns it came from
        as past, so its statement is not shown as current through them.
        """
        unit_id = check_id("unit_id", unit_id)
        owner = self._user_or_none(user_id)
        current = self.store.get(unit_id, tenant=self.tenant, user_id=owner)
        if current.status == "deleted":
            return current
        if current.kind == "turn":
            revisions = turn_deletion(self.store, current)
        else:
            revisions = source_closures(self.store, current, datetime.now(UTC))
        return self.store.delete(unit_id, tenant=self.tenant, user_id=owner, revisions=revisions)

    def history(self, unit_id: str, *, user_id: str | None = None) -> builtins.list[model.HistoryEntry]:
        """Every version of a unit, oldest first: its adds, updates and deletion."""
        unit_id = check_id("unit_id", unit_id)
        return self.store.history(unit_id, tenant=self.tenant, user_id=self._user_or_none(user_id))

    def entities(
        self,
        *,
        user_id: str | None = None,
        kind: model.EntityKind | None = None,
        limit: int | None = DEFAULT_ENTITY_LIMIT,
    ) -> builtins.list[model.Entity]:
        """The people, pets, places, organisations and other things the user's facts and events
        mention, most mentioned first (``graph.entities``); ``kind`` keeps one kind."""
        if kind is not None and kind not in ENTITY_KINDS:
            raise UsageError(f"unknown entity kind {kind!r}: use {', '.join(ENTITY_KINDS)}")
        if limit is not None:
            check_count("limit", limit, maximum=MAX_LIMIT, minimum=0)
        found = [e for e in entities(self.store, self._mentions(user_id)) if kind in (None, e.kind)]
        return found[:limit]

    def entity(self, name: str, *, user_id: str | None = None) -> model.EntityCard:
        """What memory holds about one entity, by its name, key or an alias in any case: the
        facts and events that mention it (current facts first, then events newest first, then
        what no longer holds), the relations they state, and the entities mentioned with it.
        ``NotFoundError`` when the user's memory mentions no such entity."""
        return entity_card(self.store, self._mentions(user_id), check_query("name", name))

    def related(self, unit_id: str, *, user_id: str | None = None) -> builtins.list[model.Link]:
        """The active units linked to one unit (``graph.related``): the turns it came from, the
        units drawn from it, what it replaced or was replaced by, and units of the same user that
        mention the same entities (``via`` names the entity)."""
        unit = self.get(unit_id, user_id=user_id)
        return [link for link in related_units(self.store, unit) if not quarantined(link.unit)]

    def profile(self, *, user_id: str | None = None, name: str | None = None) -> model.Profile:
        """Who a person is, as memory holds it now (``graph.profile``): their current attributes,
        relationships, preferences and activities, each line quoting a unit with its sources.
        ``name`` says whom (a name, key or alias); without it, the person who speaks as the user.
        Superseded, corrected, deleted and held statements never appear. With an LLM configured,
        ``summary`` is the model's paragraph from the lines, when grounded in them."""
        named = None if name is None else check_query("name", name)
        return profile(self.store, self._mentions(user_id), named, self.tokens, self.llm)

    def summary(
        self, session_id: str, *, user_id: str | None = None, budget_tokens: int = DEFAULT_SUMMARY_BUDGET
    ) -> model.Summary:
        """What one session was about (``graph.summary``): its most central current facts and
        events, quoted in the order they were said under their day, within ``budget_tokens``;
        with an LLM configured, the model's summary of them, citing the ones it rests on (the
        quoted one when the model fails). ``NotFoundError`` when the user has no such session."""
        session_id = check_id("session_id", session_id)
        check_count("budget_tokens", budget_tokens, maximum=MAX_BUDGET_TOKENS)
        where = self._mentions(user_id)
        return session_summary(self.store, where, session_id, self.tokens, budget_tokens, self.llm)

    def _mentions(self, user_id: str | None) -> UnitFilter:
        """The facts and events memory's organisation reads: the user's, but those held for review."""
        where = self._filter(user_id, None, None, ("fact", "event"), None, None)
        return dataclasses.replace(where, without_flag=QUARANTINE)

    def maintain(
        self,
        *,
        user_id: str | None = None,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> model.MaintainReport:
        """Archive what has faded (``lifecycle.decay``, by ``self.decay``): of ``user_id``, or of
        every user of the tenant when None. Archived units are kept, with their history, out of
        every read unless ``include_archived=True``, and come back when said again or restored
        (``restore``); each archive is a version in ``history``. ``dry_run`` counts what would go
        and changes nothing; ``progress(done, total)`` follows the units examined."""
        check_flag("dry_run", dry_run)
        self._recalls.flush()  # today's reads count before anything fades
        users = [self._scope(user_id, None).user_id] if user_id is not None else self.store.users(self.tenant)
        now = datetime.now(UTC)
        return maintain(self.store, self.tenant, users, now, self.decay, dry_run=dry_run, progress=progress)

    def restore(self, unit_id: str, *, user_id: str | None = None) -> model.MemoryUnit:
        """Bring an archived unit back into every read; the restore is a version in its
        ``history``. ``UsageError`` when the unit is not archived."""
        unit_id = check_id("unit_id", unit_id)
        owner = self._user_or_none(user_id)
        current = self.store.get(unit_id, tenant=self.tenant, user_id=owner)
        self.store.add([], revisions=[restored(current)])
        after = self.store.get(unit_id, tenant=self.tenant, user_id=owner)
        if after.status != "active":
            raise UsageError(f"unit {unit_id} changed while it was restored; restore it again")
        return after

    def quarantined(self, *, user_id: str | None = None) -> builtins.list[model.MemoryUnit]:
        """Units held back for review, oldest first: messages that address the model or flood
        it, and what was derived from them (``guard.quarantine``). They are kept, and left out of
        ``search``, ``context`` and ``answer`` until ``review`` decides."""
        where = dataclasses.replace(self._filter(user_id, None, None, None, None, None), flagged=QUARANTINE)
        return [u for u in self.store.list_units(where) if quarantined(u)]

    def review(self, unit_id: str, *, approve: bool, user_id: str | None = None) -> model.MemoryUnit:
        """Decide on a quarantined unit, and on what was derived from it when it is a turn:
        ``approve`` brings it back into every read; otherwise it is rejected and deleted, and its
        words become a lesson (``guard.lessons``): later writes like it, to any user of the
        tenant, are held for review too. The decision, with the reasons it was held, is a version
        in its ``history``."""
        unit_id = check_id("unit_id", unit_id)
        owner = self._user_or_none(user_id)
        current = self.store.get(unit_id, tenant=self.tenant, user_id=owner)
        if current.status == "deleted" or not quarantined(current):
            raise UsageError(f"unit {unit_id} is not waiting for review; see quarantined()")
        now = datetime.now(UTC)
        with_it = [current]
        if current.kind == "turn":
            where = self._filter(current.scope.user_id, None, None, DERIVED_KINDS, None, None)
            with_it += [
                u
                for u in self.store.list_units(dataclasses.replace(where, derived_from=unit_id))
                if quarantined(u)
            ]
        vectors = self.embedder.embed([embed_text(u) for u in with_it])
        for unit, vector in zip(with_it, vectors, strict=True):
            self.store.update(
                NewVersion(
                    unit.id, unit.text, vector, lexical_text(unit), reviewed(unit, approve=approve, at=now)
                ),
                tenant=self.tenant,
                user_id=unit.scope.user_id,
            )
        if not approve:  # the turn first: deleting it retires what came from it alone
            for unit in with_it:
                self.delete(unit.id, user_id=unit.scope.user_id)
            lesson = learned(current, now)  # later writes like it are held too
            if lesson is not None:
                self.store.add_lesson(self.tenant, lesson)
        return self.store.get(unit_id, tenant=self.tenant, user_id=owner)

    def forget(self, *, user_id: str, compact: bool = False) -> int:
        """Erase everything of one user, derived units and history included, and their words
        from the store's files; return the count.

        ``compact`` also rewrites the storage, so that no freed bytes remain on PostgreSQL too (it
        locks the tables for every tenant meanwhile); docs/forget.md says what is guaranteed.
        """
        if user_id is None:
            raise UsageError("forget needs an explicit user_id")
        return self.store.forget(self.tenant, check_id("user_id", user_id), compact=compact)

    def users(self) -> builtins.list[str]:
        """The ids of the users with memories in this tenant, in order."""
        return self.store.users(self.tenant)

    def stats(self, *, user_id: str | None = None) -> model.Stats:
        """Unit counts for one user, or for the whole tenant when ``user_id`` is None."""
        return self.store.stats(self.tenant, None if user_id is None else check_id("user_id", user_id))

    def stop_background(self) -> None:
        """Stop the background embedder, if any, after the batch in hand; what it has not reached
        is embedded by the next one (a ``Memory`` opened later with ``defer_embedding``)."""
        if self._background is not None:
            self._background.close()

    def close(self) -> None:
        """Stop the background embedder, if any, write the recalls counted, and close the store."""
        self.stop_background()
        self._recalls.flush()
        self.store.close()

    # -- scope helpers ------------------------------------------------------------------------

    def _scope(self, user_id: str | None, agent_id: str | None) -> Scope:
        return Scope(
            user_id=DEFAULT_USER if user_id is None else check_id("user_id", user_id),
            tenant=self.tenant,
            agent_id=None if agent_id is None else check_id("agent_id", agent_id),
        )

    @staticmethod
    def _user_or_none(user_id: str | None) -> str | None:
        """A by-id operation's user: None lets it reach any user of this tenant, never another tenant."""
        return None if user_id is None else check_id("user_id", user_id)

    def _filter(
        self,
        user_id: str | None,
        agent_id: str | None,
        session_id: str | None,
        kinds: Iterable[model.UnitKind] | None,
        since: datetime | str | None,
        until: datetime | str | None,
        metadata: dict[str, Any] | None = None,
        include_archived: bool = False,
        as_of: datetime | str | None = None,
    ) -> UnitFilter:
        """What a read selects. With ``as_of``, a search is filtered first, then ranked: a value
        memory held then is found however low it would rank today."""
        scope = dataclasses.replace(
            self._scope(user_id, agent_id),
            session_id=None if session_id is None else check_id("session_id", session_id),
        )
        kind_tuple = None if kinds is None else tuple(kinds)
        for kind in kind_tuple or ():
            if kind not in ("turn", *DERIVED_KINDS):
                raise UsageError(f"unknown kind {kind!r}: use turn, fact, event or passage")
        return UnitFilter(
            scope,
            kinds=kind_tuple,
            since=None if since is None else parse_moment("since", since),
            until=None if until is None else parse_moment("until", until),
            metadata=check_filter("metadata", metadata),
            include_archived=check_flag("include_archived", include_archived),
            as_of=None if as_of is None else parse_timestamp(as_of),
        )


def _group(items: Iterable[T], key: Callable[[T], Any]) -> dict[Any, list[T]]:
    """Group items by key, keeping first-seen key order and item order."""
    groups: dict[Any, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups
