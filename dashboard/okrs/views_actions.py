"""Action status: work items (initiatives, projects, milestones, tasks, actions) as a board or a
table grouped by state, with overdue highlighting."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import F, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from connectors.base import STATE_LABELS
from dashboard.core.http import AppRequest
from dashboard.okrs import cache, lists, rows, selectors
from dashboard.okrs.filters import WorkItemFilters
from dashboard.okrs.models import WorkItem
from dashboard.okrs.views_common import csv_response, empty_state, page_context, paginate_ids, progress_cell, render_region

BOARD_PER_COLUMN = 20
BOARD_STATES = ["not_started", "active", "paused", "done", "archived"]


def _filtered(request: AppRequest, *, flags: bool = False) -> tuple[WorkItemFilters, QuerySet[WorkItem]]:
    """The filtered items; ``flags`` (stale, overdue, late start) only where rows are read from
    this query (the export): the page reads its rows by id."""
    filters = WorkItemFilters(request.GET, path="/actions/", teams=selectors.visible_teams(request.user))
    items = selectors.visible_work_items(request.user) if flags else selectors.visible_work_items_base(request.user)
    return filters, filters.apply(items)


@require_GET
def actions(request: AppRequest) -> HttpResponse:
    user = request.user
    filters, items = _filtered(request)
    view = request.GET.get("view", "table")
    if view not in ("table", "board"):
        filters.errors.append(f"Unknown view “{view[:40]}”; showing the table.")
        view = "table"
    context = page_context(request)
    # Counts and ids come from the cache (keyed by data versions and parameters); rows do not.
    counts = cache.cached_for(request, "actions:counts", lambda: selectors.work_item_summary(items))
    if view == "board":
        card_ids = cache.cached_for(request, "actions:board", lambda: lists.board_column_ids(items, BOARD_PER_COLUMN))

        def board() -> list[tuple[str, int, str]]:
            """(state, cards shown, their HTML) per column."""
            cards = lists.in_order(lists.work_item_rows(), card_ids)
            by_state = {s: [c for c in cards if c.state == s] for s in BOARD_STATES}
            return [(s, len(by_state[s]), str(rows.board_cards(by_state[s]))) for s in BOARD_STATES]

        columns = [
            {"state": s, "label": STATE_LABELS[s], "count": counts[f"state_{s}"], "items": shown, "cards": mark_safe(html)}  # noqa: S308 - rows.py escaped it
            for s, shown, html in cache.cached(user, "actions:board-cards", card_ids, board)
        ]
        context.update(columns=columns, per_column=BOARD_PER_COLUMN)
        has_rows = bool(card_ids)
    else:
        ordered = selectors.with_state_rank(items).order_by("state_rank", F("due_date").asc(nulls_last=True), "title", "id")
        page = paginate_ids(request, ordered, "actions:table", per_page=50)
        ids = list(page.object_list)
        context["page"] = page

        def table() -> list[tuple[str, str]]:
            """(state, rows HTML) per row group: grouped by state in page order, as {% regroup %} did."""
            groups: list[tuple[str, list[Any]]] = []
            for item in lists.attach_team_names(user, lists.in_order(lists.work_item_rows(), ids)):
                if not groups or groups[-1][0] != item.state:
                    groups.append((item.state, []))
                groups[-1][1].append(item)
            return [(state, str(rows.work_rows(members, hide_state=True))) for state, members in groups]

        context["groups"] = [
            {"grouper": state, "rows": mark_safe(html)}  # noqa: S308 - rows.py escaped it
            for state, html in cache.cached(user, "actions:table-rows", ids, table)
        ]
        has_rows = bool(ids)
    context.update(
        filters=filters,
        view=view,
        extra_hidden=[("view", "board")] if view == "board" else [],
        counts=counts,
        table_url=_with_view(filters, "table"),
        board_url=_with_view(filters, "board"),
        export_url=filters.url("/actions/export.csv", keep_extra=False),
    )
    context["empty"] = "" if has_rows else empty_state(context["freshness"], filtered=filters.active)
    return render_region(request, "okrs/actions.html", context, "listing")


def _with_view(filters: WorkItemFilters, view: str) -> str:
    query = filters.querystring(keep_extra=False)
    return f"/actions/?{query}&view={view}" if query else f"/actions/?view={view}"


@require_GET
def actions_export(request: AppRequest) -> StreamingHttpResponse:
    _filters, items = _filtered(request, flags=True)
    ranked = selectors.with_state_rank(items).order_by("state_rank", F("due_date").asc(nulls_last=True), "title", "id")
    # flags=True: the items come from visible_work_items(), which annotates is_stale and is_overdue.
    ordered = cast("QuerySet[selectors.FlaggedWorkItem]", ranked)
    team_names = selectors.work_item_team_names(request.user, items)

    def rows() -> Any:
        for w in ordered.iterator(chunk_size=1000):
            yield [w.vendor, w.kind, w.external_id, w.title, "; ".join(team_names.get(w.pk, [])), ", ".join(w.owners), w.state,
                   w.health, w.vendor_status, progress_cell(w.progress), w.due_date or "", w.is_overdue, w.url,
                   ", ".join(w.involved or []), "; ".join(str(s) for s in w.strategy_external_ids or []), w.outcome or "", w.is_stale]  # fmt: skip

    # New columns go at the end: scripts read the existing ones by position.
    header = ["vendor", "kind", "external_id", "title", "teams", "owners", "state", "health", "vendor_status", "progress",
              "due_date", "overdue", "url", "involved", "strategies", "outcome", "stale"]  # fmt: skip
    return csv_response("okrhub-actions.csv", header, rows())
