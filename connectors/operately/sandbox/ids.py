"""Operately's id encodings (CONTRACT.md §3), written from the contract on the server side.

The connector has its own decoder (connectors/operately/ids.py); the two are kept apart on
purpose so that one bug cannot hide in both and still pass the tests.
"""

from __future__ import annotations

import re
import uuid

BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
BASE32 = "abcdefghijklmnopqrstuv0123456789"
_B62_INDEX = {c: i for i, c in enumerate(BASE62)}
_B32_INDEX = {c: i for i, c in enumerate(BASE32)}


def short_id(value: uuid.UUID) -> str:
    """base62 of the 128-bit integer, most significant digit first, no padding."""
    n = value.int
    if n == 0:
        return BASE62[0]
    digits = []
    while n:
        n, rest = divmod(n, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits))


def decode_short(text: str) -> uuid.UUID | None:
    """Decode ``slug-SHORT`` or ``SHORT``: everything up to the last ``-`` is ignored."""
    short = text.rsplit("-", 1)[-1]
    if not short or len(short) > 22 or any(c not in _B62_INDEX for c in short):
        return None
    n = 0
    for c in short:
        n = n * 62 + _B62_INDEX[c]
    if n >= 1 << 128:
        return None
    return uuid.UUID(int=n)


def decode_uuid_or_short(text: str) -> uuid.UUID | None:
    """String inputs a handler decodes: a canonical UUID first, then a short id."""
    try:
        return uuid.UUID(text) if len(text) == 36 else decode_short(text)
    except ValueError:
        return decode_short(text)


def slug(name: str) -> str:
    """Lowercase, non-alphanumerics to dashes, then whole words while the total stays <= 25."""
    words = [w for w in re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-").split("-") if w]
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) <= 25:
            out = candidate
    return out


def with_slug(name: str, value: uuid.UUID) -> str:
    prefix = slug(name)
    return f"{prefix}-{short_id(value)}" if prefix else short_id(value)


def company_short(number: int) -> str:
    digits = []
    while True:
        number, rest = divmod(number, 32)
        digits.append(BASE32[rest])
        if number == 0:
            break
    return "0" + "".join(reversed(digits))


def decode_company(text: str) -> int | None:
    short = text.rsplit("-", 1)[-1]
    if len(short) < 2 or not short.startswith("0") or any(c not in _B32_INDEX for c in short[1:]):
        return None
    n = 0
    for c in short[1:]:
        n = n * 32 + _B32_INDEX[c]
    return n
