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

# Stripe keys and webhook secrets, passwords inside database URLs, card-number-like digit runs.
_SECRET_PATTERNS = (
    (re.compile(r"\b((?:sk|rk|pk)_(?:live|test)_)[A-Za-z0-9]{6,}"), r"\1***"),
    (re.compile(r"\b(whsec_)[A-Za-z0-9]{6,}"), r"\1***"),
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1***@"),
    (re.compile(r"\b(?:\d[ -]?){13,19}\b"), "[card number removed]"),
)


def redact(text: str) -> str:
    """Mask API keys, webhook secrets, URL passwords and card numbers in ``text``."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Formats the record's message once and masks secrets in it (and in any traceback text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def configure_logging(*, level: int = logging.INFO, log_dir: Path | None = None,
                      console: bool = False) -> Path:
    """Send Box Office's log records to a rotating file; returns the file's path. Safe to call twice."""
    directory = log_dir or paths.log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOG_FILE_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_boxoffice", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    handlers: list[logging.Handler] = [file_handler]
    if console:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler._boxoffice = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(level)
    # SQL echo and Alembic chatter stay out of the desk's log unless asked for.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return path
