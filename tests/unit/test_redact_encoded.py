"""Log masking catches card numbers grouped by dots or URL-encoded spaces, and URL-encoded keys."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from boxoffice.logging_setup import CARD_REPLACEMENT, LOG_FILE_NAME, configure_logging, redact


@pytest.mark.parametrize("text", [
    "card 4242.4242.4242.4242 declined",
    "number=4242%204242%204242%204242&exp=12",
    "number=4242%204242%204242%204242".upper(),
    "card=4242+4242+4242+4242",
])
def test_card_numbers_written_with_dots_or_url_encoded_spaces_are_removed(text: str) -> None:
    cleaned = redact(text)
    assert CARD_REPLACEMENT in cleaned and "4242" not in cleaned


@pytest.mark.parametrize(("text", "secret"), [
    ("body: key=sk%5Ftest%5F51Habcdef0123456789", "51Habcdef0123456789"),
    ("api_key=rk%5flive%5fZZtop987654", "ZZtop987654"),
    ("secret=whsec%5Fabcdef123456", "abcdef123456"),
])
def test_url_encoded_keys_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_dotted_numbers_that_are_not_cards_stay(tmp_path: Path) -> None:
    assert redact("from 10.0.0.1 on 2027.05.01 order 1234567890123") == (
        "from 10.0.0.1 on 2027.05.01 order 1234567890123")
    path = configure_logging(log_dir=tmp_path)
    logging.getLogger("boxoffice.test").warning("paid with %s", "4242.4242.4242.4242")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "4242.4242" not in (tmp_path / LOG_FILE_NAME).read_text() and path.exists()
