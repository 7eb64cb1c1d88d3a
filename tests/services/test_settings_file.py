"""A settings file with a field of the wrong type or out of range is moved aside with a message.

Every command reads the settings first, so a bad value must never crash one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from boxoffice.config import Settings, load_settings

BAD_FILES = [
    '{"database_url": 123}',
    '["a"]',
    '{"quick_cash_notes": [5, 1e400]}',
    '{"stripe_api_base": 5}',
    '{"idle_lock_minutes": "ten"}',
    '{"conference_id": true}',
    '{"desk_name": null}',
    "[" * 2000 + "]" * 2000,
]


@pytest.mark.parametrize("text", BAD_FILES)
def test_a_bad_settings_file_is_moved_aside_and_the_defaults_are_used(tmp_path: Path, text: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(text, encoding="utf-8")
    loaded = load_settings(path)
    assert loaded.settings == Settings()
    assert "could not be read" in loaded.problem and "settings.corrupt.json" in loaded.problem
    assert not path.exists() and (tmp_path / "settings.corrupt.json").read_text(encoding="utf-8") == text


def test_a_good_file_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"desk_name": "Desk 3", "quick_cash_notes": [5, 20], "idle_lock_minutes": 0,
                                "conference_id": 4, "unknown": {"kept": "out"}}), encoding="utf-8")
    loaded = load_settings(path)
    assert loaded.problem == ""
    assert (loaded.settings.desk_name, loaded.settings.quick_cash_notes) == ("Desk 3", (5, 20))
    assert (loaded.settings.idle_lock_minutes, loaded.settings.conference_id) == (0, 4)


@pytest.mark.parametrize("text", ['{"database_url": 123}', '{"quick_cash_notes": [5, 1e400]}'])
def test_every_command_still_runs_with_a_bad_settings_file(tmp_path: Path, text: str) -> None:
    from tests.services.test_cli import boxoffice

    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(text, encoding="utf-8")
    done = boxoffice("--database", str(tmp_path / "desk.sqlite3"), "db", "upgrade", home=home)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
