"""Staff sign-in: hashed PINs and passwords, lockout, first admin, overrides, staff administration.

Volunteers sign in with a 6-8 digit PIN (4-digit PINs set earlier keep working), leads and admins
with a password of at least 8 characters. Secrets are peppered (an HMAC with the desk's PIN key,
kept in the OS keychain, not the database: ``pepper.py``), then hashed with scrypt and a random
per-user salt, and stored as ``scrypt-p$pepper_id$n$r$p$salt_hex$hash_hex``; they never appear in
audit rows or logs. Hashes of earlier versions (``scrypt$...``: no pepper, a lower cost) still
verify and are replaced on the next successful sign-in. After
``MAX_FAILED_ATTEMPTS`` wrong secrets in a row an account is locked for ``LOCKOUT_MINUTES``.
An unknown name and a wrong secret give the same message, so the desk does not tell who exists.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from boxoffice.domain.models import Staff
from boxoffice.errors import (
    AccountLocked,
    ConfigError,
    InvalidInput,
    NotFound,
    NotSignedIn,
    PermissionDenied,
    SignInFailed,
)
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Actor, Permission, Role, authorize, current_actor
from boxoffice.services.staff.directory import active_admins
from boxoffice.services.staff.pepper import PEPPER_ENV, load_pepper, pepper_id

log = logging.getLogger(__name__)

MAX_FAILED_ATTEMPTS = 5
LOCKOUT_MINUTES = 5
MIN_PASSWORD_LENGTH = 8
PIN_PATTERN = re.compile(r"^[0-9]{6,8}$")
# About 100 ms on a desk laptop (32 MiB): the most one sign-in can afford.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SALT_BYTES = 16
_HASH_BYTES = 32
_MAXMEM = 128 * 1024 * 1024
SCHEME = "scrypt-p"          # peppered
LEGACY_SCHEME = "scrypt"     # earlier versions: no pepper

SIGN_IN_FAILED_TEXT = "That name and PIN or password do not match. Check both and try again."


# --- hashing -----------------------------------------------------------------------------------


def _peppered(secret: str, pepper: bytes) -> bytes:
    return hmac.new(pepper, secret.encode("utf-8"), hashlib.sha256).digest()


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """``scrypt-p$pepper_id$n$r$p$salt_hex$hash_hex`` with a fresh random salt (unless one is given)."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    pepper = load_pepper(create=True)
    assert pepper is not None
    digest = hashlib.scrypt(_peppered(secret, pepper), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=_MAXMEM, dklen=_HASH_BYTES)
    return f"{SCHEME}${pepper_id(pepper)}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` hashes to ``stored`` (constant-time comparison).

    A peppered hash needs this desk's PIN key; without it (a database copied to another machine)
    nothing verifies, and a desk with no key or another one is told how to get the right one.
    """
    try:
        scheme, *parts = stored.split("$")
        if scheme == SCHEME:
            wanted_id, n, r, p, salt_hex, hash_hex = parts
            pepper = load_pepper(create=False)
            if pepper is None or pepper_id(pepper) != wanted_id:
                raise ConfigError(
                    "This desk does not have the PIN key the staff PINs and passwords were made with, so "
                    f"nobody can sign in here. Set {PEPPER_ENV} to the key of the other desks (or copy "
                    "the keychain entry boxoffice-staff / pin-pepper), then start again.")
            material = _peppered(secret, pepper)
        elif scheme == LEGACY_SCHEME:
            n, r, p, salt_hex, hash_hex = parts
            material = secret.encode("utf-8")
        else:
            return False
        expected = bytes.fromhex(hash_hex)
        digest = hashlib.scrypt(material, salt=bytes.fromhex(salt_hex), n=int(n), r=int(r),
                                p=int(p), maxmem=_MAXMEM, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def needs_rehash(stored: str) -> bool:
    """A hash of an earlier version (no pepper, or a lower cost): replaced at the next sign-in."""
    parts = stored.split("$")
    return parts[0] != SCHEME or len(parts) != 7 or parts[2] != str(SCRYPT_N)


def _burn_time(secret: str) -> None:
    """Hash anyway when the name is unknown, so the answer takes as long as a wrong secret."""
    hashlib.scrypt(secret.encode("utf-8"), salt=b"\0" * SALT_BYTES, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                   maxmem=_MAXMEM, dklen=_HASH_BYTES)


def secret_kind_for(role: Role) -> str:
    return "pin" if role is Role.VOLUNTEER else "password"


def check_secret_strength(role: Role, secret: str) -> str:
    """The secret, if it fits the role (PIN for volunteers, password for leads and admins)."""
    if not isinstance(secret, str):
        raise InvalidInput("Type a PIN or password.", field="secret")
    if role is Role.VOLUNTEER:
        if not PIN_PATTERN.match(secret):
            raise InvalidInput("A volunteer's PIN is 6 to 8 digits.", field="secret")
    elif len(secret) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"{role.label}s sign in with a password of at least {MIN_PASSWORD_LENGTH} characters.",
            field="secret")
    return secret


def _clean_name(name: str) -> str:
    if not isinstance(name, str) or not " ".join(name.split()):
        raise InvalidInput("Type the staff member's name.", field="name")
    clean = " ".join(name.split())
    if len(clean) > 200:
        raise InvalidInput("The name is too long (at most 200 characters).", field="name")
    return clean


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(f"Unknown role {value!r}: choose volunteer, lead or admin.", field="role") from None


# --- DTOs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffAccount:
    """One staff member as the Staff screen shows it (never the secret)."""

    id: int
    name: str
    role: Role
    active: bool
    has_secret: bool
    secret_kind: str          # "pin", "password" or "" (no sign-in set yet)
    failed_attempts: int
    locked_until: datetime | None
    last_sign_in_at: datetime | None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None

    def actor(self) -> Actor:
        return Actor(staff_id=self.id, name=self.name, role=self.role)


def _account(staff: Staff, now: datetime) -> StaffAccount:
    locked = staff.locked_until if staff.locked_until is not None and staff.locked_until > now else None
    return StaffAccount(
        id=staff.id, name=staff.name, role=Role(staff.role), active=bool(staff.is_active),
        has_secret=bool(staff.secret_hash), secret_kind=staff.secret_kind,
        failed_attempts=staff.failed_attempts if locked or staff.locked_until is None else 0,
        locked_until=locked, last_sign_in_at=staff.last_sign_in_at,
    )


def _actor(staff: Staff) -> Actor:
    return Actor(staff_id=staff.id, name=staff.name, role=Role(staff.role))


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


# --- the service ---------------------------------------------------------------------------------


class AuthService:
    """Sign operators in, approve overrides, and manage staff accounts (admins)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    # first start ------------------------------------------------------------------------------

    def create_first_admin(self, name: str, password: str) -> StaffAccount:
        """Create the first admin (only while there is none); needs nobody signed in."""
        clean = _clean_name(name)
        check_secret_strength(Role.ADMIN, password)
        hashed = hash_secret(password)
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            if _has_admin(session):
                raise PermissionDenied(
                    "This database already has an admin. Sign in, or ask an admin to add you on the Staff screen.",
                    permission=Permission.MANAGE_STAFF.value, needs=Role.ADMIN.value)
            staff = _by_name(session, clean)
            if staff is None:
                staff = Staff(name=clean, created_at=now)
                session.add(staff)
            staff.role, staff.is_active = Role.ADMIN.value, True
            staff.secret_kind, staff.secret_hash = "password", hashed
            staff.failed_attempts, staff.locked_until, staff.updated_at = 0, None, now
            session.flush()
            admin = _actor(staff)
            audit.record(session, self._ctx, audit.STAFF_CHANGE, target_type="staff", target_id=staff.id,
                         target_label=staff.name, detail={"change": "first_admin", "role": "admin"},
                         actor=admin)
            return _account(staff, now)

    # sign-in -----------------------------------------------------------------------------------

    def sign_in(self, name: str, secret: str) -> Actor:
        """The staff member whose name (any case) and PIN or password match; counts failures."""
        return self._check_secret(name, secret, purpose="sign_in")

    def verify_override(self, name: str, secret: str, permission: Permission | str) -> Actor:
        """A lead's (or admin's) approval of one ``permission`` call for the signed-in operator.

        Checks the approver's secret (same lockout as sign-in) and role, and records an OVERRIDE
        audit row. The caller then runs the one call as ``current.approved_by(approver)``.
        """
        wanted = Permission(permission)
        operator = current_actor()
        if operator is None:
            raise NotSignedIn("Nobody is signed in at this desk. Sign in with your name and PIN first.")
        approver = self._check_secret(name, secret, purpose="override")
        if approver.role.rank < wanted.min_role.rank:
            need = wanted.min_role
            raise PermissionDenied(
                f"{approver.name} is {approver.role.article} {approver.role.value}; {wanted.label.lower()} "
                f"needs {need.article} {need.value} to approve it.",
                permission=wanted.value, needs=need.value)
        with self._ctx.db.write() as session:
            audit.record(session, self._ctx, audit.OVERRIDE, target_type="permission",
                         target_label=wanted.label, detail={"permission": wanted.value},
                         actor=operator.approved_by(approver))
        log.info("override of %s for staff %s approved by staff %s", wanted.value, operator.staff_id,
                 approver.staff_id)
        return approver

    def _check_secret(self, name: str, secret: str, *, purpose: str) -> Actor:
        """Verify a name and secret under the lockout rules; raise after committing the failure."""
        clean = " ".join(name.split()) if isinstance(name, str) else ""
        secret = secret if isinstance(secret, str) else ""
        if not clean or not secret:
            raise SignInFailed("Type your name and your PIN or password.")
        now = self._ctx.clock.now()
        failure: SignInFailed | None = None
        with self._ctx.db.write() as session:
            # The row stays locked until the failure count is saved: desks checking the same name at
            # once take turns, so no more than MAX_FAILED_ATTEMPTS secrets are ever checked.
            staff = _by_name(session, clean, lock=True)
            if staff is None or not staff.is_active or not staff.secret_hash:
                _burn_time(secret)
                audit.record(session, self._ctx, audit.SIGN_IN_FAILED, target_type="staff",
                             target_id=staff.id if staff is not None else None, target_label=clean,
                             detail={"purpose": purpose, "reason": "unknown or inactive"})
                failure = SignInFailed(SIGN_IN_FAILED_TEXT)
            elif staff.locked_until is not None and staff.locked_until > now:
                failure = _locked_error(staff, now)
            else:
                if staff.locked_until is not None:   # the lock ran out: a fresh start
                    staff.locked_until, staff.failed_attempts = None, 0
                if verify_secret(secret, staff.secret_hash):
                    staff.failed_attempts = 0
                    if needs_rehash(staff.secret_hash):   # an earlier version's hash: pepper it now
                        staff.secret_hash = hash_secret(secret)
                    if purpose == "sign_in":
                        staff.last_sign_in_at = now
                    staff.updated_at = now
                    return _actor(staff)
                staff.failed_attempts += 1
                staff.updated_at = now
                audit.record(session, self._ctx, audit.SIGN_IN_FAILED, target_type="staff", target_id=staff.id,
                             target_label=staff.name,
                             detail={"purpose": purpose, "failed_attempts": staff.failed_attempts})
                if staff.failed_attempts >= MAX_FAILED_ATTEMPTS:
                    staff.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
                    audit.record(session, self._ctx, audit.ACCOUNT_LOCKED, target_type="staff",
                                 target_id=staff.id, target_label=staff.name,
                                 detail={"minutes": LOCKOUT_MINUTES, "until": staff.locked_until.isoformat()})
                    log.warning("staff %s locked after %s failed attempts", staff.id, staff.failed_attempts)
                    failure = _locked_error(staff, now)
                else:
                    failure = SignInFailed(SIGN_IN_FAILED_TEXT)
        raise failure

    # staff administration (admins) ---------------------------------------------------------------

    def list_staff(self, *, include_inactive: bool = True) -> list[StaffAccount]:
        authorize(Permission.MANAGE_STAFF)
        now = self._ctx.clock.now()
        query = select(Staff).order_by(func.lower(Staff.name))
        if not include_inactive:
            query = query.where(Staff.is_active.is_(True))
        with self._ctx.db.read() as session:
            return [_account(s, now) for s in session.scalars(query)]

    def add_staff(self, name: str, role: Role | str, secret: str) -> StaffAccount:
        """A new staff member who can sign in (an operator recorded earlier without sign-in gets one)."""
        authorize(Permission.MANAGE_STAFF)
        clean, wanted = _clean_name(name), _role(role)
        hashed = hash_secret(check_secret_strength(wanted, secret))
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            staff = _by_name(session, clean)
            if staff is not None and staff.secret_hash:
                raise InvalidInput(f"{staff.name} is already on the staff list. Choose another name, or "
                                   "reset their PIN or password.", field="name")
            if staff is None:
                staff = Staff(name=clean, created_at=now)
                session.add(staff)
            staff.role, staff.is_active, staff.updated_at = wanted.value, True, now
            staff.secret_kind, staff.secret_hash = secret_kind_for(wanted), hashed
            staff.failed_attempts, staff.locked_until = 0, None
            session.flush()
            audit.record(session, self._ctx, audit.STAFF_CHANGE, target_type="staff", target_id=staff.id,
                         target_label=staff.name, detail={"change": "added", "role": wanted.value})
            return _account(staff, now)

    def set_role(self, staff_id: int, role: Role | str, *, secret: str | None = None) -> StaffAccount:
        """Change a role; moving between PIN and password sign-in needs the new ``secret``."""
        authorize(Permission.MANAGE_STAFF)
        wanted = _role(role)
        now = self._ctx.clock.now()
        hashed = None
        if secret:
            hashed = hash_secret(check_secret_strength(wanted, secret))
        with self._ctx.db.write() as session:
            staff = _get(session, staff_id)
            before = Role(staff.role)
            if before is wanted:
                return _account(staff, now)
            if before is Role.ADMIN and staff.is_active:
                _refuse_last_admin(session, staff, "change the role of")
            kind = secret_kind_for(wanted)
            if hashed is None and staff.secret_hash and staff.secret_kind != kind:
                raise InvalidInput(
                    f"{wanted.label}s sign in with a {'PIN' if kind == 'pin' else 'password'}: type a new one "
                    f"for {staff.name}.", field="secret")
            staff.role, staff.updated_at = wanted.value, now
            if hashed is not None:
                staff.secret_kind, staff.secret_hash = kind, hashed
            audit.record(session, self._ctx, audit.STAFF_CHANGE, target_type="staff", target_id=staff.id,
                         target_label=staff.name,
                         detail={"change": "role", "role_before": before.value, "role_after": wanted.value,
                                 "secret_reset": hashed is not None})
            return _account(staff, now)

    def reset_secret(self, staff_id: int, secret: str) -> StaffAccount:
        """Set a new PIN (volunteers) or password; also clears a lockout."""
        authorize(Permission.MANAGE_STAFF)
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            staff = _get(session, staff_id)
            role = Role(staff.role)
            staff.secret_hash = hash_secret(check_secret_strength(role, secret))
            staff.secret_kind, staff.failed_attempts, staff.locked_until = secret_kind_for(role), 0, None
            staff.updated_at = now
            audit.record(session, self._ctx, audit.STAFF_CHANGE, target_type="staff", target_id=staff.id,
                         target_label=staff.name, detail={"change": "secret_reset", "kind": staff.secret_kind})
            return _account(staff, now)

    def unlock(self, staff_id: int) -> StaffAccount:
        """Lift a lockout before it runs out (admins)."""
        authorize(Permission.MANAGE_STAFF)
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            staff = _get(session, staff_id)
            was_locked = staff.locked_until is not None and staff.locked_until > now
            staff.failed_attempts, staff.locked_until, staff.updated_at = 0, None, now
            audit.record(session, self._ctx, audit.STAFF_CHANGE, target_type="staff", target_id=staff.id,
                         target_label=staff.name, detail={"change": "unlocked", "was_locked": was_locked})
            return _account(staff, now)

    def deactivate(self, staff_id: int) -> StaffAccount:
        """The staff member can no longer sign in (their past payments keep their name)."""
        return self._set_active(staff_id, False)

    def reactivate(self, staff_id: int) -> StaffAccount:
        return self._set_active(staff_id, True)

    def _set_active(self, staff_id: int, active: bool) -> StaffAccount:
        actor = authorize(Permission.MANAGE_STAFF)
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            staff = _get(session, staff_id)
            if bool(staff.is_active) == active:
                return _account(staff, now)
            if not active:
                if actor.staff_id == staff.id:
                    raise InvalidInput("You cannot deactivate yourself. Ask another admin.")
                if staff.role == Role.ADMIN.value:
                    _refuse_last_admin(session, staff, "deactivate")
            staff.is_active, staff.updated_at = active, now
            audit.record(session, self._ctx, audit.STAFF_CHANGE, target_type="staff", target_id=staff.id,
                         target_label=staff.name, detail={"change": "reactivated" if active else "deactivated"})
            return _account(staff, now)


def _by_name(session: Session, clean: str, *, lock: bool = False) -> Staff | None:
    query = select(Staff).where(func.lower(Staff.name) == clean.lower()).limit(1)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def _get(session: Session, staff_id: int) -> Staff:
    if isinstance(staff_id, bool) or not isinstance(staff_id, int):
        raise InvalidInput(f"{staff_id!r} is not a staff id.")
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"Staff member #{staff_id} does not exist. Reload the staff list.")
    return staff


def _active_admins(session: Session) -> int:
    return int(session.scalar(active_admins()) or 0)


def _has_admin(session: Session) -> bool:
    return _active_admins(session) > 0


def _refuse_last_admin(session: Session, staff: Staff, doing: str) -> None:
    if _active_admins(session) <= 1:
        raise InvalidInput(f"{staff.name} is the only admin: you cannot {doing} them. Add another admin first.")


def _locked_error(staff: Staff, now: datetime) -> AccountLocked:
    assert staff.locked_until is not None
    minutes = _minutes_left(staff.locked_until, now)
    error = AccountLocked(
        f"Too many wrong tries: {staff.name} is locked for {minutes} more minute{'s' if minutes != 1 else ''}. "
        "Ask a lead to sign in instead, or an admin to unlock the account on the Staff screen.")
    error.until = staff.locked_until
    return error
