"""The task runner delivers on the GUI thread and drops stale results; the presenter sorts errors."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtCore import QThread

from boxoffice.errors import Cancelled, SoldOut
from boxoffice.ui.messages import UNEXPECTED, RecordingMessages
from boxoffice.ui.tasks import TaskRunner
from boxoffice.ui.widgets.inline_message import Banner, InlineMessage


def test_result_is_computed_off_and_delivered_on_the_gui_thread(qtbot) -> None:
    runner = TaskRunner()
    seen: dict[str, object] = {}

    def work() -> int:
        seen["worker"] = threading.get_ident()
        return 42

    def done(value: object) -> None:
        seen["value"] = value
        seen["gui"] = QThread.currentThread() is runner.thread()

    runner.read(work, done)
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen["value"] == 42 and seen["gui"] is True
    assert seen["worker"] != threading.get_ident()


def test_an_older_result_with_the_same_key_is_dropped(qtbot) -> None:
    runner = TaskRunner()
    gate = threading.Event()
    delivered: list[str] = []

    def slow() -> str:
        gate.wait(5)
        return "old"

    runner.read(slow, delivered.append, key="search")
    runner.read(lambda: "new", delivered.append, key="search")
    qtbot.waitUntil(lambda: delivered == ["new"])
    gate.set()
    qtbot.waitUntil(lambda: not runner.is_busy())
    assert delivered == ["new"]


def test_writes_run_one_at_a_time_in_order(qtbot) -> None:
    runner = TaskRunner()
    order: list[int] = []
    for i in range(5):
        runner.write(lambda i=i: order.append(i))
    qtbot.waitUntil(lambda: not runner.is_busy())
    assert order == [0, 1, 2, 3, 4]


def test_errors_reach_on_error(qtbot) -> None:
    runner = TaskRunner()
    errors: list[BaseException] = []

    def fail() -> None:
        raise SoldOut("Only 1 Regular ticket left.")

    runner.write(fail, on_error=errors.append)
    qtbot.waitUntil(lambda: len(errors) == 1)
    assert isinstance(errors[0], SoldOut)


def test_presenter_shows_user_errors_near_the_cause_and_hides_cancel(qtbot) -> None:
    banner, inline = Banner(), InlineMessage()
    qtbot.addWidget(banner)
    qtbot.addWidget(inline)
    messages = RecordingMessages(banner)
    messages.show_error(Cancelled())
    assert messages.shown == []
    messages.show_error(SoldOut("Only 1 left. Lower the quantity."), near=inline)
    assert inline.text() == "Only 1 left. Lower the quantity."
    assert banner.text() == ""
    messages.show_error(RuntimeError("boom"))
    assert messages.shown[-1].kind == "unexpected" and messages.shown[-1].text == UNEXPECTED
    messages.show_error(SoldOut("No seats."))
    banner.show()
    assert "No seats." in banner.label.text()


def test_callbacks_of_a_deleted_widget_are_not_called(qtbot) -> None:
    from PySide6.QtWidgets import QLabel

    runner = TaskRunner()
    gate = threading.Event()
    label = QLabel()
    runner.read(lambda: gate.wait(5) and "late", label.setText)
    label.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(label))
    gate.set()
    qtbot.waitUntil(lambda: not runner.is_busy())   # no RuntimeError from a deleted C++ object


def test_a_refused_write_reruns_once_as_the_approved_operator(qtbot) -> None:
    from boxoffice.errors import PermissionDenied
    from boxoffice.services.staff.access import Actor, Permission, Role, acting_as, authorize, current_actor

    runner = TaskRunner()
    lead = Actor(2, "Linus", Role.LEAD)
    asked: list[str] = []
    runner.set_override_handler(lambda error, resume, _what: (asked.append(error.needs), resume(lead)))
    seen: list[object] = []

    def refund() -> object:
        authorize(Permission.REFUND)
        return current_actor()

    with acting_as(Actor(1, "Vera", Role.VOLUNTEER)):
        runner.write(refund, seen.append, seen.append)
    qtbot.waitUntil(lambda: len(seen) == 1)
    assert asked == ["lead"]
    assert seen[0] == Actor(1, "Vera", Role.VOLUNTEER, approver=lead)

    runner.set_override_handler(lambda error, resume, _what: resume(None))   # the lead does not approve
    with acting_as(Actor(1, "Vera", Role.VOLUNTEER)):
        runner.write(refund, seen.append, seen.append)
        runner.write(refund, seen.append, seen.append, approvable=False)
    qtbot.waitUntil(lambda: len(seen) == 3)
    assert all(isinstance(e, PermissionDenied) for e in seen[1:])
