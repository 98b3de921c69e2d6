"""The switch CI sets so that a skipped test fails the run instead of passing unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import NO_SKIPS

ROOT = Path(__file__).resolve().parents[1]


def run_skipping_test(tmp_path: Path, *, strict: bool) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_skips.py"
    test.write_text("import pytest\n\ndef test_needs_a_server():\n    pytest.skip('no server')\n")
    env = {k: v for k, v in os.environ.items() if k != NO_SKIPS} | ({NO_SKIPS: "1"} if strict else {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest", str(test)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_skip_fails_the_run_when_ci_asks(tmp_path: Path) -> None:
    assert run_skipping_test(tmp_path, strict=False).returncode == 0
    strict = run_skipping_test(tmp_path, strict=True)
    assert strict.returncode == 1
    assert f"{NO_SKIPS} is set and 1 tests skipped" in strict.stdout
