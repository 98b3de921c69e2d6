"""Truth scenarios: does Eidetica behave as a memory over time, through the public ``Memory`` API?

Each scenario (``data/truth_scenarios.jsonl``, one per line) is a small dated history of steps
(``add``, ``update`` of a derived unit found by a search, ``delete`` of a turn found by its text,
``forget``) run in a fresh memory, then checks of what memory says afterwards:

- ``search_top``: every ``expect`` word is in a hit of the top ``k`` (a fact or event with
  ``derived_only``); the first fact, event or turn naming an expected word ranks before any one
  naming a ``stale`` word and no expected one; no ``not_top`` word is in the top hit.
- ``context_current``: every ``expect`` word is on a current line of ``context``; a line naming a
  ``stale`` word and no expected one starts with the past marker; no ``not_past`` word is on a past
  line. The contract: a superseded, corrected or edited statement, and a verbatim turn whose
  statement was superseded or corrected, is rendered ``(past, until <date>) ...``.
- ``as_of``: ``search(as_of=at)`` has every ``expect`` word in its top ``k``, and no hit there
  names a ``stale`` word (one not true at ``at``) without an expected one.
- ``absent``: no ``words`` in any hit of ``search`` or ``context`` for ``queries``, nor in any
  listed unit; and a search for the ``unmatched`` words matches no unit by its words (the lexical
  channel), so a deleted turn is not found through the turn said after it either.
- ``abstain``: ``context`` packs nothing for a question unrelated to anything stored (and
  ``Context.abstained``, once it exists, is true).
- ``derived_subject``: facts and events name the person, never "User ...", and mention every
  ``expect`` word between them.

Words match whole, case aside (a final ``*`` matches any ending). A scenario passes when all its
checks do; an exception in a step or check fails the checks it touches with its message, and the
run goes on. A step that uses a parameter ``Memory`` does not have yet (``add(user_name=...)``)
runs without it, and every check of its scenario fails naming the missing feature.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import json
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit, urlunsplit

from rich.table import Table

from ..errors import InputFormatError, StoreError, UsageError
from ..memory import Memory
from ..model import Hit

if TYPE_CHECKING:
    from ..embedders.base import Embedder

CATEGORIES = (
    "change",
    "additive",
    "correction",
    "deletion",
    "as_of",
    "short",
    "long_turn",
    "speakerless",
    "forget",
    "abstain",
)
CheckKind = Literal["search_top", "context_current", "as_of", "absent", "abstain", "derived_subject"]
CHECK_KINDS: tuple[CheckKind, ...] = get_args(CheckKind)
StepOp = Literal["add", "update", "delete", "forget"]
SCENARIO_FILE = "truth_scenarios.jsonl"
#: How a superseded, corrected or edited line starts in a context: ``(past, until 3 May 2024) ``.
PAST_MARKER = "(past"
#: Derived texts that start like this name a role, not the person.
GENERIC_SUBJECTS = ("user ", "user's ")
#: Hits that state one thing, ranked against each other by ``search_top`` (a passage of a long
#: turn may state both the old value and the new).
STATEMENT_KINDS = ("fact", "event", "turn")
ABSENT_K = 10

Progress = Callable[[int, int], None]
D = TypeVar("D")


@dataclass(frozen=True)
class Step:
    """One dated write: ``add`` messages, ``update`` (the derived unit ``query`` finds that mentions
    ``target``, to ``text``), ``delete`` (the turn whose text holds ``target``) or ``forget``."""

    op: StepOp
    user_id: str
    messages: tuple[dict[str, Any], ...] = ()
    session_id: str | None = None
    timestamp: str | None = None
    user_name: str | None = None
    query: str | None = None
    target: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Check:
    """One question to memory and what its answer must (not) say; see the module docstring."""

    kind: CheckKind
    user_id: str
    query: str = ""
    queries: tuple[str, ...] = ()
    k: int = 5
    budget_tokens: int = 400
    at: str | None = None
    expect: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    not_top: tuple[str, ...] = ()
    not_past: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()
    derived_only: bool = False


@dataclass(frozen=True)
class Scenario:
    """A dated history and the checks that must hold after it."""

    id: str
    category: str
    description: str
    steps: tuple[Step, ...]
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class CheckResult:
    kind: CheckKind
    passed: bool
    message: str = ""


@dataclass(frozen=True)
class ScenarioResult:
    id: str
    category: str
    checks: tuple[CheckResult, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass(frozen=True)
class Tally:
    passed: int = 0
    total: int = 0

    def plus(self, passed: bool) -> Tally:
        return Tally(self.passed + passed, self.total + 1)


@dataclass(frozen=True)
class TruthReport:
    """Every scenario's check results, on one backend."""

    backend: str
    scenarios: tuple[ScenarioResult, ...]
    seconds: float
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def by_category(self) -> dict[str, Tally]:
        """Scenarios passed (all checks) per category, in ``CATEGORIES`` order."""
        tallies: dict[str, Tally] = {}
        for s in sorted(self.scenarios, key=lambda s: _category_rank(s.category)):
            tallies[s.category] = tallies.get(s.category, Tally()).plus(s.passed)
        return tallies

    def by_check(self, category: str | None = None) -> dict[str, Tally]:
        """Checks passed per check kind, over one category or all."""
        tallies: dict[str, Tally] = {}
        for s in self.scenarios:
            if category is None or s.category == category:
                for c in s.checks:
                    tallies[c.kind] = tallies.get(c.kind, Tally()).plus(c.passed)
        return {kind: tallies[kind] for kind in CHECK_KINDS if kind in tallies}


# -- loading ------------------------------------------------------------------------------------


def load_scenarios(path: Path | None = None) -> list[Scenario]:
    """Read the packaged scenarios (or those in ``path``), validated; errors name the line."""
    source = path.name if path else SCENARIO_FILE
    try:
        text = (
            path.read_text(encoding="utf-8")
            if path
            else (resources.files("eidetica") / "data" / SCENARIO_FILE).read_text(encoding="utf-8")
        )
    except OSError as exc:
        raise UsageError(f"cannot read the truth scenarios: {exc}") from exc
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            scenario = _scenario(json.loads(line))
        except (json.JSONDecodeError, ValueError, TypeError) as exc:
            raise InputFormatError(str(exc), source=source, line=number) from exc
        if scenario.id in seen:
            raise InputFormatError(f"scenario id {scenario.id!r} is used twice", source=source, line=number)
        seen.add(scenario.id)
        scenarios.append(scenario)
    return scenarios


def select(scenarios: Sequence[Scenario], categories: Iterable[str] | None) -> list[Scenario]:
    """The scenarios of the named categories (comma-separated names allowed), or all of them."""
    wanted = {name.strip() for part in categories or () for name in part.split(",") if name.strip()}
    unknown = wanted - set(CATEGORIES)
    if unknown:
        raise UsageError(f"unknown category {', '.join(sorted(unknown))}: use {', '.join(CATEGORIES)}")
    return [s for s in scenarios if not wanted or s.category in wanted]


_STEP_NEEDS: dict[str, tuple[str, ...]] = {
    "add": ("messages",),
    "update": ("query", "target", "text"),
    "delete": ("target",),
    "forget": (),
}
_CHECK_NEEDS: dict[str, tuple[str, ...]] = {
    "search_top": ("query",),
    "context_current": ("query", "expect"),
    "as_of": ("query", "at"),
    "absent": ("words",),
    "abstain": ("query",),
    "derived_subject": (),
}


def _scenario(data: Any) -> Scenario:
    if not isinstance(data, dict):
        raise ValueError("each line must be a JSON object")
    name = data.get("id")
    if not isinstance(name, str) or not name:
        raise ValueError("a scenario needs an id")
    if data.get("category") not in CATEGORIES:
        raise ValueError(f"{name}: category must be one of {', '.join(CATEGORIES)}")
    steps = tuple(_build(Step, s, f"{name} step {i}") for i, s in enumerate(data.get("steps", []), 1))
    checks = tuple(_build(Check, c, f"{name} check {i}") for i, c in enumerate(data.get("checks", []), 1))
    for i, step in enumerate(steps, 1):
        _require(step, _STEP_NEEDS.get(step.op), f"{name} step {i} ({step.op})")
    for i, check in enumerate(checks, 1):
        _require(check, _CHECK_NEEDS.get(check.kind), f"{name} check {i} ({check.kind})")
        if check.kind == "search_top" and not (check.expect or check.not_top):
            raise ValueError(f"{name} check {i}: search_top needs expect or not_top")
        if check.kind == "as_of" and not (check.expect or check.stale):
            raise ValueError(f"{name} check {i}: as_of needs expect or stale")
    if not checks:
        raise ValueError(f"{name}: a scenario needs at least one check")
    extra = set(data) - {"id", "category", "description", "steps", "checks"}
    if extra:
        raise ValueError(f"{name}: unknown field(s) {', '.join(sorted(extra))}")
    return Scenario(name, data["category"], str(data.get("description", "")), steps, checks)


def _build(cls: type[D], data: Any, where: str) -> D:
    """A ``Step`` or ``Check`` from its JSON object; lists become tuples of strings (or dicts)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: must be a JSON object")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - set(fields)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list):
            kind = dict if key == "messages" else str
            if not all(isinstance(v, kind) for v in value):
                raise ValueError(f"{where}: {key} must be a list of {kind.__name__}")
            value = tuple(value)
        elif "tuple" in str(fields[key].type):
            raise ValueError(f"{where}: {key} must be a list")
        values[key] = value
    return cls(**values)


def _require(item: Step | Check, needs: tuple[str, ...] | None, where: str) -> None:
    if needs is None:
        raise ValueError(f"{where}: unknown {'op' if isinstance(item, Step) else 'kind'}")
    missing = [name for name in needs if not getattr(item, name)]
    if missing:
        raise ValueError(f"{where}: needs {', '.join(missing)}")


# -- running ------------------------------------------------------------------------------------


def run_scenarios(
    make_memory: Callable[[], Memory], scenarios: Sequence[Scenario], progress: Progress | None = None
) -> TruthReport:
    """Run each scenario in a fresh memory from ``make_memory`` (closed after) and every check."""
    started = time.perf_counter()
    backend = ""
    results: list[ScenarioResult] = []
    for done, scenario in enumerate(scenarios, 1):
        begun = time.perf_counter()
        try:
            with make_memory() as memory:
                backend = backend or type(memory.store).__name__
                checks = run_scenario(memory, scenario)
        except Exception as exc:  # the memory could not be opened or closed: fail, go on
            checks = tuple(CheckResult(c.kind, False, f"memory failed: {_say(exc)}") for c in scenario.checks)
        results.append(
            ScenarioResult(scenario.id, scenario.category, checks, round(time.perf_counter() - begun, 3))
        )
        if progress is not None:
            progress(done, len(scenarios))
    return TruthReport(backend, tuple(results), round(time.perf_counter() - started, 2))


def run_scenario(memory: Memory, scenario: Scenario) -> tuple[CheckResult, ...]:
    """Apply the steps in order, then run every check; a failed step fails every check."""
    missing: list[str] = []
    for number, step in enumerate(scenario.steps, 1):
        try:
            missing += _apply(memory, step)
        except Exception as exc:
            problem = f"step {number} ({step.op}) failed: {_say(exc)}"
            return tuple(CheckResult(c.kind, False, problem) for c in scenario.checks)
    results: list[CheckResult] = []
    for check in scenario.checks:
        try:
            problems = CHECKS[check.kind](memory, check)
        except Exception as exc:
            problems = [f"raised {_say(exc)}"]
        if missing:
            problems = [f"missing feature: {', '.join(dict.fromkeys(missing))}", *problems]
        results.append(CheckResult(check.kind, not problems, "; ".join(problems)))
    return tuple(results)


def call_with(
    method: Callable[..., D], *args: Any, optional: Mapping[str, Any], **kwargs: Any
) -> tuple[D, list[str]]:
    """Call ``method``, passing each ``optional`` argument only if it accepts it; also return the
    names of those it does not (features of the contract not built yet)."""
    parameters = inspect.signature(method).parameters
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    missing: list[str] = []
    for name, value in optional.items():
        if open_ended or name in parameters:
            kwargs[name] = value
        else:
            missing.append(f"{getattr(method, '__qualname__', method)}({name}=)")
    return method(*args, **kwargs), missing


def _apply(memory: Memory, step: Step) -> list[str]:
    if step.op == "add":
        optional = {"user_name": step.user_name} if step.user_name else {}
        _, missing = call_with(
            memory.add,
            list(step.messages),
            optional=optional,
            user_id=step.user_id,
            session_id=step.session_id,
            timestamp=step.timestamp,
        )
        return missing
    if step.op == "update":
        assert step.query and step.target and step.text  # checked on loading
        memory.update(
            _derived_unit(memory, step.user_id, step.query, step.target), step.text, user_id=step.user_id
        )
    elif step.op == "delete":
        assert step.target
        turns = [
            u
            for u in memory.list(user_id=step.user_id, kinds=["turn"], limit=None)
            if step.target.lower() in u.text.lower()
        ]
        if len(turns) != 1:
            raise LookupError(f"{len(turns)} turns hold {step.target!r}; a delete step needs exactly one")
        memory.delete(turns[0].id, user_id=step.user_id)
    elif step.op == "forget":
        memory.forget(user_id=step.user_id)
    return []


def _derived_unit(memory: Memory, user_id: str, query: str, target: str) -> str:
    """The id of the fact or event that ``query`` finds (or, failing that, that is listed) whose
    text mentions ``target``."""
    hits = memory.search(query, user_id=user_id, k=10, kinds=["fact", "event"])
    for unit in itertools.chain(
        (h.unit for h in hits), memory.list(user_id=user_id, kinds=["fact", "event"], limit=None)
    ):
        if mentions(unit.text, target):
            return unit.id
    derived = [u.text for u in memory.list(user_id=user_id, kinds=["fact", "event"], limit=None)]
    raise LookupError(f"no fact or event mentions {target!r} to update; derived: {_quote_all(derived)}")


# -- checks -------------------------------------------------------------------------------------


def check_search_top(memory: Memory, check: Check) -> list[str]:
    hits = memory.search(check.query, user_id=check.user_id, k=check.k)
    problems: list[str] = []
    pool = [h for h in hits if h.kind in ("fact", "event")] if check.derived_only else hits
    for word in check.expect:
        if not any(mentions(h.text, word) for h in pool):
            what = "fact or event" if check.derived_only else "hit"
            problems.append(f"{word!r} in no {what} of the top {check.k}: {_quote_hits(hits)}")
    if check.stale:
        new = _first(hits, check.expect, kinds=STATEMENT_KINDS)
        old = _first(hits, check.stale, unless=check.expect, kinds=STATEMENT_KINDS)
        if old is not None and (new is None or old < new):
            problems.append(f"stale #{old + 1} {_quote(hits[old].text)} ranks before the current statement")
    if hits:
        problems += [
            f"top hit still says {w!r}: {_quote(hits[0].text)}"
            for w in check.not_top
            if mentions(hits[0].text, w)
        ]
    return problems


def check_context_current(memory: Memory, check: Check) -> list[str]:
    ctx = memory.context(check.query, user_id=check.user_id, budget_tokens=check.budget_tokens)
    lines = [line for line in ctx.text.splitlines() if line.strip()]
    current = [line for line in lines if not line.startswith(PAST_MARKER)]
    past = [line for line in lines if line.startswith(PAST_MARKER)]
    problems: list[str] = []
    if not lines and getattr(ctx, "abstained", False):  # the abstain contract's fields
        problems.append(f"context abstained ({getattr(ctx, 'reason', None)})")
    for word in check.expect:
        if not _any_line(current, word):
            where = "only on a past line" if _any_line(past, word) else "not in the context"
            problems.append(f"{word!r} {where} ({ctx.tokens} tokens, {len(lines)} lines)")
    for word in check.stale:
        stale = [line for line in current if mentions(line, word) and not _any(line, check.expect)]
        if stale:
            problems.append(f"stale {word!r} on a current line: {_quote(stale[0])}")
    for word in check.not_past:
        marked = [line for line in past if mentions(line, word)]
        if marked:
            problems.append(f"{word!r} marked past: {_quote(marked[0])}")
    return problems


def check_as_of(memory: Memory, check: Check) -> list[str]:
    hits = memory.search(check.query, user_id=check.user_id, as_of=check.at, k=check.k)
    problems = [
        f"{word!r} in no hit as of {check.at}: {_quote_hits(hits)}"
        for word in check.expect
        if not any(mentions(h.text, word) for h in hits)
    ]
    wrong = _first(hits, check.stale, unless=check.expect)
    if wrong is not None:
        problems.append(f"as of {check.at}, #{wrong + 1} {_quote(hits[wrong].text)} did not hold then")
    return problems


def check_absent(memory: Memory, check: Check) -> list[str]:
    problems: list[str] = []
    for query in check.queries:
        for hit in memory.search(query, user_id=check.user_id, k=ABSENT_K):
            problems += [
                f"search {query!r} finds {w!r}: {_quote(hit.text)}"
                for w in check.words
                if mentions(hit.text, w)
            ]
        text = memory.context(query, user_id=check.user_id).text
        problems += [f"context for {query!r} holds {w!r}" for w in check.words if mentions(text, w)]
    for unit in memory.list(user_id=check.user_id, limit=None):
        problems += [
            f"list holds {w!r}: {unit.kind} {_quote(unit.text)}"
            for w in check.words
            if mentions(unit.text, w)
        ]
    if check.unmatched:
        query = " ".join(check.unmatched)
        for hit in memory.search(query, user_id=check.user_id, k=ABSENT_K):
            if hit.scores.get("lexical"):
                problems.append(f"the words {query!r} still match {hit.kind} {_quote(hit.text)}")
    return list(dict.fromkeys(problems))


def check_abstain(memory: Memory, check: Check) -> list[str]:
    ctx = memory.context(check.query, user_id=check.user_id, budget_tokens=check.budget_tokens)
    # The abstain contract adds these fields to Context; read them so this runs before it lands.
    abstained = getattr(ctx, "abstained", None)
    reason = getattr(ctx, "reason", None)
    if ctx.hits:
        state = "Context has no abstained field yet" if abstained is None else f"abstained={abstained}"
        first = _quote(ctx.hits[0].text)
        return [f"{len(ctx.hits)} units packed for an unrelated question, first {first} ({state})"]
    if abstained is False:
        return [f"no units packed, but abstained is False (reason {reason!r})"]
    return []


def check_derived_subject(memory: Memory, check: Check) -> list[str]:
    texts = [u.text for u in memory.list(user_id=check.user_id, kinds=["fact", "event"], limit=None)]
    problems = [
        f"derived text names a role: {_quote(t)}" for t in texts if t.lower().startswith(GENERIC_SUBJECTS)
    ]
    problems += [
        f"no fact or event mentions {word!r}; derived: {_quote_all(texts)}"
        for word in check.expect
        if not any(mentions(t, word) for t in texts)
    ]
    return problems


CHECKS: dict[str, Callable[[Memory, Check], list[str]]] = {
    "search_top": check_search_top,
    "context_current": check_context_current,
    "as_of": check_as_of,
    "absent": check_absent,
    "abstain": check_abstain,
    "derived_subject": check_derived_subject,
}


def mentions(text: str, word: str) -> bool:
    """Whether ``text`` holds ``word`` (or phrase) as whole words, case aside; a final ``*``
    matches any ending (``smok*``: smoke, smokes, smoker)."""
    return _pattern(word).search(text) is not None


@cache
def _pattern(word: str) -> re.Pattern[str]:
    if word.endswith("*"):
        return re.compile(rf"(?<!\w){re.escape(word[:-1])}", re.IGNORECASE)
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)


def _any_line(lines: Iterable[str], word: str) -> bool:
    return any(mentions(line, word) for line in lines)


def _any(text: str, words: Iterable[str]) -> bool:
    return any(mentions(text, w) for w in words)


def _first(
    hits: Sequence[Hit], words: Sequence[str], unless: Sequence[str] = (), kinds: Sequence[str] | None = None
) -> int | None:
    """The rank of the first hit (of ``kinds``) naming one of ``words`` and none of ``unless``."""
    if not words:
        return None
    return next(
        (
            i
            for i, h in enumerate(hits)
            if (kinds is None or h.kind in kinds) and _any(h.text, words) and not _any(h.text, unless)
        ),
        None,
    )


def _quote(text: str, limit: int = 90) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _quote_hits(hits: Sequence[Hit]) -> str:
    return "[" + ", ".join(f"{h.kind} {_quote(h.text, 60)}" for h in hits) + "]"


def _quote_all(texts: Sequence[str], shown: int = 6) -> str:
    more = f" and {len(texts) - shown} more" if len(texts) > shown else ""
    return "[" + ", ".join(_quote(t, 60) for t in texts[:shown]) + "]" + more


def _say(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _category_rank(category: str) -> int:
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


# -- fresh memories -----------------------------------------------------------------------------


@contextmanager
def memories(
    embedder: Embedder, *, db_dir: Path | None = None, postgres: str | None = None
) -> Iterator[Callable[[], Memory]]:
    """A factory of fresh memories sharing ``embedder``: a new SQLite file per call (in ``db_dir``,
    kept, or a temporary folder), or with ``postgres`` (a URL whose user may create databases) a
    new database on that server per call, each dropped once the next is made and at the end."""
    if db_dir is not None and postgres is not None:
        raise UsageError("pass either --db-dir or --postgres, not both")
    if postgres is not None:
        with _postgres_memories(postgres, embedder) as make:
            yield make
        return
    with tempfile.TemporaryDirectory(prefix="eidetica-truth-") as tmp:
        folder = Path(tmp) if db_dir is None else db_dir
        folder.mkdir(parents=True, exist_ok=True)
        numbers = itertools.count(1)

        def make_sqlite() -> Memory:
            path = folder / f"scenario-{next(numbers):04d}.db"
            for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                stale.unlink(missing_ok=True)
            return Memory(path, embedder=embedder)

        yield make_sqlite


@contextmanager
def _postgres_memories(url: str, embedder: Embedder) -> Iterator[Callable[[], Memory]]:
    try:
        import psycopg
        from psycopg import sql
    except ImportError as exc:
        raise UsageError(f"--postgres needs psycopg ({exc}): pip install 'eidetica[postgres]'") from exc
    prefix = f"eidetica_truth_{uuid.uuid4().hex[:8]}"
    numbers = itertools.count(1)
    made: list[str] = []

    def admin(statement: str, name: str) -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql.SQL(statement).format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot create or drop database {name} ({exc}); the URL's user must be allowed to "
                "create databases"
            ) from exc

    def make_postgres() -> Memory:
        while made:  # closed by the runner already
            admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", made.pop())
        name = f"{prefix}_{next(numbers)}"
        admin("CREATE DATABASE {}", name)
        made.append(name)
        return Memory(urlunsplit(urlsplit(url)._replace(path="/" + name)), embedder=embedder)

    try:
        yield make_postgres
    finally:
        for name in made:
            admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


# -- reporting ----------------------------------------------------------------------------------


def report_json(report: TruthReport) -> dict[str, Any]:
    """The report as plain JSON data: totals per category and check kind, then every check."""
    return {
        "backend": report.backend,
        "created": report.created.isoformat(timespec="seconds"),
        "seconds": report.seconds,
        "categories": {
            name: {**dataclasses.asdict(tally), "checks": _tallies(report.by_check(name))}
            for name, tally in report.by_category().items()
        },
        "checks": _tallies(report.by_check()),
        "scenarios": [
            {
                "id": s.id,
                "category": s.category,
                "passed": s.passed,
                "seconds": s.seconds,
                "checks": [dataclasses.asdict(c) for c in s.checks],
            }
            for s in report.scenarios
        ],
    }


def write_report(report: TruthReport, out_dir: Path) -> Path:
    """Write ``truth.json`` into ``out_dir``; return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "truth.json"
    path.write_text(json.dumps(report_json(report), ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def truth_table(report: TruthReport) -> Table:
    """Scenarios passed per category, and checks passed per kind within it."""
    kinds = list(report.by_check())
    table = Table(title=f"truth scenarios on {report.backend or 'no backend'}")
    table.add_column("category")
    table.add_column("scenarios", justify="right")
    for kind in kinds:
        table.add_column(kind, justify="right")
    for name, tally in report.by_category().items():
        per_kind = report.by_check(name)
        table.add_row(name, _cell(tally), *(_cell(per_kind.get(k)) for k in kinds))
    overall = report.by_check()
    total = Tally(sum(s.passed for s in report.scenarios), len(report.scenarios))
    table.add_section()
    table.add_row("all", _cell(total), *(_cell(overall[k]) for k in kinds), style="bold")
    return table


def _tallies(tallies: Mapping[str, Tally]) -> dict[str, dict[str, int]]:
    return {name: dataclasses.asdict(t) for name, t in tallies.items()}


def _cell(tally: Tally | None) -> str:
    if tally is None:
        return ""
    colour = "green" if tally.passed == tally.total else "red" if tally.passed == 0 else "yellow"
    return f"[{colour}]{tally.passed}/{tally.total}[/{colour}]"
