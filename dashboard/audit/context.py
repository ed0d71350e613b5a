"""Who is acting right now, for the audit trail: set per request by the middleware and around
management commands by :func:`acting_as`; unset means the system (a worker, a migration)."""

from __future__ import annotations

import contextvars
import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class Actor:
    user: Any = None
    name: str = "system"
    source: str = "system"


_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("okrhub_audit_actor", default=None)
_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("okrhub_audit_request", default=None)


def current_actor() -> Actor:
    actor = _current.get()
    if actor is not None:
        return actor
    request = _request.get()
    if request is not None:
        user = getattr(request, "user", None)  # read late: set by the auth middleware or a token
        path = request.path
        source = "api" if path.startswith("/api/") else "admin" if path.startswith("/admin/") else "web"
        if user is not None and user.is_authenticated:
            return Actor(user=user, name=user.get_username(), source=source)
        return Actor(name="anonymous", source=source)
    return Actor()


@contextmanager
def acting_as(user: Any = None, *, source: str = "cli", name: str = "") -> Iterator[None]:
    """Attribute the changes made inside to ``user`` (or to ``name``)."""
    if not name:
        name = user.get_username() if user is not None else f"command line ({_os_user()})"
    token = _current.set(Actor(user=user, name=name, source=source))
    try:
        yield
    finally:
        _current.reset(token)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "unknown"


class AuditActorMiddleware:
    """Remembers the request so that changes made while serving it name its user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
