"""The check-in sounds need QtMultimedia's audio only, not its FFmpeg media backend (which the installer
leaves out): in a process whose Qt plugin folders lack ``multimedia/``, QSoundEffect still loads and plays.

Runs in a child process (the plugin folders are fixed before its QApplication exists) and needs an audio
output, e.g. PulseAudio with a null sink (``pulseaudio -D && pactl load-module module-null-sink``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CHILD = r"""
import json, sys, time
from pathlib import Path
from typing import Any
from PySide6.QtCore import QCoreApplication, QEventLoop, QLibraryInfo, QTimer

plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
only = Path(sys.argv[1])
(only / "platforms").symlink_to(plugins / "platforms")     # every plugin folder but multimedia/
QCoreApplication.setLibraryPaths([str(only)])
from PySide6.QtWidgets import QApplication
app = QApplication(["sounds"])
from boxoffice.ui.screens.checkin.sounds import ResultSounds

sounds = ResultSounds()
result = {"outputs": sounds.available, "playing": False, "status": ""}
if sounds.available:
    sounds.play("admitted")
    effect = sounds._effects["admitted"]
    deadline = time.monotonic() + 5
    while not effect.isPlaying() and time.monotonic() < deadline:
        loop = QEventLoop(); QTimer.singleShot(50, loop.quit); loop.exec()
    result.update(playing=effect.isPlaying(), status=effect.status().name)
maps = Path(f"/proc/self/maps").read_text() if Path("/proc/self/maps").exists() else ""
result["ffmpeg_loaded"] = "ffmpegmediaplugin" in maps or "libavcodec" in maps
print(json.dumps(result))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the installer's audio path is checked on Linux")
def test_qsoundeffect_plays_without_the_ffmpeg_media_plugin(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("QT_PLUGIN_PATH", None)
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=60, check=False, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["outputs"]:
        pytest.skip("no audio output on this machine (start PulseAudio with a null sink to run this)")
    assert not result["ffmpeg_loaded"], "the FFmpeg media plugin was found: the test hid nothing"
    assert result["status"] == "Ready" and result["playing"], result


def _multimedia_loads() -> bool:
    try:
        from PySide6 import QtMultimedia  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def test_self_check_says_how_this_machine_plays_the_sounds(qapp: Any, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from boxoffice import paths
    from boxoffice.ui.screens.checkin.sounds import ResultSounds

    works, what = ResultSounds().self_check()
    if not _multimedia_loads():
        assert works and "could not be loaded" in what and "the system player is used" in what, what
        return
    from PySide6.QtMultimedia import QMediaDevices

    if not QMediaDevices.audioOutputs():
        assert (works, what) == (True, "QtMultimedia loaded, no audio output on this machine")
        return
    assert works and what.startswith("QSoundEffect Ready with admitted.wav on "), what
    # an audio output but no sound file: that is a broken installation
    monkeypatch.setattr(paths, "resources_dir", lambda: tmp_path)
    works, what = ResultSounds().self_check()
    assert not works and what == f"the sound file {tmp_path / 'sounds' / 'admitted.wav'} is missing"
