"""One work item's detail: check-in history (North initiative events, Operately project check-ins),
owners and involved people, the action's strategies (OGSM), outcome, health, dates, flags."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.okrs import cache, selectors, work_item_selectors
from dashboard.okrs.views_common import page_context
from dashboard.people.selectors import owner_links


@require_GET
def work_item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    # What the page shows of the item comes from the cache (keyed by the user's data versions).
    data = cache.cached(request.user, "work-item-detail", item_id, lambda: _detail_data(request.user, item_id))
    if data is None:
        raise Http404("No such work item, or it is not visible to you.")
    context = page_context(request)
    context.update(data)
    return render(request, "okrs/work_item_detail.html", context)


def _detail_data(user: Any, item_id: int) -> dict[str, Any] | None:
    """Everything the detail page shows of a work item ``user`` may see; ``None`` when they may not."""
    item = work_item_selectors.work_item_for_detail(user, item_id)
    if item is None:
        return None
    return {
        "item": item,
        "owner_links": owner_links(user, item),
        "goal_visible": bool(item.goal_id) and item.goal_visible,  # type: ignore[attr-defined]
        "parent_visible": bool(item.parent_id) and item.parent_visible,  # type: ignore[attr-defined]
        "team_names": selectors.work_item_team_names(user, [item.pk]).get(item.pk, []),
        "checks_in": work_item_selectors.vendor_checks_in(item),
        "check_ins": list(work_item_selectors.work_item_check_ins(item)),
        "snapshots": list(work_item_selectors.work_item_snapshots(item)),
        "children": list(work_item_selectors.work_item_children(user, item)),
    }
