"""The read API, ``/api/v1/``: the unified OKR data for scripts and other tools (issue #9).

Why django-ninja rather than Django REST framework: the typed pydantic schemas in
``schemas.py`` and ``params.py`` are the single source of both validation and the OpenAPI
document (``/api/v1/openapi.json``) with browsable docs (``/api/v1/docs``) for free; its
function-style views match the function views used everywhere else in this project; and it is
far lighter than DRF (no serializers/viewsets/routers layer) for an API that is read-mostly.

Layout: ``auth`` (Bearer token or session + CSRF, rate limit), ``params`` (filters, pagination),
``errors`` (JSON errors with a message), ``schemas`` (the response contract), ``okrs`` and
``sync`` (the endpoints). Visibility comes from ``dashboard.okrs.selectors`` only. The API
itself (one NinjaAPI with the routers of okrs, sync, alignment and people) is put together in
``dashboard/api.py``, above the apps, so no app's router imports another app's package.
"""
