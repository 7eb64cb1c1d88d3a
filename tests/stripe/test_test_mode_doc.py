"""``docs/stripe-test-mode.md``: its commands run as written against the fake Stripe server."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from boxoffice.cli import main
from tests.fakes.fake_stripe import FakeStripe
from tests.stripe.conftest import FAKE_KEY

DOC = Path(__file__).resolve().parents[2] / "docs" / "stripe-test-mode.md"


def _commands() -> list[list[str]]:
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    return [shlex.split(line)[1:] for block in blocks for line in block.splitlines()
            if line.startswith("boxoffice ")]


def test_the_doc_commands_take_a_card_payment_on_the_simulated_reader(
    fake: FakeStripe, cards, make_order, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("BOXOFFICE_STRIPE_SECRET_KEY", FAKE_KEY)
    monkeypatch.setenv("BOXOFFICE_STRIPE_API_BASE", fake.url)
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", str(tmp_path / "desk.sqlite3"))
    commands = _commands()
    assert [c[:2] for c in commands] == [["stripe", "simulate-tap"], ["stripe", "simulate-tap"],
                                         ["sync", "--once"]]
    approved, declined, sync = ([a.replace("tmr_your_reader", "tmr_desk1") for a in c] for c in commands)

    paid = make_order(1)
    attempt = cards.start_terminal_payment(paid.id, "tmr_desk1")
    assert main(approved) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "succeeded"
    assert cards.check_terminal_payment(attempt.payment_id).status == "succeeded"

    refused = make_order(1)
    attempt = cards.start_terminal_payment(refused.id, "tmr_desk1")
    assert main(declined) == 0
    assert json.loads(capsys.readouterr().out)["failure"] == "Your card was declined."
    assert cards.check_terminal_payment(attempt.payment_id).status == "failed"

    assert main(sync) == 0
    assert json.loads(capsys.readouterr().out)["fetched"] > 0


@pytest.mark.parametrize("key", ["sk_live_abcdefghijklmnop1234", "rk_live_abcdefghijklmnop1234"])
def test_simulate_tap_refuses_live_keys(fake: FakeStripe, monkeypatch, key, capsys):
    monkeypatch.setenv("BOXOFFICE_STRIPE_SECRET_KEY", key)
    monkeypatch.setenv("BOXOFFICE_STRIPE_API_BASE", fake.url)
    before = len(fake.requests)
    assert main(["stripe", "simulate-tap", "tmr_desk1"]) == 1
    assert "test key" in capsys.readouterr().err
    assert len(fake.requests) == before  # nothing was sent
