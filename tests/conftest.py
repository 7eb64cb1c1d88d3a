"""Shared fixtures: a migrated SQLite template copied per test, a fixed clock, isolated user dirs,
and an empty keychain for the Stripe keys (on Linux the fake Secret Service on a private D-Bus bus).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.db.migrate import upgrade
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff.access import Actor, Role, acting_as
from boxoffice.timeutil import FixedClock

if TYPE_CHECKING:
    from tests.fakes.fake_secret_service import FakeSecretService, PrivateSessionBus


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test may touch the real user data, config or log directories."""
    home = tmp_path_factory.mktemp("boxoffice-home")
    old = os.environ.get("BOXOFFICE_HOME")
    os.environ["BOXOFFICE_HOME"] = str(home)
    os.environ.pop("BOXOFFICE_DATABASE_URL", None)
    yield
    if old is None:
        os.environ.pop("BOXOFFICE_HOME", None)
    else:
        os.environ["BOXOFFICE_HOME"] = old


TEST_PIN_PEPPER = "7e" * 32


@pytest.fixture(autouse=True)
def _pin_key(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test's desk has the same PIN key (as desks sharing a database do), from the environment,
    and hashes at the previous scrypt cost to keep the suite quick; tests of the key itself and of
    the cost mark themselves ``real_pin_key``."""
    from boxoffice.services.staff import auth, pepper

    pepper.forget_cached()
    if request.node.get_closest_marker("real_pin_key"):
        monkeypatch.delenv(pepper.PEPPER_ENV, raising=False)
    else:
        monkeypatch.setenv(pepper.PEPPER_ENV, TEST_PIN_PEPPER)
        monkeypatch.setattr(auth, "SCRYPT_N", 2**14)
    yield
    pepper.forget_cached()


TEST_ADMIN = Actor(staff_id=None, name="test admin", role=Role.ADMIN)


@pytest.fixture(autouse=True)
def _acting_operator(request: pytest.FixtureRequest) -> Iterator[None]:
    """Service calls in tests act as an admin unless the test says otherwise.

    Tests of permissions mark themselves ``@pytest.mark.no_default_actor`` and choose the actor.
    """
    if request.node.get_closest_marker("no_default_actor"):
        yield
        return
    with acting_as(TEST_ADMIN):
        yield


@pytest.fixture(scope="session")
def template_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The schema is built once by the real migrations, then copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(sqlite_url(path))
    upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def db_path(template_db_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "boxoffice.sqlite3"
    shutil.copyfile(template_db_path, path)
    return path


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = Database(sqlite_url(db_path))
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def ctx(db: Database, clock: FixedClock) -> ServiceContext:
    return ServiceContext(db=db, clock=clock)


# ---------------------------------------------------------------------- keychain

# The desk keeps Stripe keys in the Secret Service on Linux and in keyring's backend elsewhere. The fake
# provider is imported only when a test asks for it (its D-Bus client, jeepney, is installed on Linux only).
LINUX_KEYCHAIN = sys.platform not in ("win32", "darwin", "cygwin")


@pytest.fixture(scope="module")
def session_bus() -> Iterator[PrivateSessionBus]:
    """A private D-Bus session bus, one per test module (skipped off Linux)."""
    if not LINUX_KEYCHAIN:
        pytest.skip("the Secret Service is the Linux keychain")
    from tests.fakes.fake_secret_service import PrivateSessionBus

    bus = PrivateSessionBus()
    yield bus
    bus.stop()


@pytest.fixture
def fake_secret_service(
    session_bus: PrivateSessionBus, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeSecretService]:
    """A fresh, empty, unlocked fake provider on the module's bus; the desk's bus address points there."""
    from tests.fakes.fake_secret_service import FakeSecretService

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus.address)
    monkeypatch.delenv("BOXOFFICE_STRIPE_SECRET_KEY", raising=False)
    provider = FakeSecretService(session_bus.address)
    yield provider
    provider.stop()


@pytest.fixture
def keychain(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty keychain the desk's own code path uses: the fake Secret Service on Linux, else an
    in-memory keyring backend (Windows/macOS use keyring)."""
    if LINUX_KEYCHAIN:
        yield request.getfixturevalue("fake_secret_service")
        return
    import keyring

    from tests.fakes.memory_keyring import MemoryKeyring

    monkeypatch.delenv("BOXOFFICE_STRIPE_SECRET_KEY", raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
