"""Count the SQL queries of one page request, measured cold.

The page-data cache (:mod:`dashboard.okrs.cache`) keys on a one-minute bucket, so whether a
request is served from it depends on the wall clock: a minute turning between two requests of
the same page once made a "same number of queries at two sizes" test compare a cached page
with a computed one (CI failed on it). Every count here starts from an empty cache, so it
measures the page doing all its work, at any time of day.
"""

from __future__ import annotations

from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext


def page_queries(client, url: str, *, htmx: bool = False, ok: tuple[int, ...] = (200,)):
    """``(number of queries, response)`` for GET ``url`` from a cold page-data cache."""
    for cache in caches.all():
        cache.clear()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
        if response.streaming:
            b"".join(response.streaming_content)  # an export runs its queries while streaming
    assert response.status_code in ok, (url, response.status_code)
    return len(ctx.captured_queries), response
