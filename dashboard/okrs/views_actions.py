"""Action status: work items (initiatives, projects, milestones, tasks, actions) as a board or a
table grouped by state, with overdue highlighting."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from connectors.base import STATE_LABELS
from dashboard.okrs import cache, lists, rows, selectors
from dashboard.okrs.filters import WorkItemFilters
from dashboard.okrs.models import WorkItem
from dashboard.okrs.views_common import csv_response, empty_state, page_context, paginate, progress_cell, render_region

BOARD_PER_COLUMN = 20
BOARD_STATES = ["not_started", "active", "paused", "done", "archived"]


def _filtered(request: HttpRequest, *, flags: bool = False) -> tuple[WorkItemFilters, QuerySet[WorkItem]]:
    """The filtered items; ``flags`` (overdue) only where rows are read from this query (the
    export): the page reads its rows by id."""
    filters = WorkItemFilters(request.GET, path="/actions/", teams=selectors.visible_teams(request.user))
    items = selectors.visible_work_items(request.user) if flags else selectors.visible_work_items_base(request.user)
    return filters, filters.apply(items)


@require_GET
def actions(request: HttpRequest) -> HttpResponse:
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
        cards = lists.in_order(lists.work_item_rows(), card_ids)
        columns = [
            {"state": s, "label": STATE_LABELS[s], "count": counts[f"state_{s}"], "items": [c for c in cards if c.state == s]}
            for s in BOARD_STATES
        ]
        for column in columns:
            column["cards"] = rows.board_cards(request, column["items"])
        context.update(columns=columns, per_column=BOARD_PER_COLUMN)
        has_rows = bool(cards)
    else:
        ordered = selectors.with_state_rank(items).order_by("state_rank", F("due_date").asc(nulls_last=True), "title", "id")
        page = paginate(request, ordered, per_page=50, rows=lists.work_item_rows(), cache_as="actions:table")
        lists.attach_team_names(user, page.object_list)
        context["page"] = page
        # Grouped by state (the table's row groups), in page order: what {% regroup %} did.
        groups: list[dict[str, Any]] = []
        for item in page.object_list:
            if not groups or groups[-1]["grouper"] != item.state:
                groups.append({"grouper": item.state, "list": []})
            groups[-1]["list"].append(item)
        for group in groups:
            group["rows"] = rows.work_rows(request, group["list"], hide_state=True)
        context["groups"] = groups
        has_rows = bool(page.object_list)
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
def actions_export(request: HttpRequest) -> HttpResponse:
    _filters, items = _filtered(request, flags=True)
    ordered = selectors.with_state_rank(items).order_by("state_rank", F("due_date").asc(nulls_last=True), "title", "id")
    team_names = selectors.work_item_team_names(request.user, items)

    def rows() -> Any:
        for w in ordered.iterator(chunk_size=1000):
            yield [w.vendor, w.kind, w.external_id, w.title, "; ".join(team_names.get(w.pk, [])), ", ".join(w.owners), w.state,
                   w.health, w.vendor_status, progress_cell(w.progress), w.due_date or "", w.is_overdue, w.url]  # fmt: skip

    header = ["vendor", "kind", "external_id", "title", "teams", "owners", "state", "health", "vendor_status", "progress",
              "due_date", "overdue", "url"]  # fmt: skip
    return csv_response("okrhub-actions.csv", header, rows())
