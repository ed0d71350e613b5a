"""Routes of the read API under /api/v1/ (issue #9).

The API authenticates by itself (Bearer token or session, see ``dashboard.okrs.api.auth``) and
answers JSON 401s, so every route opts out of the site-wide LoginRequiredMiddleware, which would
redirect scripts to the HTML sign-in page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path, re_path

from dashboard.okrs.api import api

ninja_patterns, ninja_app_name, ninja_namespace = api.urls
for pattern in ninja_patterns:
    if isinstance(pattern, URLPattern):
        login_not_required(pattern.callback)


@login_not_required
def unknown_endpoint(request: HttpRequest, rest: str) -> JsonResponse:
    return JsonResponse({"message": f"No API endpoint at {request.path}; see /api/v1/docs for the list.", "status": 404}, status=404)


urlpatterns: list[URLPattern | URLResolver] = [
    path("", include((ninja_patterns, ninja_app_name), namespace=ninja_namespace)),
    re_path(r"^(?P<rest>.*)$", unknown_endpoint),
]
