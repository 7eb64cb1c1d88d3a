"""A PostgreSQL password given at set-up goes to the keychain, never to settings.json, and is used to connect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from boxoffice import keychain as os_keychain
from boxoffice.app import AppServices, build_app
from boxoffice.config import Settings, load_settings, resolve_database_url, save_settings
from boxoffice.db import credentials
from boxoffice.db.engine import sqlite_url
from boxoffice.errors import ConfigError
from boxoffice.ui.dialogs.first_start import FirstStartChoice
from boxoffice.ui.launch import apply_first_start

SECRET = "s3cret-Desk-pw"


@pytest.fixture
def services(db_path: Path) -> Iterator[AppServices]:
    """The desk as it started: on its own SQLite file, before the first-start dialog chose PostgreSQL."""
    app = build_app(sqlite_url(db_path), use_stripe=False)
    yield app
    app.close()


def _with_password(pg_url: str) -> str:
    _scheme, rest = pg_url.split("://", 1)
    user, where = rest.split("@", 1)
    return f"postgresql://{user}:{SECRET}@{where}"


def test_the_first_start_keeps_the_password_in_the_keychain_and_out_of_the_file(
        pg_url: str, services: Any, keychain: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOXOFFICE_DATABASE_URL", raising=False)
    typed = _with_password(pg_url)
    opened, settings, owned = apply_first_start(services, Settings(), FirstStartChoice(typed, ""))
    try:
        assert owned and opened.db.is_postgresql
        path = tmp_path / "settings.json"
        save_settings(settings, path)
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text
        saved = json.loads(text)["database_url"]
        assert saved.startswith("postgresql+psycopg://postgres@") and ":" not in saved.split("//")[1].split("@")[0]
        database = pg_url.rsplit("/", 1)[1]
        assert os_keychain.get_password(credentials.SERVICE, f"postgres@127.0.0.1:5432/{database}") == SECRET
        # The next start reads the URL from the file and the password from the keychain.
        url = resolve_database_url(None, load_settings(path).settings)
        assert f":{SECRET}@" in url
    finally:
        if owned:
            opened.close()


def test_a_settings_save_never_writes_a_password_even_one_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(Settings(database_url=f"postgresql+psycopg://desk:{SECRET}@db.example/boxoffice",
                           desk_name="Desk 2"), path)
    assert SECRET not in path.read_text(encoding="utf-8")
    assert load_settings(path).settings.database_url == "postgresql+psycopg://desk@db.example/boxoffice"


def test_the_database_option_is_used_but_not_saved(pg_url: str, services: Any, tmp_path: Path) -> None:
    # ``--database`` opened ``services``; the first-start dialog left the field empty.
    _opened, settings, owned = apply_first_start(services, Settings(), FirstStartChoice("", ""))
    assert not owned and settings.database_url == ""


def test_a_keychain_that_cannot_take_the_password_refuses_without_showing_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> None:
        raise os_keychain.KeychainError("the keychain is locked (saving); unlock it and try again")

    monkeypatch.setattr(os_keychain, "set_password", broken)
    with pytest.raises(ConfigError, match="never written to the settings file") as refused:
        credentials.keep_password(f"postgresql://desk:{SECRET}@db.example:6543/boxoffice")
    assert SECRET not in str(refused.value)


def test_the_account_is_user_at_host_and_database() -> None:
    from sqlalchemy.engine import make_url

    assert credentials.account(make_url("postgresql+psycopg://desk:x@db.example/boxoffice")) == \
        "desk@db.example/boxoffice"
    assert credentials.account(make_url("postgresql://desk@db.example:6543/boxoffice")) == \
        "desk@db.example:6543/boxoffice"
    assert credentials.without_password("sqlite:////tmp/x.sqlite3") == "sqlite:////tmp/x.sqlite3"
