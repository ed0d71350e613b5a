"""Query parameters (filters and pagination) and the pagination envelope.

Filters are typed (enums, bools, bounded ints) so the OpenAPI document lists the allowed values;
``errors.validation_error`` turns a rejected value into a 400 naming the parameter and them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import field_validator

from connectors.base import Health, State, WorkItemKind
from connectors.registry import VENDOR_CHOICES
from dashboard.integrations.models import SyncRun
from dashboard.people.selectors import identity_q, named_q

M = TypeVar("M", bound=Model)

Vendor = enum.StrEnum("Vendor", {key.upper(): key for key, _ in VENDOR_CHOICES})  # type: ignore[misc]
SyncStatus = enum.StrEnum("SyncStatus", {s.name: s.value for s in SyncRun.Status})  # type: ignore[misc]


class PaceFilter(enum.StrEnum):
    BEHIND = "behind"


MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_OFFSET = 10_000_000  # far beyond any real data; keeps OFFSET inside PostgreSQL's bigint
MAX_ID = 2**63 - 1  # PostgreSQL bigint: larger ids would be a database error, not a 404
BOOL_VALUES = ["true", "false"]

# Allowed values per parameter, for the 400 message.
ALLOWED_VALUES: dict[str, list[str]] = {
    "vendor": [key for key, _ in VENDOR_CHOICES],
    "health": [h.value for h in Health],
    "state": [s.value for s in State],
    "kind": [k.value for k in WorkItemKind],
    "status": [s.value for s in SyncRun.Status],
    "stale": BOOL_VALUES,
    "overdue": BOOL_VALUES,
    "archived": BOOL_VALUES,
    "pace": [p.value for p in PaceFilter],
}
PARAMETER_HINTS: dict[str, str] = {
    "limit": f"an integer from 1 to {MAX_LIMIT}",
    "offset": f"an integer from 0 to {MAX_OFFSET}",
    "team": "a team id from /api/v1/teams",
    "goal": "a goal id from /api/v1/goals",
}


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Number of results to skip.")

    @field_validator("*", mode="before")
    @classmethod
    def no_nul_characters(cls, value: Any) -> Any:
        # PostgreSQL cannot store or compare NUL; reject it as bad input rather than fail later.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class VendorParams(PageParams):
    vendor: Vendor | None = Field(None, description="Only items from this vendor.")
    connector: str | None = Field(None, max_length=100, description="Connector name (case-insensitive) or id.")
    q: str | None = Field(None, max_length=200, description="Case-insensitive text search.")


class TeamParams(VendorParams):
    team: int | None = Field(None, ge=1, le=MAX_ID, description="Only this team and the teams below it.")
    archived: bool | None = None


class PersonParams(VendorParams):
    pass


class TrackedParams(VendorParams):
    team: int | None = Field(None, ge=1, le=MAX_ID, description="Only items of this team and the teams below it.")
    owner: str | None = Field(
        None, max_length=300, description="Owner display name (case-insensitive, exact); expands to the person's names at every vendor."
    )
    person: int | None = Field(None, ge=1, le=MAX_ID, description="Only items owned by this person across vendors (/api/v1/identities).")
    health: Health | None = None
    state: State | None = None


PACE_DESCRIPTION = "behind: only items at least 10 points behind linear progress from start to due (docs/pace.md)."


class GoalParams(TrackedParams):
    stale: bool | None = Field(None, description="No check-in within the goal's cadence.")
    overdue: bool | None = Field(None, description="Due date passed and not done.")
    pace: PaceFilter | None = Field(None, description=PACE_DESCRIPTION)


class KeyResultParams(TrackedParams):
    goal: int | None = Field(None, ge=1, le=MAX_ID, description="Only key results of this goal.")
    pace: PaceFilter | None = Field(None, description=PACE_DESCRIPTION)


class WorkItemParams(TrackedParams):
    kind: WorkItemKind | None = None
    goal: int | None = Field(None, ge=1, le=MAX_ID, description="Only work items linked to this goal.")
    overdue: bool | None = Field(None, description="Due date passed and not done.")
    stale: bool | None = Field(None, description="No check-in within the cadence; only kinds the vendor checks in on can be stale.")


class SyncRunParams(PageParams):
    vendor: Vendor | None = None
    connector: str | None = Field(None, max_length=100, description="Connector name (case-insensitive) or id.")
    status: SyncStatus | None = None


def connector_q(value: str, field: str = "connector") -> Q:
    """Match a connector by name, or by id when the value is a plausible id."""
    condition = Q(**{f"{field}__name__iexact": value.strip()})
    if value.strip().isdigit() and int(value) <= MAX_ID:
        condition |= Q(**{f"{field}_id": int(value)})
    return condition


def owner_q(value: str) -> Q:
    """Exactly this owner name, or any vendor name or id of the person across vendors named so."""
    return Q(owners_text__contains=f"|{value.strip().lower()}|") | named_q(value)


def person_q(identity_id: int) -> Q:
    """Items owned by the person across vendors ``identity_id`` (an id from /api/v1/identities)."""
    return identity_q(identity_id)


def paginate(
    request: HttpRequest, queryset: QuerySet[M], params: PageParams, serialize: Callable[[Iterable[M]], list[dict[str, Any]]]
) -> dict[str, Any]:
    """``{count, next, previous, results}``; next/previous are absolute URLs keeping the filters."""
    count = queryset.count()
    rows = list(queryset[params.offset : params.offset + params.limit])

    def link(offset: int) -> str:
        query = request.GET.copy()
        query["limit"] = str(params.limit)
        query["offset"] = str(offset)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    return {
        "count": count,
        "next": link(params.offset + params.limit) if params.offset + params.limit < count else None,
        "previous": link(max(params.offset - params.limit, 0)) if params.offset > 0 else None,
        "results": serialize(rows),
    }
