"""Every endpoint: the contract fields, real values, and visibility through two users' tokens."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import World, api_get, ids
from tests.factories import GoalFactory, KeyResultFactory, TeamFactory, WorkItemFactory, see

TEAM_FIELDS = {"id", "vendor", "connector", "external_id", "name", "parent_id", "parent_external_id", "archived", "progress", "counts"}
GOAL_FIELDS = {
    "id",
    "vendor",
    "connector",
    "external_id",
    "title",
    "team",
    "parent",
    "owners",
    "health",
    "vendor_status",
    "state",
    "outcome",
    "progress",
    "is_stale",
    "last_check_in_at",
    "start_date",
    "due_date",
    "url",
    "key_results",
}
KR_FIELDS = {
    "id",
    "external_id",
    "goal_id",
    "goal_external_id",
    "title",
    "owners",
    "health",
    "vendor_status",
    "progress",
    "start",
    "target",
    "current",
    "unit",
}
WORK_ITEM_FIELDS = {
    "id",
    "vendor",
    "connector",
    "external_id",
    "kind",
    "title",
    "team",
    "goal",
    "owners",
    "health",
    "vendor_status",
    "state",
    "progress",
    "start_date",
    "due_date",
    "is_overdue",
    "url",
}


def test_teams_roll_up_the_visible_subtree_in_sql(world: World) -> None:
    response = api_get(world.alice_token, "teams")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    by_id = {t["id"]: t for t in body["results"]}
    root, child = by_id[world.root.pk], by_id[world.child.pk]
    assert set(root) >= TEAM_FIELDS
    assert root["vendor"] == "north" and root["connector"] == "North HQ" and root["external_id"] == "t-root"
    assert root["parent_id"] is None and root["parent_external_id"] is None and root["archived"] is False
    # Root covers its own goal and the child's; Bob's goal filed under the child team is not counted.
    assert root["counts"] == {"goals": 2, "on_track": 1, "needs_attention": 0, "off_track": 1, "unknown": 0}
    assert root["progress"] == pytest.approx(60.0)
    assert child["parent_id"] == world.root.pk and child["parent_external_id"] == "t-root"
    assert child["counts"] == {"goals": 1, "on_track": 0, "needs_attention": 0, "off_track": 1, "unknown": 0}
    assert child["progress"] == pytest.approx(80.0)


def test_bob_sees_his_own_roll_up_including_the_goal_alice_cannot_see(world: World) -> None:
    body = api_get(world.bob_token, "teams").json()
    assert {t["id"] for t in body["results"]} == {world.ops_team.pk}
    assert body["results"][0]["counts"]["goals"] == 1
    assert body["results"][0]["progress"] == pytest.approx(10.0)


def test_goals_list_fields_and_nested_key_results(world: World) -> None:
    body = api_get(world.alice_token, "goals").json()
    assert body["count"] == 3
    goal = next(g for g in body["results"] if g["id"] == world.g_root.pk)
    assert set(goal) >= GOAL_FIELDS
    assert goal["team"] == {"id": world.root.pk, "external_id": "t-root", "name": "Company"}
    assert goal["parent"] is None
    assert goal["owners"] == ["Ann Lee", "Bo Chen"]
    assert (goal["health"], goal["vendor_status"], goal["state"], goal["outcome"]) == ("on_track", "on-track", "active", None)
    assert goal["progress"] == 40.0 and goal["is_stale"] is False and goal["url"] == "https://north.example/goals/1"
    assert goal["start_date"] == world.g_root.start_date.isoformat() and goal["due_date"] == world.g_root.due_date.isoformat()
    assert goal["last_check_in_at"] is not None
    [kr] = goal["key_results"]
    assert set(kr) >= KR_FIELDS
    assert kr["id"] == world.kr_root.pk and kr["goal_id"] == world.g_root.pk and kr["goal_external_id"] == "g-root"
    assert (kr["start"], kr["target"], kr["current"], kr["unit"]) == (0.0, 10.0, 4.0, "M EUR")

    child = next(g for g in body["results"] if g["id"] == world.g_child.pk)
    assert child["parent"] == {"id": world.g_root.pk, "external_id": "g-root"}
    assert child["is_stale"] is True and child["is_overdue"] is True
    unteamed = next(g for g in body["results"] if g["id"] == world.g_both.pk)
    assert unteamed["team"] is None and unteamed["progress"] is None and unteamed["url"] is None


def test_goal_detail_adds_check_ins_and_history(world: World) -> None:
    response = api_get(world.alice_token, f"goals/{world.g_root.pk}")
    assert response.status_code == 200
    goal = response.json()
    assert set(goal) >= GOAL_FIELDS
    assert [c["external_id"] for c in goal["check_ins"]] == ["ci-kr", "ci-2", "ci-1"]  # newest first, KR check-ins included
    assert goal["check_ins"][0]["key_result_id"] == world.kr_root.pk and goal["check_ins"][0]["value"] == 4.0
    assert goal["check_ins"][1]["comment"] == "Still fine" and goal["check_ins"][1]["author"] == "Ann Lee"
    assert [(s["progress"], s["health"]) for s in goal["history"]] == [(30.0, "on_track"), (40.0, "on_track")]


def test_goal_detail_is_404_for_a_goal_the_token_cannot_see(world: World) -> None:
    hidden = api_get(world.alice_token, f"goals/{world.g_bob.pk}")
    missing = api_get(world.alice_token, "goals/99999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["message"] == f"Goal {world.g_bob.pk} not found."
    assert api_get(world.bob_token, f"goals/{world.g_bob.pk}").status_code == 200
    assert api_get(world.bob_token, f"goals/{world.g_both.pk}").status_code == 200


def test_key_results_endpoint(world: World) -> None:
    body = api_get(world.alice_token, "key-results").json()
    [kr] = body["results"]
    assert set(kr) >= KR_FIELDS
    assert kr["title"] == "ARR 10M" and kr["owners"] == ["Ann Lee"] and kr["health"] == "on_track" and kr["progress"] == 40.0


def test_work_items_endpoint(world: World) -> None:
    body = api_get(world.alice_token, "work-items").json()
    [item] = body["results"]
    assert set(item) >= WORK_ITEM_FIELDS
    assert item["kind"] == "initiative" and item["connector"] == "North HQ"
    assert item["team"] == {"id": world.child.pk, "external_id": "t-child", "name": "Growth"}
    assert item["goal"] == {"id": world.g_child.pk, "external_id": "g-child"}
    assert item["is_overdue"] is True and item["owners"] == ["Bo Chen"]


def test_people_endpoint(world: World) -> None:
    body = api_get(world.alice_token, "people").json()
    assert body["results"] == [
        {
            "id": world.person_a.pk,
            "vendor": "north",
            "connector": "North HQ",
            "external_id": "p-1",
            "name": "Ann Lee",
            "email": "ann@example.com",
        }
    ]


@pytest.mark.parametrize(
    ("path", "alice_items", "bob_items"),
    [
        ("teams", ["root", "child"], ["ops_team"]),
        ("goals", ["g_root", "g_child", "g_both"], ["g_bob", "g_both", "g_hidden_in_child"]),
        ("key-results", ["kr_root"], ["kr_bob"]),
        ("work-items", ["wi_alice"], ["wi_bob"]),
        ("people", ["person_a"], ["person_b"]),
    ],
)
def test_each_token_sees_exactly_what_its_user_sees(world: World, path: str, alice_items: list[str], bob_items: list[str]) -> None:
    assert ids(api_get(world.alice_token, path)) == {getattr(world, name).pk for name in alice_items}
    assert ids(api_get(world.bob_token, path)) == {getattr(world, name).pk for name in bob_items}


def test_links_to_items_the_caller_cannot_see_are_null(world: World) -> None:
    # Alice's goal under Bob's team, with Bob's goal as parent: neither may leak through the link.
    goal = GoalFactory(connector=world.north, team=world.ops_team, parent=world.g_bob, external_id="g-odd")
    see(world.cred_a, goal)
    row = next(g for g in api_get(world.alice_token, "goals").json()["results"] if g["id"] == goal.pk)
    assert row["team"] is None and row["parent"] is None


def test_removing_a_credential_removes_its_items_from_the_api_at_once(world: World) -> None:
    world.cred_b.delete()
    assert ids(api_get(world.bob_token, "goals")) == set()
    assert api_get(world.bob_token, f"goals/{world.g_both.pk}").status_code == 404


@pytest.mark.parametrize("path", ["goals", "key-results", "work-items", "teams"])
def test_query_count_does_not_grow_with_page_size(world: World, path: str) -> None:
    existing = api_get(world.alice_token, path).json()["count"]
    for n in range(6):
        # Every extra row has all its links (team, parent, key result, goal), so pages differ in size only.
        goal = GoalFactory(connector=world.north, team=world.child, parent=world.g_root, external_id=f"extra-{n}")
        kr = KeyResultFactory(connector=world.north, goal=goal, external_id=f"extra-kr-{n}")
        item = WorkItemFactory(connector=world.north, goal=goal, external_id=f"extra-w-{n}")
        item.teams.add(world.child)
        team = TeamFactory(connector=world.north, parent=world.root, external_id=f"extra-t-{n}")
        see(world.cred_a, goal, kr, item, team)

    def queries(limit: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = api_get(world.alice_token, path, limit=limit, offset=existing)
        assert response.status_code == 200
        assert len(response.json()["results"]) == limit
        return len(ctx.captured_queries)

    assert queries(1) == queries(6)
