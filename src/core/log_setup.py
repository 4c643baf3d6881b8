"""Logging: plain lines or JSON lines, with personal data masked in every record.

Masking is done by a log-record factory, so it covers every logger in the process — ours,
Litestar's, hypercorn's error and access logs, asyncpg's — whatever handler writes it:
    phone numbers (``+84905123456``, ``0905 123 456``, ``84905123456``) → ``090•••••56``
    ID numbers (9 or 12 digits, CCCD/CMND), BHYT numbers        → ``[id]``
    six-digit runs (OTP codes)                                 → ``[code]``
    QR tokens and venue codes (``KB1P…``, ``KB1V…``, ``KB1L…``)  → ``KB1P[token]``
    session / enrollment secrets in cookies or URLs             → ``[secret]``
The services already avoid logging these; this is the second line of defence.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

_TOKEN = re.compile(r"\b(KB1[A-Z])[0-9A-Z]{8,}", re.IGNORECASE)
_BHYT = re.compile(r"\b[A-Z]{2}[0-9]{13}\b")
_PHONE = re.compile(r"(?<![\w•])(?:\+?84|0)[ .\-]?([35789])(?:[ .\-]?\d){8}(?!\d)")
_LONG_DIGITS = re.compile(r"(?<!\d)(?:\d{12}|\d{9,10})(?!\d)")
_SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")
_SECRET = re.compile(
    r"((?:khaibao_[a-z]+|session|token|csrftoken|code|otp|ma|secret)=)[^\s;&\"']+", re.IGNORECASE)
_ENROLL = re.compile(r"(/(?:dang-ky|enroll|passkey)[^\s?#]*/)[A-Za-z0-9_\-]{16,}")


def _mask_phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    national = "0" + digits[-9:]
    return national[:3] + "•" * 5 + national[-2:]


def mask(text: str) -> str:
    """``text`` with phone, ID, BHYT numbers, codes, tokens and secrets masked."""
    text = _SECRET.sub(r"\1[secret]", text)
    text = _ENROLL.sub(r"\1[secret]", text)
    text = _TOKEN.sub(lambda m: m.group(1).upper() + "[token]", text)
    text = _BHYT.sub("[id]", text)
    text = _PHONE.sub(_mask_phone, text)
    text = _LONG_DIGITS.sub("[id]", text)
    return _SIX_DIGITS.sub("[code]", text)


_base_factory = logging.getLogRecordFactory()


# The console SMS backend's one line is the development delivery channel (sms.ConsoleSender):
# it must show the code, and it is never used in production.
_EXEMPT = {("khaibao.sms", "SMS to %s: %s")}


def _masking_factory(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    if (record.name, record.msg) in _EXEMPT:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what there is, masked
        message = f"{record.msg} {record.args}"
    record.msg, record.args = mask(message), ()
    return record


class _MaskedFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def install_masking() -> None:
    """Mask every log record created from now on in this process (idempotent)."""
    logging.setLogRecordFactory(_masking_factory)


def configure(json_lines: bool = False, level: int = logging.INFO) -> None:
    """Root logging for the ``khaibao`` command: masked, plain or JSON lines on stderr.
    Like ``logging.basicConfig``, it leaves a process whose logging is already set up (tests,
    an embedding program) alone."""
    root = logging.getLogger()
    if root.handlers:
        return
    install_masking()
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_MaskedFormatter("%(levelname)s %(name)s: %(message)s"))
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("piccolo").setLevel(logging.WARNING)
