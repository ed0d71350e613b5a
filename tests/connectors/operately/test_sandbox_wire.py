"""The sandbox speaks Operately's wire contract (CONTRACT.md §1-§3, §11) over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

API = "/api/external/v1/"


@pytest.fixture(params=["2026-03", "2026-08"])
def wire(request: pytest.FixtureRequest, sandbox_factory: Callable[..., Any]) -> tuple[Any, httpx.Client, str]:
    sandbox, server = sandbox_factory("operately", seed=1, size="small", profile=request.param)
    client = httpx.Client(base_url=server.url + API, timeout=5)
    request.addfinalizer(client.close)
    return sandbox, client, request.param


def auth(sandbox: Any, index: int = 0) -> dict[str, str]:
    return {"Authorization": f"Bearer {sandbox.credentials[index].secret['token']}"}


NAMES = {
    "2026-03": {"me": "get_me", "goals": "get_goals", "check_in": "post_goal_progress_update", "goal": "get_goal"},
    "2026-08": {"me": "people/get_me", "goals": "goals/list", "check_in": "goals/create_check_in", "goal": "goals/get"},
}


def test_tokens_have_the_opk_format(wire: tuple[Any, httpx.Client, str]) -> None:
    sandbox, _, _ = wire
    for cred in sandbox.credentials:
        assert cred.secret["token"].startswith("opk_") and len(cred.secret["token"]) == 47


def test_plain_text_errors_and_check_order(wire: tuple[Any, httpx.Client, str]) -> None:
    sandbox, client, profile = wire
    n = NAMES[profile]
    r = client.get(n["me"])
    assert (r.status_code, r.text, r.headers.get("content-type")) == (401, "Unauthorized", None)
    assert client.get(n["me"], headers={"Authorization": "bearer " + sandbox.credentials[0].secret["token"]}).status_code == 401
    assert client.get(n["me"], headers={"Authorization": sandbox.credentials[0].secret["token"]}).status_code == 200  # bare token
    r = client.get(n["check_in"], headers=auth(sandbox))
    assert (r.status_code, r.text) == (404, "Query not found")
    r = client.post(n["goals"], json={}, headers=auth(sandbox))
    assert (r.status_code, r.text) == (404, "Mutation not found")
    r = client.put(n["me"], headers=auth(sandbox))
    assert (r.status_code, r.text) == (405, "Method Not Allowed")
    r = client.get("a/b/c", headers=auth(sandbox))
    assert (r.status_code, r.text) == (400, "Invalid query name: a/b/c")
    # input parsing runs before authentication: no token, still a 400 for an unknown field
    r = client.get(n["goals"], params={"bogus": "1"})
    assert r.status_code == 400 and r.json() == {"error": "Bad request", "message": "Unknown input field: bogus"}
    r = client.get(n["goals"], params={"include_space": "yes"}, headers=auth(sandbox))
    assert r.status_code == 400 and r.json()["message"] == "Unknown input type: boolean"
    r = client.get(n["goal"], params={"id": "slug-not*an*id"}, headers=auth(sandbox))
    assert r.status_code == 404 and r.json()["error"] == "Not found"
    # read-only 403 (plain text) comes before the required-field check; full tokens get the 400
    r = client.post(n["check_in"], json={}, headers=auth(sandbox, 1))
    assert (r.status_code, r.text) == (403, "Read-only API tokens cannot execute mutations")
    r = client.post(n["check_in"], json={}, headers=auth(sandbox, 0))
    assert r.status_code == 400 and r.headers["content-type"] == "application/json"
    assert r.json()["message"].startswith("Missing required fields: goal_id")
    r = client.post(n["check_in"], content=b"{not json", headers={**auth(sandbox), "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json() == {"errors": {"detail": "Bad Request"}}


def test_profiles_serve_only_their_own_names(wire: tuple[Any, httpx.Client, str]) -> None:
    sandbox, client, profile = wire
    other = "2026-08" if profile == "2026-03" else "2026-03"
    assert client.get(NAMES[profile]["me"], headers=auth(sandbox)).status_code == 200
    r = client.get(NAMES[other]["me"], headers=auth(sandbox))
    assert (r.status_code, r.text) == (404, "Query not found")


def test_ids_slugs_rich_text_and_derived_fields(wire: tuple[Any, httpx.Client, str]) -> None:
    sandbox, client, profile = wire
    goals = client.get(NAMES[profile]["goals"], params={"include_last_check_in": "true"}, headers=auth(sandbox)).json()["goals"]
    st = sandbox.state
    for goal in goals:
        short = goal["id"].rsplit("-", 1)[1]
        assert 19 <= len(short) <= 22
        model = next(g for g in st.goals.values() if g.name == goal["name"])
        assert goal["status"] == st.goal_status(model) and goal["is_outdated"] == st.goal_is_outdated(model)
        assert isinstance(goal["description"], str) and json.loads(goal["description"])["type"] == "doc"
        if goal["last_check_in"]:
            for change in goal["last_check_in"]["goal_target_updates"]:
                assert len(change["id"]) == 36  # raw UUIDs leak here
        if not goal["targets"] and not goal["checklist"]:
            assert goal["progress_percentage"] == 0
    statuses = {g["status"] for g in goals}
    assert {"on_track", "caution", "off_track", "pending", "outdated", "achieved", "missed"} <= statuses
    work_map = client.get("get_flat_work_map" if profile == "2026-03" else "companies/get_flat_work_map", headers=auth(sandbox)).json()[
        "work_map"
    ]
    children = [i for i in work_map if i["parent_id"]]
    assert children and all(len(i["parent_id"]) == 36 for i in children)
    projects = client.get("get_projects" if profile == "2026-03" else "projects/list", headers=auth(sandbox)).json()["projects"]
    assert any(p["success_status"] == "nil" for p in projects if p["state"] != "closed")
    company = client.get("get_companies" if profile == "2026-03" else "companies/list", headers=auth(sandbox)).json()["companies"][0]
    assert company["id"] == "acme-rocket-works-0baa"


def test_catalogue_validation_differs_by_profile(wire: tuple[Any, httpx.Client, str]) -> None:
    sandbox, client, profile = wire
    goal = next(g for g in sandbox.state.goals.values() if g.targets and g.closed_at is None and g.company_access_level)
    from connectors.operately.ids import uuid_to_short

    body: dict[str, Any] = {"goal_id": uuid_to_short(goal.uuid), "status": "great", "content": "{}", "new_target_values": "[]"}
    if profile == "2026-03":
        body.update(due_date=None, checklist=[])
    r = client.post(NAMES[profile]["check_in"], json=body, headers=auth(sandbox))
    if profile == "2026-03":
        assert r.status_code == 500  # status is a plain string there; the operation fails
    else:
        assert r.status_code == 400 and "Invalid value for enum goal_check_in_status" in r.json()["message"]
    r = client.post(NAMES[profile]["check_in"], json={**body, "status": "on_track", "content": {"type": "doc"}}, headers=auth(sandbox))
    assert r.status_code == 500  # rich text must be a JSON string


def test_size_knob_scales_per_space() -> None:
    from connectors.operately.sandbox import build

    small, bigger = build(size=2).state, build(size=20).state
    assert len(bigger.spaces) == 21 and len(bigger.goals) == 200 and len(bigger.projects) == 80
    assert len(bigger.goals) == 10 * len(small.goals)
    assert sum(len(g.targets) for g in bigger.goals.values()) >= 2.5 * len(bigger.goals)
    with pytest.raises(ValueError, match="profile"):
        build(profile="2027-01")
