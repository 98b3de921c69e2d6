"""The browser test fixtures themselves: the servers hold what they say, and ``PageWatch`` catches
what every browser test relies on it to catch."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser

from eidetica.demo import DEMO_USER
from eidetica.model import DEFAULT_TENANT

from .conftest import GLOBEX_USER, PageWatch, Served, new_context

#: An address that would leave the machine (never reached: the watch blocks it in the browser).
FOREIGN = "https://cdn.example.com/lib.js"


def users_seen(served: Served, key: str | None) -> list[str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = httpx.get(f"{served.url}/v1/users", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    users: list[str] = response.json()["users"]
    return users


def test_served_holds_the_sample_conversations_in_acme_and_other_data_in_globex(served: Served) -> None:
    assert served.users == {"acme": (DEMO_USER,), "globex": (GLOBEX_USER,)}
    assert users_seen(served, served.key_for("acme")) == [DEMO_USER]
    assert users_seen(served, served.key_for("globex")) == [GLOBEX_USER]
    stats = httpx.get(
        f"{served.url}/v1/stats",
        params={"user_id": DEMO_USER},
        headers={"Authorization": f"Bearer {served.key_for('acme')}"},
        timeout=30,
    ).json()
    assert stats["units_by_kind"]["turn"] == served.turns["acme"] > 40
    assert httpx.get(f"{served.url}/v1/users", timeout=30).status_code == 401


def test_served_without_keys_serves_the_sample_conversations_to_anyone(served_without_keys: Served) -> None:
    assert served_without_keys.keys == {}
    assert served_without_keys.users == {DEFAULT_TENANT: (DEMO_USER,)}
    assert users_seen(served_without_keys, None) == [DEMO_USER]


def test_watch_blocks_and_reports_foreign_requests_and_page_errors(browser: Browser, served: Served) -> None:
    context = new_context(browser, served.url)
    watch = PageWatch(context, {served.url})
    try:
        page = context.new_page()
        page.goto("/healthz")
        page.evaluate("1")
        assert watch.strays() == [] and watch.errors == []
        watch.check()
        page.set_content(f'<script src="{FOREIGN}"></script><script>throw new Error("boom")</script>')
        # A round trip, so every event the page sent before it has arrived.
        assert page.evaluate("typeof window.foreignLibrary") == "undefined"
    finally:
        context.close()
    assert watch.strays() == [FOREIGN]
    assert any("boom" in error for error in watch.errors), watch.errors
    assert any("ERR_BLOCKED_BY_CLIENT" in error for error in watch.errors), watch.errors


def test_watch_lets_a_test_expect_console_errors(browser: Browser, served: Served) -> None:
    context = new_context(browser, served.url)
    watch = PageWatch(context, {served.url}, expected=[r"status of 401"])
    try:
        page = context.new_page()
        page.goto("/docs")
        assert page.evaluate("fetch('/v1/users').then(r => r.status)") == 401
        page.evaluate("1")
    finally:
        context.close()
    watch.check()
    # The page's own requests (its favicon) may arrive after the fetch: the fetch is among them.
    assert f"{served.url}/v1/users" in watch.requested
