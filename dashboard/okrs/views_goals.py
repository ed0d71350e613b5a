"""Goal progress: the filtered goal list with key results and sparklines, and one goal's detail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.okrs import selectors
from dashboard.okrs.filters import GoalFilters
from dashboard.okrs.models import Goal, ProgressSnapshot
from dashboard.okrs.views_common import csv_response, empty_state, page_context, paginate, progress_cell, render_region

SORTS: dict[str, tuple[str, list[Any]]] = {
    "attention": ("Needs attention first", [F("health_rank").asc(), F("due_date").asc(nulls_last=True), "title"]),
    "progress": ("Least progress first", [F("progress").asc(nulls_last=True), "title"]),
    "-progress": ("Most progress first", [F("progress").desc(nulls_last=True), "title"]),
    "due": ("Due date", [F("due_date").asc(nulls_last=True), "title"]),
    "title": ("Title", ["title"]),
    "updated": ("Recently updated", [F("updated_at").desc(nulls_last=True), "title"]),
}
DETAIL_SNAPSHOT_WEEKS = 26


def _filtered_goals(request: HttpRequest) -> tuple[GoalFilters, str, QuerySet[Goal]]:
    user = request.user
    filters = GoalFilters(request.GET, path="/goals/", teams=selectors.visible_teams(user))
    sort = request.GET.get("sort", "attention")
    if sort not in SORTS:
        filters.errors.append(f"Unknown sort “{sort[:40]}”; sorted by what needs attention first.")
        sort = "attention"
    goals = selectors.with_health_rank(filters.apply(selectors.visible_goals(user)))
    return filters, sort, goals.order_by(*SORTS[sort][1], "id")


@require_GET
def goals(request: HttpRequest) -> HttpResponse:
    filters, sort, qs = _filtered_goals(request)
    page = paginate(request, selectors.goals_with_details(request.user, qs))
    context = page_context(request)
    context.update(
        filters=filters,
        page=page,
        sort=sort,
        extra_hidden=[("sort", sort)] if sort != "attention" else [],
        sorts=[(key, label) for key, (label, _) in SORTS.items()],
        export_url=filters.url("/goals/export.csv"),
    )
    context["empty"] = "" if page.object_list else empty_state(context["freshness"], filtered=filters.active)
    return render_region(request, "okrs/goals.html", context, "listing")


@require_GET
def goals_export(request: HttpRequest) -> HttpResponse:
    _filters, _sort, qs = _filtered_goals(request)
    qs = qs.select_related("team")

    def rows() -> Any:
        for g in qs.iterator(chunk_size=1000):
            yield [g.vendor, g.external_id, g.title, g.team.name if g.team else "", ", ".join(g.owners), g.health, g.vendor_status,
                   g.state, g.outcome or "", progress_cell(g.progress), g.start_date or "", g.due_date or "",
                   g.is_stale, g.is_overdue, g.last_check_in_at.isoformat() if g.last_check_in_at else "", g.url]  # fmt: skip

    header = ["vendor", "external_id", "title", "team", "owners", "health", "vendor_status", "state", "outcome", "progress",
              "start_date", "due_date", "stale", "overdue", "last_check_in_at", "url"]  # fmt: skip
    return csv_response("okrhub-goals.csv", header, rows())


@require_GET
def goal_detail(request: HttpRequest, goal_id: int) -> HttpResponse:
    user = request.user
    goal = selectors.visible_goals(user).select_related("team", "connector", "parent").filter(pk=goal_id).first()
    if goal is None:
        raise Http404("No such goal, or it is not visible to you.")
    since = timezone.now() - timedelta(weeks=DETAIL_SNAPSHOT_WEEKS)
    key_results = list(
        selectors.visible_key_results(user)
        .filter(goal=goal)
        .order_by("title", "id")
        .prefetch_related(selectors.recent_snapshots_prefetch())
    )
    context = page_context(request)
    context.update(
        goal=goal,
        parent_visible=bool(goal.parent_id) and selectors.visible_goals_base(user).filter(pk=goal.parent_id).exists(),
        key_results=key_results,
        snapshots=list(ProgressSnapshot.objects.filter(goal=goal, taken_at__gte=since).order_by("taken_at")),
        check_ins=list(selectors.goal_check_ins(user, goal)),
        children=list(selectors.visible_goals(user).filter(parent=goal).order_by("title")[:50]),
        work_items=list(selectors.visible_work_items(user).filter(goal=goal).order_by("state", "due_date", "title")[:50]),
        ancestors=[*selectors.team_ancestors(user, goal.team), goal.team] if goal.team else [],
    )
    return render(request, "okrs/goal_detail.html", context)
