"""Incremental check-ins: which goals and projects need their check-ins read again.

Operately lists check-ins per goal and per project only (one request each), and the lists of
goals and projects already say, per item, which check-in is the latest (``last_check_in_id`` and
the embedded ``last_check_in``). A check-in *marker* sums that up; the ``check_ins`` stream's
cursor keeps the markers of the last complete read::

    {"version": 1, "goals": {goal short id: marker}, "projects": {project short id: marker}}

Next time only items whose marker is new or different are asked for their check-ins. The marker
also hashes the embedded last check-in, so an edit of the latest check-in (status, text,
acknowledgement, reported values) is seen without a request; edits of older check-ins are not (a full read, with
no cursor, picks them up). The sync engine never removes check-ins an incremental read leaves out
(they go only with their subject), so reading less is safe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .ids import short_of

CURSOR_VERSION = 1
# What a check-in says (not what changes around it, such as unread notifications or reactions):
# only a change here is worth a request.
CONTENT_FIELDS = (
    "id",
    "status",
    "message",
    "description",
    "inserted_at",
    "updated_at",
    "published_at",
    "state",
    "acknowledged_at",
    "goal_target_updates",
)


def marker_of(item: Mapping[str, Any]) -> str | None:
    """The check-in marker of a goal or project; ``None`` when it has no check-in at all."""
    last = item.get("last_check_in") if isinstance(item.get("last_check_in"), Mapping) else None
    last_id = item.get("last_check_in_id") or (last.get("id") if last else None)
    if not last_id:
        return None
    if last is None:
        return str(last_id)
    content = {name: last.get(name) for name in CONTENT_FIELDS}
    digest = hashlib.sha1(json.dumps(content, sort_keys=True, default=str).encode(), usedforsecurity=False).hexdigest()[:12]
    return f"{last_id}@{digest}"


@dataclass
class Subjects:
    """Goals or projects that have check-ins: short id -> (vendor id to query with, marker)."""

    items: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, item: Mapping[str, Any]) -> None:
        marker = marker_of(item)
        vendor_id = str(item.get("id") or "")
        short = short_of(vendor_id)
        if marker and short:
            self.items[short] = (vendor_id, marker)

    def changed_since(self, seen: Mapping[str, str] | None) -> list[str]:
        """Vendor ids whose check-ins must be read: all without a cursor, else new or changed."""
        if seen is None:
            return [vendor_id for vendor_id, _ in self.items.values()]
        return [vendor_id for short, (vendor_id, marker) in self.items.items() if seen.get(short) != marker]

    def markers(self) -> dict[str, str]:
        return {short: marker for short, (_, marker) in self.items.items()}


def previous_markers(cursor: Mapping[str, Any] | None, key: str) -> dict[str, str] | None:
    """The markers a cursor holds under ``key`` ("goals" or "projects"); ``None`` (read all) for
    no cursor or one this version does not understand."""
    if not isinstance(cursor, Mapping) or cursor.get("version") != CURSOR_VERSION:
        return None
    markers = cursor.get(key)
    if not isinstance(markers, Mapping):
        return None
    return {str(k): str(v) for k, v in markers.items()}


def make_cursor(goals: Subjects, projects: Subjects) -> dict[str, Any]:
    return {"version": CURSOR_VERSION, "goals": goals.markers(), "projects": projects.markers()}
