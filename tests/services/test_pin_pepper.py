"""PIN hashes are peppered with a key kept in the keychain: the database alone verifies nothing.

Earlier versions' hashes (no pepper, a lower scrypt cost, 4-digit PINs) keep working and are
replaced by a peppered one at the next successful sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import pytest
from sqlalchemy import select, update

from boxoffice.domain.models import Staff
from boxoffice.errors import ConfigError, SignInFailed
from boxoffice.services.staff import auth as auth_module
from boxoffice.services.staff import pepper
from boxoffice.services.staff.access import Role, acting_as
from boxoffice.services.staff.auth import SCRYPT_N, AuthService, hash_secret, verify_secret


def _legacy_hash(secret: str) -> str:
    """What earlier versions stored: scrypt at N=2^14 of the bare secret."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


@pytest.mark.real_pin_key
def test_the_first_hash_creates_the_pin_key_in_the_keychain_and_new_hashes_use_the_real_cost(
        keychain: Any) -> None:
    stored = hash_secret("135790")
    key = keychain_value(keychain)
    assert key is not None and len(bytes.fromhex(key)) == pepper.PEPPER_BYTES
    assert stored.split("$")[2] == str(SCRYPT_N) == str(2**15)
    started = time.perf_counter()
    assert verify_secret("135790", stored)
    print(f"one verification at N=2^15: {(time.perf_counter() - started) * 1000:.0f} ms")
    assert not verify_secret("135791", stored)


def keychain_value(keychain: Any) -> str | None:
    from boxoffice import keychain as kc

    return kc.get_password(pepper.KEYCHAIN_SERVICE, pepper.KEYCHAIN_ACCOUNT)


def test_a_stolen_database_without_the_key_verifies_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = hash_secret("135790")
    # The attacker's machine: the right PIN, the hash from the database, but another (or no) key.
    monkeypatch.setenv(pepper.PEPPER_ENV, "11" * 32)
    with pytest.raises(ConfigError, match="does not have the PIN key"):
        verify_secret("135790", stored)
    # Without the key the bare scrypt of the PIN does not give the stored hash either.
    _scheme, _id, n, r, p, salt_hex, hash_hex = stored.split("$")
    bare = hashlib.scrypt(b"135790", salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p),
                          maxmem=128 * 1024 * 1024, dklen=32)
    assert bare.hex() != hash_hex


def test_an_earlier_versions_hash_still_signs_in_and_is_peppered_then(ctx, db) -> None:  # type: ignore[no-untyped-def]
    auth = AuthService(ctx)
    admin = auth.create_first_admin("Ada", "correct horse")
    with acting_as(admin.actor()):
        vera = auth.add_staff("Vera", Role.VOLUNTEER, "135790")
    with db.write() as session:   # as an earlier version left it: a 4-digit PIN, no pepper
        session.execute(update(Staff).where(Staff.id == vera.id).values(secret_hash=_legacy_hash("4321")))
    with pytest.raises(SignInFailed):
        auth.sign_in("Vera", "4322")
    assert auth.sign_in("Vera", "4321").name == "Vera"
    with db.read() as session:
        upgraded = session.scalar(select(Staff.secret_hash).where(Staff.id == vera.id))
    assert upgraded.startswith("scrypt-p$") and upgraded.split("$")[2] == str(auth_module.SCRYPT_N)
    assert auth.sign_in("Vera", "4321").name == "Vera"


@pytest.mark.real_pin_key
def test_without_any_keychain_the_pin_key_is_kept_in_a_private_file_not_the_database(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """A bare Linux session (no Secret Service on the bus) still signs in: the key goes to a 0600 file."""
    monkeypatch.setenv("BOXOFFICE_HOME", str(tmp_path))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    stored = hash_secret("135790")
    key_file = pepper.key_file()
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    assert (key_file.parent.stat().st_mode & 0o777) == 0o700
    assert len(bytes.fromhex(key_file.read_text())) == pepper.PEPPER_BYTES
    pepper.forget_cached()                        # the next start reads the same key back
    assert verify_secret("135790", stored) and not verify_secret("135791", stored)
    key_file.write_text("22" * 32)                # a database copied to a machine with another key
    pepper.forget_cached()
    with pytest.raises(ConfigError, match="does not have the PIN key"):
        verify_secret("135790", stored)
