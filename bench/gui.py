"""GUI benchmarks: start-up until the desk can be used, beside a bare-Qt floor; the Orders screen on 100k orders.

All run as subprocesses under QT_QPA_PLATFORM=offscreen, the package byte-compiled first. The floor
imports SQLAlchemy and PySide6, runs one SELECT and shows a window; the ORM floor does the same with
its SELECT through our mapped models. The app run is `boxoffice run` on a demo database; a driver
polls the widgets until the desk is usable: the sign-in screen is shown and ready (the staff names
arrived from the database, so a sign-in goes through; the window opens locked), or a
visible, enabled Sell screen shows at least one product tile, with no modal dialog in front. The
first start is prepared with the first admin, so no dialog waits for a person. Floor, ORM floor and
app runs are interleaved (9 of each: runs on this kind of machine vary by 20-30%).
The Orders screen is opened on a copy of the benchmark database: time from constructing it to its
first page shown, and the process's peak resident memory.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.datagen import DatasetInfo, working_copy

READY = "BENCH-READY"
TIMEOUT_S = 60.0

def _floor_script(imports: str, select: str) -> str:
    """A bare desk: ``imports`` (SQLAlchemy, then PySide6), one ``select`` giving ``name``, one window."""
    return f"""
import sys
{imports}
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication(sys.argv)
engine = create_engine("sqlite:///" + sys.argv[1])
{select}
window = QMainWindow()
window.setCentralWidget(QLabel(str(name)))
window.show()
def ready():
    print("{READY}", flush=True)
    app.quit()
QTimer.singleShot(0, ready)
app.exec()
"""


# SQLAlchemy is imported before PySide6: once PySide6 is loaded, its feature hook reads the source of
# every module imported after it (PYSIDE-2029), so this order is the cheaper one; the app keeps it too.
FLOOR_SCRIPT = _floor_script(
    "from sqlalchemy import create_engine, text",
    "with engine.connect() as conn:\n"
    "    name = conn.execute(text('SELECT name FROM sqlite_master LIMIT 1')).scalar()")

# A second, informative floor: the same bare window, but the one SELECT goes through our ORM models
# (importing them and configuring the mappers). The desk no longer pays this before its sign-in
# screen is ready (it reads the sign-in names with Core and loads the models after): the app's
# ratio to it, below 1, shows what that saves.
ORM_FLOOR_SCRIPT = _floor_script(
    "from sqlalchemy import create_engine, select\n"
    "from sqlalchemy.orm import Session\n"
    "from boxoffice.domain.models import Conference",
    "with Session(engine) as session:\n"
    "    name = session.scalars(select(Conference.name).limit(1)).first()")

# The driver must not change what the app imports or when: it hooks QApplication.exec only once the
# app itself has imported PySide6.QtWidgets (a finder that wraps that one module's loader).
APP_DRIVER = f"""
import sys
from importlib.machinery import PathFinder

def poll():
    # Only classes the app has imported itself: importing a screen here would add to the time.
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    lock = getattr(sys.modules.get("boxoffice.ui.widgets.lock_screen"), "LockScreen", None)
    sell = getattr(sys.modules.get("boxoffice.ui.screens.sell.screen"), "SellScreen", None)
    tile = getattr(sys.modules.get("boxoffice.ui.screens.sell.catalog_panel"), "ProductTile", None)
    if QApplication.activeModalWidget() is not None:   # a dialog in front: the desk takes no input
        QTimer.singleShot(5, poll)
        return
    for widget in QApplication.allWidgets():
        if not (widget.isVisible() and widget.isEnabled()):
            continue
        if lock is not None and isinstance(widget, lock) and widget.ready:
            print("{READY}", flush=True)
            QApplication.quit()
            return
        if sell is not None and isinstance(widget, sell):
            if any(t.isVisible() for t in widget.findChildren(tile)):
                print("{READY}", flush=True)
                QApplication.quit()
                return
    QTimer.singleShot(5, poll)

def hook_exec(module):
    QApplication = module.QApplication
    _exec = QApplication.exec
    def exec_(*_self):   # exec is static: called on the instance, Python hands it the app first
        from PySide6.QtCore import QTimer
        QTimer.singleShot(0, poll)
        return _exec()
    QApplication.exec = exec_

class WatchQtWidgets:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "PySide6.QtWidgets":
            return None
        spec = PathFinder.find_spec(name, path, target)
        loader_exec = spec.loader.exec_module
        def exec_module(module):
            loader_exec(module)
            hook_exec(module)
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, WatchQtWidgets)
if len(sys.argv) > 2:  # first start: settings naming the demo conference, and the first admin
    from boxoffice.app import build_app
    from boxoffice.config import Settings, save_settings
    from boxoffice.demo.seed import seed_if_empty
    from boxoffice.services.staff.access import SYSTEM, acting_as
    save_settings(Settings(database_url="sqlite:///" + sys.argv[1], conference_id=1))
    prepared = build_app("sqlite:///" + sys.argv[1], use_stripe=False)
    with acting_as(SYSTEM):
        seed_if_empty(prepared.ctx)
    if prepared.directory.needs_first_admin():
        prepared.auth.create_first_admin("Bench Admin", "bench password")
    prepared.close()
from boxoffice.__main__ import main
sys.exit(main(["--database", "sqlite:///" + sys.argv[1], "run"]))
"""


ORDERS_DRIVER = f"""
import json, resource, sys, time

def peak_rss_mb():
    # This program's own peak (VmHWM). ru_maxrss survives execve, so it can show the peak of the
    # benchmark process this one was forked from (after building the 100k-order data set, ~600 MB).
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

from PySide6.QtWidgets import QApplication
from boxoffice.app import build_app
from boxoffice.ui.desk import Desk
from boxoffice.ui.formatting import Display
from boxoffice.ui.messages import Messages
from boxoffice.ui.screens.orders.screen import OrdersScreen
from boxoffice.ui.tasks import TaskRunner

app = QApplication(sys.argv)
services = build_app("sqlite:///" + sys.argv[1])
desk = Desk(services=services, tasks=TaskRunner(), messages=Messages(), conference_id=1,
            display=Display("USD", "America/New_York"))
rss_before = peak_rss_mb()
started = time.perf_counter()
screen = OrdersScreen(desk)
screen.resize(1200, 800)
screen.model.loaded.connect(lambda: app.quit())
screen.show()
screen.refresh()
app.exec()
app.processEvents()
screen.repaint()
elapsed = (time.perf_counter() - started) * 1000
print(json.dumps(dict(ms=elapsed, rows=screen.model.rowCount(), total=screen.model.total,
                      rss_mb=peak_rss_mb(),
                      rss_before_mb=rss_before)))
print("{READY}", flush=True)
"""


def _orders_screen(info: DatasetInfo, env: dict[str, str], reps: int) -> dict[str, float]:
    """Open the Orders screen on the 100k-order database in fresh processes (median of ``reps``)."""
    path = working_copy(info, "gui")
    runs = []
    for _ in range(reps):
        proc = subprocess.run([sys.executable, "-c", ORDERS_DRIVER, str(path)], capture_output=True, text=True,
                              env=env, timeout=TIMEOUT_S, check=False)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"  Orders screen not measured: {tail}")
            return {}
        runs.append(json.loads(lines[-1]))
    if not runs[0]["rows"]:
        print("  Orders screen showed no rows; figures not recorded")
        return {}
    return {
        "gui_orders_open_p50_ms": round(statistics.median(r["ms"] for r in runs), 1),
        "gui_orders_open_max_ms": round(max(r["ms"] for r in runs), 1),
        "gui_orders_rss_mb": round(statistics.median(r["rss_mb"] for r in runs), 1),
        "gui_orders_rss_before_open_mb": round(statistics.median(r["rss_before_mb"] for r in runs), 1),
    }


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


def _compile_bytecode() -> None:
    """Byte-compile the package first, as an installed desk has it (pip and PyInstaller do).

    With PYTHONDONTWRITEBYTECODE set, a source checkout would otherwise compile every module of
    ours at each start, which no installed desk does.
    """
    import compileall

    import boxoffice

    compileall.compile_dir(str(Path(boxoffice.__file__).parent), quiet=1)


def run(info: DatasetInfo, *, reps: int = 9) -> dict[str, float]:
    """Start-up: the floor, the ORM floor and the app, interleaved run by run; then the Orders screen."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    results: dict[str, float] = {}
    _compile_bytecode()
    try:
        import boxoffice.ui.screens.orders.screen  # noqa: F401

        results.update(_orders_screen(info, env, reps=3))
    except ImportError as exc:
        print(f"  Orders screen skipped: it cannot be imported ({exc})")
    floor: list[float] = []
    orm_floor: list[float] = []
    app_times: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        app_env = dict(env, BOXOFFICE_HOME=home)
        db_path = Path(home) / "demo.sqlite3"
        first = _run_until_ready([sys.executable, "-c", APP_DRIVER, str(db_path), "--first-start"], app_env)
        if first is None:
            print("  app start-up skipped: no usable desk (sign-in screen or Sell screen) within "
                  f"{TIMEOUT_S:.0f} s")
            return results
        results["gui_first_start_ms"] = round(first * 1000, 1)
        for _ in range(reps):   # interleaved, so a busy moment of the machine hits all three alike
            for times, args, run_env in (
                    (floor, [sys.executable, "-c", FLOOR_SCRIPT, info.path], env),
                    (orm_floor, [sys.executable, "-c", ORM_FLOOR_SCRIPT, str(db_path)], env),
                    (app_times, [sys.executable, "-c", APP_DRIVER, str(db_path)], app_env)):
                elapsed = _run_until_ready(args, run_env)
                if elapsed is not None:
                    times.append(elapsed)
    if not floor or not app_times:
        print("  gui floor script or app never became ready; no start-up figures")
        return results
    results["gui_startup_floor_p50_ms"] = round(statistics.median(floor) * 1000, 1)
    p50 = statistics.median(app_times) * 1000
    results["gui_startup_p50_ms"] = round(p50, 1)
    results["gui_startup_p99_ms"] = round(max(app_times) * 1000, 1)
    results["gui_startup_ratio_to_floor"] = round(p50 / results["gui_startup_floor_p50_ms"], 2)
    if orm_floor:
        results["gui_startup_orm_floor_p50_ms"] = round(statistics.median(orm_floor) * 1000, 1)
        results["gui_startup_ratio_to_orm_floor"] = round(p50 / results["gui_startup_orm_floor_p50_ms"], 2)
    return results
