"""The start-up check for the system libraries Qt's X11 plugin needs (fake ldd, and the real plugin)."""

from __future__ import annotations

from pathlib import Path

import pytest

from boxoffice.ui.platform_check import check_xcb, distribution, not_found, uses_xcb, xcb_plugin

LDD = """\
\tlinux-vdso.so.1 (0x00007ffc)
\tlibQt6XcbQpa.so.6 => /opt/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f01)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f02)
\tlibxcb-icccm.so.4 => not found
\tlibweird-thing.so.9 => not found
"""
UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\n'


def test_missing_libraries_are_named_with_the_apt_command_on_ubuntu(tmp_path: Path) -> None:
    plugin = tmp_path / "libqxcb.so"
    missing = check_xcb(plugin=plugin, ldd=lambda path: LDD if path == plugin else "", os_release=UBUNTU)
    assert missing is not None
    assert missing.libraries == ("libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libweird-thing.so.9")
    text = missing.message()
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1, libweird-thing.so.9" in text
    assert "  sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in text
    assert "dnf" not in text and "provides libweird-thing.so.9" in text


def test_fedora_gets_the_dnf_command_and_an_unknown_system_both() -> None:
    fake = Path("/nowhere/libqxcb.so")
    fedora = check_xcb(plugin=fake, ldd=lambda _p: LDD, os_release=FEDORA)
    assert fedora is not None and "  sudo dnf install xcb-util-wm xcb-util-keysyms\n" in fedora.message()
    other = check_xcb(plugin=fake, ldd=lambda _p: LDD, os_release="ID=arch\n")
    assert other is not None
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1   (Debian, Ubuntu)" in other.message()
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms   (Fedora)" in other.message()


def test_nothing_missing_means_no_message() -> None:
    assert check_xcb(plugin=Path("/x/libqxcb.so"), ldd=lambda _p: LDD.replace("not found", "/lib/x.so")) is None
    assert not_found("") == []
    assert distribution('ID="linuxmint"\nID_LIKE="ubuntu debian"\n') == "debian"


def test_only_an_x11_start_is_checked() -> None:
    assert uses_xcb({}, "linux")
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not uses_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not uses_xcb({}, "win32") and not uses_xcb({}, "darwin")


@pytest.mark.skipif(xcb_plugin() is None, reason="PySide6's xcb plugin is Linux-only")
def test_the_real_plugin_on_this_machine_resolves_through_ldd() -> None:
    from boxoffice.ui.platform_check import run_ldd

    plugin = xcb_plugin()
    assert plugin is not None and plugin.name == "libqxcb.so"
    output = run_ldd(plugin)
    assert "libQt6XcbQpa.so.6 =>" in output and "libxcb.so.1 =>" in output   # ldd really ran on it
    missing = check_xcb(plugin=plugin)
    assert (missing.libraries if missing else ()) == tuple(not_found(output))
