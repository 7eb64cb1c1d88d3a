"""Settings: one dataclass with every default, saved atomically; a corrupt file is moved aside."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from boxoffice import paths
from boxoffice.db.engine import postgresql_url, sqlite_url

log = logging.getLogger(__name__)

DATABASE_ENV = "BOXOFFICE_DATABASE_URL"
MAX_SYNC_MINUTES = 24 * 60


@dataclass
class Settings:
    database_url: str = ""           # empty: the embedded SQLite file in the user data directory
    conference_id: int | None = None
    operator_name: str = ""
    desk_name: str = "Desk 1"
    stripe_api_base: str = ""        # empty: Stripe's own API
    stripe_reader_id: str = ""
    idle_lock_minutes: int = 10
    quick_cash_notes: tuple[int, ...] = (5, 10, 20, 50, 100)
    checkin_walkups: bool = True     # a sale at this desk checks its attendees in at once
    registrations_source: str = ""   # the web system's database URL (never its password) or a CSV file
    registrations_sync_minutes: int = 10   # automatic re-sync of the registrations; 0: only "Sync now"
    # Desk printers. The badge printer is a system printer by name (empty: badges go to PDF); the
    # receipt printer an ESC/POS connection such as "network:192.168.1.50:9100", "usb:0x04b8:0x0202",
    # "serial:/dev/ttyUSB0:19200" or "file:/dev/usb/lp0" (empty: no receipt printer).
    badge_printer: str = ""
    print_badge_on_checkin: bool = False
    receipt_printer: str = ""
    receipt_paper_mm: int = 80
    auto_receipt: bool = False
    cash_drawer: bool = True

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["quick_cash_notes"] = list(self.quick_cash_notes)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Settings:
        """The settings of a parsed file; a wrong type raises TypeError, a bad field ValueError."""
        if not isinstance(data, dict):
            raise TypeError("the file does not hold a settings object")
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if name in known:
                kwargs[name] = _checked(name, value)
        return cls(**kwargs)


_TEXT_FIELDS = {"database_url": 2000, "operator_name": 200, "desk_name": 100, "stripe_api_base": 500,
                "stripe_reader_id": 200, "registrations_source": 2000}
_FLAG_FIELDS = {"checkin_walkups"}


def _checked(name: str, value: Any) -> Any:
    """One field's value if it has the right type and range, else ValueError naming the field."""
    if name in _TEXT_FIELDS:
        if not isinstance(value, str) or len(value) > _TEXT_FIELDS[name] or "\x00" in value:
            raise ValueError(f"{name} must be a text of at most {_TEXT_FIELDS[name]} characters")
        return value
    if name in _FLAG_FIELDS:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if name == "registrations_sync_minutes":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SYNC_MINUTES:
            raise ValueError(f"registrations_sync_minutes must be a whole number from 0 to {MAX_SYNC_MINUTES}")
        return value
    if name == "conference_id":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63):
            raise ValueError("conference_id must be a conference number")
        return value
    if name == "idle_lock_minutes":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 24 * 60:
            raise ValueError("idle_lock_minutes must be a whole number of minutes from 0 to 1440")
        return value
    if name == "quick_cash_notes":
        if not isinstance(value, list) or len(value) > 12 or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 100_000 for v in value):
            raise ValueError("quick_cash_notes must be a list of up to 12 whole amounts from 1 to 100000")
        return tuple(value)
    return value


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    problem: str = ""   # shown once the window exists; empty when the file was fine or absent
    first_start: bool = False


def settings_path() -> Path:
    return paths.config_dir() / "settings.json"


def load_settings(path: Path | None = None) -> LoadedSettings:
    path = path or settings_path()
    if not path.exists():
        return LoadedSettings(Settings(), first_start=True)
    try:
        return LoadedSettings(Settings.from_json(json.loads(path.read_text(encoding="utf-8"))))
    except (OSError, ValueError, TypeError, RecursionError) as exc:
        aside = path.with_suffix(".corrupt.json")
        try:
            os.replace(path, aside)
        except OSError:
            aside = path
        log.warning("settings file %s unreadable (%s); moved to %s", path, exc, aside)
        return LoadedSettings(
            Settings(),
            problem=(
                f"The settings file could not be read ({exc}). It was kept as {aside.name}; "
                "the desk starts with default settings."
            ),
            first_start=True,
        )


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write to a temporary file, then replace: a crash never leaves half a settings file."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(_without_secrets(settings.to_json()), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _without_secrets(data: dict[str, Any]) -> dict[str, Any]:
    """A database password never reaches the file (``keep_password`` put it in the keychain)."""
    from boxoffice.db.credentials import without_password

    return {**data, "database_url": without_password(str(data.get("database_url") or ""))}


def resolve_database_url(cli_value: str | None, settings: Settings | None = None) -> str:
    """``--database URL``, else BOXOFFICE_DATABASE_URL, else settings, else the embedded file.

    A PostgreSQL URL without a password gets the one the keychain keeps for it (``db/credentials.py``).
    """
    from boxoffice.db.credentials import with_password

    for candidate in (cli_value, os.environ.get(DATABASE_ENV), settings.database_url if settings else ""):
        if candidate:
            return with_password(normalise_database_url(candidate))
    return sqlite_url(paths.default_database_path())


def normalise_database_url(value: str) -> str:
    """Accept a plain file path for SQLite; every PostgreSQL URL means the psycopg driver.

    ``postgresql://``, ``postgres://`` and the ``postgresql+pg8000://`` URLs that earlier versions
    saved in settings files all become ``postgresql+psycopg://``.
    """
    value = value.strip()
    if "://" in value:
        return postgresql_url(value)
    return sqlite_url(Path(value).expanduser().resolve())
