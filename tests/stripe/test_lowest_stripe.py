"""The lowest stripe-python that pyproject.toml admits runs the Stripe-facing tests, whatever newer version
the environment has: it is installed once (``pip install --target``) into ``build/`` and put first on
the path of a second pytest run of the gateway, retry and sync tests.

Without the package index the test is skipped, or fails when ``CI`` is set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import NoReturn

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# The tests that drive the SDK: retries after a 5xx, a 429 and a timeout, idempotent replays, typed
# errors, event pages, object lists and the catch-up past Stripe's event window.
SUBSET = (
    "tests/stripe/test_terminal_payments.py",
    "tests/stripe/test_card_attempt_keys.py",
    "tests/stripe/test_event_sync.py",
    "tests/stripe/test_sync_robustness.py",
    "tests/stripe/test_checkout_sessions.py",
    "tests/stripe/test_catch_up_past_window.py",
)
RUN = (  # the child imports the folder's stripe before any test and says which one it has
    "import sys, stripe, pytest; "
    "print('stripe', stripe.VERSION, 'from', stripe.__file__, flush=True); "
    "sys.exit(pytest.main(sys.argv[1:]))"
)

pytestmark = pytest.mark.slow


def lowest_declared() -> str:
    """The lower bound of the stripe requirement in pyproject.toml (``stripe>=X,<Y``)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for dependency in pyproject["project"]["dependencies"]:
        requirement = Requirement(dependency)
        if requirement.name == "stripe":
            lows = [s.version for s in requirement.specifier if s.operator == ">="]
            assert len(lows) == 1, f"the stripe requirement needs one lower bound: {dependency}"
            return lows[0]
    raise AssertionError("pyproject.toml does not require stripe")


def installed_version(folder: Path) -> str:
    """The version of stripe installed in ``folder`` ("" when there is none)."""
    try:
        text = (folder / "stripe" / "_version.py").read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(r"""VERSION\s*=\s*["']([^"']+)["']""", text)
    return match.group(1) if match else ""


def _not_installable(why: str) -> NoReturn:
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI is set, so the lowest stripe-python must be tested, but {why}", pytrace=False)
    pytest.skip(why)


def lowest_stripe(version: str) -> Path:
    """``build/stripe-<version>``, installed with this interpreter's pip on first use and reused after."""
    folder = ROOT / "build" / f"stripe-{version}"
    if installed_version(folder) == version:
        return folder
    partial = folder.with_name(f".{folder.name}-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input", "--disable-pip-version-check",
               "--timeout", "20", "--retries", "1", "--target", str(partial), f"stripe=={version}"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        shutil.rmtree(partial, ignore_errors=True)
        _not_installable(f"pip did not install stripe=={version} within 5 minutes.")
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        _not_installable(f"pip could not install stripe=={version} (the lowest version pyproject.toml "
                         f"admits) from the package index: {' / '.join(lines[-2:])}")
    shutil.rmtree(folder, ignore_errors=True)
    try:
        partial.rename(folder)
    except OSError:  # another run put it there first
        shutil.rmtree(partial, ignore_errors=True)
    assert installed_version(folder) == version
    return folder


def unmet_requirements(folder: Path) -> list[str]:
    """The lowest stripe's own requirements that this environment does not satisfy (it is installed
    without its dependencies, which come from the environment)."""
    dist = next(iter(metadata.distributions(path=[str(folder)])))
    unmet = []
    for line in dist.requires or []:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            found = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            found = ""
        if not found or not requirement.specifier.contains(found, prereleases=True):
            unmet.append(f"{line} (found {found or 'nothing'})")
    return unmet


def test_the_lowest_declared_stripe_passes_the_stripe_tests(tmp_path: Path) -> None:
    version = lowest_declared()
    folder = lowest_stripe(version)
    assert not unmet_requirements(folder), unmet_requirements(folder)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)]),
           "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-c", RUN, "-q", "-p", "no:cacheprovider",
               f"--basetemp={tmp_path / 'run'}", *SUBSET]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    output = result.stdout + result.stderr
    assert f"stripe {version} from {folder}" in result.stdout, output[-3000:]
    assert result.returncode == 0, output[-6000:]
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 50, output[-3000:]
    assert not re.search(r"\d+ (failed|errors?|skipped)", result.stdout), output[-3000:]
