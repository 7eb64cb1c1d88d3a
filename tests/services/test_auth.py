"""Staff sign-in and administration: hashing, lockout, first admin, overrides, permissions, audit rows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from boxoffice.domain.models import AuditEntry, Staff
from boxoffice.errors import AccountLocked, InvalidInput, NotSignedIn, PermissionDenied, SignInFailed
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Actor, Permission, Role, acting_as
from boxoffice.services.staff.auth import (
    LOCKOUT_MINUTES,
    MAX_FAILED_ATTEMPTS,
    SIGN_IN_FAILED_TEXT,
    AuthService,
    hash_secret,
    verify_secret,
)
from boxoffice.services.staff.directory import StaffDirectory
from boxoffice.services.staff.members import StaffService

ADMIN_PW = "correct horse"
LEAD_PW = "lead-pass-123"


@pytest.fixture
def auth(ctx) -> AuthService:
    return AuthService(ctx)


@pytest.fixture
def directory(ctx) -> StaffDirectory:
    return StaffDirectory(ctx)


@pytest.fixture
def team(auth: AuthService) -> dict[str, int]:
    """An admin, a lead and a volunteer (created by the first admin)."""
    admin = auth.create_first_admin("Ada", ADMIN_PW)
    with acting_as(admin.actor()):
        lead = auth.add_staff("Linus", Role.LEAD, LEAD_PW)
        vol = auth.add_staff("Vera", Role.VOLUNTEER, "432100")
    return {"admin": admin.id, "lead": lead.id, "volunteer": vol.id}


def _rows(db, action: str | None = None) -> list[AuditEntry]:
    with db.read() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def _hash_of(db, staff_id: int) -> str:
    with db.read() as session:
        return session.get(Staff, staff_id).secret_hash


def test_hash_has_a_per_user_salt_and_verifies_only_the_right_secret() -> None:
    first, second = hash_secret("1234"), hash_secret("1234")
    assert first != second
    assert first.startswith("scrypt-p$") and first.split("$")[2:5] == ["16384", "8", "1"]
    assert len(first.split("$")[5]) == 32
    assert verify_secret("1234", first) and verify_secret("1234", second)
    assert not verify_secret("1235", first)
    assert not verify_secret("1234", "garbage")


def test_first_admin_only_once_and_needs_a_real_password(auth: AuthService, directory: StaffDirectory,
                                                         db) -> None:
    assert directory.needs_first_admin()
    with pytest.raises(InvalidInput, match="at least 8"):
        auth.create_first_admin("Ada", "short")
    admin = auth.create_first_admin("  Ada  ", ADMIN_PW)
    assert admin.role is Role.ADMIN and admin.name == "Ada" and admin.secret_kind == "password"
    assert not directory.needs_first_admin()
    with pytest.raises(PermissionDenied, match="already has an admin"):
        auth.create_first_admin("Eve", "another password")
    (row,) = _rows(db, audit.STAFF_CHANGE)
    assert row.actor_name == "Ada" and row.actor_id == admin.id
    assert ADMIN_PW not in row.detail and "scrypt" not in row.detail


def test_sign_in_ignores_name_case_and_records_the_time(auth: AuthService, team, db, clock) -> None:
    actor = auth.sign_in("vERA ", "432100")
    assert actor == Actor(team["volunteer"], "Vera", Role.VOLUNTEER)
    with db.read() as session:
        assert session.get(Staff, team["volunteer"]).last_sign_in_at == clock.now()


def test_unknown_name_and_wrong_secret_give_the_same_message(auth: AuthService, team, db) -> None:
    with pytest.raises(SignInFailed) as unknown:
        auth.sign_in("Mallory", "432100")
    with pytest.raises(SignInFailed) as wrong:
        auth.sign_in("Vera", "0000")
    assert str(unknown.value) == str(wrong.value) == SIGN_IN_FAILED_TEXT
    rows = _rows(db, audit.SIGN_IN_FAILED)
    assert [r.target_label for r in rows] == ["Mallory", "Vera"]
    assert all("0000" not in r.detail and "432100" not in r.detail for r in rows)


def test_five_wrong_pins_lock_for_five_minutes_then_the_lock_runs_out(auth: AuthService, team, db, clock) -> None:
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(SignInFailed) as exc:
            auth.sign_in("Vera", "9999")
        assert not isinstance(exc.value, AccountLocked)
    with pytest.raises(AccountLocked, match="5 more minutes") as locked:
        auth.sign_in("Vera", "9999")
    assert "lead" in str(locked.value)
    with pytest.raises(AccountLocked):          # even the right PIN is refused while locked
        auth.sign_in("Vera", "432100")
    clock.advance(minutes=LOCKOUT_MINUTES - 1)
    with pytest.raises(AccountLocked, match="1 more minute"):
        auth.sign_in("Vera", "432100")
    clock.advance(minutes=1)
    assert auth.sign_in("Vera", "432100").name == "Vera"
    assert len(_rows(db, audit.ACCOUNT_LOCKED)) == 1
    with db.read() as session:
        staff = session.get(Staff, team["volunteer"])
        assert staff.failed_attempts == 0 and staff.locked_until is None


def test_a_success_resets_the_failure_count(auth: AuthService, team) -> None:
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(SignInFailed):
            auth.sign_in("Vera", "9999")
    auth.sign_in("Vera", "432100")
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(SignInFailed) as exc:
            auth.sign_in("Vera", "9999")
        assert not isinstance(exc.value, AccountLocked)


def test_admin_unlocks_and_resets(auth: AuthService, team) -> None:
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(SignInFailed):
            auth.sign_in("Vera", "9999")
    assert next(s for s in auth.list_staff() if s.name == "Vera").locked
    auth.unlock(team["volunteer"])
    assert not next(s for s in auth.list_staff() if s.name == "Vera").locked
    auth.reset_secret(team["volunteer"], "246800")
    assert auth.sign_in("Vera", "246800").role is Role.VOLUNTEER
    with pytest.raises(InvalidInput, match="6 to 8 digits"):
        auth.reset_secret(team["volunteer"], "12ab")
    with pytest.raises(InvalidInput, match="6 to 8 digits"):
        auth.reset_secret(team["volunteer"], "1234")   # a new PIN has at least 6 digits


def test_inactive_staff_cannot_sign_in(auth: AuthService, directory: StaffDirectory, team) -> None:
    auth.deactivate(team["volunteer"])
    assert directory.sign_in_names() == ["Ada", "Linus"]
    with pytest.raises(SignInFailed, match="do not match"):
        auth.sign_in("Vera", "432100")
    auth.reactivate(team["volunteer"])
    assert auth.sign_in("Vera", "432100").name == "Vera"
    assert "Vera" in directory.sign_in_names()


def test_the_last_admin_cannot_be_demoted_or_deactivated(auth: AuthService, team) -> None:
    with pytest.raises(InvalidInput, match="only admin"):
        auth.set_role(team["admin"], Role.LEAD)
    with pytest.raises(InvalidInput, match="only admin"):
        auth.deactivate(team["admin"])
    auth.set_role(team["lead"], Role.ADMIN)         # lead -> admin keeps the password
    auth.set_role(team["admin"], Role.LEAD)
    assert {s.name: s.role for s in auth.list_staff()}["Ada"] is Role.LEAD


def test_changing_between_pin_and_password_needs_a_new_secret(auth: AuthService, team) -> None:
    with pytest.raises(InvalidInput, match="password"):
        auth.set_role(team["volunteer"], Role.LEAD)
    auth.set_role(team["volunteer"], Role.LEAD, secret="vera-lead-pw")
    assert auth.sign_in("Vera", "vera-lead-pw").role is Role.LEAD


@pytest.mark.no_default_actor
@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.LEAD])
def test_staff_administration_needs_an_admin(auth: AuthService, role: Role) -> None:
    with acting_as(Actor(None, "test admin", Role.ADMIN)):
        auth.create_first_admin("Ada", ADMIN_PW)
        vol = auth.add_staff("Vera", Role.VOLUNTEER, "432100")
    with acting_as(Actor(None, "someone", role)):
        with pytest.raises(PermissionDenied, match="Managing staff needs an admin"):
            auth.list_staff()
        with pytest.raises(PermissionDenied):
            auth.add_staff("Mallory", Role.ADMIN, "evil password")
        with pytest.raises(PermissionDenied):
            auth.reset_secret(vol.id, "0000")
        with pytest.raises(PermissionDenied):
            auth.unlock(vol.id)


@pytest.mark.no_default_actor
def test_override_checks_the_approver_and_audits_both_names(auth: AuthService, team, db) -> None:
    volunteer = Actor(team["volunteer"], "Vera", Role.VOLUNTEER)
    with acting_as(volunteer):
        with pytest.raises(SignInFailed):
            auth.verify_override("Linus", "wrong password", Permission.REFUND)
        with pytest.raises(PermissionDenied, match="Vera is a volunteer"):
            auth.verify_override("Vera", "432100", Permission.REFUND)
        lead = auth.verify_override("linus", LEAD_PW, Permission.REFUND)
        assert lead.name == "Linus" and lead.role is Role.LEAD
        with pytest.raises(PermissionDenied, match="needs an admin"):
            auth.verify_override("Linus", LEAD_PW, Permission.MANAGE_STAFF)
    (row,) = _rows(db, audit.OVERRIDE)
    assert (row.actor_name, row.actor_role, row.approver_name) == ("Vera", "volunteer", "Linus")
    assert "refund" in row.detail and LEAD_PW not in row.detail
    with pytest.raises(NotSignedIn):
        auth.verify_override("Linus", LEAD_PW, Permission.REFUND)


def test_no_audit_row_holds_a_secret(auth: AuthService, team, db) -> None:
    auth.reset_secret(team["lead"], "brand new secret")
    auth.set_role(team["volunteer"], Role.LEAD, secret="volunteer promoted")
    secrets_used = (ADMIN_PW, LEAD_PW, "432100", "brand new secret", "volunteer promoted")
    for row in _rows(db):
        text = f"{row.detail} {row.target_label}"
        assert not any(s in text for s in secrets_used) and "scrypt" not in text
    assert all(r.action == audit.STAFF_CHANGE for r in _rows(db))
    assert len(_rows(db)) == 5


def test_add_staff_gives_an_earlier_operator_a_sign_in(auth: AuthService, ctx) -> None:
    grace = StaffService(ctx).get_or_create("Grace")
    auth.create_first_admin("Ada", ADMIN_PW)
    account = auth.add_staff("grace", Role.VOLUNTEER, "111100")
    assert account.id == grace.id and account.has_secret
    with pytest.raises(InvalidInput, match="already on the staff list"):
        auth.add_staff("Grace", Role.VOLUNTEER, "222200")
    assert _hash_of(ctx.db, grace.id).startswith("scrypt-p$")
