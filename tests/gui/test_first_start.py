"""First start: a corrupt settings file falls back to the set-up dialog with its message, never a crash;
a database without an admin asks for the first admin (no default password)."""

from __future__ import annotations

import pytest

from boxoffice.config import load_settings
from boxoffice.services.staff.access import Role
from boxoffice.ui.dialogs.first_start import FirstAdminDialog, FirstStartChoice, FirstStartDialog
from boxoffice.ui.launch import _needs_setup, apply_first_start
from tests.gui.helpers import labels_without_buddy, type_text


def test_corrupt_settings_show_the_problem_in_the_first_start_dialog(qtbot, tmp_path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json", encoding="utf-8")
    loaded = load_settings(path)
    assert loaded.first_start and loaded.problem
    dialog = FirstStartDialog(database_label="boxoffice.sqlite3", problem=loaded.problem)
    qtbot.addWidget(dialog)
    assert dialog.problem.text() == loaded.problem
    dialog.import_file.setChecked(True)
    dialog.start.click()
    assert "conference file" in dialog.message.text()      # no file chosen: the dialog stays open
    assert dialog.result() == 0


def test_first_start_opens_the_demo_and_names_the_operator(services, tmp_path) -> None:
    loaded = load_settings(tmp_path / "missing.json")
    assert _needs_setup(services, loaded)
    new_services, settings, owned = apply_first_start(
        services, loaded.settings, FirstStartChoice(database="", conference_file=""))
    assert not owned and new_services is services
    conference = services.conferences.get(settings.conference_id)
    assert conference.name == "PyDesk Conf 2027"


@pytest.mark.no_default_actor
def test_first_admin_dialog_needs_matching_passwords_then_creates_the_only_admin(qtbot, services) -> None:
    assert services.directory.needs_first_admin()
    dialog = FirstAdminDialog(services.auth.create_first_admin)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.name, "Ada")
    qtbot.keyClicks(dialog.password, "short")
    type_text(qtbot, dialog.repeat, "short")
    dialog.create_button.click()
    assert "at least 8" in dialog.message.text() and dialog.result() == 0
    dialog.password.clear()
    dialog.repeat.clear()
    qtbot.keyClicks(dialog.password, "long enough pw")
    type_text(qtbot, dialog.repeat, "long enough pX")
    dialog.create_button.click()
    assert "differ" in dialog.message.text() and dialog.result() == 0
    assert dialog.repeat.text() == ""                  # cleared for the second try
    type_text(qtbot, dialog.repeat, "long enough pw")
    dialog.create_button.click()
    assert dialog.result() == FirstAdminDialog.DialogCode.Accepted
    assert dialog.account.role is Role.ADMIN and dialog.account.name == "Ada"
    assert not services.directory.needs_first_admin()
    assert services.auth.sign_in("ada", "long enough pw").role is Role.ADMIN


def test_every_mnemonic_label_of_the_set_up_dialogs_has_a_buddy(qtbot) -> None:
    """A label with '&' and no buddy shows the '&' itself and its Alt shortcut goes nowhere."""
    for dialog in (FirstStartDialog(database_label="boxoffice.sqlite3", problem=""),
                   FirstAdminDialog(lambda name, password: None)):
        qtbot.addWidget(dialog)
        assert labels_without_buddy(dialog) == []


@pytest.mark.no_default_actor
def test_the_first_admin_is_signed_in_right_after_creating_the_account(qtbot, services, desk,
                                                                        monkeypatch) -> None:
    from boxoffice.ui.launch import ensure_first_admin
    from boxoffice.ui.main_window import MainWindow

    def fill_and_create(dialog: FirstAdminDialog) -> int:   # what the person types, then Create
        qtbot.keyClicks(dialog.name, "Ada Admin")
        qtbot.keyClicks(dialog.password, "a long passphrase")
        type_text(qtbot, dialog.repeat, "a long passphrase")
        dialog.create_button.click()
        return dialog.result()

    monkeypatch.setattr(FirstAdminDialog, "exec", fill_and_create)
    go_on, admin = ensure_first_admin(services)
    assert go_on and admin.name == "Ada Admin" and admin.role is Role.ADMIN
    desk.operator_id, desk.operator_name = None, ""
    window = MainWindow(desk, conference_name="Python 2077", database_label="test.sqlite3")
    qtbot.addWidget(window)
    assert window.is_locked()
    window.sign_in_as(admin)                    # as launch does with it: no second sign-in
    assert not window.is_locked() and window.status_operator.text() == "Operator: Ada Admin (Admin)"
    window.lock()
