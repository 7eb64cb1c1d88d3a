"""Logging: a rotating file in the user log directory, with secrets masked before anything is written."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

from boxoffice import paths

LOG_FILE_NAME = "boxoffice.log"
MAX_BYTES = 2_000_000
BACKUP_COUNT = 5
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# Stripe secret/restricted/publishable keys and webhook secrets, Authorization header values,
# passwords inside database URLs, CVC fields; card numbers are matched below (Luhn-checked).
_KEY_CHARS = r"[A-Za-z0-9_]"
_SECRET_PATTERNS = (
    (re.compile(rf"\b((?:sk|rk|pk)_(?:live|test)_){_KEY_CHARS}{{4,}}"), r"\1***"),
    # the same keys URL-encoded (``_`` as ``%5F``)
    (re.compile(r"(?i)\b((?:sk|rk|pk)(?:_|%5F)(?:live|test)(?:_|%5F))(?:[A-Za-z0-9]|_|%5F){4,}"), r"\1***"),
    (re.compile(r"(?i)\b(whsec(?:_|%5F))(?:[A-Za-z0-9]|_|%5F){4,}"), r"\1***"),
    (re.compile(rf"\b(whsec_){_KEY_CHARS}{{4,}}"), r"\1***"),
    (re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic)\s+)?[^\s\"',;}]+"),
     lambda m: f"{m.group(1)}{m.group(2) + ' ' if m.group(2) else ''}[redacted]"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1[redacted]"),
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1***@"),
    # cvc=123, "cvc": "123", card[cvc]=123, card%5Bcvc%5D=123, cvv2: 1234, security_code=123
    (re.compile(r"(?i)(?:\b|(?<=%5B))((?:cvc|cvv|cvc2|cvv2|cid|security_code)(?:%5D|\])?[\"']?\s*[:=]\s*[\"']?)\d{3,4}\b"),
     r"\1[redacted]"),
)
# 13-19 digits, optionally grouped by single spaces, dashes or dots, or by URL-encoded spaces
# (%20) and plus signs (form encoding).
_CARD_SEPARATOR = r"(?:[ .+-]|%20)"
_CARD_CANDIDATE = re.compile(rf"(?<![\d])\d(?:{_CARD_SEPARATOR}?\d){{12,18}}(?![\d])", re.IGNORECASE)
CARD_REPLACEMENT = "[card number removed]"


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` passes the Luhn check used by every payment card number."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0).replace("%20", ""))
    return CARD_REPLACEMENT if luhn_valid(digits) else match.group(0)


def redact(text: str) -> str:
    """Mask API keys, webhook secrets, Authorization values, URL passwords, CVCs and card numbers."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return _CARD_CANDIDATE.sub(_mask_card, text)


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message, arguments, traceback and stack text before any handler writes it.

    The message is formatted once (so a secret passed as an argument is caught too) and the record
    keeps the cleaned text with no arguments.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record or leak args
            message = f"{record.msg!s} {record.args!r}"
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure_logging(*, level: int = logging.INFO, log_dir: Path | None = None, console: bool = False,
                      max_bytes: int = MAX_BYTES, backup_count: int = BACKUP_COUNT) -> Path:
    """Send Box Office's log records to a rotating file; returns the file's path. Safe to call twice.

    Every handler masks secrets (``RedactingFilter``): Stripe keys, webhook secrets, Authorization
    values, URL passwords, CVCs and card numbers never reach the file or the console.
    """
    directory = log_dir or paths.log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOG_FILE_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_boxoffice", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
    )
    handlers: list[logging.Handler] = [file_handler]
    if console:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler._boxoffice = True  # type: ignore[attr-defined]  # our mark, to find our handlers again
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(level)
    # SQL echo and Alembic chatter stay out of the desk's log unless asked for.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return path
