"""The migrated schema matches the models and enforces the database-level constraints."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from boxoffice.db.engine import Database
from boxoffice.domain.models import Cart, CartItem
from tests import factories


def test_cart_item_needs_exactly_one_product(db: Database) -> None:
    conf = factories.conference(db)
    cust = factories.customer(db)
    tt = factories.ticket_type(db, conf.id)
    ao = factories.addon(db, conf.id)
    with db.write() as s:
        cart = Cart(customer_id=cust.id, conference_id=conf.id)
        s.add(cart)
        s.flush()
        cart_id = cart.id
    with pytest.raises(IntegrityError), db.write() as s:
        s.add(CartItem(cart_id=cart_id, ticket_type_id=tt.id, addon_id=ao.id, quantity=1))
    with pytest.raises(IntegrityError), db.write() as s:
        s.add(CartItem(cart_id=cart_id, quantity=1))
    with pytest.raises(IntegrityError), db.write() as s:
        s.add(CartItem(cart_id=cart_id, ticket_type_id=tt.id, quantity=-1))


def test_negative_price_is_refused_by_the_database(db: Database) -> None:
    conf = factories.conference(db)
    with pytest.raises(IntegrityError):
        factories.ticket_type(db, conf.id, price=Decimal("-1.00"))
