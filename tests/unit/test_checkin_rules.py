"""Door rules: badge and receipt QR payloads, the spellings of an order reference, who holds each ticket."""

from __future__ import annotations

from boxoffice.domain.attendee_rules import (
    order_qr_payload,
    parse_scan,
    plan_holders,
    qr_payload,
    reference_candidates,
)


def test_qr_payloads_round_trip_in_any_case() -> None:
    assert qr_payload("ab3k9mzq") == "BOXOFFICE:AB3K9MZQ"
    assert parse_scan(qr_payload("ab3k9mzq")) == ("code", "AB3K9MZQ")
    assert parse_scan("boxoffice-order:pyc-7kq2m9xa") == ("order", "PYC-7KQ2M9XA")
    assert parse_scan(order_qr_payload("PYC-7KQ2M9XA")) == ("order", "PYC-7KQ2M9XA")
    assert parse_scan("  Ada Lovelace ") == ("", "Ada Lovelace")


def test_a_reference_is_recognised_with_or_without_prefix_and_dash() -> None:
    for typed in ("PYC-7KQ2M9XA", "pyc-7kq2m9xa", "PYC7KQ2M9XA", "7kq2m9xa"):
        assert "PYC-7KQ2M9XA" in reference_candidates(typed, "PYC"), typed
    # a body that happens to start with the prefix's letters is still tried as a body
    assert "PYC-PYCABCDE" in reference_candidates("pycabcde", "PYC")
    assert reference_candidates("ORD-P6MC71", "PYC")[0] == "ORD-P6MC71"   # a web reference, as typed
    assert reference_candidates("   ", "PYC") == []


def test_each_ticket_unit_is_held_by_its_named_holder_else_the_buyer_then_numbered_guests() -> None:
    buyer = ("Ada Lovelace", "ada@example.org", "Analytical")
    assert plan_holders(3, buyer) == [buyer, ("Guest 1 of Ada Lovelace", "", ""), ("Guest 2 of Ada Lovelace", "", "")]
    named = [("", "", ""), ("  Grace Hopper ", "grace@example.org", "Navy"), ("", "", "Initech")]
    assert plan_holders(4, buyer, named) == [
        buyer, ("Grace Hopper", "grace@example.org", "Navy"), ("", "", "Initech"), ("Guest 3 of Ada Lovelace", "", ""),
    ]
    assert plan_holders(2, ("", "", "")) == [("", "", ""), ("Guest 1", "", "")]
    assert plan_holders(0, buyer, named) == []
