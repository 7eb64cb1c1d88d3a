"""The installer: build the one-folder app with PyInstaller and run the frozen ``--self-test`` offscreen.

Run alone with ``pytest -m packaging``. The build goes to ``build/pytest-packaging`` and reuses
PyInstaller's cache there between runs (no ``--clean``), so a repeat run takes seconds.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from boxoffice.app import build_app
from boxoffice.db.engine import sqlite_url
from boxoffice.timeutil import FixedClock
from tests import factories
from tests.gui.helpers import paid_cash_sale
from tests.multidesk.conftest import _server_problem, create_database, drop_database, unique_db_name

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "pytest-packaging"
SIZE_GUARD_MB = 150   # MiB, as `du -sh` counts: the installer budget (docs/packaging.md has the breakdown)
LINUX_KEYCHAIN = sys.platform not in ("win32", "darwin", "cygwin")


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


@pytest.fixture(scope="session")
def frozen_app() -> Iterator[Path]:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("PyInstaller is missing: it is in the test extra (pip install -e '.[test]')")
        pytest.skip("PyInstaller is not installed")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(OUT / "dist"), "--workpath", str(OUT / "work"), str(ROOT / "build.spec")],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    folder = OUT / "dist" / f"boxoffice-{version('boxoffice')}"
    print(f"\nPyInstaller one-folder build: {time.monotonic() - started:.0f} s, {_size_mb(folder):.0f} MB")
    yield folder


def _run(app: Path, *args: str, home: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "BOXOFFICE_", "DBUS_"))}
    env.update({"BOXOFFICE_HOME": str(home), "QT_QPA_PLATFORM": "offscreen", **extra_env})
    exe = app / ("boxoffice.exe" if sys.platform == "win32" else "boxoffice")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=300, cwd=home,
                          check=False)


def test_frozen_self_test_exits_zero(frozen_app: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    done = _run(frozen_app, "--self-test", home=tmp_path)
    print(f"\nfrozen --self-test: {time.monotonic() - started:.1f} s\n{done.stdout}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "frozen build" in done.stdout and done.stdout.splitlines()[-1].startswith("SELF-TEST PASSED")
    assert "screen Sell (SellScreen) rendered" in done.stdout
    # python-escpos with its printer profiles, through its file printer
    assert re.search(r"ok    receipt of \S+ printed to a file printer: \d+ bytes of ESC/POS", done.stdout)
    # Stripe's CA bundle is in the bundle and the bundled OpenSSL reads it
    assert re.search(r"ok    HTTPS to Stripe: OpenSSL 3\.\S+ .*, [1-9]\d* certificate authorities", done.stdout)
    assert "ok    check-in sounds: " in done.stdout
    # User data goes to the user folders (here BOXOFFICE_HOME), never next to the executable.
    assert (tmp_path / "logs" / "boxoffice.log").is_file()
    assert not list(frozen_app.rglob("*.log")) and not list(frozen_app.rglob("*.sqlite3"))


def test_frozen_app_reports_the_package_version(frozen_app: Path, tmp_path: Path) -> None:
    done = _run(frozen_app, "--version", home=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"boxoffice {version('boxoffice')}"


def test_bundle_holds_only_the_qt_pieces_the_desk_uses(frozen_app: Path) -> None:
    names = [p.name for p in frozen_app.rglob("*")]
    unwanted = [n for n in names if n.startswith(("libQt6Quick", "libQt6Qml", "libQt6WebEngine", "libQt63D",
                                                     "libQt6MultimediaQuick", "libQt6Pdf", "QtQuick", "QtQml",
                                                     "QtWebEngine", "libffmpegmediaplugin", "libavcodec",
                                                     "libavformat", "libavutil", "libswresample", "libswscale",
                                                     "libpulse"))]
    assert not unwanted, unwanted
    # The check-in sounds: QSoundEffect plays through the platform audio without a media backend.
    assert [n for n in names if n.startswith("QtMultimedia.")], "the QtMultimedia bindings are not bundled"
    assert [n for n in names if n.startswith(("libQt6Multimedia.", "Qt6Multimedia.", "QtMultimedia"))
            and not n.startswith("QtMultimedia.")], "libQt6Multimedia is not bundled"
    assert not [p for p in frozen_app.rglob("translations") if p.is_dir()]
    assert (frozen_app / "_internal" / "resources" / "style.qss").is_file()
    assert list(frozen_app.rglob("0001_registration_schema.py")), "the migrations are not bundled"
    assert _size_mb(frozen_app) < SIZE_GUARD_MB


def test_bundle_holds_keyring_with_its_platform_backend(frozen_app: Path) -> None:
    """The keychain is keyring's own backend (on Linux SecretService: secretstorage over jeepney, with
    cryptography for its encrypted session)."""
    from PyInstaller.archive.readers import CArchiveReader

    exe = frozen_app / ("boxoffice.exe" if sys.platform == "win32" else "boxoffice")
    archived = set(CArchiveReader(str(exe)).open_embedded_archive("PYZ.pyz").toc)
    assert "stripe" in archived and "boxoffice.stripe_sync.keys" in archived  # the reading works
    assert "boxoffice.keychain" in archived and "keyring" in archived
    if LINUX_KEYCHAIN:
        assert "keyring.backends.SecretService" in archived and "secretstorage" in archived
        assert "jeepney.io.blocking" in archived and "secretstorage.dhcrypto" in archived
        assert "cryptography.hazmat.primitives.ciphers" in archived
        assert list(frozen_app.rglob("_rust.abi3.so")), "cryptography's compiled module is not bundled"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF shared libraries")
def test_bundle_carries_one_file_of_each_shared_library(frozen_app: Path) -> None:
    """OpenSSL, Kerberos, zstd and xz come from several wheels and the build machine: one file each,
    the other names are symlinks to it."""
    copies: dict[str, list[str]] = {}
    for path in frozen_app.rglob("lib*.so.*"):
        match = re.match(r"(lib.+?)(?:-[0-9a-f]{8})?\.so\.(\d+)", path.name)
        if match and path.is_file() and not path.is_symlink():
            copies.setdefault(f"{match[1]}.so.{match[2]}", []).append(path.relative_to(frozen_app).as_posix())
    assert {name: found for name, found in copies.items() if len(found) > 1} == {}
    internal = frozen_app / "_internal"
    for name in ("libcrypto.so.3", "libssl.so.3"):   # the Python runtime's names for psycopg's OpenSSL
        assert (internal / name).is_symlink() and (internal / name).resolve().is_file(), name


def test_frozen_app_writes_the_same_escpos_receipt_as_the_source(frozen_app: Path, tmp_path: Path,
                                                                  clock: FixedClock) -> None:
    """python-escpos, its printer profiles and the code pages of a name with accents, frozen: byte for byte
    what the source writes."""
    dbfile = tmp_path / "desk.sqlite3"
    services = build_app(sqlite_url(dbfile), clock=clock)
    try:
        conf = factories.conference(services.db, total_capacity=10, reference_prefix="PY")
        ticket = factories.ticket_type(services.db, conf.id, name="Regular", total_quantity=10)
        factories.open_shift(services.db, services.ctx.desk_name, conference_id=conf.id)
        order = paid_cash_sale(services, conf.id, name="José Ñúñez Παπαδόπουλος", email="jose@example.org",
                               tickets={ticket.id: 2})
        expected = services.receipt_printer.escpos_job(order.id, 58, kick_drawer=True)
    finally:
        services.close()
    out = tmp_path / "receipt.bin"
    done = _run(frozen_app, "--database", str(dbfile), "receipt", order.reference, "--escpos", str(out),
                "--paper", "58", "--drawer", home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_bytes() == expected


def test_frozen_app_runs_the_migrations_on_postgresql_through_psycopg(frozen_app: Path, tmp_path: Path) -> None:
    """psycopg with psycopg_binary's libpq (and the OpenSSL and Kerberos it shares with the rest)."""
    problem = _server_problem()
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but PostgreSQL tests cannot run: {problem}", pytrace=False)
        pytest.skip(problem)
    name = unique_db_name("boxoffice_frozen")
    url = create_database(name)
    try:
        done = _run(frozen_app, "db", "upgrade", "--database", url, home=tmp_path)
        again = _run(frozen_app, "db", "current", "--database", url, home=tmp_path)
    finally:
        drop_database(name)
    assert done.returncode == 0, done.stdout + done.stderr
    from boxoffice.db.migrate import packaged_head

    assert f"schema at revision {packaged_head()}" in done.stdout
    assert again.returncode == 0 and packaged_head() in again.stdout, again.stdout + again.stderr


def _has_pulseaudio_client() -> bool:
    try:
        ctypes.CDLL("libpulse.so.0")
    except OSError:
        return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="QtMultimedia's audio on Linux is PulseAudio's")
def test_frozen_app_loads_qsoundeffect_where_the_desktop_has_pulseaudio(frozen_app: Path, tmp_path: Path) -> None:
    """The bundle leaves PulseAudio's client to the desktop; where the desktop has it, the frozen
    QtMultimedia loads (and with an audio output, e.g. a null sink, QSoundEffect loads the sound)."""
    if not _has_pulseaudio_client():
        pytest.skip("this machine has no PulseAudio client library (libpulse.so.0); a Linux desktop has it")
    done = _run(frozen_app, "--self-test", home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("ok    check-in sounds: "))
    assert "QSoundEffect Ready" in line or "QtMultimedia loaded, no audio output" in line, line


def test_frozen_sync_reads_the_key_from_the_keychain_and_talks_to_stripe(frozen_app: Path, tmp_path: Path,
                                                                        request: pytest.FixtureRequest) -> None:
    """The frozen app's Stripe path: the key from the keychain (Linux: the Secret Service over a private
    D-Bus bus, so the bundled keyring SecretService backend is used; elsewhere the environment) and `sync --once`
    against our fake Stripe, which loads the SDK's client, its HTTP layer and its event objects."""
    from tests.fakes.fake_stripe import FakeStripe
    from tests.stripe.conftest import FAKE_KEY

    extra = {"BOXOFFICE_DATABASE_URL": str(tmp_path / "desk.sqlite3")}
    if LINUX_KEYCHAIN:
        provider = request.getfixturevalue("fake_secret_service")
        provider.add_item({"service": "boxoffice-stripe", "username": "secret-key",
                           "application": "Python keyring library"}, FAKE_KEY.encode())
        extra["DBUS_SESSION_BUS_ADDRESS"] = os.environ["DBUS_SESSION_BUS_ADDRESS"]
    else:
        extra["BOXOFFICE_STRIPE_SECRET_KEY"] = FAKE_KEY
    stripe = FakeStripe().start()
    try:
        stripe.emit("payment_intent.succeeded", {"id": "pi_a", "amount": 100, "currency": "usd", "metadata": {}})
        stripe.emit("charge.refunded", {"id": "ch_a", "payment_intent": "", "amount": 100, "currency": "usd"})
        done = _run(frozen_app, "sync", "--once", home=tmp_path, BOXOFFICE_STRIPE_API_BASE=stripe.url, **extra)
    finally:
        stripe.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "fetched": 2, "new": 2, "processed": 0, "ignored": 2, "failed": 0}
    assert FAKE_KEY not in done.stdout + done.stderr
    if LINUX_KEYCHAIN:
        # keyring's Secret Service backend read the key from the provider (one item's secret)
        assert ("org.freedesktop.Secret.Item", "GetSecret") in provider.calls
