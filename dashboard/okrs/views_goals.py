"""Goal progress: the filtered goal list with key results and sparklines, and one goal's detail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.alignment.panel import REGION, alignment_context
from dashboard.alignment.selectors import visible_alignments
from dashboard.core.http import AppRequest
from dashboard.okrs import cache, lists, rows, selectors
from dashboard.okrs.filters import GoalFilters
from dashboard.okrs.models import Goal, ProgressSnapshot
from dashboard.okrs.pace import pace_of
from dashboard.okrs.views_common import csv_response, empty_state, page_context, paginate_ids, progress_cell, render_region
from dashboard.people.selectors import owner_links

SORTS: dict[str, tuple[str, list[Any]]] = {
    "attention": ("Needs attention first", [F("health_rank").asc(), F("due_date").asc(nulls_last=True), "title"]),
    "progress": ("Least progress first", [F("progress").asc(nulls_last=True), "title"]),
    "-progress": ("Most progress first", [F("progress").desc(nulls_last=True), "title"]),
    "due": ("Due date", [F("due_date").asc(nulls_last=True), "title"]),
    "title": ("Title", ["title"]),
    "updated": ("Recently updated", [F("updated_at").desc(nulls_last=True), "title"]),
}
DETAIL_SNAPSHOT_WEEKS = 26
KEY_RESULT_SNAPSHOT_WEEKS = 12  # what the lists' sparklines show


def _filtered_goals(request: AppRequest, *, flags: bool = False) -> tuple[GoalFilters, str, QuerySet[Goal]]:
    """Filters, sort and the sorted goals; ``flags`` (stale, overdue) only where rows are read
    from this query (the export): the page reads its rows by id."""
    user = request.user
    filters = GoalFilters(request.GET, path="/goals/", teams=selectors.visible_teams(user))
    sort = request.GET.get("sort", "attention")
    if sort not in SORTS:
        filters.errors.append(f"Unknown sort “{sort[:40]}”; sorted by what needs attention first.")
        sort = "attention"
    goals = selectors.with_health_rank(filters.apply(selectors.visible_goals(user) if flags else selectors.visible_goals_base(user)))
    return filters, sort, goals.order_by(*SORTS[sort][1], "id")


@require_GET
def goals(request: AppRequest) -> HttpResponse:
    filters, sort, qs = _filtered_goals(request)
    page = paginate_ids(request, qs, "goals")
    ids = list(page.object_list)

    def goal_html() -> str:
        goals = lists.in_order(lists.goal_rows(), ids)
        return rows.goal_groups(lists.attach_recent_progress(lists.attach_key_results(request.user, goals)))

    context = page_context(request)
    context.update(
        filters=filters,
        page=page,
        sort=sort,
        extra_hidden=[("sort", sort)] if sort != "attention" else [],
        sorts=[(key, label) for key, (label, _) in SORTS.items()],
        export_url=filters.url("/goals/export.csv"),
        goal_rows=cache.cached_html(request.user, "goals:rows", ids, goal_html),
    )
    context["empty"] = "" if page.object_list else empty_state(context["freshness"], filtered=filters.active)
    return render_region(request, "okrs/goals.html", context, "listing")


@require_GET
def goals_export(request: AppRequest) -> StreamingHttpResponse:
    _filters, _sort, filtered = _filtered_goals(request, flags=True)
    # flags=True: the goals come from visible_goals(), which annotates is_stale and is_overdue.
    # The OKR Hub link of each goal (issue #18), when the user sees both ends: two scalar subqueries.
    link = visible_alignments(request.user).filter(child_goal_id=OuterRef("pk"))
    qs = (
        cast("QuerySet[selectors.FlaggedGoal]", filtered)
        .select_related("team")
        .annotate(
            aligned_goal=Subquery(link.values("parent_goal__title")[:1]),
            aligned_team=Subquery(link.values("parent_team__name")[:1]),
        )
    )

    def aligned(g: Any) -> list[str]:
        if g.aligned_goal is not None:
            return ["goal", g.aligned_goal]
        return ["team", g.aligned_team] if g.aligned_team is not None else ["", ""]

    def rows() -> Any:
        for g in qs.iterator(chunk_size=1000):
            pace = pace_of(g)  # behind_pace_points: empty where pace does not apply, 0 when on or ahead of it
            yield [g.vendor, g.external_id, g.title, g.team.name if g.team else "", ", ".join(g.owners), g.health, g.vendor_status,
                   g.state, g.outcome or "", progress_cell(g.progress), g.start_date or "", g.due_date or "",
                   g.is_stale, g.is_overdue, g.last_check_in_at.isoformat() if g.last_check_in_at else "", g.url,
                   "" if pace is None else pace.behind_by, *aligned(g)]  # fmt: skip

    header = ["vendor", "external_id", "title", "team", "owners", "health", "vendor_status", "state", "outcome", "progress",
              "start_date", "due_date", "stale", "overdue", "last_check_in_at", "url", "behind_pace_points",
              "aligned_parent_kind", "aligned_parent"]  # fmt: skip
    return csv_response("okrhub-goals.csv", header, rows())


def _detail_snapshots(goal: Goal, key_results: list[Any]) -> list[ProgressSnapshot]:
    """The goal's snapshots of the last 26 weeks (returned) and each key result's of the last 12
    (set as ``recent_snapshots``), oldest first: one query for both."""
    now = timezone.now()
    goal_since, kr_since = now - timedelta(weeks=DETAIL_SNAPSHOT_WEEKS), now - timedelta(weeks=KEY_RESULT_SNAPSHOT_WEEKS)
    wanted = Q(goal=goal, taken_at__gte=goal_since) | Q(key_result_id__in=[kr.pk for kr in key_results], taken_at__gte=kr_since)
    by_key_result: dict[int, list[ProgressSnapshot]] = {kr.pk: [] for kr in key_results}
    goal_snapshots = []
    for snapshot in ProgressSnapshot.objects.filter(wanted).order_by("taken_at", "id"):
        if snapshot.goal_id == goal.pk:
            goal_snapshots.append(snapshot)
        if snapshot.key_result_id in by_key_result:
            by_key_result[snapshot.key_result_id].append(snapshot)
    for kr in key_results:
        kr.recent_snapshots = by_key_result[kr.pk]
    return goal_snapshots


def goal_detail_context(request: AppRequest, goal_id: int) -> dict[str, Any] | None:
    """The page's context without its alignment section; ``None`` when the goal is not visible."""
    # What the page shows of the goal comes from the cache (keyed by the user's data versions).
    data = cache.cached(request.user, "goal-detail", goal_id, lambda: _detail_data(request.user, goal_id))
    if data is None:
        return None
    context = page_context(request)
    context.update(data)
    return context


@require_GET
def goal_detail(request: AppRequest, goal_id: int) -> HttpResponse:
    context = goal_detail_context(request, goal_id)
    if context is None:
        raise Http404("No such goal, or it is not visible to you.")
    context.update(alignment_context(request, context["goal"]))
    if "align_q" in request.GET:  # the candidate search of the "Align under" form
        return render_region(request, "okrs/goal_detail.html", context, REGION)
    return render(request, "okrs/goal_detail.html", context)


def _detail_data(user: Any, goal_id: int) -> dict[str, Any] | None:
    """Everything the detail page shows of a goal ``user`` may see; ``None`` when they may not."""
    # The goal's own raw JSON stays unread too: the page shows the mapped fields only.
    wide = (*selectors.LIST_DEFER, "parent__raw", "parent__fingerprint", "parent__description", "team__raw", "team__fingerprint")
    parent_visible = Exists(selectors.visible_goals_base(user).filter(pk=OuterRef("parent_id")))
    goal = (
        selectors.visible_goals(user)
        .select_related("team", "connector", "parent")
        .defer(*wide)
        .annotate(parent_visible=parent_visible)
        .filter(pk=goal_id)
        .first()
    )
    if goal is None:
        return None
    light = (*selectors.LIST_DEFER, "description")
    key_results = list(selectors.visible_key_results(user).defer(*selectors.LIST_DEFER).filter(goal=goal).order_by("title", "id"))
    snapshots = _detail_snapshots(goal, key_results)
    return {
        "goal": goal,
        "owner_links": owner_links(user, goal),
        "parent_visible": bool(goal.parent_id) and goal.parent_visible,
        "key_results": key_results,
        "snapshots": snapshots,
        "check_ins": list(selectors.goal_check_ins(user, goal, key_result_ids=[kr.pk for kr in key_results])),
        "children": list(selectors.visible_goals(user).defer(*light).filter(parent=goal).order_by("title")[:50]),
        "work_items": list(selectors.visible_work_items(user).defer(*light).filter(goal=goal).order_by("state", "due_date", "title")[:50]),
        "ancestors": [*selectors.team_ancestors(user, goal.team), goal.team] if goal.team else [],
    }
