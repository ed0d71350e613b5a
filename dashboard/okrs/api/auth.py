"""Who is calling: a personal API token (``Authorization: Bearer okh_...``) or the browser session.

A token stands in for its user (``request.user`` becomes the token's user), so every selector
applies the same visibility as the pages. Session requests that change data must pass Django's
CSRF check; token requests need not, as a browser never attaches the header by itself.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from dashboard.accounts.models import ApiToken
from dashboard.accounts.tokens import TokenRefused, check_token
from dashboard.okrs.api.errors import ApiError, NotAuthenticated, TooManyRequests

RATE_WINDOW_SECONDS = 60
logger = logging.getLogger(__name__)
# Used only while the shared cache is unreachable (tests/reliability/test_redis_outage.py).
_LOCAL_COUNTS = LocMemCache("okrhub-api-rate", {"TIMEOUT": RATE_WINDOW_SECONDS * 2})


def _count(store: Any, key: str) -> int:
    if store.add(key, 1, RATE_WINDOW_SECONDS * 2):
        return 1
    try:
        return int(store.incr(key))
    except ValueError:  # expired between add and incr
        store.set(key, 1, RATE_WINDOW_SECONDS * 2)
        return 1


def check_rate_limit(token: ApiToken) -> None:
    """Fixed one-minute window per token in the shared cache (Redis in production)."""
    limit = settings.API_RATE_LIMIT_PER_MINUTE
    if limit <= 0:
        return
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    key = f"api-rate:{token.pk}:{window}"
    try:
        count = _count(cache, key)
    except Exception:  # the shared cache (Redis) is down: limit per process rather than answer 500
        logger.warning("API rate limit: the shared cache is unreachable; counting in this process")
        count = _count(_LOCAL_COUNTS, key)
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * RATE_WINDOW_SECONDS - now))
        raise TooManyRequests(limit, retry_after)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``. A present but bad header is a 401, never a fallback.

    ``scopes``: the token must hold one of them (403 otherwise). Reads need ``read``; an
    operation that needs another scope says so with its own ``auth=``.
    """

    def __init__(self, scopes: tuple[str, ...] = ("read",)) -> None:
        super().__init__()
        self.scopes = scopes

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization")
        if not header:
            return None  # try the session next
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise NotAuthenticated("The Authorization header must be 'Bearer <token>'.")
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            api_token = check_token(token)
        except TokenRefused as exc:
            raise NotAuthenticated(str(exc)) from None
        if not any(api_token.has_scope(scope) for scope in self.scopes):
            needed = " or ".join(repr(scope) for scope in self.scopes)
            raise ApiError(
                403,
                f"This API token lacks the {needed} scope (it has: {', '.join(api_token.scopes) or 'none'}). "
                "Create a token with that scope on the API tokens page.",
            )
        check_rate_limit(api_token)
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session; unsafe methods must carry the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)  # tells the docs page to send the CSRF header

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:  # only fails for unsafe methods
            raise ApiError(
                403, "CSRF check failed: send the X-CSRFToken header with session requests that change data, or use a Bearer token."
            )
        return user
