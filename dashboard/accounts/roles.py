"""Two roles: admin (configures connectors, sees everyone's sync health, manages users) and
member. Admin is Django's ``is_staff`` (or superuser), so the Django admin follows the same rule."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase


def is_admin(user: Any) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


def admin_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Members get a 404 for admin pages: existence does not leak."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_admin(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped
