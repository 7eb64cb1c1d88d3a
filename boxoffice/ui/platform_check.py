"""Before the window starts on Linux: are the system libraries Qt's X11 (xcb) plugin needs installed?

Without them Qt stops with "Could not load the Qt platform plugin "xcb"" and names one library,
often not the one missing. ``boxoffice run`` asks ``ldd`` about the plugin PySide6 ships
(``Qt/plugins/platforms/libqxcb.so``) first, and when libraries are missing prints their names,
the packages that hold them and the install command for this distribution, then exits non-zero.
Nothing here imports Qt: the check must work when Qt itself cannot start.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# soname -> (Debian/Ubuntu package, Fedora package): the libraries Qt 6's xcb plugin links to that a
# minimal desktop or server install may lack.
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libSM.so.6": ("libsm6", "libSM"),
    "libICE.so.6": ("libice6", "libICE"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
}


@dataclass(frozen=True)
class MissingLibraries:
    """What ``ldd`` reported as not found, and how to install it."""

    libraries: tuple[str, ...]
    debian: tuple[str, ...]     # package names; a library with no known package is left out
    fedora: tuple[str, ...]
    distribution: str           # "debian", "fedora" or "" (unknown)

    def message(self) -> str:
        lines = [("Box Office cannot open its window: Qt's X11 (xcb) platform plugin needs these system "
                  "libraries, which are not installed:"), "  " + ", ".join(self.libraries), ""]
        apt = f"sudo apt-get install {' '.join(self.debian)}" if self.debian else ""
        dnf = f"sudo dnf install {' '.join(self.fedora)}" if self.fedora else ""
        if self.distribution == "debian" and apt:
            lines += ["Install them with:", f"  {apt}"]
        elif self.distribution == "fedora" and dnf:
            lines += ["Install them with:", f"  {dnf}"]
        else:
            lines += ["Install them with your distribution's package manager, e.g.:"]
            lines += [f"  {cmd}   ({name})" for cmd, name in ((apt, "Debian, Ubuntu"), (dnf, "Fedora"))
                      if cmd]
        unknown = [lib for lib in self.libraries if lib not in PACKAGES]
        if unknown:
            lines += ["", "Look up the package that provides " + ", ".join(unknown) + "."]
        lines += ["", "Then start Box Office again. (README.md, \"Set-up on Linux\", lists the packages.)"]
        return "\n".join(lines)


def xcb_plugin() -> Path | None:
    """PySide6's ``libqxcb.so``, found without importing Qt (None when PySide6 or the plugin is absent)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        plugin = Path(root) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def run_ldd(path: Path) -> str:
    """``ldd path``'s output ("" without ldd): every library the file needs, found or not."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return ""
    done = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout


def not_found(ldd_output: str) -> list[str]:
    """The sonames ``ldd`` lists as "=> not found", in its order, once each."""
    found: list[str] = []
    for line in ldd_output.splitlines():
        name, _, where = line.strip().partition("=>")
        if where.strip() == "not found" and name.strip() not in found:
            found.append(name.strip())
    return found


def distribution(os_release: str) -> str:
    """"debian" or "fedora" from the text of /etc/os-release (ID and ID_LIKE), else ""."""
    words: set[str] = set()
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            words.update(value.strip().strip('"').split())
    if words & {"debian", "ubuntu"}:
        return "debian"
    if words & {"fedora", "rhel", "centos"}:
        return "fedora"
    return ""


def check_xcb(*, plugin: Path | None = None, ldd: Callable[[Path], str] = run_ldd,
              os_release: str | None = None) -> MissingLibraries | None:
    """What the xcb plugin lacks on this machine, or None when nothing is missing (or it cannot tell)."""
    plugin = plugin if plugin is not None else xcb_plugin()
    if plugin is None:
        return None
    missing = not_found(ldd(plugin))
    if not missing:
        return None
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text(encoding="utf-8")
        except OSError:
            os_release = ""
    debian = tuple(dict.fromkeys(PACKAGES[lib][0] for lib in missing if lib in PACKAGES))
    fedora = tuple(dict.fromkeys(PACKAGES[lib][1] for lib in missing if lib in PACKAGES))
    return MissingLibraries(tuple(missing), debian, fedora, distribution(os_release))


def uses_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Will Qt start on X11 here? Linux, and no other platform chosen (offscreen, Wayland)."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return "xcb" in chosen
    return not environ.get("WAYLAND_DISPLAY")


def ensure_xcb_libraries() -> bool:
    """Print what to install and return False when the window cannot start for missing libraries."""
    if not uses_xcb(os.environ):
        return True
    missing = check_xcb()
    if missing is None:
        return True
    print(missing.message(), file=sys.stderr)
    return False
