"""Logging for the service: every log record is masked (NIK, phone, e-mail) and its control
characters escaped before any handler sees it, whatever logger or library produced it."""

from __future__ import annotations

import logging

from lapor_triage.text import mask_pii

_installed = False

_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
_ESCAPES = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _CONTROLS}


def escape_controls(text: str) -> str:
    """``text`` with every control character (C0 incl. CR, LF, TAB, ESC and NUL; DEL; C1; the
    line and paragraph separators U+2028/U+2029) written as a visible escape such as ``\\x0a``,
    so that a value from a request can never start a new log line or colour a terminal. A
    ``str.translate`` table: no maintained library does just this."""
    return text.translate(_ESCAPES)


def install_log_masking() -> None:
    """Wrap the log-record factory so that message and arguments are masked (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what can be shown
            message = str(record.msg)
        record.msg = escape_controls(mask_pii(message))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_pii(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def configure_logging(level: str = "INFO") -> None:
    """Basic console logging (when nothing configured it yet) plus masking."""
    install_log_masking()
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("service").setLevel(level.upper())
