"""Card readers screen against the fake Stripe: list, register (admins, idempotent), choose this desk's reader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from boxoffice.app import AppServices, build_app
from boxoffice.config import Settings, load_settings, save_settings
from boxoffice.db.engine import sqlite_url
from boxoffice.errors import InvalidInput, PermissionDenied
from boxoffice.services.money.card_readers import new_registration_key, register_reader
from boxoffice.services.staff.access import Actor, Role, acting_as
from boxoffice.ui.desk import Desk
from boxoffice.ui.messages import RecordingMessages
from boxoffice.ui.screens.readers.screen import ReadersScreen
from boxoffice.ui.tasks import TaskRunner
from tests import factories
from tests.stripe.conftest import make_gateway

_RUNNERS: list[TaskRunner] = []  # kept alive for the session: no runner is deleted while Qt may still call it


@pytest.fixture
def services(db_path: Path, clock: Any, fake: Any) -> Iterator[AppServices]:
    app = build_app(sqlite_url(db_path), clock=clock, gateway=make_gateway(fake.url))
    yield app
    app.close()


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.json"
    save_settings(Settings(desk_name="Desk 1", stripe_reader_id="tmr_desk1"), path)
    return path


@pytest.fixture
def screen(qtbot: Any, services: AppServices, settings_file: Path) -> Iterator[ReadersScreen]:
    conf = factories.conference(services.db)
    tasks = TaskRunner()
    _RUNNERS.append(tasks)
    desk = Desk(services=services, tasks=tasks, messages=RecordingMessages(), conference_id=conf.id)

    def save(reader_id: str) -> None:
        settings = load_settings(settings_file).settings
        settings.stripe_reader_id = reader_id
        save_settings(settings, settings_file)

    widget = ReadersScreen(desk, services.card_payments, services.card_payments._gateway,
                           reader_id="tmr_desk1", save_reader=save)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    with qtbot.waitSignal(widget.refreshed, timeout=10_000):
        widget.refresh()
    yield widget
    tasks.wait_idle()
    qtbot.wait(10)


def test_lists_the_readers_and_marks_this_desks(screen: ReadersScreen) -> None:
    labels = [screen.model.index(r, 0).data() for r in range(screen.model.rowCount())]
    assert sorted(labels) == ["Desk 1", "Desk 2"]
    row = screen.model.find("tmr_desk1")
    assert screen.model.index(row, 2).data() == "✔ This desk"
    assert screen.model.index(row, 1).data() == "Online"
    assert screen.current.text() == "This desk uses: Desk 1 (tmr_desk1)"
    assert not screen.use_button.isEnabled()  # the selected reader is already this desk's


def test_register_then_use_it_for_this_desk(qtbot: Any, screen: ReadersScreen, fake: Any,
                                            settings_file: Path) -> None:
    qtbot.keyClicks(screen.code, "simulated-wpe")
    qtbot.keyClicks(screen.label, "Desk 3 reader")
    qtbot.keyClicks(screen.location, "tml_venue")
    with qtbot.waitSignal(screen.refreshed, timeout=10_000):
        screen.register_button.click()
    assert "Registered Desk 3 reader" in screen.register_message.text()
    row = next(r for r in range(screen.model.rowCount()) if screen.model.index(r, 0).data() == "Desk 3 reader")
    new_id = screen.model.row_of(row).id
    assert fake.objects[new_id]["location"] == "tml_venue"

    screen.table.selectRow(row)
    assert screen.use_button.isEnabled()
    with qtbot.waitSignal(screen.reader_chosen, timeout=10_000) as chosen:
        screen.use_button.click()
    assert chosen.args == [new_id]
    assert load_settings(settings_file).settings.stripe_reader_id == new_id
    assert screen.model.index(row, 2).data() == "✔ This desk"
    assert screen.current.text() == f"This desk uses: Desk 3 reader ({new_id})"


def test_a_bad_code_is_shown_next_to_the_form(qtbot: Any, screen: ReadersScreen) -> None:
    qtbot.keyClicks(screen.code, "invalid")
    qtbot.keyClicks(screen.label, "Spare")
    qtbot.keyClicks(screen.location, "tml_venue")
    screen.register_button.click()
    qtbot.waitUntil(lambda: screen.register_message.isVisible(), timeout=10_000)
    assert "registration code is invalid" in screen.register_message.text()
    assert screen.register_button.isEnabled() and screen.model.rowCount() == 2


@pytest.mark.no_default_actor
def test_only_admins_register_or_choose_readers(qtbot: Any, screen: ReadersScreen, settings_file: Path) -> None:
    volunteer = Actor(staff_id=None, name="Val", role=Role.VOLUNTEER)
    screen.table.selectRow(screen.model.find("tmr_desk2"))
    with acting_as(volunteer):  # the task runs as whoever was acting when it started
        screen.use_button.click()
    qtbot.waitUntil(lambda: screen.message.isVisible(), timeout=10_000)
    assert "admin" in screen.message.text().lower()
    assert load_settings(settings_file).settings.stripe_reader_id == "tmr_desk1"
    with acting_as(volunteer), pytest.raises(PermissionDenied):
        register_reader(screen._gateway, registration_code="simulated-wpe", label="X", location="tml_venue",
                        idempotency_key=new_registration_key())


def test_registration_retried_with_the_same_key_registers_once(services: AppServices, fake: Any) -> None:
    gateway = services.card_payments._gateway
    key = new_registration_key()
    first = register_reader(gateway, registration_code="simulated-wpe", label="Door", location="tml_venue",
                            idempotency_key=key)
    again = register_reader(gateway, registration_code="simulated-wpe", label="Door", location="tml_venue",
                            idempotency_key=key)
    assert again.id == first.id
    assert [r.label for r in services.card_payments.list_readers()].count("Door") == 1
    with pytest.raises(InvalidInput, match="tml_"):
        register_reader(gateway, registration_code="simulated-wpe", label="Door", location="venue",
                        idempotency_key=new_registration_key())


def test_install_stripe_adds_the_readers_screen_and_the_choice_reaches_the_payment_dialog(
        qtbot: Any, services: AppServices, settings_file: Path) -> None:
    from boxoffice.ui.dialogs.payment import PaymentDialog
    from boxoffice.ui.main_window import MainWindow
    from boxoffice.ui.stripe_wiring import install_stripe, unregister_card_methods

    conf = factories.conference(services.db)
    tasks = TaskRunner()
    _RUNNERS.append(tasks)
    desk = Desk(services=services, tasks=tasks, messages=RecordingMessages(), conference_id=conf.id)
    window = MainWindow(desk, conference_name=conf.name, database_label="test")
    qtbot.addWidget(window)
    saved: list[str] = []
    controller = install_stripe(window, reader_id="tmr_desk1", slow_ms=600_000, save_reader=saved.append)
    try:
        assert [b.text() for b in window.nav_buttons][-1] == "Readers  [F5]"
        screen = window.readers_screen
        window.show_screen(len(window.nav_buttons) - 1)
        qtbot.waitUntil(lambda: screen.model.rowCount() == 2, timeout=10_000)
        screen.table.selectRow(screen.model.find("tmr_desk2"))
        with qtbot.waitSignal(screen.reader_chosen, timeout=10_000):
            screen.use_button.click()
        assert saved == ["tmr_desk2"]
        plugin = next(p for p in PaymentDialog.extra_methods if p.key == "card_reader")
        page = plugin.build(type("Host", (), {"desk": desk})())
        assert page.preferred_reader == "tmr_desk2"
    finally:
        controller.stop()
        tasks.wait_idle()
        qtbot.wait(20)
        unregister_card_methods()
