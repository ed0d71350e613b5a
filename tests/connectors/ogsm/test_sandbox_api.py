"""The OGSM sandbox itself, spoken to with a plain HTTP client: what any client would meet."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from connectors.ogsm.sandbox import build

from .conftest import Served

REPO = Path(__file__).resolve().parents[3]


def test_no_or_wrong_credentials_are_401_with_a_basic_challenge(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    with served.raw_client(None) as client:
        response = client.get("/api/v2/actions.json")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert response.json() == {"error": "Invalid username or password"}
        assert client.get("/api/v2/actions.json", auth=("api-acme", "nope")).status_code == 401
        assert client.get("/api/v2/objectives.json", headers={"Authorization": "Basic !!notbase64"}).status_code == 401


def test_a_form_encoded_body_is_refused_clearly(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    count = len(served.state.actions)
    with served.raw_client() as client:
        response = client.post("/api/v2/actions.json", data={"title": "From a form", "ogsm_canvases": "701"})
        assert response.status_code == 415
        assert "application/json" in response.json()["error"]
        assert "application/x-www-form-urlencoded" in response.json()["error"]
        patch = client.patch("/api/v2/actions/1003.json", content=b"progress=5", headers={"Content-Type": "text/plain"})
        assert patch.status_code == 415
    assert len(served.state.actions) == count and served.state.actions[1003]["progress"] != 5


def test_a_json_body_that_does_not_parse_or_is_not_an_object_is_400(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    with served.raw_client() as client:
        broken = client.post("/api/v2/actions.json", content=b'{"title": ', headers={"Content-Type": "application/json"})
        assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]
        array = client.post("/api/v2/actions.json", json=[{"title": "x"}])
        assert array.status_code == 400 and "JSON object" in array.json()["error"]


def test_validation_errors_are_rails_style_422(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    with served.raw_client() as client:
        response = client.post(
            "/api/v2/actions.json",
            json={"title": "", "progress": -1, "start": "2026-13-01", "traffic_light": "blue", "ogsm_canvases": [{"id": 1}]},
        )
    assert response.status_code == 422
    errors = response.json()
    assert errors["title"] == ["can't be blank"]
    assert errors["progress"] == ["must be between 0 and 100"]
    assert errors["start"] == ["is not a valid date (use YYYY-MM-DD)"]
    assert errors["traffic_light"][0].startswith("is not included in the list")
    assert errors["ogsm_canvases"] == ["contains unknown canvas ids: 1"]


def test_create_ignores_a_given_id_and_answers_201_with_the_whole_action(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    with served.raw_client() as client:
        response = client.post(
            "/api/v2/actions.json", json={"id": 1, "title": "Mine", "ogsm_canvases": [{"id": 702}], "unknown": "ignored"}
        )
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == 1031 and body["title"] == "Mine" and body["status"] == {"name": "icebox"}
    assert set(body) == {
        "id",
        "title",
        "labels",
        "strategies",
        "description",
        "assignee",
        "involved",
        "start",
        "due",
        "status",
        "ogsm_canvases",
        "traffic_light",
        "progress",
        "archived",
    }
    assert served.state.actions[1031] == body and 1 not in served.state.actions


def test_objectives_and_goals_exist_on_acme_only_and_are_read_only(ogsm: Callable[..., Served]) -> None:
    acme, legacy = ogsm(tenant="acme"), ogsm(tenant="legacy")
    with acme.raw_client() as client:
        objectives = client.get("/api/v2/objectives.json")
        assert objectives.status_code == 200 and len(objectives.json()) == 3
        assert client.get("/api/v2/goals.json").status_code == 200
        assert client.post("/api/v2/goals.json", json={"title": "x"}).status_code == 405
    with legacy.raw_client() as client:
        for path in ("/api/v2/objectives.json", "/api/v2/goals.json"):
            response = client.get(path)
            assert (response.status_code, response.json()) == (404, {"error": "Not found"})


def test_single_action_and_unknown_paths(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    with served.raw_client() as client:
        assert client.get("/api/v2/actions/1001.json").json()["ogsm_canvases"] == [{"id": 701, "row_order": 1}, {"id": 702, "row_order": 7}]
        assert client.get("/api/v2/actions/abc.json").status_code == 404
        assert client.get("/api/v2/strategies.json").status_code == 404
        assert client.put("/api/v2/actions/1001.json", json={}).status_code == 405


def test_data_is_seeded_deterministically_and_sized() -> None:
    assert build(seed=3).state.actions == build(seed=3).state.actions
    assert build(seed=3).state.actions != build(seed=4).state.actions
    large = build(size="large").state
    assert (len(large.canvases), len(large.actions), len(large.objectives or {}), len(large.goals or {})) == (500, 5000, 500, 1500)
    custom = build(size=4, actions_per_canvas=2, goals_per_canvas=1, tenant="legacy").state
    assert (len(custom.actions), custom.objectives, custom.goals) == (8, None, None)


def test_bad_build_options_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="unknown OGSM sandbox tenant 'nope'"):
        build(tenant="nope")
    with pytest.raises(ValueError, match="unknown OGSM sandbox option"):
        build(colour="red")
    with pytest.raises(ValueError, match="size"):
        build(size="huge")


def test_the_manage_py_sandbox_command_serves_ogsm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--vendor", "ogsm", "--port", "0", "--size", "2", "--seed", "5", "--tenant", "legacy"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        assert ready[:2] == ["READY", "ogsm"], ready
        credentials = [process.stdout.readline(), process.stdout.readline()]
        assert "username=api-legacy" in credentials[0] and "password=legacy-api-secret-5" in credentials[0]
        assert "username=member" in credentials[1]
        auth = ("api-legacy", "legacy-api-secret-5")
        response = httpx.get(ready[2] + "/api/v2/actions.json", auth=auth, timeout=5)
        assert response.status_code == 200 and len(response.json()) == 20
        assert httpx.get(ready[2] + "/api/v2/objectives.json", auth=auth, timeout=5).status_code == 404
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_sandbox_command_refuses_an_unknown_tenant() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "sandbox", "--vendor", "ogsm", "--tenant", "nope"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "unknown OGSM sandbox tenant 'nope'" in result.stderr
