"""The OpenAPI document, the browsable docs (served from our own static files), and a
property-based schemathesis run over every operation that must find no server error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from tests.api.conftest import World

PATHS = {
    "/api/v1/teams": {"get"},
    "/api/v1/goals": {"get"},
    "/api/v1/goals/{goal_id}": {"get"},
    "/api/v1/key-results": {"get"},
    "/api/v1/work-items": {"get"},
    "/api/v1/work-items/{item_id}": {"get"},
    "/api/v1/people": {"get"},
    "/api/v1/identities": {"get"},
    "/api/v1/identities/{identity_id}": {"get"},
    "/api/v1/sync-runs": {"get"},
    "/api/v1/sync": {"post"},
    "/api/v1/alignments": {"get"},
}


def test_openapi_document_describes_every_endpoint_and_filter(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")  # public: scripts and tools read it without a token
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.") and document["info"]["title"] == "OKR Hub API"
    assert {path: set(ops) for path, ops in document["paths"].items()} == PATHS
    goal_params = {p["name"] for p in document["paths"]["/api/v1/goals"]["get"]["parameters"]}
    assert {
        "limit",
        "offset",
        "vendor",
        "connector",
        "team",
        "owner",
        "person",
        "health",
        "state",
        "stale",
        "overdue",
        "q",
        "pace",
    } <= goal_params
    work_params = {p["name"] for p in document["paths"]["/api/v1/work-items"]["get"]["parameters"]}
    assert {"limit", "offset", "vendor", "connector", "team", "owner", "health", "state", "overdue", "stale", "q", "kind"} <= work_params
    schemas = document["components"]["schemas"]
    assert schemas["Health"]["enum"] == ["on_track", "needs_attention", "off_track", "unknown"]
    assert set(schemas["GoalPage"]["properties"]) == {"count", "next", "previous", "results"}
    assert {"check_ins", "history", "key_results", "is_stale"} <= set(schemas["GoalDetailOut"]["properties"])
    assert set(schemas["PaceOut"]["properties"]) == {"expected", "behind_by", "is_behind"}
    assert "pace" in schemas["GoalOut"]["properties"] and "pace" in schemas["KeyResultOut"]["properties"]
    assert set(schemas["HealthCounts"]["properties"]) == {"goals", "on_track", "needs_attention", "off_track", "unknown"}
    security = document["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in security.values())


def test_docs_page_uses_local_assets_only(db: None) -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "/static/ninja/swagger-ui.css" in html
    assert "cdn" not in html.lower() and "https://" not in html
    # The referenced files are found by the staticfiles finders, so collectstatic ships them.
    for asset in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui.css", "ninja/swagger-ui-init.js"):
        assert finders.find(asset), asset
    assert '"/api/v1/openapi.json"' in html


@pytest.fixture
def api_schema(world: World) -> Iterator[Any]:
    """The schema loaded from the real WSGI application (the same one gunicorn serves).

    Django closes the database connection as a request starts and finishes; inside a test that would
    close the test's transaction, so (like Django's own test client) keep it open meanwhile.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [not_a_server_error, content_type_conformance]  # invalid input: any documented 4xx is fine


def _fuzz(operation: Any, mode: GenerationMode, checks: list[Any], headers: dict[str, str], examples: int) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=examples,  # bounded: 8 operations x (15 + 10) requests stays well under a minute
        deadline=None,
        derandomize=True,  # the same examples on every run, so a CI failure reproduces locally
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks, headers=headers)

    run()


def test_schemathesis_finds_no_server_error(world: World, api_schema: Any, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 0  # hundreds of generated requests; the limit has its own tests
    headers = {"Authorization": f"Bearer {world.alice_token}"}
    exercised = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        exercised.append(operation.label)
        _fuzz(operation, GenerationMode.POSITIVE, POSITIVE_CHECKS, headers, examples=15)
        _fuzz(operation, GenerationMode.NEGATIVE, NEGATIVE_CHECKS, headers, examples=10)
    assert len(exercised) == len(PATHS)
