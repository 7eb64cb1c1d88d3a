"""Store credit: issue, list, look up, expire by hand and by sweep (CRD-1/7/8, DEC-3)."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from boxoffice.domain.models import Conference, Credit, CreditStatus, Customer, Order
from boxoffice.errors import CreditError, InvalidInput, NotFound
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.payments import amount_input
from boxoffice.services.sales.orders import check_operator, operator_label, pairs
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize, operator_id_for
from boxoffice.timeutil import ensure_aware

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreditView:
    id: int
    customer_id: int
    customer_label: str
    amount: Decimal
    remaining: Decimal
    status: str
    source_order_reference: str
    applied_to_order_reference: str
    note: str
    expires_at: datetime | None
    created_at: datetime


def _customer_label(customer: Customer) -> str:
    return str(customer)


def credit_views(session: Session, credits: Iterable[Credit]) -> builtins.list[CreditView]:
    """DTOs for credits, with customer labels and order references fetched in bulk."""
    rows = builtins.list(credits)
    customers = {
        c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_({r.customer_id for r in rows})))
    }
    order_ids = {i for r in rows for i in (r.source_order_id, r.applied_to_order_id) if i is not None}
    refs = pairs(session.execute(select(Order.id, Order.reference).where(Order.id.in_(order_ids))))
    return [
        CreditView(
            id=r.id,
            customer_id=r.customer_id,
            customer_label=_customer_label(customers[r.customer_id]) if r.customer_id in customers else "",
            amount=r.amount,
            remaining=r.remaining_amount,
            status=r.status.value,
            source_order_reference=refs.get(r.source_order_id, "") if r.source_order_id else "",
            applied_to_order_reference=refs.get(r.applied_to_order_id, "") if r.applied_to_order_id else "",
            note=r.note,
            expires_at=r.expires_at,
            created_at=r.created_at,
        )
        for r in rows
    ]


def _statuses(statuses: Iterable[str | CreditStatus] | None) -> builtins.list[CreditStatus] | None:
    if statuses is None:
        return None
    try:
        return [CreditStatus(s) for s in statuses]
    except ValueError:
        names = ", ".join(s.value for s in CreditStatus)
        raise InvalidInput(f"Unknown credit status. Use one of: {names}.") from None


def expire_due(session: Session, conference_id: int, now: datetime) -> int:
    """Mark the conference's available credits whose ``expires_at`` has passed as expired."""
    # An UPDATE runs through a cursor; Session.execute() is annotated with the general Result.
    result = cast("CursorResult[Any]", session.execute(
        update(Credit)
        .where(
            Credit.conference_id == conference_id,
            Credit.status == CreditStatus.AVAILABLE,
            Credit.expires_at.is_not(None),
            Credit.expires_at <= now,
        )
        .values(status=CreditStatus.EXPIRED, updated_at=now)
    ))
    return int(result.rowcount or 0)


class CreditService:
    """The Credits screen and the desk's credit look-up; one transaction per call."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def list(
        self,
        conference_id: int,
        *,
        customer_id: int | None = None,
        statuses: Iterable[str | CreditStatus] | None = None,
    ) -> builtins.list[CreditView]:
        """Credits of a conference, newest first (MOD-CR-1), optionally of one customer / statuses."""
        query = select(Credit).where(Credit.conference_id == conference_id)
        if customer_id is not None:
            query = query.where(Credit.customer_id == customer_id)
        wanted = _statuses(statuses)
        if wanted is not None:
            query = query.where(Credit.status.in_(wanted))
        query = query.order_by(Credit.created_at.desc(), Credit.id.desc())
        with self._ctx.db.read() as session:
            return credit_views(session, session.scalars(query).all())

    def available_for(self, customer_id: int, conference_id: int) -> builtins.list[CreditView]:
        """CRD-7: the customer's spendable credits for the conference (unexpired, remaining > 0)."""
        now = self._ctx.clock.now()
        query = (
            select(Credit)
            .where(
                Credit.customer_id == customer_id,
                Credit.conference_id == conference_id,
                Credit.status == CreditStatus.AVAILABLE,
                Credit.remaining_amount > 0,
                (Credit.expires_at.is_(None)) | (Credit.expires_at > now),
            )
            .order_by(Credit.expires_at.is_(None), Credit.expires_at, Credit.id)
        )
        with self._ctx.db.read() as session:
            return credit_views(session, session.scalars(query).all())

    def issue(
        self,
        customer_id: int,
        conference_id: int,
        amount: Decimal | str | int,
        *,
        note: str = "",
        expires_at: datetime | None = None,
        operator_id: int | None = None,
    ) -> CreditView:
        """A goodwill credit: available, remaining = amount (MOD-CR-2), optional expiry (DEC-3). Needs a lead."""
        authorize(Permission.ISSUE_CREDIT)
        operator_id = operator_id_for(operator_id)
        amount = amount_input(amount, "credit amount")
        if amount <= 0:
            raise InvalidInput("A store credit must be worth more than 0.00.", field="amount")
        now = self._ctx.clock.now()
        if expires_at is not None:
            expires_at = ensure_aware(expires_at)
            if expires_at <= now:
                raise InvalidInput("The expiry date is already past. Choose a later date or none.")
        with self._ctx.db.write() as session:
            check_operator(session, operator_id)
            if session.get(Customer, customer_id) is None:
                raise NotFound(f"Customer #{customer_id} does not exist. Look the customer up again.")
            if session.get(Conference, conference_id) is None:
                raise NotFound(f"Conference #{conference_id} does not exist.")
            by = operator_label(session, operator_id)
            text = (note or "").strip() or "Store credit"
            credit = Credit(
                customer_id=customer_id,
                conference_id=conference_id,
                amount=amount,
                remaining_amount=amount,
                status=CreditStatus.AVAILABLE,
                note=f"{text} by {by}" if by else text,
                expires_at=expires_at,
                created_at=now,
                updated_at=now,
            )
            session.add(credit)
            session.flush()
            audit.record(
                session, self._ctx, audit.CREDIT_ISSUE, target_type="credit", target_id=credit.id,
                target_label=f"Store credit #{credit.id} for customer #{customer_id}", amount_before=None,
                amount_after=amount, detail={"customer_id": customer_id, "note": text,
                                             "expires_at": expires_at.isoformat() if expires_at else None},
            )
            log.info("credit #%d of %s issued to customer %d", credit.id, amount, customer_id)
            return credit_views(session, [credit])[0]

    def expire(self, credit_id: int, *, operator_id: int | None = None) -> CreditView:
        """DEC-3: a lead expires a credit by hand; its remaining balance can no longer be spent."""
        authorize(Permission.EXPIRE_CREDIT)
        operator_id = operator_id_for(operator_id)
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            check_operator(session, operator_id)
            credit = session.scalars(select(Credit).where(Credit.id == credit_id).with_for_update()).one_or_none()
            if credit is None:
                raise NotFound(f"Store credit #{credit_id} does not exist.")
            if credit.status == CreditStatus.EXPIRED:
                raise CreditError(f"Store credit #{credit_id} has already expired.")
            if credit.status != CreditStatus.AVAILABLE:
                raise CreditError(f"Store credit #{credit_id} is used up; there is nothing left to expire.")
            credit.status = CreditStatus.EXPIRED
            if credit.expires_at is None or credit.expires_at > now:
                credit.expires_at = now
            by = operator_label(session, operator_id)
            credit.note = (credit.note + "\n" if credit.note else "") + (
                f"Expired by hand by {by}" if by else "Expired by hand"
            )
            session.flush()
            audit.record(
                session, self._ctx, audit.CREDIT_EXPIRE, target_type="credit", target_id=credit.id,
                target_label=f"Store credit #{credit.id}", amount_before=credit.remaining_amount,
                amount_after=Decimal("0.00"), detail={"customer_id": credit.customer_id},
            )
            log.info("credit #%d expired by hand", credit.id)
            return credit_views(session, [credit])[0]

    def sweep_expired(self, conference_id: int) -> int:
        """DEC-3 sweep: available credits past ``expires_at`` become expired; returns how many."""
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            count = expire_due(session, conference_id, now)
        if count:
            log.info("%d credits expired in conference %d", count, conference_id)
        return count


__all__ = ["CreditService", "CreditView", "credit_views", "expire_due"]
