"""``Client``: ``Memory``'s methods over HTTP, against a server started with ``eidetica serve``."""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from . import model, wire
from .api import (
    MemoryAPI,
    conforms,
)
from .errors import NotFoundError, ServerError, UsageError
from .ingest.formats import read_file
from .ingest.importing import owned_by, store_batches
from .limits import MAX_BUDGET_TOKENS, MAX_LIMIT, check_count, check_flag, type_name
from .metadata import check_filter

T = TypeVar("T")
#: ``list(limit=None)`` fetches every unit in pages of this many.
PAGE = 1000
#: ``import_file`` sends at most this many turns, or about this many bytes of text, per request.
IMPORT_REQUEST_TURNS = 500
IMPORT_REQUEST_BYTES = 1024 * 1024


class Client(MemoryAPI):
    """A remote ``Memory``: the same methods, return types and errors, over the REST API.

    ``Client("http://127.0.0.1:8000", api_key="...")``. A server that cannot be reached, times out
    or fails raises ``ServerError``; a missing or unknown key raises ``AuthError``.
    """

    def __init__(self, url: str, api_key: str | None = None, *, timeout: float = 30.0) -> None:
        headers = {"Accept": "application/json", "User-Agent": "eidetica-client"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.url = str(url).rstrip("/")
        self.timeout = timeout
        try:
            parsed = httpx.URL(self.url)
        except httpx.InvalidURL as exc:
            raise UsageError(f"{url!r} is not a server URL like http://127.0.0.1:8000: {exc}") from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise UsageError(f"{url!r} is not a server URL like http://127.0.0.1:8000")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    # -- writing ------------------------------------------------------------------------------

    @conforms(MemoryAPI.add)
    def add(self, **request: Any) -> model.AddResult:
        """Store messages verbatim and derive memory units from them, in one transaction."""
        # The server answers ids and counts unless asked: ``AddResult`` holds the units.
        return self._call(
            "POST", "/v1/memories", wire.add_result_from_wire, body={**request, "return_units": True}
        )

    @conforms(MemoryAPI.import_file)
    def import_file(self, **request: Any) -> model.ImportReport:
        """Import a JSONL, JSON messages, LoCoMo or text file into the server's memory.

        As ``Memory.import_file``: the whole file is parsed and validated here first, so a bad
        line raises ``InputFormatError`` before anything is sent (or, with ``skip_invalid``, is
        reported and skipped). Turns then go one session at a time, in requests the server stores
        each in one transaction; re-running an interrupted import skips the turns already stored
        (by their id or, without one, a hash of their content).
        """
        read = read_file(
            Path(request["path"]), format=request["format"], skip_invalid=request["skip_invalid"]
        )
        parsed = owned_by(read, request["user_id"])

        def send(batch: Sequence[model.TurnInput]) -> model.AddResult:
            return self.add(
                [_as_message(turn) for turn in batch],
                user_id=batch[0].user_id or request["user_id"],
                agent_id=request["agent_id"],
                session_id=batch[0].session_id,
                infer=request["infer"],
            )

        return store_batches(parsed, _import_requests(parsed.turns), send, request["progress"])

    # -- reading ------------------------------------------------------------------------------

    @conforms(MemoryAPI.search)
    def search(self, **request: Any) -> builtins.list[model.Hit]:
        """Return up to ``k`` units that best answer ``query``, best first, within one user."""
        return self._call(
            "POST",
            "/v1/search",
            lambda d: [wire.from_wire(model.Hit, h) for h in d["hits"]],
            body=_body(request),
        )

    @conforms(MemoryAPI.context)
    def context(self, **request: Any) -> model.Context:
        """Pack the best evidence for ``query`` into ``budget_tokens``, without duplicates."""
        return self._call("POST", "/v1/context", wire.reader(model.Context), body=_body(request))

    @conforms(MemoryAPI.answer)
    def answer(self, **request: Any) -> model.Answer:
        """Answer from memory with the server's LLM, citing the units (and turns) it used."""
        return self._call("POST", "/v1/answer", wire.reader(model.Answer), body=request)

    def get(self, unit_id: str, *, user_id: str | None = None) -> model.MemoryUnit:
        """Return one unit by id (deleted ones too, with ``status == "deleted"``)."""
        return self._call(
            "GET", _unit_path(unit_id), wire.reader(model.MemoryUnit), params={"user_id": user_id}
        )

    @conforms(MemoryAPI.list)
    def list(self, **request: Any) -> builtins.list[model.MemoryUnit]:
        """Return the user's units in time order, filtered as ``Memory.list`` does (``limit=None``:
        all of them, in pages)."""
        limit, offset, metadata = request.pop("limit"), request["offset"], request["metadata"]
        params = {
            **_body(request),
            "since": _query_time(request["since"]),
            "until": _query_time(request["until"]),
            "include_deleted": True if request["include_deleted"] else None,
            # A query string holds text: the filter travels as its JSON, checked here first.
            "metadata": None
            if metadata is None
            else json.dumps(dict(check_filter("metadata", metadata) or ())),
        }
        if limit is not None:
            return self._list_page({**params, "limit": limit})
        units: builtins.list[model.MemoryUnit] = []
        while True:
            page = self._list_page({**params, "limit": PAGE, "offset": offset + len(units)})
            units.extend(page)
            if len(page) < PAGE:
                return units

    def _list_page(self, params: dict[str, Any]) -> builtins.list[model.MemoryUnit]:
        return self._call(
            "GET",
            "/v1/memories",
            lambda d: [wire.from_wire(model.MemoryUnit, u) for u in d["memories"]],
            params=params,
        )

    # -- changing -----------------------------------------------------------------------------

    @conforms(MemoryAPI.update)
    def update(self, unit_id: str, **request: Any) -> model.MemoryUnit:
        """Give a derived unit a new text; the old version stays in ``history``."""
        user_id = request.pop("user_id")
        path = _unit_path(unit_id)
        return self._call(
            "PATCH", path, wire.reader(model.MemoryUnit), params={"user_id": user_id}, body=request
        )

    def delete(self, unit_id: str, *, user_id: str | None = None) -> model.MemoryUnit:
        """Hide a unit from every read; the deletion is recorded in its ``history``."""
        return self._call(
            "DELETE", _unit_path(unit_id), wire.reader(model.MemoryUnit), params={"user_id": user_id}
        )

    def history(self, unit_id: str, *, user_id: str | None = None) -> builtins.list[model.HistoryEntry]:
        """Every version of a unit, oldest first: its adds, updates and deletion."""
        return self._call(
            "GET",
            _unit_path(unit_id) + "/history",
            lambda d: [wire.from_wire(model.HistoryEntry, e) for e in d["history"]],
            params={"user_id": user_id},
        )

    @conforms(MemoryAPI.entities)
    def entities(self, **request: Any) -> builtins.list[model.Entity]:
        """The people, pets, places, organisations and other things the user's memory mentions,
        most mentioned first; ``kind`` keeps one kind. ``limit=None`` asks for as many as the
        server answers in one reply (``MAX_LIMIT``): entities have no pages."""
        if request["limit"] is None:
            request["limit"] = MAX_LIMIT
        return self._call(
            "GET",
            "/v1/entities",
            lambda d: [wire.from_wire(model.Entity, e) for e in d["entities"]],
            params=request,
        )

    def entity(self, name: str, *, user_id: str | None = None) -> model.EntityCard:
        """What memory holds about one entity (by name, key or alias): the units that mention it,
        current facts first, the relations they state and the entities mentioned with it."""
        if not isinstance(name, str):
            raise UsageError("name must be a non-empty string")  # the words of Memory.entity
        return self._call(
            "GET",
            f"/v1/entities/{_segment(name)}",
            wire.reader(model.EntityCard),
            params={"user_id": user_id},
        )

    def related(self, unit_id: str, *, user_id: str | None = None) -> builtins.list[model.Link]:
        """The units linked to one unit: its turns, what was drawn from it, what it replaced or
        was replaced by, and units mentioning the same entities."""
        return self._call(
            "GET",
            _unit_path(unit_id) + "/related",
            lambda d: [wire.from_wire(model.Link, link) for link in d["related"]],
            params={"user_id": user_id},
        )

    def profile(self, *, user_id: str | None = None, name: str | None = None) -> model.Profile:
        """Who a person is as memory holds it now (the user themself unless ``name`` says whom):
        their current attributes, relationships, preferences and activities, a quoted unit each."""
        if name is not None and not isinstance(name, str):
            raise UsageError("name must be a non-empty string")  # the words of Memory.profile
        return self._call(
            "GET", "/v1/profile", wire.reader(model.Profile), params={"user_id": user_id, "name": name}
        )

    @conforms(MemoryAPI.summary)
    def summary(self, session_id: str, **request: Any) -> model.Summary:
        """What one session was about: its most central current statements within ``budget_tokens``."""
        if not isinstance(session_id, str):
            raise UsageError(f"session_id must be a string, got {type_name(session_id)}")
        budget_tokens = request["budget_tokens"]
        if not isinstance(budget_tokens, int) or isinstance(budget_tokens, bool):
            # A query string carries no type: what is not an integer is refused here, in Memory's words.
            check_count("budget_tokens", budget_tokens, maximum=MAX_BUDGET_TOKENS)
        return self._call(
            "GET", f"/v1/sessions/{_segment(session_id)}/summary", wire.reader(model.Summary), params=request
        )

    def quarantined(self, *, user_id: str | None = None) -> builtins.list[model.MemoryUnit]:
        """Units held back for review (``guard.quarantine``), oldest first."""
        return self._call(
            "GET",
            "/v1/quarantine",
            lambda d: [wire.from_wire(model.MemoryUnit, u) for u in d["memories"]],
            params={"user_id": user_id},
        )

    def review(self, unit_id: str, *, approve: bool, user_id: str | None = None) -> model.MemoryUnit:
        """Decide on a quarantined unit: approve it back into every read, or reject (delete) it."""
        return self._call(
            "POST",
            "/v1/quarantine/" + _unit_path(unit_id).rsplit("/", 1)[1],
            wire.reader(model.MemoryUnit),
            params={"user_id": user_id},
            body={"approve": approve},
        )

    @conforms(MemoryAPI.maintain)
    def maintain(self, **request: Any) -> model.MaintainReport:
        """Archive what has faded, of one user or of every user of the tenant (see
        ``Memory.maintain``); the server does the work, so ``progress`` hears once, at the end."""
        progress = request.pop("progress")
        report = self._call("POST", "/v1/maintain", wire.reader(model.MaintainReport), body=_body(request))
        if progress is not None:
            progress(report.examined, report.examined)
        return report

    def restore(self, unit_id: str, *, user_id: str | None = None) -> model.MemoryUnit:
        """Bring an archived unit back into every read; ``UsageError`` when it is not archived."""
        return self._call(
            "POST",
            _unit_path(unit_id) + "/restore",
            wire.reader(model.MemoryUnit),
            params={"user_id": user_id},
        )

    def forget(self, *, user_id: str, compact: bool = False) -> int:
        """Erase everything of one user, derived units and history included; return the count.
        ``compact`` also rewrites the server's storage (see ``Memory.forget``)."""
        if user_id is None:
            raise UsageError("forget needs an explicit user_id")
        if not isinstance(user_id, str):
            raise UsageError(f"user_id must be a string, got {type(user_id).__name__}")
        if not user_id:
            raise UsageError("user_id must not be empty")
        return self._call(
            "DELETE",
            f"/v1/users/{_segment(user_id)}",
            lambda d: int(d["deleted"]),
            params={"compact": "true"} if compact else None,
        )

    def users(self) -> builtins.list[str]:
        """The ids of the users with memories in this tenant, in order."""
        return self._call("GET", "/v1/users", lambda data: [str(user) for user in data["users"]])

    def stats(self, *, user_id: str | None = None) -> model.Stats:
        """Unit counts for one user, or for the whole tenant when ``user_id`` is None."""
        return self._call("GET", "/v1/stats", wire.reader(model.Stats), params={"user_id": user_id})

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- transport ----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        decode: Callable[[Any], T],
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> T:
        """Send one request; decode its JSON answer, or raise the error the server named."""
        query = {key: value for key, value in (params or {}).items() if value is not None}
        content = None if body is None else _encode({k: v for k, v in body.items() if v is not None})
        headers = None if content is None else {"Content-Type": "application/json"}
        where = f"{method} {self.url}{path}"
        try:
            response = self._http.request(method, path, params=query, content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise ServerError(
                f"{where} got no answer within {self.timeout} s; is the server overloaded?"
            ) from exc
        except httpx.HTTPError as exc:
            raise ServerError(
                f"cannot reach the Eidetica server at {self.url} ({exc}); is `eidetica serve` running there?"
            ) from exc
        except httpx.InvalidURL as exc:
            raise UsageError(f"cannot build a request for {where}: {exc}") from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not response.is_success:
            raise wire.error_from_wire(payload, f"{where} failed with HTTP {response.status_code}")
        try:
            return decode(payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise ServerError(
                f"{where} answered with something that is not Eidetica's JSON: {exc!r}"
            ) from exc


def _unit_path(unit_id: str) -> str:
    if not isinstance(unit_id, str):
        raise NotFoundError(f"unit id must be a string, got {type(unit_id).__name__}")
    return f"/v1/memories/{_segment(unit_id)}"


def _segment(value: str) -> str:
    """``value`` as one path segment: every reserved character escaped, and its dots too, so that
    an id of "." or ".." is not taken for a relative path and dropped on the way."""
    return quote(value, safe="").replace(".", "%2E")


def _body(request: dict[str, Any]) -> dict[str, Any]:
    """The contract's arguments as a request carries them (under the same names): ``kinds`` as a
    list, and flags checked here, in ``Memory``'s words."""
    body = dict(request)
    if body.get("kinds") is not None:
        body["kinds"] = _listed(body["kinds"])
    for flag in ("include_archived", "dry_run"):
        if flag in body:
            body[flag] = _flag(flag, body[flag])
    return body


def _flag(name: str, value: bool) -> bool | None:
    """A flag checked here, in ``Memory``'s words, and sent only when true: a request that does
    not ask for it reads the same to a server that does not know it."""
    return True if check_flag(name, value) else None


def _query_time(moment: datetime | str | None) -> str | None:
    """A time as a query string holds it: a datetime as ISO 8601, as a request body sends it
    (``str()`` would write a space for the ``T``); text as given, for the server to read."""
    return moment.isoformat() if isinstance(moment, datetime) else moment


def _listed(items: Iterable[Any]) -> builtins.list[Any]:
    # A bare string becomes its characters, as in Memory, and the server refuses them the same way.
    return builtins.list(items)


def _encode(body: dict[str, Any]) -> bytes:
    """JSON for a request body: datetimes as ISO 8601, anything else JSON lacks refused."""

    def default(value: object) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, tuple | set | frozenset):
            return builtins.list(value)
        raise TypeError(f"{type(value).__name__} cannot be sent as JSON")

    try:
        return json.dumps(body, default=default, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise UsageError(f"cannot send this request: {exc}") from exc


def _import_requests(turns: Sequence[model.TurnInput]) -> Iterator[list[model.TurnInput]]:
    """Split turns, in order, into requests of one owner's session, bounded in turns and bytes."""
    batch: list[model.TurnInput] = []
    size = 0
    for turn in turns:
        turn_size = len(turn.content.encode("utf-8", "surrogatepass")) + 256  # + the message's fields
        if batch and (
            (turn.user_id, turn.session_id) != (batch[0].user_id, batch[0].session_id)
            or len(batch) >= IMPORT_REQUEST_TURNS
            or size + turn_size > IMPORT_REQUEST_BYTES
        ):
            yield batch
            batch, size = [], 0
        batch.append(turn)
        size += turn_size
    if batch:
        yield batch


def _as_message(turn: model.TurnInput) -> dict[str, Any]:
    """A parsed turn as the message the REST API takes; parsing it again gives the same turn."""
    message: dict[str, Any] = {"content": turn.content}
    if turn.role is not None:
        message["role"] = turn.role
    if turn.speaker is not None and turn.speaker != turn.role:
        message["name"] = turn.speaker
    if turn.ref is not None:
        message["id"] = turn.ref
    if turn.timestamp is not None:
        message["timestamp"] = turn.timestamp.isoformat()
    if turn.metadata:
        message["metadata"] = turn.metadata
    return message
