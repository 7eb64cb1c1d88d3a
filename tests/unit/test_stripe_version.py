"""The stripe-python range pyproject declares is the one the gateway accepts, and it is installed."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import stripe

from boxoffice.stripe_sync.gateway import SUPPORTED_STRIPE, stripe_version_problem


def test_the_declared_range_matches_the_gateway_and_the_installed_version():
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    spec = next(d for d in pyproject["project"]["dependencies"] if d.startswith("stripe"))
    low, high = re.match(r"stripe>=(\d+\.\d+\.\d+),<(\d+)", spec).groups()
    assert (tuple(map(int, low.split("."))), (int(high), 0, 0)) == SUPPORTED_STRIPE
    assert stripe_version_problem(stripe.VERSION) == ""


def test_versions_outside_the_range_are_refused_with_a_clear_message():
    assert "from 15.3.1 up to (not including) 17.0" in stripe_version_problem("15.2.0")
    assert stripe_version_problem("10.0.0") and stripe_version_problem("17.0.0")
    assert stripe_version_problem("15.3.0") and stripe_version_problem("15.3")  # the retry hook differs
    assert stripe_version_problem("15.3.1") == "" and stripe_version_problem("16.0.0") == ""
    assert stripe_version_problem("16.1.0") == "" and stripe_version_problem("16.9.3") == ""
    assert "not a version" in stripe_version_problem("sixteen")
