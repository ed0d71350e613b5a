"""Error shapes: JSON with a message; 400 names the parameter and its allowed values."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.conftest import World, api_get

ALLOWED = {
    "vendor": ["north", "operately", "ogsm"],
    "health": ["on_track", "needs_attention", "off_track", "unknown"],
    "state": ["not_started", "active", "paused", "done", "archived"],
    "kind": ["initiative", "project", "milestone", "task", "action"],
    "stale": ["true", "false"],
    "overdue": ["true", "false"],
    "archived": ["true", "false"],
    "status": ["queued", "running", "succeeded", "partial", "failed", "skipped"],
}


@pytest.mark.parametrize(
    ("path", "parameter", "value"),
    [
        ("goals", "health", "green"),
        ("goals", "state", "open"),
        ("goals", "vendor", "jira"),
        ("goals", "stale", "maybe"),
        ("goals", "overdue", "2"),
        ("teams", "vendor", "asana"),
        ("teams", "archived", "perhaps"),
        ("key-results", "health", "red"),
        ("work-items", "kind", "epic"),
        ("work-items", "state", "closed"),
        ("sync-runs", "status", "exploded"),
    ],
)
def test_a_bad_enum_value_names_the_parameter_and_the_allowed_values(world: World, path: str, parameter: str, value: str) -> None:
    response = api_get(world.alice_token, path, **{parameter: value})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and body["parameter"] == parameter and body["allowed"] == ALLOWED[parameter]
    assert body["message"] == f"Invalid value '{value}' for '{parameter}'. Allowed values: {', '.join(ALLOWED[parameter])}."


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        ("limit", "0", "an integer from 1 to 500"),
        ("limit", "501", "an integer from 1 to 500"),
        ("limit", "ten", "an integer from 1 to 500"),
        ("offset", "-1", "an integer from 0 to 10000000"),
        ("team", "abc", "a team id from /api/v1/teams"),
        ("team", "99999999999999999999999", "a team id from /api/v1/teams"),
    ],
)
def test_a_bad_number_names_the_parameter_and_the_expected_range(world: World, parameter: str, value: str, expected: str) -> None:
    response = api_get(world.alice_token, "goals", **{parameter: value})
    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == parameter
    assert body["message"].startswith(f"Invalid value '{value}' for '{parameter}'") and expected in body["message"]


def test_nul_characters_are_a_400_not_a_database_error(world: World) -> None:
    response = api_get(world.alice_token, "goals", q="abc\x00def")
    assert response.status_code == 400
    assert response.json()["parameter"] == "q" and "NUL" in response.json()["message"]


@pytest.mark.parametrize("goal_id", ["abc", "0", "99999999999999999999999", "123456789"])
def test_goal_ids_that_match_nothing_are_404(world: World, goal_id: str) -> None:
    response = api_get(world.alice_token, f"goals/{goal_id}")
    assert response.status_code == 404
    assert response.json()["status"] == 404 and "not found" in response.json()["message"].lower()


def test_unknown_endpoints_are_json_404_even_without_auth(world: World) -> None:
    response = Client().get("/api/v1/objectives")
    assert response.status_code == 404
    assert response.json() == {"message": "No API endpoint at /api/v1/objectives; see /api/v1/docs for the list.", "status": 404}


def test_wrong_method_is_405(world: World) -> None:
    response = Client().delete("/api/v1/goals", headers={"Authorization": f"Bearer {world.alice_token}"})
    assert response.status_code == 405
