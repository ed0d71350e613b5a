"""Helpers shared by the dashboard views: partial rendering, paging, page context, CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from math import ceil
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from dashboard.core.http import wants_region
from dashboard.core.queue import queue_reachable
from dashboard.okrs import cache, lists, selectors

PER_PAGE = 25  # goals carry their key results, so a page is ~100 rows
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def render_region(request: HttpRequest, template: str, context: dict[str, Any], region: str, *, status: int = 200) -> HttpResponse:
    """The whole page for a plain request; only ``region`` (a ``{% partialdef %}``) for htmx.

    Boosted htmx requests want whole pages, so they get one.
    """
    name = f"{template}#{region}" if wants_region(request) else template
    return render(request, name, context, status=status)


def page_context(request: HttpRequest) -> dict[str, Any]:
    """What every page shows: when its data was last synced, whether a sync failed, and whether
    syncing is paused because the task queue is unreachable."""
    return {"freshness": selectors.freshness(request.user), "queue_down": not queue_reachable()}


def paginate_ids(request: HttpRequest, qs: QuerySet[Any], cache_as: str, per_page: int = PER_PAGE) -> Page[int]:
    """Page ``?page=N`` of ``qs`` as ids (the views read and render the rows, cached, from
    them); out-of-range or junk numbers give the nearest real page, not an error (as
    ``Paginator.get_page``).

    The page's ids and the total come from one narrow sorted query (:func:`lists.page_ids`);
    a page number past the end costs one count and one retry. The page number, ids and total
    are kept in :mod:`dashboard.okrs.cache` as ``cache_as`` (keyed by the user's data versions
    and the request's parameters).
    """
    raw = request.GET.get("page") or "1"

    def locate() -> tuple[int, list[int], int]:
        number = int(raw) if raw.isdigit() else (0 if raw.lstrip("-").isdigit() else 1)
        ids: list[int] = []
        total: int | None = None
        if number >= 1:
            ids, total = lists.page_ids(qs, per_page, (number - 1) * per_page)
        if total is None:  # past the end, or below 1: Paginator.get_page gives the last page
            total = qs.order_by().count()
            number = max(1, ceil(total / per_page))
            ids = lists.page_ids(qs, per_page, (number - 1) * per_page)[0] if total else []
        return number, ids, total

    number, ids, total = cache.cached_for(request, cache_as, locate, extra=per_page)
    paginator = Paginator(ids, per_page)
    paginator.count = total  # known already: the paginator must not count again
    return Page(ids, number, paginator)


def empty_state(freshness: dict[str, Any], *, filtered: bool, has_unfinished_runs: bool = False) -> str:
    """Which teaching empty state fits: the first thing a user should do next."""
    if filtered:
        return "no_match"
    if not freshness.get("credentials"):
        return "no_connection"
    if not freshness.get("latest_success"):
        return "first_sync" if has_unfinished_runs or freshness.get("never_synced") else "no_data"
    return "no_data"


def csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formula injection: text starting with = + - @ (or tab/CR) gets a
    leading apostrophe. Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """Stream a CSV download (the rows iterate lazily, so a big export never sits in memory)."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # a BOM so spreadsheet programs read UTF-8
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_safe(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def progress_cell(value: float | None) -> str | float:
    return "" if value is None else round(value, 1)
