"""Operately ids as the connector needs them (CONTRACT.md §3).

* ``external_id`` is the short id: the part after the last ``-`` (the slug prefix follows the
  name and changes on a rename).
* ``work_map_item.parent_id`` and check-in target/check ids are raw UUIDs; ``uuid_to_short``
  turns them into the short ids the rest of the API uses.
"""

from __future__ import annotations

import uuid

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}


def short_of(vendor_id: str | None) -> str | None:
    """``"grow-arr-DOOEKG5S..."`` -> ``"DOOEKG5S..."``; company ``"acme-0baa"`` -> ``"0baa"``."""
    if vendor_id is None:
        return None
    text = str(vendor_id).strip()
    if not text:
        return None
    if _is_uuid(text):
        return uuid_to_short(text)
    return text.rsplit("-", 1)[-1] or None


def _is_uuid(text: str) -> bool:
    if len(text) != 36 or text.count("-") != 4:
        return False
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def uuid_to_short(value: str | uuid.UUID) -> str:
    number = (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).int
    if number == 0:
        return _ALPHABET[0]
    digits: list[str] = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits))


def short_to_uuid(short: str) -> uuid.UUID | None:
    short = short.rsplit("-", 1)[-1]
    if not short or len(short) > 22 or any(c not in _INDEX for c in short):
        return None
    number = 0
    for c in short:
        number = number * 62 + _INDEX[c]
    return uuid.UUID(int=number) if number < 1 << 128 else None
