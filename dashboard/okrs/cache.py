"""Cached page data: the expensive, data-derived parts of the dashboard (issue #8, "Speed").

Counts, roll-ups and the sorted ids of a list page cost a scan of every visible row (with the
``seen_by`` visibility check); the rows shown are then read by id and rendered by
:mod:`dashboard.okrs.rows`. What is cached is data (dicts, id lists, counts, a goal's detail
rows) and, with :func:`cached_html`, those row fragments: escaped vendor data and links, nothing
of the request (no CSRF token, no session, no messages). Pages themselves are always rendered.

A key is built from:

- the user, and the exact set of credentials they may see (:func:`dashboard.integrations.visibility.visible_credentials`
  already drops credentials of disabled connectors, and follows group grants), each with its
  connector's ``data_version``: a finished (or paused) sync run, a write-back, a disconnect or
  a sharing change bumps the version (:meth:`Connector.bump_data_version`), so a cached value
  never outlives such a change and never crosses to a user who sees other data. Pages a sync
  stores while it is still running show once the one-minute bucket turns (or the run ends);
- the date and a one-minute bucket: "stale" and "overdue" depend on the clock;
- the page's name and its parameters (the request's GET, as given).

The credential rows come from the query the page runs anyway (freshness): no extra query.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from dashboard.okrs.selectors import UserLike, visible_credential_versions

T = TypeVar("T")
TIME_BUCKET_SECONDS = 60  # how late a "stale"/"overdue" flag may turn on in a cached count
TTL_SECONDS = 2 * TIME_BUCKET_SECONDS  # a key is never asked for once its bucket has passed
KEY_PREFIX = "okrs:page-data:v1"
logger = logging.getLogger(__name__)


def time_key() -> str:
    """The clock's part of a key: today's date and the one-minute bucket."""
    now = timezone.now()
    return f"d{timezone.localdate(now).isoformat()}|t{int(now.timestamp()) // TIME_BUCKET_SECONDS}"


def data_key(user: UserLike) -> str:
    """What a cached value for ``user`` depends on: who, which credentials at which data
    version, and the time bucket."""
    credentials = ",".join(f"{pk}.{version}" for pk, version in visible_credential_versions(user))
    return f"u{user.pk}|c{credentials}|{time_key()}"


def cached(user: UserLike, name: str, params: Any, compute: Callable[[], T]) -> T:
    """``compute()``, or its value from the cache for the same user, data versions, time
    bucket, page ``name`` and ``params`` (anything JSON can encode)."""
    if not user.is_authenticated:
        return compute()
    raw = json.dumps([data_key(user), name, params], sort_keys=True, default=str)
    key = f"{KEY_PREFIX}:{name}:{hashlib.sha256(raw.encode()).hexdigest()}"
    try:
        found = cache.get(key)
    except Exception:  # the shared cache (Redis) is down: the page is computed, never a 500
        logger.warning("page data cache unreachable; computing %s without it", name)
        return compute()
    if found is not None:
        return found[0]  # type: ignore[no-any-return]
    value = compute()
    try:
        cache.set(key, (value,), TTL_SECONDS)  # wrapped: a computed None is a hit too
    except Exception:
        logger.warning("page data cache unreachable; %s not stored", name)
    return value


def request_params(request: HttpRequest) -> list[tuple[str, list[str]]]:
    """The page's GET parameters in a stable order: filters, sort, page, view."""
    return sorted((name, request.GET.getlist(name)) for name in request.GET)


def cached_for(request: HttpRequest, name: str, compute: Callable[[], T], *, extra: Any = None) -> T:
    """:func:`cached` for the signed-in user of ``request``, keyed by its GET parameters."""
    return cached(request.user, name, [request_params(request), extra], compute)


def cached_html(user: UserLike, name: str, params: Any, build: Callable[[], str]) -> SafeString:
    """Rendered list rows (from :mod:`dashboard.okrs.rows`, safe already) for ``user``, cached
    like data: ``params`` names the rows (their ids), the data versions cover their content."""
    return mark_safe(cached(user, name, params, lambda: str(build())))  # noqa: S308 - built by rows.py, escaped there
