"""Without a PostgreSQL server the multi-desk tests skip with a visible reason; with CI=true they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests/multidesk/test_poller_lease.py::test_only_one_desk_holds_the_pg_lease"


def _run_without_server(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["BOXOFFICE_TEST_PG_PORT"] = "1"  # nothing listens there
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", TARGET],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_missing_server_skips_with_the_reason_shown() -> None:
    result = _run_without_server(ci=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "PostgreSQL tests skipped: no PostgreSQL server at 127.0.0.1:1" in result.stdout


def test_missing_server_fails_the_run_on_ci() -> None:
    result = _run_without_server(ci="true")
    assert result.returncode != 0
    assert "CI=true but PostgreSQL tests cannot run" in result.stdout
    assert "skipped" not in result.stdout.splitlines()[-1]
