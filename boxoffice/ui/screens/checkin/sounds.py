"""A short sound per kind of check-in result, played without ever blocking or failing the desk.

The sounds are WAV files in ``resources/sounds/`` (``make_sounds.py`` writes them). They play through
``QSoundEffect`` (QtMultimedia), loaded on first use; it needs the platform audio only, not a media
backend (the installer leaves QtMultimedia's FFmpeg backend out). With QtMultimedia present but no
audio output nothing plays. Where QtMultimedia cannot load (not installed, or on Linux no PulseAudio
client library) the file is handed to the system's own player without waiting for it: ``winsound``
on Windows, ``afplay`` on macOS, ``paplay``/``pw-play``/``aplay`` on Linux when installed. Either way the result still shows and
nothing blocks or raises. ``played`` records the kinds asked for, newest last (the log and the tests
read it).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QTimer, QUrl

from boxoffice import paths

log = logging.getLogger(__name__)

# The outcome of a scan -> the sound file (without ".wav") it plays; a search plays nothing.
SOUND_OF: dict[str, str] = {
    "admitted": "admitted",
    "already_checked_in": "already",
    "attention": "attention",
    "not_paid": "not_paid",
    "refunded": "refunded",
    "cancelled": "cancelled",
    "void": "void",
    "unknown": "unknown",
    "other_conference": "other_conference",
}
KEEP_PLAYED = 50
LINUX_PLAYERS = ("paplay", "pw-play", "aplay")


def play_with_system(path: Path) -> bool:
    """Start the platform's player on ``path`` and return at once; False when there is none."""
    try:
        if sys.platform == "win32":
            import winsound

            winsound.PlaySound(str(path), winsound.SND_FILENAME | winsound.SND_ASYNC | winsound.SND_NODEFAULT)
            return True
        names = ("afplay",) if sys.platform == "darwin" else LINUX_PLAYERS
        player = next((found for name in names if (found := shutil.which(name))), None)
        if player is None:
            return False
        subprocess.Popen([player, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
        return True
    except (OSError, RuntimeError) as exc:
        log.info("check-in sound not played: %s", exc)
        return False


def sound_path(kind: str) -> Path:
    return paths.resources_dir() / "sounds" / f"{kind}.wav"


class ResultSounds(QObject):
    """Plays the sound of a result. ``enabled=False`` (tests, a desk that wants quiet) records only."""

    def __init__(self, parent: QObject | None = None, *, enabled: bool = True) -> None:
        super().__init__(parent)
        self.enabled = enabled
        self.played: list[str] = []
        self._effects: dict[str, Any] = {}
        self._multimedia: Any = None
        self._unavailable = ""   # why no sound can play on this machine (logged once)

    def play(self, outcome: str) -> str | None:
        """Play the sound of ``outcome``; returns the sound kind, or None for an outcome without one."""
        kind = SOUND_OF.get(outcome)
        if kind is None:
            return None
        self.played.append(kind)
        del self.played[:-KEEP_PLAYED]
        if self.enabled:
            if self._load() is None:
                play_with_system(sound_path(kind))
            elif (effect := self._effect(kind)) is not None:
                effect.play()   # asynchronous: returns at once
        return kind

    def preload(self) -> None:
        """Load the effects now (when the screen is first shown), so the first scan is not the slow one."""
        if self.enabled:
            for kind in set(SOUND_OF.values()):
                self._effect(kind)

    @property
    def available(self) -> bool:
        return self.enabled and self._load() is not None and self._has_output()

    def self_check(self, kind: str = "admitted", timeout: float = 5.0) -> tuple[bool, str]:
        """How the sounds play on this machine (``--self-test``): whether that is as it should be, and what.

        Only QtMultimedia with an audio output that still cannot load the sound is a failure; no
        QtMultimedia (the system player is used) or no audio output is how this machine is.
        """
        multimedia = self._load()
        if multimedia is None:
            names = ("afplay",) if sys.platform == "darwin" else LINUX_PLAYERS
            player = "winsound" if sys.platform == "win32" else next(filter(shutil.which, names), "none installed")
            return True, f"{self._unavailable}; the system player is used ({player})"
        outputs = multimedia.QMediaDevices.audioOutputs()
        if not outputs:
            return True, "QtMultimedia loaded, no audio output on this machine"
        effect = self._effect(kind)
        if effect is None:
            return False, f"the sound file {sound_path(kind)} is missing"
        ready, error = multimedia.QSoundEffect.Status.Ready, multimedia.QSoundEffect.Status.Error
        deadline = time.monotonic() + timeout
        while effect.status() not in (ready, error) and time.monotonic() < deadline:
            loop = QEventLoop()
            QTimer.singleShot(20, loop.quit)
            loop.exec()
        status = effect.status()
        return status == ready, f"QSoundEffect {status.name} with {sound_path(kind).name} on {outputs[0].description()}"

    def _load(self) -> Any:
        if self._multimedia is None and not self._unavailable:
            try:
                from PySide6 import QtMultimedia
            except (ImportError, OSError) as exc:   # not installed, or its audio libraries are missing
                self._unavailable = f"QtMultimedia could not be loaded ({exc})"
                log.info("check-in sounds off: %s", self._unavailable)
                return None
            self._multimedia = QtMultimedia
        return self._multimedia

    def _has_output(self) -> bool:
        multimedia = self._load()
        try:
            return multimedia is not None and bool(multimedia.QMediaDevices.audioOutputs())
        except RuntimeError:
            return False

    def _effect(self, kind: str) -> Any:
        multimedia = self._load()
        if multimedia is None or not self._has_output():   # no audio device: play nothing, say nothing
            return None
        effect = self._effects.get(kind)
        if effect is None:
            path = sound_path(kind)
            if not path.exists():
                log.warning("check-in sound %s is missing", path)
                return None
            effect = multimedia.QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            effect.setVolume(0.9)
            self._effects[kind] = effect
        return effect
