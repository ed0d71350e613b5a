"""Pace in the read API (issue #18): ``pace`` on goals and key results, and ``pace=behind``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import World, api_get, ids
from tests.factories import GoalFactory, KeyResultFactory, see


@pytest.fixture
def behind(world: World) -> dict[str, object]:
    """Halfway through a 100-day timeframe at 20 % (30 points behind), with a key result at 5 %."""
    today = timezone.localdate()
    timeframe = {"start_date": today - timedelta(days=50), "due_date": today + timedelta(days=50)}
    goal = GoalFactory(connector=world.north, title="Open Nordics", progress=20.0, external_id="g-pace", **timeframe)
    kr = KeyResultFactory(connector=world.north, goal=goal, title="Ten clients", progress=5.0, external_id="kr-pace", **timeframe)
    see(world.cred_a, goal, kr)
    return {"goal": goal, "kr": kr}


def test_goals_and_key_results_carry_pace(world: World, behind: dict[str, object]) -> None:
    response = api_get(world.alice_token, "goals", limit=100)
    assert response.status_code == 200
    by_id = {g["id"]: g for g in response.json()["results"]}
    goal = by_id[behind["goal"].pk]  # type: ignore[attr-defined]
    assert goal["pace"] == {"expected": 50.0, "behind_by": 30, "is_behind": True}
    assert goal["key_results"][0]["pace"] == {"expected": 50.0, "behind_by": 45, "is_behind": True}
    root = by_id[world.g_root.pk]  # 30 of 90 days gone, at 40 %: ahead of pace
    assert root["pace"] == {"expected": pytest.approx(33.3), "behind_by": 0, "is_behind": False}
    assert by_id[world.g_both.pk]["pace"] is None  # no progress, no timeframe
    assert by_id[world.g_child.pk]["pace"] is None  # a due date but no start date
    detail = api_get(world.alice_token, f"goals/{behind['goal'].pk}")  # type: ignore[attr-defined]
    assert detail.status_code == 200 and detail.json()["pace"]["behind_by"] == 30
    krs = api_get(world.alice_token, "key-results", limit=100)
    assert {k["id"]: k["pace"] for k in krs.json()["results"]}[world.kr_root.pk] is None  # no timeframe


def test_pace_behind_filters_goals_and_key_results(world: World, behind: dict[str, object]) -> None:
    assert ids(api_get(world.alice_token, "goals", pace="behind")) == {behind["goal"].pk}  # type: ignore[attr-defined]
    assert ids(api_get(world.alice_token, "key-results", pace="behind")) == {behind["kr"].pk}  # type: ignore[attr-defined]
    assert ids(api_get(world.bob_token, "goals", pace="behind")) == set()  # Bob cannot see it
    bad = api_get(world.alice_token, "goals", pace="ahead")
    assert bad.status_code == 400
    assert bad.json()["parameter"] == "pace" and bad.json()["allowed"] == ["behind"]
