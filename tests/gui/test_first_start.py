"""First start: a corrupt settings file falls back to the set-up dialog with its message, never a crash."""

from __future__ import annotations

from boxoffice.config import load_settings
from boxoffice.ui.dialogs.first_start import FirstStartChoice, FirstStartDialog
from boxoffice.ui.launch import _needs_setup, apply_first_start


def test_corrupt_settings_show_the_problem_in_the_first_start_dialog(qtbot, tmp_path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json", encoding="utf-8")
    loaded = load_settings(path)
    assert loaded.first_start and loaded.problem
    dialog = FirstStartDialog(database_label="boxoffice.sqlite3", problem=loaded.problem)
    qtbot.addWidget(dialog)
    assert dialog.problem.text() == loaded.problem
    dialog.start.click()
    assert "name" in dialog.message.text()      # the operator's name is required
    assert dialog.result() == 0


def test_first_start_opens_the_demo_and_names_the_operator(services, tmp_path) -> None:
    loaded = load_settings(tmp_path / "missing.json")
    assert _needs_setup(services, loaded)
    new_services, settings, owned = apply_first_start(
        services, loaded.settings, FirstStartChoice(database="", conference_file="", operator_name="Grace"))
    assert not owned and new_services is services
    conference = services.conferences.get(settings.conference_id)
    assert conference.name == "PyDesk Conf 2027"
    assert settings.operator_name == "Grace"
    assert [s.name for s in services.staff.list()].count("Grace") == 1
