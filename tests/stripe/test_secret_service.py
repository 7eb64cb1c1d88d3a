"""The Linux keychain: the desk's Secret Service client over a real, private D-Bus session bus.

The provider is the fake of tests/fakes/fake_secret_service.py (always run on Linux); when
gnome-keyring-daemon is installed, the same round trip also runs against it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from boxoffice.errors import ConfigError
from boxoffice.stripe_sync import keys, secret_service
from tests.fakes.fake_secret_service import LOGIN, FakeSecretService, PrivateSessionBus

ROOT = Path(__file__).resolve().parents[2]
KEYRING_LAYOUT = {"service": "boxoffice-stripe", "application": "Python keyring library"}


def _account(slug: str | None = None) -> dict[str, str]:
    return {"service": "boxoffice-stripe", "username": f"secret-key:{slug}" if slug else "secret-key"}


def test_round_trip_stores_a_keyring_style_item_over_a_plain_session(fake_secret_service: FakeSecretService) -> None:
    assert keys.load_secret_key("pycon") is None
    assert keys.store_secret_key("sk_test_roundtrip_0001", "pycon") == "****0001"
    (path, item), = fake_secret_service.items.items()
    assert path.startswith(LOGIN + "/")  # the default collection, reached through its alias
    assert item.attributes == {**KEYRING_LAYOUT, "username": "secret-key:pycon"}
    assert item.label == "Password for 'secret-key:pycon' on 'boxoffice-stripe'"
    assert item.secret == b"sk_test_roundtrip_0001" and item.content_type == "text/plain"
    assert keys.load_secret_key("pycon") == "sk_test_roundtrip_0001"
    assert fake_secret_service.calls.count(("org.freedesktop.Secret.Service", "OpenSession")) == 3
    assert fake_secret_service.sessions == {}, "every session is closed after use"


def test_per_conference_key_with_a_desk_wide_fallback(fake_secret_service: FakeSecretService) -> None:
    keys.store_secret_key("rk_test_deskwide_2222")
    assert keys.load_secret_key("pycon") == "rk_test_deskwide_2222"
    keys.store_secret_key("sk_test_pycon_3333", "pycon")
    assert keys.load_secret_key("pycon") == "sk_test_pycon_3333"
    assert keys.load_secret_key("djangocon") == "rk_test_deskwide_2222"
    assert keys.load_secret_key(None) == "rk_test_deskwide_2222"


def test_saving_again_replaces_the_item(fake_secret_service: FakeSecretService) -> None:
    keys.store_secret_key("sk_test_first_key_4444", "pycon")
    keys.store_secret_key("sk_test_second_key_5555", "pycon")
    assert fake_secret_service.secrets_for(_account("pycon")) == [b"sk_test_second_key_5555"]
    assert len(fake_secret_service.items) == 1


def test_saving_removes_an_older_item_of_the_same_account_with_other_attributes(fake_secret_service: FakeSecretService) -> None:
    fake_secret_service.add_item({**_account("pycon"), "application": "some other tool"}, b"sk_test_stale_key_6666")
    keys.store_secret_key("sk_test_fresh_key_7777", "pycon")
    assert fake_secret_service.secrets_for(_account("pycon")) == [b"sk_test_fresh_key_7777"]
    assert keys.load_secret_key("pycon") == "sk_test_fresh_key_7777"


def test_delete_removes_the_conference_key_only(fake_secret_service: FakeSecretService) -> None:
    keys.store_secret_key("rk_test_deskwide_2222")
    keys.store_secret_key("sk_test_pycon_3333", "pycon")
    keys.delete_secret_key("pycon")
    assert fake_secret_service.secrets_for(_account("pycon")) == []
    assert keys.load_secret_key("pycon") == "rk_test_deskwide_2222"
    keys.delete_secret_key("pycon")  # nothing to delete is not an error
    keys.delete_secret_key()
    assert fake_secret_service.items == {} and keys.load_secret_key("pycon") is None


def test_a_locked_keychain_is_unlocked_through_its_prompt(fake_secret_service: FakeSecretService) -> None:
    fake_secret_service.add_item({**KEYRING_LAYOUT, "username": "secret-key"}, b"sk_test_behind_lock_8888")
    fake_secret_service.locked = True
    assert keys.load_secret_key("pycon") == "sk_test_behind_lock_8888"
    assert fake_secret_service.prompts_shown == 1 and not fake_secret_service.locked
    fake_secret_service.locked = True
    keys.store_secret_key("sk_test_saved_locked_9999", "pycon")  # CreateItem needs the collection open
    assert fake_secret_service.prompts_shown == 2
    assert fake_secret_service.secrets_for(_account("pycon")) == [b"sk_test_saved_locked_9999"]


def test_a_dismissed_prompt_is_a_clear_error_and_reading_gives_none(
        fake_secret_service: FakeSecretService, caplog: pytest.LogCaptureFixture) -> None:
    fake_secret_service.add_item({**KEYRING_LAYOUT, "username": "secret-key"}, b"sk_test_behind_lock_8888")
    fake_secret_service.locked, fake_secret_service.prompt_answer = True, "dismiss"
    with pytest.raises(ConfigError) as info:
        keys.store_secret_key("sk_test_never_saved_1234", "pycon")
    assert "prompt was dismissed" in str(info.value) and keys.SECRET_KEY_ENV in str(info.value)
    assert "never_saved" not in str(info.value)
    assert fake_secret_service.secrets_for(_account("pycon")) == []
    with caplog.at_level(logging.WARNING, logger="boxoffice.stripe_sync.keys"):
        assert keys.load_secret_key("pycon") is None  # cash sales go on
    assert "prompt was dismissed" in caplog.text
    with pytest.raises(ConfigError, match="could not be removed.*dismissed"):
        keys.delete_secret_key()
    assert fake_secret_service.secrets_for(_account()) == [b"sk_test_behind_lock_8888"]


def test_an_unanswered_prompt_times_out_and_is_dismissed(
        fake_secret_service: FakeSecretService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secret_service, "PROMPT_TIMEOUT", 0.3)
    fake_secret_service.add_item({**KEYRING_LAYOUT, "username": "secret-key"}, b"sk_test_behind_lock_8888")
    fake_secret_service.locked, fake_secret_service.prompt_answer = True, "ignore"
    started = time.monotonic()
    with pytest.raises(secret_service.SecretServiceLocked, match="no answer within 0.3 s"):
        secret_service.get_password("boxoffice-stripe", "secret-key")
    assert time.monotonic() - started < 5
    assert ("org.freedesktop.Secret.Prompt", "Dismissed") in fake_secret_service.calls


def test_a_key_saved_by_keyring_is_found_and_keyring_finds_ours(fake_secret_service: FakeSecretService) -> None:
    """keyring's own SecretService backend (secretstorage) against the same provider, both ways."""
    pytest.importorskip("secretstorage", reason="keyring's SecretService backend needs secretstorage")
    from keyring.backends.SecretService import Keyring

    backend = Keyring()
    backend.set_password("boxoffice-stripe", "secret-key:pycon", "sk_test_from_keyring_1357")
    assert keys.load_secret_key("pycon") == "sk_test_from_keyring_1357"
    keys.store_secret_key("sk_test_from_the_desk_2468", "pycon")
    assert len(fake_secret_service.items) == 1, "the same attributes: replaced, not duplicated"
    assert backend.get_password("boxoffice-stripe", "secret-key:pycon") == "sk_test_from_the_desk_2468"


def test_no_provider_on_the_bus(session_bus: PrivateSessionBus, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus.address)
    monkeypatch.delenv(keys.SECRET_KEY_ENV, raising=False)
    assert keys.load_secret_key("pycon") is None
    with pytest.raises(ConfigError, match="no Secret Service provider .* is running") as info:
        keys.store_secret_key("sk_test_nowhere_to_go_1111")
    assert keys.SECRET_KEY_ENV in str(info.value)


@pytest.mark.parametrize("address", [None, "unix:path=/nonexistent/boxoffice-test-bus", "tcp:host=x,port=1"])
def test_no_session_bus(address: str | None, monkeypatch: pytest.MonkeyPatch,
                        caplog: pytest.LogCaptureFixture) -> None:
    if address is None:
        monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    else:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    monkeypatch.delenv(keys.SECRET_KEY_ENV, raising=False)
    with caplog.at_level(logging.WARNING, logger="boxoffice.stripe_sync.keys"):
        assert keys.load_secret_key("pycon") is None
    assert "session bus" in caplog.text
    with pytest.raises(ConfigError, match="session bus"):
        keys.store_secret_key("sk_test_nowhere_to_go_1111")
    with pytest.raises(ConfigError, match="session bus"):
        keys.delete_secret_key()


def test_the_desk_reads_the_keychain_without_keyring_secretstorage_or_cryptography(
        fake_secret_service: FakeSecretService) -> None:
    """Another process on the bus (as the desk is): the key is read and none of those is imported."""
    fake_secret_service.add_item({**KEYRING_LAYOUT, "username": "secret-key"}, b"sk_test_other_process_4321")
    code = ("import sys; from boxoffice.stripe_sync import keys; print(keys.load_secret_key('pycon')); "
            "print(sorted(m for m in ('keyring', 'secretstorage', 'cryptography') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["sk_test_other_process_4321", "[]"]


def _wait_for_name(name: str, timeout: float = 10) -> None:
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import Proxy, open_dbus_connection

    deadline = time.monotonic() + timeout
    with open_dbus_connection() as conn:
        bus = Proxy(message_bus, conn, timeout=5)
        while bus.NameHasOwner(name) != (True,):
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} did not appear on the bus within {timeout} s")
            time.sleep(0.05)


@pytest.mark.skipif(shutil.which("gnome-keyring-daemon") is None,
                    reason="gnome-keyring-daemon is not installed; the fake provider tests cover the client")
def test_round_trip_against_gnome_keyring(session_bus: PrivateSessionBus, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for var, folder in (("HOME", "home"), ("XDG_DATA_HOME", "data"), ("XDG_RUNTIME_DIR", "run"),
                        ("XDG_CONFIG_HOME", "config")):
        (tmp_path / folder).mkdir(mode=0o700)
        monkeypatch.setenv(var, str(tmp_path / folder))
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus.address)
    monkeypatch.delenv(keys.SECRET_KEY_ENV, raising=False)
    daemon = subprocess.Popen(  # --unlock reads the login keyring's password on stdin (creating it)
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        assert daemon.stdin is not None
        daemon.stdin.write(b"test-password")
        daemon.stdin.close()
        _wait_for_name("org.freedesktop.secrets")
        keys.store_secret_key("rk_test_gnome_deskwide_1111")
        keys.store_secret_key("sk_test_gnome_pycon_2222", "pycon")
        keys.store_secret_key("sk_test_gnome_pycon_3333", "pycon")
        assert keys.load_secret_key("pycon") == "sk_test_gnome_pycon_3333"
        keys.delete_secret_key("pycon")
        assert keys.load_secret_key("pycon") == "rk_test_gnome_deskwide_1111"
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
