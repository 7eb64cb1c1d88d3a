"""The installer: build the one-folder app with PyInstaller and run the frozen ``--self-test`` offscreen.

Run alone with ``pytest -m packaging``. The build goes to ``build/pytest-packaging`` and reuses
PyInstaller's cache there between runs (no ``--clean``), so a repeat run takes seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "pytest-packaging"
SIZE_GUARD_MB = 160   # `make dist` is about 140 MB on Linux; a Qt module slipping in would blow this


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


@pytest.fixture(scope="session")
def frozen_app() -> Iterator[Path]:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("PyInstaller is missing: it is in the test extra (pip install -e '.[test]')")
        pytest.skip("PyInstaller is not installed")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(OUT / "dist"), "--workpath", str(OUT / "work"), str(ROOT / "build.spec")],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    folder = OUT / "dist" / f"boxoffice-{version('boxoffice')}"
    print(f"\nPyInstaller one-folder build: {time.monotonic() - started:.0f} s, {_size_mb(folder):.0f} MB")
    yield folder


def _run(app: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "BOXOFFICE_"))}
    env.update({"BOXOFFICE_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"})
    exe = app / ("boxoffice.exe" if sys.platform == "win32" else "boxoffice")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=300, cwd=home)


def test_frozen_self_test_exits_zero(frozen_app: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    done = _run(frozen_app, "--self-test", home=tmp_path)
    print(f"\nfrozen --self-test: {time.monotonic() - started:.1f} s\n{done.stdout}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "frozen build" in done.stdout and done.stdout.splitlines()[-1].startswith("SELF-TEST PASSED")
    assert "screen Sell (SellScreen) rendered" in done.stdout
    # User data goes to the user folders (here BOXOFFICE_HOME), never next to the executable.
    assert (tmp_path / "logs" / "boxoffice.log").is_file()
    assert not list(frozen_app.rglob("*.log")) and not list(frozen_app.rglob("*.sqlite3"))


def test_frozen_app_reports_the_package_version(frozen_app: Path, tmp_path: Path) -> None:
    done = _run(frozen_app, "--version", home=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"boxoffice {version('boxoffice')}"


def test_bundle_holds_only_the_qt_pieces_the_desk_uses(frozen_app: Path) -> None:
    names = [p.name for p in frozen_app.rglob("*")]
    unwanted = [n for n in names if n.startswith(("libQt6Quick", "libQt6Qml", "libQt6WebEngine", "libQt63D",
                                                     "libQt6Multimedia", "libQt6Network", "libQt6Pdf",
                                                     "QtQuick", "QtQml", "QtWebEngine", "QtNetwork"))]
    assert not unwanted, unwanted
    assert not [p for p in frozen_app.rglob("translations") if p.is_dir()]
    assert (frozen_app / "_internal" / "resources" / "style.qss").is_file()
    assert list(frozen_app.rglob("0001_registration_schema.py")), "the migrations are not bundled"
    assert _size_mb(frozen_app) < SIZE_GUARD_MB
