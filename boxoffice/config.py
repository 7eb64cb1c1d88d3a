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
from boxoffice.db.engine import pg8000_url, sqlite_url

log = logging.getLogger(__name__)

DATABASE_ENV = "BOXOFFICE_DATABASE_URL"


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
        if not isinstance(data, dict):
            raise TypeError("settings file does not hold an object")
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        if "quick_cash_notes" in kwargs:
            kwargs["quick_cash_notes"] = tuple(int(v) for v in kwargs["quick_cash_notes"])
        settings = cls(**kwargs)
        if settings.conference_id is not None and not isinstance(settings.conference_id, int):
            raise ValueError("conference_id must be a number")
        return settings


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
    except (OSError, ValueError, TypeError) as exc:
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
            json.dump(settings.to_json(), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def resolve_database_url(cli_value: str | None, settings: Settings | None = None) -> str:
    """``--database URL``, else BOXOFFICE_DATABASE_URL, else settings, else the embedded file."""
    for candidate in (cli_value, os.environ.get(DATABASE_ENV), settings.database_url if settings else ""):
        if candidate:
            return normalise_database_url(candidate)
    return sqlite_url(paths.default_database_path())


def normalise_database_url(value: str) -> str:
    """Accept a plain file path for SQLite; every PostgreSQL URL means the pg8000 driver.

    ``postgresql://``, ``postgres://`` and the ``postgresql+psycopg://`` URLs that earlier versions
    saved in settings files all become ``postgresql+pg8000://``.
    """
    value = value.strip()
    if "://" in value:
        return pg8000_url(value)
    return sqlite_url(Path(value).expanduser().resolve())
