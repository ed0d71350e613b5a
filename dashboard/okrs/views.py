"""Dashboard pages: overview, review, search and "sync now". Function views; each works as a plain
link first, then htmx makes it lively. Teams, goals and actions live in ``views_*.py``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING, trigger_client_event

from connectors.base import HEALTH_LABELS, STATE_LABELS
from dashboard.core.http import AppRequest
from dashboard.okrs import cache, lists, rows, selectors
from dashboard.okrs.filters import GoalFilters, OverviewFilters, SearchFilters, search_q
from dashboard.okrs.templatetags.okrs import pace_text
from dashboard.okrs.views_actions import actions as actions  # re-exported for urls
from dashboard.okrs.views_actions import actions_export as actions_export
from dashboard.okrs.views_common import csv_response, empty_state, page_context, paginate_ids, progress_cell, render_region
from dashboard.okrs.views_goals import goal_detail as goal_detail
from dashboard.okrs.views_goals import goals as goals
from dashboard.okrs.views_goals import goals_export as goals_export
from dashboard.okrs.views_teams import team_children as team_children
from dashboard.okrs.views_teams import teams as teams
from dashboard.okrs.views_teams import teams_export as teams_export
from dashboard.okrs.views_work_items import work_item_detail as work_item_detail

log = logging.getLogger(__name__)
ATTENTION_ON_OVERVIEW = 10
SEARCH_LIMIT = 50
WORST_FIRST = ("health_rank", "due_date", "title", "id")  # attention lists (and their rows, read by id)


def _run_ids(request: HttpRequest) -> list[int]:
    return [int(v) for v in request.GET.getlist("run")[:20] if v.isdigit()]


@require_GET
def overview(request: AppRequest) -> HttpResponse:
    user = request.user
    context = page_context(request)
    run_ids = _run_ids(request)
    runs = list(selectors.visible_runs(user, run_ids) if run_ids else selectors.unfinished_runs(user))
    filters = OverviewFilters(request.GET, path="/")  # limits the "Needs attention" list only
    # The three scans over every visible row are cached (data only); the shown rows are not.
    attention_ids = cache.cached(
        user,
        "overview:attention",
        [ATTENTION_ON_OVERVIEW, filters.values],
        lambda: lists.first_ids(
            selectors.with_health_rank(
                filters.apply(selectors.visible_goals_base(user).filter(selectors.goal_attention_q(pace_filter="pace" in filters.values)))
            ).order_by(*WORST_FIRST),
            ATTENTION_ON_OVERVIEW,
        ),
    )
    goal_counts = cache.cached(user, "overview:goals", None, lambda: selectors.goal_summary(selectors.visible_goals_base(user)))
    work_counts = cache.cached(user, "overview:work", None, lambda: selectors.work_item_summary(selectors.visible_work_items_base(user)))
    context.update(
        filters=filters,
        summary_url=filters.url(),
        review_url=filters.url("/review/"),
        goal_counts=goal_counts,
        work_counts=work_counts,
        attention=attention_ids,
        connections=list(selectors.connection_statuses(user)),
        runs=runs,
        runs_finished=all(r.is_finished for r in runs),
        poll_url="/sync/status/?" + urlencode([("run", r.pk) for r in runs]),
    )
    context["attention_rows"] = cache.cached_html(
        user, "overview:attention-rows", attention_ids, lambda: rows.attention_rows(lists.in_order(lists.goal_rows(), attention_ids))
    )
    context["health_stats"] = [(key, label, goal_counts[key]) for key, label in HEALTH_LABELS.items()]
    context["state_rows"] = [(k, label, goal_counts[f"state_{k}"], work_counts[f"state_{k}"]) for k, label in STATE_LABELS.items()]
    context["can_sync"] = any(c.owner_id == user.pk for c in context["connections"])
    context["empty"] = "" if goal_counts["goals"] else empty_state(context["freshness"], filtered=False, has_unfinished_runs=bool(runs))
    # htmx asks for the summary again when a sync finishes ("syncFinished" trigger).
    return render_region(request, "okrs/overview.html", context, "summary")


# -- sync now ------------------------------------------------------------------------------------


def _sync_panel(request: AppRequest, runs: list[Any], *, error: str = "") -> HttpResponse:
    finished = all(r.is_finished for r in runs)
    context = {
        "runs": runs,
        "runs_finished": finished,
        "poll_url": "/sync/status/?" + urlencode([("run", r.pk) for r in runs]),
        "sync_error": error,
    }
    response = render(request, "okrs/overview.html#sync-panel", context)
    if runs and finished:
        response.status_code = HTMX_STOP_POLLING if request.htmx else 200  # 286 cancels the poll
        trigger_client_event(response, "syncFinished")
    return response


@require_POST
def sync_now(request: AppRequest) -> HttpResponse:
    """Enqueue a sync of the user's own credentials; htmx then polls the runs' status."""
    user = request.user
    credentials = list(selectors.own_sync_credentials(user))
    error = ""
    runs: list[Any] = []
    if not credentials:
        error = "You have no connection of your own to sync yet. Connect one under Connections."
    else:
        try:
            from dashboard.integrations.sync import enqueue_sync  # the sync engine (issue #6)
        except ImportError:
            log.warning("sync now: the sync service is not installed")
            error = "Syncing is not available on this server yet."
        else:
            runs = list(enqueue_sync(credentials, trigger="manual", requested_by=user))
            if not runs:
                error = "Nothing was queued: every connection is already syncing or paused."
    if request.htmx:
        return _sync_panel(request, runs, error=error)
    if error:
        messages.error(request, error)
        return redirect("okrs:overview")
    return redirect("/?" + urlencode([("run", r.pk) for r in runs]))


@require_GET
def sync_status(request: AppRequest) -> HttpResponse:
    """The progress partial; polled every second, answers 286 (stop polling) once all finished."""
    run_ids = _run_ids(request)
    runs = list(selectors.visible_runs(request.user, run_ids) if run_ids else selectors.unfinished_runs(request.user))
    return _sync_panel(request, runs)


# -- review: what needs attention ----------------------------------------------------------------


def _attention_goals(request: AppRequest, filters: GoalFilters, *, flags: bool = False) -> Any:
    """Goals needing attention, worst first; ``flags`` (stale, overdue) only where rows are read
    from this query (the export): pages read their rows by id."""
    visible = selectors.visible_goals(request.user) if flags else selectors.visible_goals_base(request.user)
    return selectors.with_health_rank(
        filters.apply(visible.filter(selectors.goal_attention_q(pace_filter="pace" in filters.values)))
    ).order_by(*WORST_FIRST)


def _attention_work_items(request: AppRequest, filters: GoalFilters, *, flags: bool = False) -> Any:
    items = selectors.visible_work_items(request.user) if flags else selectors.visible_work_items_base(request.user)
    items = items.filter(selectors.attention_q())
    for name in ("vendor", "health", "owner", "q", "stale"):
        if name in filters.values:
            items = filters.appliers[name](filters, items, filters.values[name])
    return selectors.with_health_rank(items).order_by(*WORST_FIRST)


@require_GET
def review(request: AppRequest) -> HttpResponse:
    user = request.user
    filters = GoalFilters(request.GET, path="/review/", teams=selectors.visible_teams(user))
    # Ids, totals and the rendered rows come from the cache (keyed by the data versions).
    goals_page = paginate_ids(request, _attention_goals(request, filters), "review:goals")
    goal_ids = list(goals_page.object_list)
    # Pace is read on goals and key results only: with that filter on, no work item matches.
    pace_only = "pace" in filters.values
    item_ids = (
        []
        if pace_only
        else cache.cached_for(request, "review:work", lambda: lists.first_ids(_attention_work_items(request, filters), SEARCH_LIMIT))
    )

    def goal_html() -> str:
        return rows.review_goal_rows(lists.attach_recent_progress(lists.in_order(lists.goal_rows(), goal_ids)))

    def work_html() -> str:
        return rows.work_rows(lists.attach_team_names(user, lists.in_order(lists.work_item_rows(), item_ids)))

    context = page_context(request)
    context.update(
        filters=filters,
        page=goals_page,
        goal_rows=cache.cached_html(user, "review:goal-rows", goal_ids, goal_html),
        work_items=item_ids,
        pace_only=pace_only,
        work_rows=cache.cached_html(user, "review:work-rows", item_ids, work_html),
        export_url=filters.url("/review/export.csv", keep_extra=False),
    )
    context["empty"] = "" if goal_ids or item_ids else empty_state(context["freshness"], filtered=filters.active)
    return render_region(request, "okrs/review.html", context, "listing")


def _reasons(item: Any) -> str:
    reasons = []
    if item.health in ("off_track", "needs_attention"):
        reasons.append(item.get_health_display().replace("_", " "))
    if getattr(item, "is_stale", False):
        reasons.append("stale")
    if getattr(item, "is_overdue", False):
        reasons.append("overdue")
    if pace := pace_text(item):
        reasons.append(pace.lower())
    return "; ".join(reasons)


@require_GET
def review_export(request: AppRequest) -> StreamingHttpResponse:
    filters = GoalFilters(request.GET, path="/review/", teams=selectors.visible_teams(request.user))
    goal_rows = _attention_goals(request, filters, flags=True).select_related("team").iterator(chunk_size=1000)
    item_rows = _attention_work_items(request, filters, flags=True).iterator(chunk_size=1000)

    def rows() -> Any:
        for g in goal_rows:
            yield ["goal", g.vendor, g.title, g.team.name if g.team else "", ", ".join(g.owners), g.health, g.vendor_status,
                   g.state, progress_cell(g.progress), g.due_date or "", _reasons(g), g.url]  # fmt: skip
        if "pace" in filters.values:
            return  # pace is read on goals and key results only, as on the page
        for w in item_rows:
            yield [w.kind, w.vendor, w.title, "", ", ".join(w.owners), w.health, w.vendor_status,
                   w.state, progress_cell(w.progress), w.due_date or "", _reasons(w), w.url]  # fmt: skip

    header = ["type", "vendor", "title", "team", "owners", "health", "vendor_status", "state", "progress", "due_date", "reasons", "url"]
    return csv_response("okrhub-review.csv", header, rows())


# -- search across vendors -----------------------------------------------------------------------


def _search_sets(request: AppRequest, filters: SearchFilters, text: str) -> dict[str, Any]:
    user = request.user
    where = search_q(text)
    light = (*selectors.LIST_DEFER, "description")
    return {
        "goals": filters.apply(selectors.visible_goals_base(user).filter(where))
        .defer(*light)
        .select_related("team")
        .order_by("title", "id"),
        "key_results": filters.apply(selectors.visible_key_results(user).filter(where))
        .defer(*selectors.LIST_DEFER)
        .select_related("goal")
        .order_by("title", "id"),
        "work_items": filters.apply(selectors.visible_work_items_base(user).filter(where)).defer(*light).order_by("title", "id"),
    }


@require_GET
def search(request: AppRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()[:200]
    filters = SearchFilters(request.GET, path="/search/")
    context = page_context(request)
    context.update(q=text, filters=filters, results={}, too_short=bool(text) and len(text) < 2)
    if len(text) >= 2:
        # One query per kind, only when not cached; one id more than shown tells the page there is more.
        found_ids = cache.cached_for(
            request,
            "search",
            lambda: {name: lists.first_ids(qs, SEARCH_LIMIT + 1) for name, qs in _search_sets(request, filters, text).items()},
        )
        context["results"] = found_ids
        rows_of = {
            "goals": (lists.goal_rows, rows.search_goal_items),
            "key_results": (lists.key_result_search_rows, rows.search_key_result_items),
            "work_items": (lists.work_item_rows, rows.search_work_items),
        }

        def html(name: str) -> str:
            source, render_rows = rows_of[name]
            return render_rows(lists.in_order(source(), found_ids[name][:SEARCH_LIMIT]))

        context["result_rows"] = {
            name: cache.cached_html(
                request.user, f"search:{name}-rows", found_ids[name][:SEARCH_LIMIT], cast("Callable[[], str]", lambda name=name: html(name))
            )
            for name in rows_of
        }
        context["found"] = sum(len(v) for v in context["results"].values())
        query = urlencode([("q", text), *[("vendor", v) for v in filters.selected("vendor")]])
        context["export_url"] = f"/search/export.csv?{query}"
        context["clear_url"] = "/search/?" + urlencode([("q", text)])
    context["search_limit"] = SEARCH_LIMIT
    return render_region(request, "okrs/search.html", context, "results")


@require_GET
def search_export(request: AppRequest) -> StreamingHttpResponse:
    text = request.GET.get("q", "").strip()[:200]
    filters = SearchFilters(request.GET, path="/search/")
    header = ["type", "vendor", "title", "parent", "owners", "health", "vendor_status", "state", "progress", "due_date", "url"]
    if len(text) < 2:
        return csv_response("okrhub-search.csv", header, [])
    sets = _search_sets(request, filters, text)

    def rows() -> Any:
        for g in sets["goals"].iterator(chunk_size=1000):
            yield ["goal", g.vendor, g.title, g.team.name if g.team else "", ", ".join(g.owners), g.health, g.vendor_status,
                   g.state, progress_cell(g.progress), g.due_date or "", g.url]  # fmt: skip
        for k in sets["key_results"].iterator(chunk_size=1000):
            yield ["key_result", k.vendor, k.title, k.goal.title if k.goal else "", ", ".join(k.owners), k.health, k.vendor_status,
                   k.state, progress_cell(k.progress), k.due_date or "", k.url]  # fmt: skip
        for w in sets["work_items"].iterator(chunk_size=1000):
            yield [w.kind, w.vendor, w.title, "", ", ".join(w.owners), w.health, w.vendor_status,
                   w.state, progress_cell(w.progress), w.due_date or "", w.url]  # fmt: skip

    return csv_response("okrhub-search.csv", header, rows())
