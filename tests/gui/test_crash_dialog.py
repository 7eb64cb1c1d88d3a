"""An unhandled exception: a dialog says what happened and where the scrubbed report is; sales stay saved."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from boxoffice import paths
from boxoffice.app import AppServices
from boxoffice.ui import crash
from tests.gui.conftest import Catalogue

CARD = "4242 4242 4242 4242"
KEY = "sk_live_" + "51CrashTestQwErTyUiOpAsDf"


@pytest.fixture
def handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: Any) -> Iterator[crash.CrashHandler]:
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    installed = crash.CrashHandler().install()
    yield installed
    installed.uninstall()
    if installed.dialog is not None:
        installed.dialog.close()


def _sell_for_cash(services: AppServices, catalogue: Catalogue) -> int:
    cart = services.carts.new_walkup_cart(catalogue.conference_id)
    services.carts.add_ticket(cart.id, catalogue.regular, 1)
    order = services.checkout.checkout(cart.id, billing_name="Ada", billing_email="ada@example.org")
    assert services.payments.pay_cash(order.id, Decimal("100.00")).paid_in_full
    return order.id


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_slot_shows_the_dialog_writes_a_scrubbed_report_and_keeps_the_sale(
        qtbot: Any, handler: crash.CrashHandler, services: AppServices, catalogue: Catalogue) -> None:
    order_id = _sell_for_cash(services, catalogue)

    def broken_slot() -> None:
        raise RuntimeError(f"receipt printer refused card {CARD} with key {KEY}")

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible(), timeout=5000)

    report = handler.reports[-1]
    assert report is not None and report.parent == paths.log_dir() and report.is_file()
    text = handler.dialog.text()
    assert "RuntimeError: receipt printer refused card" in text
    assert "The sale data is safe" in text and str(report) in text
    for secret in (CARD, KEY, KEY[8:]):
        assert secret not in text
        assert secret not in report.read_text(encoding="utf-8")
    assert "Traceback" in report.read_text(encoding="utf-8") and "broken_slot" in report.read_text(encoding="utf-8")

    # The desk goes on: the event loop still runs timers, and the completed sale is in the database.
    ran: list[bool] = []
    QTimer.singleShot(0, lambda: ran.append(True))
    qtbot.waitUntil(lambda: ran == [True], timeout=2000)
    assert services.orders.get(order_id).status == "paid"


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_worker_thread_is_shown_by_the_gui_thread(
        qtbot: Any, handler: crash.CrashHandler) -> None:
    def work() -> None:
        raise ValueError("sync worker lost its connection")

    worker = threading.Thread(target=work, name="sync-worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible(), timeout=5000)
    assert "ValueError: sync worker lost its connection" in handler.dialog.text()
    report = handler.reports[-1]
    assert report is not None and "Thread: sync-worker" in report.read_text(encoding="utf-8")


@pytest.mark.qt_no_exception_capture
def test_a_repeating_error_does_not_pile_up_dialogs(qtbot: Any, handler: crash.CrashHandler) -> None:
    for n in range(3):
        handler.handle(RuntimeError, RuntimeError(f"paint failed {n}"), None)
    assert handler.dialog is not None and "paint failed 0" in handler.dialog.text()
    assert handler.suppressed == 2 and len(handler.reports) == 3
    handler.dialog.close()
    qtbot.waitUntil(lambda: handler.dialog is None, timeout=2000)
    handler.handle(RuntimeError, RuntimeError("after closing"), None)
    assert handler.dialog is not None and "after closing" in handler.dialog.text()


def test_without_a_qt_application_the_report_is_written_and_stderr_says_where(tmp_path: Path) -> None:
    script = (
        "from boxoffice.ui.crash import install_crash_handler\n"
        "install_crash_handler()\n"
        f"raise KeyError('card {CARD}')\n"
    )
    env = {**os.environ, paths.HOME_ENV: str(tmp_path)}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    assert done.returncode == 1
    reports = list((tmp_path / "logs").glob("crash-*.txt"))
    assert len(reports) == 1
    assert str(reports[0]) in done.stderr and "The sale data is safe" in done.stderr
    assert CARD not in done.stderr and CARD not in reports[0].read_text(encoding="utf-8")
    assert "PySide6" not in reports[0].read_text(encoding="utf-8")
