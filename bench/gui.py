"""GUI start-up benchmark: process start to the Sell screen accepting input, beside a bare-Qt floor.

Both run as subprocesses under QT_QPA_PLATFORM=offscreen. The floor imports PySide6 and SQLAlchemy,
runs one SELECT and shows a window. The app run is `boxoffice run` on a fresh demo database; a
driver polls the widgets until a visible, enabled Sell screen shows at least one product tile.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.datagen import DatasetInfo

READY = "BENCH-READY"
TIMEOUT_S = 60.0

FLOOR_SCRIPT = f"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
from sqlalchemy import create_engine, text
app = QApplication(sys.argv)
engine = create_engine("sqlite:///" + sys.argv[1])
with engine.connect() as conn:
    name = conn.execute(text("SELECT name FROM sqlite_master LIMIT 1")).scalar()
window = QMainWindow()
window.setCentralWidget(QLabel(str(name)))
window.show()
def ready():
    print("{READY}", flush=True)
    app.quit()
QTimer.singleShot(0, ready)
app.exec()
"""

APP_DRIVER = f"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

def poll():
    from boxoffice.ui.screens.sell.catalog_panel import ProductTile
    from boxoffice.ui.screens.sell.screen import SellScreen
    for widget in QApplication.allWidgets():
        if isinstance(widget, SellScreen) and widget.isVisible() and widget.isEnabled():
            if any(t.isVisible() for t in widget.findChildren(ProductTile)):
                print("{READY}", flush=True)
                QApplication.quit()
                return
    QTimer.singleShot(5, poll)

_exec = QApplication.exec
def exec_(*args):
    QTimer.singleShot(0, poll)
    return _exec(*args)
QApplication.exec = exec_
from boxoffice.__main__ import main
sys.exit(main(["--database", "sqlite:///" + sys.argv[1], "run"]))
"""


def _run_until_ready(args: list[str], env: dict[str, str]) -> float | None:
    """Seconds from spawning the process to its READY line (None if it never came)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == READY:
                return time.perf_counter() - started
            if time.perf_counter() - started > TIMEOUT_S:
                break
        return None
    finally:
        proc.kill()
        proc.wait()


def run(info: DatasetInfo, *, reps: int = 5) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    results: dict[str, float] = {}
    floor = [t for t in (_run_until_ready([sys.executable, "-c", FLOOR_SCRIPT, info.path], env)
                         for _ in range(reps)) if t is not None]
    if not floor:
        print("  gui floor script never showed its window; no GUI figures")
        return results
    results["gui_startup_floor_p50_ms"] = round(statistics.median(floor) * 1000, 1)
    try:
        import boxoffice.ui.screens.sell.screen  # noqa: F401
    except ImportError as exc:
        print(f"  app start-up skipped: the Sell screen cannot be imported ({exc})")
        return results
    app_times = []
    with tempfile.TemporaryDirectory() as home:
        app_env = dict(env, BOXOFFICE_HOME=home)
        for i in range(reps + 1):
            db_path = Path(home) / "demo.sqlite3"
            if i == 0:  # first start seeds the demo database; later starts reuse it
                db_path.unlink(missing_ok=True)
            elapsed = _run_until_ready([sys.executable, "-c", APP_DRIVER, str(db_path)], app_env)
            if elapsed is None:
                print("  app start-up skipped: no visible Sell screen with products within "
                      f"{TIMEOUT_S:.0f} s (is boxoffice.ui.launch wired into `boxoffice run`?)")
                return results
            if i == 0:
                results["gui_first_start_ms"] = round(elapsed * 1000, 1)
            else:
                app_times.append(elapsed)
    p50 = statistics.median(app_times) * 1000
    results["gui_startup_p50_ms"] = round(p50, 1)
    results["gui_startup_p99_ms"] = round(max(app_times) * 1000, 1)
    results["gui_startup_ratio_to_floor"] = round(p50 / results["gui_startup_floor_p50_ms"], 2)
    print("  Orders screen on 100k orders: not measured (needs a way to open it from outside the GUI)")
    return results
