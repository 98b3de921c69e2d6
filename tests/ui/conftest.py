"""Browser tests of the web pages: Debian's Chromium driven by Playwright, against a real
``eidetica serve`` over the bundled sample conversations.

``page`` fails its test when the page sent a request anywhere but the server under test, or logged
an error: every browser test checks that nothing leaves loopback and that the page runs cleanly.
``screenshot(page, name)`` writes the pictures of ``docs/ui/screenshots``.

Playwright drives the browser at ``chromium_executable``; its own browser download
(``playwright install``) is never used. CI installs the Debian package (``.ci/run``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    sync_playwright,
)

from eidetica import Memory
from eidetica.demo import DEMO_USER, demo_files
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.model import DEFAULT_TENANT

from ..server.conftest import ACME, GLOBEX, KEYS, free_port, wait_until_answering

#: Where Debian's ``chromium`` package puts the browser, when it is not on ``PATH``.
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
#: Root needs --no-sandbox; a container's small /dev/shm would otherwise crash big pages.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "ui" / "screenshots"
#: A desktop window and a phone, by the width in each screenshot's name.
VIEWPORTS = {1280: {"width": 1280, "height": 900}, 390: {"width": 390, "height": 844}}
#: Schemes that name content inside the page, not a place on the network.
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
#: A marker naming the console errors (regular expressions) a test expects, e.g. the browser's
#: "Failed to load resource ... 401" when a test sends a wrong key on purpose.
EXPECTED_CONSOLE = "ui_console_errors"
#: The few turns of tenant globex: data acme must never see.
GLOBEX_USER = "kenji"
GLOBEX_TURNS = [
    {"role": "user", "name": "Kenji", "content": "I keep two beehives on the roof of my flat in Osaka."},
    {"role": "assistant", "content": "Rooftop bees! How much honey do they make?"},
    {"role": "user", "name": "Kenji", "content": "About twelve jars a year, mostly from linden trees."},
]
GLOBEX_WHEN = "2024-05-02T10:00:00+00:00"
ACME_TENANT, GLOBEX_TENANT = KEYS[ACME], KEYS[GLOBEX]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{EXPECTED_CONSOLE}(*patterns): console errors a browser test expects (regexes)"
    )


@dataclass(frozen=True)
class Served:
    """A running ``eidetica serve`` and the data it holds."""

    #: The base URL, ``http://127.0.0.1:PORT``: the one origin a page may send requests to.
    url: str
    #: API key -> tenant; empty for a server without keys (everyone in the default tenant).
    keys: dict[str, str]
    #: Tenant -> the user ids loaded into it.
    users: dict[str, tuple[str, ...]]
    #: The store the server runs over: the test's own SQLite copy, or a PostgreSQL database URL.
    db: Path | str
    #: Tenant -> how many turns it holds.
    turns: dict[str, int]

    def key_for(self, tenant: str) -> str:
        """The API key of ``tenant``."""
        return next(key for key, name in self.keys.items() if name == tenant)


@dataclass(frozen=True)
class _Store:
    """A loaded store, and what it holds: a SQLite file to copy for each server, or a PostgreSQL
    database of the test's own (a URL) to serve as it is."""

    path: Path | str
    users: dict[str, tuple[str, ...]]
    turns: dict[str, int]


def _load_demo(path: Path | str, tenant: str, embedder: WordLlamaEmbedder) -> int:
    """Import the bundled sample conversations into ``tenant``; return how many turns."""
    with Memory(path, tenant=tenant, embedder=embedder) as memory:
        return memory.import_file(demo_files()[0]).turns


@pytest.fixture(scope="session")
def _keyed_store(tmp_path_factory: pytest.TempPathFactory, embedder: WordLlamaEmbedder) -> _Store:
    """The sample conversations in tenant acme, a few other turns in tenant globex."""
    path = tmp_path_factory.mktemp("ui-store") / "keyed.db"
    acme_turns = _load_demo(path, ACME_TENANT, embedder)
    with Memory(path, tenant=GLOBEX_TENANT, embedder=embedder) as globex:
        globex.add(GLOBEX_TURNS, user_id=GLOBEX_USER, session_id="g1", timestamp=GLOBEX_WHEN)
    return _Store(
        path,
        users={ACME_TENANT: (DEMO_USER,), GLOBEX_TENANT: (GLOBEX_USER,)},
        turns={ACME_TENANT: acme_turns, GLOBEX_TENANT: len(GLOBEX_TURNS)},
    )


@pytest.fixture(scope="session")
def _keyless_store(tmp_path_factory: pytest.TempPathFactory, embedder: WordLlamaEmbedder) -> _Store:
    """The sample conversations in the default tenant, the one a server without keys serves."""
    path = tmp_path_factory.mktemp("ui-store") / "keyless.db"
    turns = _load_demo(path, DEFAULT_TENANT, embedder)
    return _Store(path, users={DEFAULT_TENANT: (DEMO_USER,)}, turns={DEFAULT_TENANT: turns})


def sqlite_copy(source: Path, copy: Path) -> Path:
    """``copy``, made a copy of the SQLite file ``source`` (its WAL included): a test's own store."""
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(copy)) as target:
        original.backup(target)
    return copy


def _serve(
    store: _Store, tmp_path: Path, keys: dict[str, str], settings: dict[str, str] | None = None
) -> Iterator[Served]:
    """Run ``eidetica serve`` as a user would, over a fresh copy of ``store``, until the test ends;
    ``settings`` are ``EIDETICA_*`` variables to give it (none of the test run's own reach it)."""
    db = sqlite_copy(store.path, tmp_path / "served.db") if isinstance(store.path, Path) else store.path
    port = free_port()
    command = [sys.executable, "-m", "eidetica", "serve", "--db", str(db), "--port", str(port)]
    if keys:
        command += ["--api-keys", ",".join(f"{key}={tenant}" for key, tenant in keys.items())]
    env = {name: value for name, value in os.environ.items() if not name.startswith("EIDETICA_")}
    env.update(settings or {})
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    served = Served(f"http://127.0.0.1:{port}", dict(keys), store.users, db, store.turns)
    try:
        wait_until_answering(
            process,
            f"{served.url}/readyz",
            ready=lambda response: response.status_code == 200,
            timeout=120,
            exited=lambda: f"eidetica serve exited early: {log_path.read_text()}",
        )
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def served(_keyed_store: _Store, tmp_path: Path) -> Iterator[Served]:
    """``eidetica serve`` with keys key-acme (tenant acme: the sample conversations of user maya)
    and key-globex (tenant globex: a few turns of user kenji), over a store of its own."""
    yield from _serve(_keyed_store, tmp_path, KEYS)


@pytest.fixture
def served_without_keys(_keyless_store: _Store, tmp_path: Path) -> Iterator[Served]:
    """``eidetica serve`` without keys, as ``eidetica ui`` runs it on loopback: the sample
    conversations of user maya in the default tenant."""
    yield from _serve(_keyless_store, tmp_path, {})


@pytest.fixture
def served_on_postgres(postgres_url: str, tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Served]:
    """``served_without_keys`` over a PostgreSQL database of the test's own: the UI is a client of
    the API, whichever backend holds the memory."""
    turns = _load_demo(postgres_url, DEFAULT_TENANT, embedder)
    store = _Store(postgres_url, users={DEFAULT_TENANT: (DEMO_USER,)}, turns={DEFAULT_TENANT: turns})
    yield from _serve(store, tmp_path, {})


@pytest.fixture
def served_with_llm(_keyless_store: _Store, tmp_path: Path, local_llm_url: str) -> Iterator[Served]:
    """``served_without_keys`` with the local chat model configured, so ``answer`` works."""
    llm = {"EIDETICA_LLM_BASE_URL": local_llm_url, "EIDETICA_LLM_MODEL": "smollm2"}
    yield from _serve(_keyless_store, tmp_path, {}, llm)


# -- the browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    """Debian's Chromium (``apt-get install chromium``); the test is skipped without it."""
    found = shutil.which("chromium")
    path = Path(found) if found else DEBIAN_CHROMIUM
    if not path.is_file():
        pytest.skip("the browser tests need Debian's Chromium: apt-get install chromium")
    return path


@pytest.fixture(scope="package")
def _playwright() -> Iterator[Playwright]:
    # Package scope, not session: between its calls Playwright's sync API leaves its event loop
    # marked as running in this thread, so a later test's asyncio.run() would refuse to start.
    # Playwright talks to its driver over pipes, which the no-network guard lets through.
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(_playwright: Playwright, chromium_executable: Path) -> Iterator[Browser]:
    """One headless Chromium for every browser test."""
    launched = _playwright.chromium.launch(
        executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


def _servers_in_use(request: pytest.FixtureRequest) -> list[Served]:
    return [
        request.getfixturevalue(name)
        for name in ("served", "served_without_keys", "served_with_llm", "served_on_postgres")
        if name in request.fixturenames
    ]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class PageWatch:
    """What the pages of one browser context requested and which errors they reported.

    A request beyond ``origins`` (any loopback origin when empty) is blocked before it leaves the
    browser and recorded; a console error matching none of ``expected`` and an uncaught exception
    are recorded. ``check`` fails on any of them.
    """

    def __init__(self, context: BrowserContext, origins: set[str], expected: Sequence[str] = ()) -> None:
        self.origins = origins
        self.expected = [re.compile(pattern) for pattern in expected]
        self.requested: list[str] = []
        self.errors: list[str] = []
        # The context, not one page: popups and workers count too.
        context.on("request", lambda sent: self.requested.append(sent.url))
        context.on("page", self._watch_page)
        context.route(lambda url: not self.stays_local(url), lambda route: route.abort("blockedbyclient"))

    def stays_local(self, url: str) -> bool:
        """Whether a page may request ``url``: the server under test, or content inside the page."""
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            return True
        if self.origins:
            return _origin(url) in self.origins
        return parts.hostname in ("127.0.0.1", "localhost", "::1")

    def strays(self) -> list[str]:
        """The URLs requested beyond the allowed origins, in order."""
        return [url for url in self.requested if not self.stays_local(url)]

    def check(self) -> None:
        strays = self.strays()
        assert not strays, f"the page sent requests beyond {sorted(self.origins) or 'loopback'}: {strays}"
        assert not self.errors, "the page reported errors:\n" + "\n".join(self.errors)

    def _watch_page(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(p.search(message.text) for p in self.expected):
            self.errors.append(f"console error: {message.text} (at {message.location.get('url')})")

    def _on_page_error(self, error: Error) -> None:
        self.errors.append(f"uncaught exception: {error.message}\n{error.stack or ''}")


def new_context(browser: Browser, base_url: str | None = None) -> BrowserContext:
    """A fresh context as every browser test sees the UI: 1280x900, en-US, UTC."""
    return browser.new_context(viewport=VIEWPORTS[1280], locale="en-US", timezone_id="UTC", base_url=base_url)


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context and page (see ``new_context``), whose ``base_url`` is the server
    under test when the test uses ``served`` or ``served_without_keys``.

    At teardown the test fails if the page requested anything but that server (such requests are
    also blocked) or reported an error: a console error that the test's ``ui_console_errors``
    marker does not expect, or an uncaught exception (``PageWatch``).
    """
    servers = _servers_in_use(request)
    context = new_context(browser, servers[0].url if len(servers) == 1 else None)
    marker = request.node.get_closest_marker(EXPECTED_CONSOLE)
    watch = PageWatch(context, {_origin(server.url) for server in servers}, marker.args if marker else ())
    try:
        yield context.new_page()
    finally:
        context.close()
    watch.check()


def screenshot(page: Page, name: str) -> list[Path]:
    """Write ``docs/ui/screenshots/<name>-1280.png`` and ``-390.png``: what a desktop window and a
    phone show of the page, its top (a long list would make a picture of megabytes nobody reads).
    The page keeps its viewport afterwards."""
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), f"screenshot names are kebab-case, got {name!r}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    written = []
    try:
        for width, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            path = SCREENSHOTS / f"{name}-{width}.png"
            page.screenshot(path=path, animations="disabled", caret="hide")
            written.append(path)
    finally:
        if before is not None:
            page.set_viewport_size(before)
    return written
