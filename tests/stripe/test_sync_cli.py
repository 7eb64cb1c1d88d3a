"""``boxoffice sync --once``: headless by environment, one JSON line, non-zero exit only if Stripe is down."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from boxoffice.cli import main
from tests.fakes.fake_stripe import FakeStripe
from tests.stripe.conftest import FAKE_KEY


@pytest.fixture
def sync_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BOXOFFICE_STRIPE_SECRET_KEY", FAKE_KEY)
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", str(tmp_path / "desk.sqlite3"))
    return tmp_path


def test_sync_once_prints_a_json_summary_and_is_idempotent(
    fake: FakeStripe, sync_env: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("BOXOFFICE_STRIPE_API_BASE", fake.url)
    fake.emit("payment_intent.succeeded", {"id": "pi_a", "amount": 100, "currency": "usd", "metadata": {}})
    fake.emit("charge.refunded", {"id": "ch_a", "payment_intent": "", "amount": 100, "currency": "usd"})
    assert main(["sync", "--once"]) == 0
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"fetched": 2, "new": 2, "processed": 0, "ignored": 2, "failed": 0}
    assert main(["sync", "--once"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["new"] == 0 and again["ignored"] == 0
    assert FAKE_KEY not in out.out + out.err


def test_sync_once_exits_non_zero_only_when_stripe_is_unreachable(sync_env: Path) -> None:
    """A real subprocess, so the exit status is the one a script sees."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_")}
    env.update(
        BOXOFFICE_HOME=str(sync_env / "home"),
        BOXOFFICE_STRIPE_SECRET_KEY=FAKE_KEY,
        BOXOFFICE_STRIPE_API_BASE=f"http://127.0.0.1:{port}",
        BOXOFFICE_DATABASE_URL=str(sync_env / "desk.sqlite3"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "boxoffice", "sync", "--once"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    summary = json.loads(result.stdout)
    assert summary["fetched"] == 0 and "cannot be reached" in summary["error"]
    assert FAKE_KEY not in result.stdout + result.stderr


def test_sync_without_a_key_says_how_to_configure_it(sync_env: Path, keychain: Any, monkeypatch, capsys) -> None:
    monkeypatch.delenv("BOXOFFICE_STRIPE_SECRET_KEY", raising=False)  # and an empty keychain, never the real one
    assert main(["sync", "--once"]) == 1
    assert "BOXOFFICE_STRIPE_SECRET_KEY" in capsys.readouterr().err
