"""A logging filter that removes known secrets and token-like strings from every record."""

from __future__ import annotations

import logging
import re
import threading

_TOKEN_PATTERNS = [
    re.compile(r"(?i)(authorization:\s*(?:bearer|basic)\s+)[^\s'\"]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-\.=]{8,}"),
    re.compile(r"\bopk_[A-Za-z0-9_\-]{10,}"),
    re.compile(r"\bokh_[A-Za-z0-9_\-]{10,}"),
]
_known: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret seen in this process so it is scrubbed from later log records."""
    if value and len(value) >= 4:
        with _lock:
            _known.add(value)


def scrub_text(text: str) -> str:
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, "[redacted]")
    return text


class ScrubSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - broken format args
            return True
        cleaned = scrub_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
