"""How each record kind maps onto its table: normalised values, links, fingerprints.

``SPECS[kind]`` says which model stores a kind, how a record becomes column values, which
foreign keys are resolved by external id (``Link``), and whether the kind has snapshots and
``seen_by``. The fingerprint of those values is what makes an unchanged item cost no write.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from connectors.base import (
    CheckInRecord,
    GoalRecord,
    KeyResultRecord,
    Kind,
    PersonRecord,
    State,
    TeamRecord,
    WorkItemRecord,
    can_be_stale,
)
from dashboard.okrs.models import CheckIn, Goal, KeyResult, Person, Team, TrackedItem, WorkItem

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KIND_MODELS: dict[Kind, type[models.Model]] = {
    Kind.TEAM: Team,
    Kind.PERSON: Person,
    Kind.GOAL: Goal,
    Kind.KEY_RESULT: KeyResult,
    Kind.WORK_ITEM: WorkItem,
    Kind.CHECK_IN: CheckIn,
}

# -- normalisation ---------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)


def fingerprint_document(values: Mapping[str, Any]) -> tuple[str, str]:
    """The canonical JSON of normalised values and its hash.

    The C JSON encoder does the walking (it is hot). The PostgreSQL upsert sends this same text
    as the row (``json_populate_recordset``), so a record is serialised once, not twice.
    """
    document = json.dumps(values, sort_keys=True, separators=(",", ":"), default=_json_default, ensure_ascii=False)
    return document, hashlib.sha256(document.encode()).hexdigest()


def fingerprint(values: Mapping[str, Any]) -> str:
    """A stable hash of normalised values."""
    return fingerprint_document(values)[1]


def _number(value: Any) -> float | None:
    """Floats as the FloatField columns return them (10 and 10.0 must hash alike)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None  # NaN/inf are no progress (and not JSON)


@cache
def _max_lengths(model: type[models.Model]) -> dict[str, int]:
    return {f.attname: f.max_length for f in model._meta.concrete_fields if isinstance(f, models.CharField) and f.max_length}


def fit_to_columns(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """Truncate over-long vendor text to the column size: one long title must not fail a page."""
    for name, limit in _max_lengths(model).items():
        value = values.get(name)
        if isinstance(value, str) and len(value) > limit:
            values[name] = value[:limit]
    return values


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _common(record: Any) -> dict[str, Any]:
    return {
        "external_id": str(record.external_id),
        "url": record.url or "",
        "updated_at": _aware(record.updated_at),
        "raw": dict(record.raw or {}),
    }


def _tracked(record: Any) -> dict[str, Any]:
    owners = [str(o) for o in record.owners]
    return {
        **_common(record),
        "title": record.title or "",
        "owners": owners,
        "owner_external_ids": [str(o) for o in record.owner_external_ids],
        "owners_text": TrackedItem.owners_text_for(owners),
        "health": str(record.health),
        "state": str(record.state),
        "progress": _number(record.progress),
        "start_date": record.start_date,
        "due_date": record.due_date,
        "vendor_status": record.vendor_status or "",
    }


def stale_at(record: GoalRecord | WorkItemRecord, check_in_kinds: frozenset[str]) -> datetime | None:
    """``is_stale == stale_at <= now``; see the Goal model. Only kinds the vendor checks in on
    (the connector's ``check_in_kinds``) can be stale: never an OGSM objective or action."""
    if not can_be_stale(record, check_in_kinds):
        return None
    last = _aware(record.last_check_in_at)
    if record.is_stale is not None:
        if not record.is_stale:
            return None
        return last if last is not None and last <= timezone.now() else EPOCH
    if record.state != State.ACTIVE:
        return None
    return (last or EPOCH) + timedelta(days=settings.STALE_AFTER_DAYS)


# -- per-kind specifications -----------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A foreign key resolved by external id through an id map."""

    attname: str  # e.g. "team_id"
    target: Kind
    external_id: Callable[[Any], str | None]
    same_stream: bool = False  # may point forward in the same stream: fixed after the stream


@dataclass(frozen=True)
class Spec:
    kind: Kind
    model: type[models.Model]
    values: Callable[[Any], dict[str, Any]]
    links: Sequence[Link] = ()
    snapshots: bool = False
    has_seen_by: bool = True
    stored_fingerprint: bool = True  # CheckIn has no fingerprint column: compare recomputed values
    staleness: bool = False  # has a ``stale_at`` column, set by ``stale_at()``


def _team_values(r: TeamRecord) -> dict[str, Any]:
    return {
        **_common(r),
        "name": r.name or "",
        "parent_external_id": r.parent_external_id or "",
        "archived": bool(r.archived),
        "private": bool(r.private),
    }


def _person_values(r: PersonRecord) -> dict[str, Any]:
    return {**_common(r), "name": r.name or "", "email": (r.email or "").strip()}


def _goal_values(r: GoalRecord) -> dict[str, Any]:
    return {
        **_tracked(r),
        "team_external_id": r.team_external_id or "",
        "parent_external_id": r.parent_external_id or "",
        "outcome": str(r.outcome) if r.outcome else None,
        "description": r.description or "",
        "last_check_in_at": _aware(r.last_check_in_at),
    }


def _kr_values(r: KeyResultRecord) -> dict[str, Any]:
    return {
        **_tracked(r),
        "goal_external_id": r.goal_external_id or "",
        "team_external_id": r.team_external_id or "",
        "start": _number(r.start),
        "target": _number(r.target),
        "current": _number(r.current),
        "unit": r.unit or "",
        "last_check_in_at": _aware(r.last_check_in_at),
    }


def _work_item_values(r: WorkItemRecord) -> dict[str, Any]:
    return {
        **_tracked(r),
        "kind": str(r.work_kind),
        "team_external_ids": [str(t) for t in r.team_external_ids],
        "goal_external_id": r.goal_external_id or "",
        "key_result_external_id": r.key_result_external_id or "",
        "parent_external_id": r.parent_external_id or "",
        "description": r.description or "",
        "labels": [str(label) for label in r.labels],
        "outcome": str(r.outcome) if r.outcome else None,
        "involved": [str(name) for name in r.involved],
        "strategy_external_ids": [str(s) for s in r.strategy_external_ids],
        "last_check_in_at": _aware(r.last_check_in_at),
    }


def _check_in_values(r: CheckInRecord) -> dict[str, Any]:
    return {
        "external_id": str(r.external_id),
        "subject_kind": str(r.subject_kind),
        "subject_external_id": str(r.subject_external_id),
        "created_at": _aware(r.created_at),
        "author": r.author or "",
        "author_external_id": r.author_external_id or "",
        "value": _number(r.value),
        "progress": _number(r.progress),
        "health": str(r.health),
        "vendor_status": r.vendor_status or "",
        "comment": r.comment or "",
        "raw": dict(r.raw or {}),
    }


def _subject(kind: Kind) -> Callable[[CheckInRecord], str | None]:
    return lambda r: r.subject_external_id if r.subject_kind == kind else None


SPECS: dict[Kind, Spec] = {
    Kind.TEAM: Spec(Kind.TEAM, Team, _team_values, (Link("parent_id", Kind.TEAM, lambda r: r.parent_external_id, same_stream=True),)),
    Kind.PERSON: Spec(Kind.PERSON, Person, _person_values),
    Kind.GOAL: Spec(
        Kind.GOAL,
        Goal,
        _goal_values,
        (
            Link("team_id", Kind.TEAM, lambda r: r.team_external_id),
            Link("parent_id", Kind.GOAL, lambda r: r.parent_external_id, same_stream=True),
        ),
        snapshots=True,
        staleness=True,
    ),
    Kind.KEY_RESULT: Spec(
        Kind.KEY_RESULT,
        KeyResult,
        _kr_values,
        (Link("goal_id", Kind.GOAL, lambda r: r.goal_external_id), Link("team_id", Kind.TEAM, lambda r: r.team_external_id)),
        snapshots=True,
    ),
    Kind.WORK_ITEM: Spec(
        Kind.WORK_ITEM,
        WorkItem,
        _work_item_values,
        (
            Link("goal_id", Kind.GOAL, lambda r: r.goal_external_id),
            Link("parent_id", Kind.WORK_ITEM, lambda r: r.parent_external_id, same_stream=True),
        ),
        snapshots=True,
        staleness=True,
    ),
    Kind.CHECK_IN: Spec(
        Kind.CHECK_IN,
        CheckIn,
        _check_in_values,
        (
            Link("goal_id", Kind.GOAL, _subject(Kind.GOAL)),
            Link("key_result_id", Kind.KEY_RESULT, _subject(Kind.KEY_RESULT)),
            Link("work_item_id", Kind.WORK_ITEM, _subject(Kind.WORK_ITEM)),
        ),
        has_seen_by=False,
        stored_fingerprint=False,
    ),
}


CHECK_IN_FIELDS = (
    "external_id",
    "subject_kind",
    "subject_external_id",
    "created_at",
    "author",
    "author_external_id",
    "value",
    "progress",
    "health",
    "vendor_status",
    "comment",
    "raw",
)
