"""Garbage collection paused while the process starts: loading modules and building the desk's
window make long-lived objects only, and a full collection in the middle cost about 20 ms.

``pause`` at the start of a phase, ``resume`` at its end: what was made meanwhile is frozen
(``gc.freeze``), so no later collection walks it again, and collection is back on. ``resume`` does
nothing when collection was not paused.
"""

from __future__ import annotations

import gc


def pause() -> None:
    gc.disable()


def resume() -> None:
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
