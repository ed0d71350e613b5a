"""The read API, ``/api/v1/`` (issue #9): one NinjaAPI with the routers of each app, and its
routes. Put together here, above the apps: ``okrs`` (goals, key results, work items, teams,
people, check-ins), its ``sync`` runs, ``alignment`` (OKR Hub's own cross-vendor links) and
``people`` (identities across vendors) each bring a router; none imports another's package.

The API authenticates by itself (Bearer token or session, see ``dashboard.okrs.api.auth``) and
answers JSON 401s, so every route opts out of the site-wide LoginRequiredMiddleware, which would
redirect scripts to the HTML sign-in page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path, re_path
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from dashboard.alignment import api as alignment_api
from dashboard.okrs.api import okrs, sync
from dashboard.okrs.api.auth import SessionAuth, TokenAuth
from dashboard.okrs.api.errors import install_handlers
from dashboard.people import api as people_api

API_DESCRIPTION = """\
One API over every vendor (North, Operately, OGSM), with the same visibility as the pages.

**Auth**: `Authorization: Bearer okh_...` (create a token on the *API tokens* page or with
`python manage.py apitoken create --user USERNAME`), or the signed-in browser session.

**Lists** take `limit` (1-500, default 50) and `offset` and answer `{count, next, previous, results}`.
The `team` filter includes the teams below it, matching the roll-ups on `/teams`.

**Errors** are JSON `{message, status}`: 400 names the bad parameter and its allowed values,
401 without valid auth, 404 for anything you cannot see, 429 over the per-token rate limit.
"""

api = NinjaAPI(
    title="OKR Hub API",
    version="1.0.0",
    description=API_DESCRIPTION,
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    # Swagger UI assets come from ninja's own static files ("ninja" is in INSTALLED_APPS), not a CDN.
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_handlers(api)
api.add_router("", okrs.router)
api.add_router("", sync.router)
api.add_router("", alignment_api.router)  # OKR Hub's own cross-vendor links (issue #18)
api.add_router("", people_api.router)


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
