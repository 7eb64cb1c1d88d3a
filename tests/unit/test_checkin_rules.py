"""What a scan at the door holds: badge and receipt QR payloads, and the spellings of an order reference."""

from __future__ import annotations

from boxoffice.domain.attendee_rules import order_qr_payload, parse_scan, qr_payload, reference_candidates


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
