"""Pure functions: North events -> check-in records. Tested on fixtures.

Event kinds are read tolerantly (``check_in``, ``check-in``, ``checkin``); any other kind is
kept as sent and never rejected; the raw event stays in the record's ``raw``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from connectors.base import CheckInRecord, Kind
from connectors.north.mapping import as_float, as_id, health_of, parse_datetime, progress_percent
from connectors.text import plain_text

SUBJECT_PREFIX = {Kind.GOAL: "goal", Kind.KEY_RESULT: "key_result", Kind.WORK_ITEM: "initiative"}
CHECK_IN = "check_in"


def event_kind(raw: Mapping[str, Any]) -> str | None:
    """An event's kind: ``check_in``, ``check-in``, ``checkin`` (any case) are all ``check_in``;
    every other kind is returned as the vendor sent it (kept raw, never rejected)."""
    kind = raw.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        return None
    folded = kind.strip().casefold().replace("-", "_").replace(" ", "_")
    return CHECK_IN if folded in ("check_in", "checkin") else kind


def map_check_in(
    raw: Mapping[str, Any],
    subject_kind: Kind,
    subject_id: str,
    names: Mapping[str, str],
    *,
    percent_scale: bool | None = None,
    progress_peers: Iterable[Any] = (),
) -> CheckInRecord | None:
    """A check-in event -> CheckInRecord; every other event kind -> None. ``percent_scale`` (the
    item's, from ``percent_scale_of``) and ``progress_peers`` (the progress values of the item's
    check-ins) settle the scale of a progress up to 1: see ``progress_percent``."""
    if event_kind(raw) != CHECK_IN:
        return None
    event_id = as_id(raw.get("id"))
    created = parse_datetime(raw.get("created_at"))
    if event_id is None or created is None:
        return None
    data = _event_data(raw)
    status = data.get("status") if isinstance(data.get("status"), str) else None
    author_id = as_id(raw.get("user_id"))
    return CheckInRecord(
        external_id=f"{SUBJECT_PREFIX[subject_kind]}-{subject_id}-{event_id}",  # event ids may repeat across items
        subject_kind=subject_kind,
        subject_external_id=subject_id,
        created_at=created,
        author=names.get(author_id) if author_id else None,
        author_external_id=author_id,
        value=as_float(data.get("value")),
        progress=progress_percent(data.get("progress"), percent_scale=percent_scale, peers=progress_peers),
        health=health_of(status),
        vendor_status=status,
        comment=plain_text(data.get("comment")),
        raw=dict(raw),  # the vendor's own spelling of the kind stays here
    )


def map_check_ins(
    events: Iterable[Any], subject_kind: Kind, subject_id: str, names: Mapping[str, str], *, percent_scale: bool | None = None
) -> list[CheckInRecord]:
    """All of one item's events -> its check-ins (other kinds are left out, not rejected).
    ``percent_scale``: the item body's scale, when known (``percent_scale_of``)."""
    usable = [e for e in events if isinstance(e, Mapping)]
    peers = [_event_data(e).get("progress") for e in usable if event_kind(e) == CHECK_IN]
    return [
        r
        for r in (map_check_in(e, subject_kind, subject_id, names, percent_scale=percent_scale, progress_peers=peers) for e in usable)
        if r
    ]


def _event_data(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    payload = raw.get("data")
    return payload if isinstance(payload, Mapping) else {}


def newest_check_in(events: Iterable[Mapping[str, Any]]) -> datetime | None:
    """The newest check-in event's time (events usually come newest first; not relied on)."""
    times = (parse_datetime(e.get("created_at")) for e in events if isinstance(e, Mapping) and event_kind(e) == CHECK_IN)
    return max((t for t in times if t is not None), default=None)
