"""Where user data lives: platform user data/log dirs, with a base-dir override for tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "BoxOffice"
HOME_ENV = "BOXOFFICE_HOME"  # overrides every directory below (tests, portable installs)


def _base_override() -> Path | None:
    value = os.environ.get(HOME_ENV)
    return Path(value) if value else None


def private_dir(path: Path) -> Path:
    """``path`` created if missing and made the user's only (0700; folders of earlier versions too)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and path.stat().st_mode & 0o077:
        try:
            path.chmod(0o700)
        except OSError:   # not ours (a shared portable folder): leave it as it is
            pass
    return path


def data_dir() -> Path:
    base = _base_override()
    return private_dir(base / "data" if base else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)))


def config_dir() -> Path:
    base = _base_override()
    return private_dir(base / "config" if base else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)))


def log_dir() -> Path:
    base = _base_override()
    return private_dir(base / "logs" if base else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)))


def backup_dir() -> Path:
    return private_dir(data_dir() / "backups")


def default_database_path() -> Path:
    return data_dir() / "boxoffice.sqlite3"


def app_dir() -> Path:
    """The folder of the installed program: the frozen executable's, else the source tree's."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parent.parent


def user_locations() -> dict[str, Path]:
    """Where this user's data lives (created on demand), for the self-test and support."""
    return {"data": data_dir(), "settings": config_dir(), "logs": log_dir(), "backups": backup_dir()}


def resources_dir() -> Path:
    """``resources/`` in the source tree, or inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def demo_conference_file() -> Path:
    return Path(__file__).resolve().parent / "demo" / "conference.toml"
