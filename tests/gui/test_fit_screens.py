"""The desk is fully usable on common screens: 1280×720 and 1366×768 at 100 %, 1920×1080 at 150 %."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("width", "height", "scale"), [
    (1280, 720, "1"), (1366, 768, "1"),
    (1280, 720, "1.5"),     # 1920×1080 at 150 %: Qt lays out in 1280×720 of its own pixels
])
def test_every_screen_fits_with_pay_total_and_every_nav_button_in_view(width, height, scale) -> None:
    env = dict(os.environ, QT_SCALE_FACTOR=scale, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               PYTHONPATH=str(ROOT))
    env.pop("BOXOFFICE_HOME", None)
    run = subprocess.run([sys.executable, "-m", "tests.gui.fit_check", str(width), str(height)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["size"] == [width, height]                  # the window could be made this small
    assert len(report["nav"]) == 12                           # F1-F11 and Badges, all shown to the admin
    assert {name: found for name, found in report["screens"].items() if found} == {}
    assert report["payment_size"][1] <= height
