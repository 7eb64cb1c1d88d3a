"""The desk's log file: rotating, in the user log directory, never holding secrets."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from boxoffice.logging_setup import configure_logging, redact


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    level = root.level
    path = configure_logging(log_dir=tmp_path)
    yield path
    for handler in [h for h in root.handlers if getattr(h, "_boxoffice", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_secrets_are_masked_in_messages_and_tracebacks(log_file: Path) -> None:
    log = logging.getLogger("boxoffice.test")
    log.info("using key %s for %s", "sk_test_51Habcdefghijklmnop", "postgresql+psycopg://desk:hunter2@db/box")
    try:
        raise ValueError("webhook whsec_abcdefghij1234 rejected card 4242 4242 4242 4242")
    except ValueError:
        log.exception("sync failed")
    _flush()
    text = log_file.read_text()
    assert "sk_test_***" in text and "desk:***@db" in text and "[card number removed]" in text
    for secret in ("51Habcdefghijklmnop", "hunter2", "abcdefghij1234", "4242 4242 4242 4242"):
        assert secret not in text
    assert "ValueError" in text  # the traceback itself is kept


def test_configuring_twice_does_not_duplicate_lines(log_file: Path) -> None:
    configure_logging(log_dir=log_file.parent)
    logging.getLogger("boxoffice.test").warning("order PD27-ABCD paid 25.00")
    _flush()
    assert log_file.read_text().count("order PD27-ABCD paid 25.00") == 1


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "order PD27-ABCD paid 25.00 by cash at 2027-05-01 12:00"
    assert redact(text) == text
