"""`boxoffice run` end to end in its own process: the sign-in screen is ready before the ORM loads.

The start reads conferences and the sign-in names with SQLAlchemy Core; garbage collection waits
until the desk is ready. Once ready, the data model loads on a worker, and a sign-in then opens
the Sell screen with the demo catalog.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from boxoffice.app import build_app
from boxoffice.config import Settings, save_settings
from boxoffice.db.engine import sqlite_url
from boxoffice.demo.seed import seed_if_empty
from boxoffice.services.staff.access import SYSTEM, acting_as

ADMIN, PASSWORD = "Desk Admin", "desk password"

# Runs `boxoffice run` in-process and drives it: snapshots what is loaded when the sign-in names
# arrive, waits until the warm-up has made the sign-in and Sell services, signs in, and reports
# once the Sell screen shows its tiles. Arguments: the database URL, the admin's name and password.
DRIVER = """
import gc, json, sys
from boxoffice.ui.widgets.lock_screen import LockScreen
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

seen = {}
_on_names = LockScreen._on_names

def on_names(self, names):
    if not seen:
        seen.update(names=names, orm="sqlalchemy.orm" in sys.modules,
                    models="boxoffice.domain.models" in sys.modules, gc_on=gc.isenabled())
    _on_names(self, names)

LockScreen._on_names = on_names

def report(**more):
    print(json.dumps(dict(seen, **more)), flush=True)
    QApplication.quit()

def step(stage, deadline=[3000]):   # ticks of 10 ms: a safety net, not a target
    deadline[0] -= 1
    if deadline[0] < 0:
        return report(error=f"timed out at {stage}")
    win = next((w for w in QApplication.topLevelWidgets() if hasattr(w, "lock_screen") and w.isVisible()), None)
    if stage == "ready" and win is not None and win.lock_screen.ready:
        seen["gc_after_ready"] = gc.isenabled()
        seen["frozen"] = gc.get_freeze_count()
        stage = "model"
    elif stage == "model" and {"auth", "carts", "catalog", "customers"} <= set(win.desk.services._built):
        form = win.lock_screen.form
        form.name.setText(sys.argv[2])
        form.secret.setText(sys.argv[3])
        form.button.click()
        stage = "signed in"
    elif stage == "signed in" and not win.is_locked() and win.is_built("sell"):
        tiles = [t.product.name for t in win.sell.catalog.tiles if t.isVisible()]
        if tiles:
            return report(tiles=tiles, operator=win.status_operator.text())
    QTimer.singleShot(10, lambda: step(stage))

QTimer.singleShot(0, lambda: step("ready"))
from boxoffice.__main__ import main
sys.exit(main(["--database", sys.argv[1], "run"]))
"""


def _seeded_desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A desk's SQLite file with the demo and its first admin, set as the desk's database (not a first start)."""
    monkeypatch.setenv("BOXOFFICE_HOME", str(tmp_path / "home"))
    path = tmp_path / "desk.sqlite3"
    save_settings(Settings(database_url=sqlite_url(path), conference_id=1))
    app = build_app(sqlite_url(path), use_stripe=False)
    try:
        with acting_as(SYSTEM):
            seed_if_empty(app.ctx)
        app.auth.create_first_admin(ADMIN, PASSWORD)
    finally:
        app.close()
    return path


def _drive(driver: str, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run ``boxoffice run`` under ``driver`` offscreen; its exit and the last JSON report it printed."""
    done = subprocess.run([sys.executable, "-c", driver, *args], capture_output=True, text=True,
                          env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=120, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no report (exit {done.returncode}): {done.stderr[-2000:]}"
    report: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in report, report
    return done, report


@pytest.mark.no_default_actor
def test_the_desk_signs_in_before_the_orm_loads_and_sells_after(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_url = sqlite_url(_seeded_desk(tmp_path, monkeypatch))
    done, report = _drive(DRIVER, db_url, ADMIN, PASSWORD)
    # The sign-in screen was ready with the names read through Core, before any ORM import ...
    assert report["names"] == [ADMIN]
    assert report["orm"] is False and report["models"] is False
    # ... and with garbage collection paused for the start, back on (start-up objects frozen) after.
    assert report["gc_on"] is False and report["gc_after_ready"] is True and report["frozen"] > 10_000
    # The data model and the sign-in and Sell services were then made on a worker; signing in opened
    # the Sell screen on the demo catalog.
    assert report["operator"] == f"Operator: {ADMIN} (Admin)"
    assert len(report["tiles"]) >= 3, report["tiles"]
    assert done.returncode == 0, done.stderr[-2000:]



# Runs `boxoffice run` on a damaged file and reports what happened, in order. SQLite's quick check
# is wrapped to note the thread it runs on and to wait (at most 20 s) until the window shows: a
# check run before the window exists, on the GUI thread, waits in vain. Once the refusal is on
# screen, a write is tried (refused) and the dialog is answered. Argument: the database URL.
DAMAGED_DRIVER = """
import json, sys, threading
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from boxoffice.db import sqlite_health

seen = {"events": []}
shown = threading.Event()
_quick_check = sqlite_health._quick_check

def quick_check(path):
    seen["check_on_gui_thread"] = threading.current_thread() is threading.main_thread()
    seen["window_shown_before_check_ended"] = shown.wait(20)
    return _quick_check(path)

sqlite_health._quick_check = quick_check

def step(deadline=[6000]):   # ticks of 10 ms: a safety net, not a target
    deadline[0] -= 1
    if deadline[0] < 0:
        print(json.dumps(dict(seen, error="timed out")), flush=True)
        return QApplication.exit(3)
    win = next((w for w in QApplication.topLevelWidgets() if hasattr(w, "lock_screen") and w.isVisible()), None)
    if win is not None and not shown.is_set():
        seen["events"].append("window shown")
        shown.set()
    box = QApplication.activeModalWidget()
    if isinstance(box, QMessageBox):
        seen["events"].append("refused")
        seen["refusal"] = box.text()
        try:
            with win.desk.services.db.write():
                pass
        except Exception as exc:
            seen["write"] = type(exc).__name__
        print(json.dumps(seen), flush=True)
        box.accept()
        return
    QTimer.singleShot(10, step)

QTimer.singleShot(0, step)
from boxoffice.__main__ import main
sys.exit(main(["--database", sys.argv[1], "run"]))
"""


@pytest.mark.no_default_actor
def test_the_window_shows_before_the_quick_check_and_a_damaged_file_is_still_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from boxoffice.db.backup import backup_sqlite
    from tests.services.test_sqlite_faults import _overwrite_pages, _with_rows

    path = _seeded_desk(tmp_path, monkeypatch)
    _with_rows(path)
    newest = backup_sqlite(path, label="0008-to-0009")
    _overwrite_pages(path)
    damaged = path.read_bytes()

    done, report = _drive(DAMAGED_DRIVER, sqlite_url(path))
    # The check ran on a worker while the window showed, not before it on the GUI thread ...
    assert report["check_on_gui_thread"] is False and report["window_shown_before_check_ended"] is True
    # ... and the damaged file was refused as before, naming the newest backup, with nothing written.
    assert report["events"] == ["window shown", "refused"]
    assert "is damaged" in report["refusal"] and str(newest) in report["refusal"]
    assert report["write"] == "DatabaseDamaged"
    assert done.returncode == 1 and "is damaged" in done.stderr
    assert path.read_bytes() == damaged
