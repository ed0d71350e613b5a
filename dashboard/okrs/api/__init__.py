"""The read API, ``/api/v1/``: the unified OKR data for scripts and other tools (issue #9).

Why django-ninja rather than Django REST framework: the typed pydantic schemas in
``schemas.py`` and ``params.py`` are the single source of both validation and the OpenAPI
document (``/api/v1/openapi.json``) with browsable docs (``/api/v1/docs``) for free; its
function-style views match the function views used everywhere else in this project; and it is
far lighter than DRF (no serializers/viewsets/routers layer) for an API that is read-mostly.

Layout: ``auth`` (Bearer token or session + CSRF, rate limit), ``params`` (filters, pagination),
``errors`` (JSON errors with a message), ``schemas`` (the response contract), ``okrs`` and
``sync`` (the endpoints). Visibility comes from ``dashboard.okrs.selectors`` only.
"""

from __future__ import annotations

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
