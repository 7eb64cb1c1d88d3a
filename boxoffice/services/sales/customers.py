"""Customers (the seed's "user"): find by name or e-mail, match by e-mail (DEC-5), anonymous walk-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from boxoffice.domain.models import Customer
from boxoffice.domain.text_rules import text_problem
from boxoffice.errors import InvalidInput, NotFound
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff.access import Permission, authorize

MAX_FIND = 100


def customer_label(customer_id: int, name: str, email: str | None, is_anonymous: bool) -> str:
    """What the desk shows for a customer: the name, else the e-mail, else "Walk-up #id"."""
    if name:
        return name
    if email:
        return email
    return f"Walk-up #{customer_id}" if is_anonymous else f"Customer #{customer_id}"


@dataclass(frozen=True)
class CustomerView:
    id: int
    name: str
    email: str | None
    company: str
    is_anonymous: bool
    label: str


_COLUMNS = (Customer.id, Customer.name, Customer.email, Customer.company, Customer.is_anonymous)


def _view(row: tuple[int, str, str | None, str, bool]) -> CustomerView:
    cid, name, email, company, anonymous = row
    return CustomerView(cid, name, email, company, anonymous, customer_label(cid, name, email, anonymous))


def load_customer(session: Session, customer_id: int) -> CustomerView:
    if isinstance(customer_id, bool) or not isinstance(customer_id, int):
        raise InvalidInput("Choose a customer.", field="customer_id")
    row = session.execute(select(*_COLUMNS).where(Customer.id == customer_id)).first()
    if row is None:
        raise NotFound(f"Customer #{customer_id} does not exist (any more). Search for the customer again.")
    return _view(tuple(row))  # type: ignore[arg-type]  # a Row of _COLUMNS: the five typed values


def _clean(value: str | None, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"The {field} must be text.", field=field)
    problem = text_problem(value, field)
    if problem:
        raise InvalidInput(problem, field=field)
    value = " ".join(value.split())
    if len(value) > limit:
        raise InvalidInput(f"The {field} is too long (at most {limit} characters).", field=field)
    return value


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


class CustomerService:
    """Look up and create the customers carts and orders belong to."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def find(self, query: str, limit: int = 10) -> list[CustomerView]:
        """Customers whose e-mail or name starts with ``query`` (case-insensitive), named ones first."""
        text = _clean(query, "search text", 254).lower()
        if not text:
            return []
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_FIND:
            raise InvalidInput(f"The result limit must be between 1 and {MAX_FIND}.", field="limit")
        pattern = _like_prefix(text)
        with self._ctx.db.read() as session:
            # Ranges over the lower(...) indexes: LIKE with an escaped prefix against lower(column).
            rows = session.execute(
                select(*_COLUMNS)
                .where(
                    or_(
                        func.lower(Customer.email).like(pattern, escape="\\"),
                        func.lower(Customer.name).like(pattern, escape="\\"),
                    )
                )
                .order_by(Customer.is_anonymous, func.lower(Customer.name), Customer.id)
                .limit(limit)
            ).all()
            return [_view(tuple(r)) for r in rows]  # type: ignore[arg-type]  # Rows of _COLUMNS

    def get(self, customer_id: int) -> CustomerView:
        with self._ctx.db.read() as session:
            return load_customer(session, customer_id)

    def get_or_create(self, *, name: str, email: str | None, company: str = "") -> CustomerView:
        """DEC-5: an e-mail matches the existing customer ignoring case; without one, a new record."""
        authorize(Permission.SELL)
        name = _clean(name, "name", 200)
        company = _clean(company, "company", 200)
        mail = _clean(email, "e-mail", 254).lower()
        if mail and ("@" not in mail or " " in mail or mail.startswith("@") or mail.endswith("@")):
            raise InvalidInput(f"'{email}' is not an e-mail address.", field="email")
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            if mail:
                row = session.execute(
                    select(*_COLUMNS).where(func.lower(Customer.email) == mail).order_by(Customer.id).limit(1)
                ).first()
                if row is not None:
                    return _view(tuple(row))  # type: ignore[arg-type]  # a Row of _COLUMNS: the five typed values
            if not name and not mail:
                raise InvalidInput("Enter a name or an e-mail address, or sell to a walk-up.", field="name")
            new_id = session.execute(
                insert(Customer).values(
                    name=name, email=mail or None, company=company, is_anonymous=False,
                    created_at=now, updated_at=now,
                ).returning(Customer.id)
            ).scalar_one()
            return CustomerView(new_id, name, mail or None, company, False,
                                customer_label(new_id, name, mail or None, False))

    def create_anonymous(self) -> CustomerView:
        """DEC-5: a fresh anonymous customer for one walk-up sale."""
        authorize(Permission.SELL)
        with self._ctx.db.write() as session:
            return create_anonymous_customer(session, self._ctx.clock.now())


def create_anonymous_customer(session: Session, now: datetime) -> CustomerView:
    new_id = session.execute(
        insert(Customer).values(
            name="", email=None, company="", is_anonymous=True, created_at=now, updated_at=now
        ).returning(Customer.id)
    ).scalar_one()
    return CustomerView(new_id, "", None, "", True, customer_label(new_id, "", None, True))
