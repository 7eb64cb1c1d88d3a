"""``boxoffice --self-test`` from source: every check passes and prints a line; a failure exits 1 with its reason."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from boxoffice import paths, selftest


def test_self_test_from_source_passes_and_prints_each_check(tmp_path: Path) -> None:
    env = {**os.environ, paths.HOME_ENV: str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "boxoffice", "--self-test"], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("SELF-TEST PASSED")
    assert not [line for line in lines if line.startswith("FAIL")]
    out = done.stdout
    for expected in ("migrated to", "demo conference imported", "cash payment of", "stored as paid",
                     "screen Sell (SellScreen) rendered", "screen Orders (OrdersScreen) rendered",
                     "log redaction masks", "printed to a file printer", "HTTPS to Stripe: OpenSSL",
                     "check-in sounds: "):
        assert expected in out, expected
    # Every page of the main window is rendered, whoever added it.
    screens = [line for line in lines if line.startswith("ok    screen ")]
    built = next(line for line in lines if "main window built with" in line)
    assert len(screens) == int(built.split("with ")[1].split()[0]) >= 3
    # The user's own data folders are left alone: the database was temporary.
    assert not list((tmp_path / "home").glob("data/*.sqlite3"))


def test_a_failing_check_exits_non_zero_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-resources"
    empty.mkdir()
    monkeypatch.setattr(paths, "resources_dir", lambda: empty)
    out = io.StringIO()
    assert selftest.run(out=out) == 1
    text = out.getvalue()
    assert "FAIL  resources present" in text and "missing style.qss, icon.svg, icon.png" in text
    assert text.splitlines()[-1].startswith("SELF-TEST FAILED: 1 failed")


def test_a_missing_stripe_ca_bundle_fails_the_https_check(tmp_path: Path) -> None:
    """Stripe's client verifies api.stripe.com with the bundle in its package; without it no HTTPS call works."""
    missing = tmp_path / "stripe" / "data" / "ca-certificates.crt"
    child = ("import sys, stripe\n"
             f"stripe.ca_bundle_path = {str(missing)!r}\n"
             "from boxoffice import selftest\n"
             "sys.exit(selftest.run())\n")
    env = {**os.environ, paths.HOME_ENV: str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  HTTPS to Stripe: OpenSSL" in done.stdout
    assert f"its CA bundle {missing} could not be loaded" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("SELF-TEST FAILED: 1 failed")
