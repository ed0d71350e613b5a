"""``GET /api/v1/alignments``: the OKR Hub links a caller may see (both ends visible)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router

from dashboard.alignment.models import Alignment
from dashboard.alignment.selectors import aligned_parent, visible_alignments
from dashboard.okrs.api import schemas
from dashboard.okrs.api.okrs import ERRORS
from dashboard.okrs.api.params import MAX_ID, PageParams, paginate

router = Router(tags=["Alignment"])


class AlignmentFilters(PageParams):
    child: int | None = Field(None, ge=1, le=MAX_ID, description="Only the link of this (child) goal.")
    parent_goal: int | None = Field(None, ge=1, le=MAX_ID, description="Only links under this goal.")
    parent_team: int | None = Field(None, ge=1, le=MAX_ID, description="Only links under this team.")


@router.get("/alignments", response={200: schemas.AlignmentPage, **ERRORS}, summary="Goals aligned under another vendor's goal or team")
def list_alignments(request: HttpRequest, filters: Query[AlignmentFilters]) -> dict[str, Any]:
    qs = visible_alignments(request.user).select_related("child_goal", "parent_goal", "parent_team", "created_by")
    qs = qs.defer(*(f"{rel}__{f}" for rel in ("child_goal", "parent_goal", "parent_team") for f in ("raw", "fingerprint")))
    if filters.child:
        qs = qs.filter(child_goal_id=filters.child)
    if filters.parent_goal:
        qs = qs.filter(parent_goal_id=filters.parent_goal)
    if filters.parent_team:
        qs = qs.filter(parent_team_id=filters.parent_team)

    def serialize(rows: Iterable[Alignment]) -> list[dict[str, Any]]:
        return [
            {
                "id": a.pk,
                "child": {"id": a.child_goal.pk, "external_id": a.child_goal.external_id},
                "child_title": a.child_goal.title,
                "child_vendor": a.child_goal.vendor,
                "parent": aligned_parent(a),
            }
            for a in rows
        ]

    return paginate(request, qs.order_by("id"), filters, serialize)
