"""``eidetica ui``: one command serves a local memory's web UI on loopback, without keys, and opens
the browser on it."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from eidetica.demo import DEMO_USER

from ..server.conftest import free_port, wait_until_answering
from .conftest import _Store, sqlite_copy


def test_eidetica_ui_serves_the_memory_on_loopback_and_opens_the_browser_on_it(
    page: Page, _keyless_store: _Store, tmp_path: Path
) -> None:
    assert isinstance(_keyless_store.path, Path)
    db = sqlite_copy(_keyless_store.path, tmp_path / "memory.db")
    # The standard library's webbrowser runs $BROWSER with the address: this one writes it down.
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf %s "$1" > {opened}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EIDETICA_")} | {"BROWSER": str(browser)}
    command = [sys.executable, "-m", "eidetica", "ui", "--db", str(db), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    url = f"http://127.0.0.1:{port}/ui/"
    try:
        wait_until_answering(process, url, ready=lambda r: r.status_code == 200, timeout=120)
        deadline = time.monotonic() + 30
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert opened.read_text() == url
        page.goto(url)
        expect(page.locator(f'#users tr[data-user="{DEMO_USER}"]')).to_be_visible()
        expect(page.locator("#login")).to_have_count(0)  # no key asked for on loopback
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    assert url in output
