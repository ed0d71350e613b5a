"""The North sandbox speaks the published API: lists, every filter, NQL, scopes, visibility,
memberships and events, checked over real HTTP against its in-memory state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.connectors.north.conftest import BEN, FULL, NO_OKRS, NO_ORG, North

ORG = "/api/orgs/1"


def ids(body: list[dict[str, Any]]) -> list[int]:
    return sorted(item["id"] for item in body)


def owns(item: dict[str, Any], user_id: int, *, primary: bool = False) -> bool:
    return any(o["user_id"] == user_id and (o["is_primary"] or not primary) for o in item["owners"])


def test_every_endpoint_answers_with_the_documented_shapes(north: North) -> None:
    api = north.api()
    me = api.get("/api/user/").json()
    assert me["first_name"] == "Alyssa" and me["otype"] == "user" and "has_saved_profile" in me
    other = api.get("/api/users/3/").json()
    assert set(other) == {"first_name", "id", "last_name", "otype", "photo_id"}
    assert api.get("/api/orgs/").json()[0]["root_team_id"] == 1
    assert api.get(f"{ORG}/").json()["feature_summary"] == {"allow_tasks": True}
    teams = api.get(f"{ORG}/teams/").json()
    assert [t["id"] for t in teams if t["parent_id"] is None] == [1]
    assert api.get(f"{ORG}/teams/2/").json()["parent_id"] == 1
    members = api.get(f"{ORG}/teams/1/memberships/").json()
    assert all("@" in m["user"]["email"] and m["user_id"] == m["user"]["id"] for m in members)
    assert api.get(f"{ORG}/teams/1/memberships/2/").json()["type"] == "owner"
    for path in ("goals", "key_results", "initiatives"):
        listed = api.get(f"{ORG}/{path}/").json()
        assert len(listed) == 30 * (3 if path == "key_results" else 1)
        detail = api.get(f"{ORG}/{path}/{listed[0]['id']}/").json()
        assert detail == listed[0]
        events = api.get(f"{ORG}/{path}/{listed[0]['id']}/events/").json()
        stamps = [e["created_at"] for e in events]
        assert stamps == sorted(stamps, reverse=True)  # newest first
    assert api.get("/api/user").status_code == 404  # every path ends in "/"
    assert api.post("/api/user/").status_code == 405
    assert api.get(f"{ORG}/goals/99999/").json() == {"detail": "Not found."}


def test_page_objects_follow_next_links_to_the_same_items(north_factory: Callable[..., North]) -> None:
    # One org served both ways: two sandboxes seeded a second apart would differ in every timestamp.
    paged = north_factory(page_size=7)
    api = paged.api()
    paged.state.page_size = None
    everything = api.get(f"{ORG}/goals/", params={"team_id": 1}).json()
    assert isinstance(everything, list)
    paged.state.page_size = 7
    first = api.get(f"{ORG}/goals/", params={"team_id": 1}).json()
    assert first["count"] == len(everything) and first["previous"] is None and len(first["results"]) == 7
    collected, url, pages = list(first["results"]), first["next"], 1
    while url:
        assert "team_id=1" in url  # filters survive in the links
        page = api.get(url).json()
        assert page["previous"]
        collected += page["results"]
        url, pages = page["next"], pages + 1
    assert pages == -(-len(everything) // 7)
    assert collected == everything
    assert api.get(f"{ORG}/goals/", params={"page": 99}).status_code == 404


def test_goal_filters(north_factory: Callable[..., North]) -> None:
    north = north_factory(size=8)
    api, state = north.api(), north.state
    goals = list(state.goals.values())
    krs_of = {g["id"]: [state.key_results[k] for k in state.krs_by_goal[g["id"]]] for g in goals}
    user = 4

    def expect(pred: Callable[[dict[str, Any]], bool]) -> list[int]:
        visible = state.visible_team_ids(2)
        return sorted(g["id"] for g in goals if g["team_id"] in visible and pred(g))

    cases = {
        "team_id": (3, lambda g: g["team_id"] == 3),
        "owner_id": (user, lambda g: owns(g, user) or any(owns(k, user) for k in krs_of[g["id"]])),
        "primary_owner_id": (user, lambda g: owns(g, user, primary=True) or any(owns(k, user, primary=True) for k in krs_of[g["id"]])),
        "goal_owner_id": (user, lambda g: owns(g, user)),
        "primary_goal_owner_id": (user, lambda g: owns(g, user, primary=True)),
        "kr_owner_id": (user, lambda g: any(owns(k, user) for k in krs_of[g["id"]])),
        "primary_kr_owner_id": (user, lambda g: any(owns(k, user, primary=True) for k in krs_of[g["id"]])),
        "is_archived": ("true", lambda g: g["is_archived"]),
        "parent_id": (next(g["parent_id"] for g in goals if g["parent_id"]), None),
    }
    parent = cases["parent_id"][0]
    cases["parent_id"] = (parent, lambda g: g["parent_id"] == parent)
    for name, (value, pred) in cases.items():
        got = ids(api.get(f"{ORG}/goals/", params={name: value}).json())
        assert got == expect(pred), name
        assert 0 < len(got) < len(goals), f"{name} must select a proper subset to prove anything"
    assert ids(api.get(f"{ORG}/goals/", params={"is_archived": "false"}).json()) == expect(lambda g: not g["is_archived"])
    assert api.get(f"{ORG}/goals/", params={"team_id": "x"}).json() == {"team_id": ["A valid integer is required."]}
    assert api.get(f"{ORG}/goals/", params={"is_archived": "maybe"}).status_code == 400


def test_key_result_and_initiative_filters(north_factory: Callable[..., North]) -> None:
    north = north_factory(size=8)
    api, state = north.api(), north.state
    krs, inits, goals = list(state.key_results.values()), list(state.initiatives.values()), state.goals
    user = 4
    kr_cases = {
        "team_id": (3, lambda k: k["team_id"] == 3),
        "owner_id": (user, lambda k: owns(k, user) or owns(goals[k["goal_id"]], user)),
        "primary_owner_id": (user, lambda k: owns(k, user, primary=True) or owns(goals[k["goal_id"]], user, primary=True)),
        "status": ("behind", lambda k: k["status"] == "behind"),
        "is_archived": ("true", lambda k: k["is_archived"]),
    }
    for name, (value, pred) in kr_cases.items():
        got = ids(api.get(f"{ORG}/key_results/", params={name: value}).json())
        assert got == sorted(k["id"] for k in krs if pred(k)), name
        assert 0 < len(got) < len(krs), name
    init_cases = {
        "team_id": (3, lambda i: i["team_id"] == 3),
        "owner_id": (user, lambda i: owns(i, user)),
        "status": ("not-started", lambda i: i["status"] == "not-started"),
        "is_archived": ("true", lambda i: i["is_archived"]),
        "is_closed": ("true", lambda i: i["is_closed"]),
    }
    for name, (value, pred) in init_cases.items():
        got = ids(api.get(f"{ORG}/initiatives/", params={name: value}).json())
        assert got == sorted(i["id"] for i in inits if pred(i)), name
        assert 0 < len(got) < len(inits), name
    assert "status" in api.get(f"{ORG}/key_results/", params={"status": "done"}).json()  # not a KR status
    combined = api.get(f"{ORG}/initiatives/", params={"team_id": 3, "status": "on-track"}).json()
    assert ids(combined) == sorted(i["id"] for i in inits if i["team_id"] == 3 and i["status"] == "on-track")


@pytest.mark.parametrize(
    ("query", "predicate"),
    [
        ('status = "on-track"', lambda i: i["status"] == "on-track"),
        ('status = "behind" OR status = "at-risk"', lambda i: i["status"] in ("behind", "at-risk")),
        ('owner = 4 and NOT (status = "done")', lambda i: owns(i, 4) and i["status"] != "done"),
        ('priority >= "medium"', lambda i: i["priority"] in ("High", "Medium")),
        ("owner IS NOT SET", lambda i: not i["owners"]),
        ("priority is null", lambda i: i["priority"] is None),
        ('due_date < "2000-01-01"', lambda i: False),
        ('created_at > "2000-01-01" AND team = 2', lambda i: i["team_id"] == 2),
    ],
)
def test_nql_filters_initiatives(north: North, query: str, predicate: Callable[[dict[str, Any]], bool]) -> None:
    got = north.api().get(f"{ORG}/initiatives/", params={"nql": query})
    assert got.status_code == 200, got.text
    assert ids(got.json()) == sorted(i["id"] for i in north.state.initiatives.values() if predicate(i))


def test_nql_order_by(north: North) -> None:
    body = north.api().get(f"{ORG}/initiatives/", params={"nql": "status IS SET ORDER BY due_date DESC"}).json()
    dates = [i["due_date"] for i in body]
    assert len(body) == 30 and dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ('colour = "red"', "unknown field 'colour'"),
        ('status = "sleeping"', "unknown status 'sleeping'"),
        ('status = "on-track', "unterminated string"),
        ("(owner = 3", "missing closing parenthesis"),
        ("owner = ", "expected a value"),
        ('owner = "ben"', "owner expects a numeric id"),
        ('due_date > "soon"', "due_date expects a date"),
        ('status = "done" AND', "ends where a condition was expected"),
        ('status = "done" ORDER due_date', "expected BY after ORDER"),
        ("status ~ 1", "unexpected character '~'"),
    ],
)
def test_bad_nql_is_a_400_naming_the_problem(north: North, query: str, problem: str) -> None:
    response = north.api().get(f"{ORG}/initiatives/", params={"nql": query})
    assert response.status_code == 400
    assert problem in response.json()["nql"][0]


def test_scopes_and_tokens(north: North) -> None:
    no_org, no_okrs = north.api(NO_ORG), north.api(NO_OKRS)
    assert no_org.get("/api/user/").status_code == 200
    refused = no_org.get(f"{ORG}/teams/")
    assert refused.status_code == 403 and "Org management" in refused.json()["detail"]
    assert no_org.get(f"{ORG}/goals/").status_code == 200
    assert no_okrs.get(f"{ORG}/teams/").status_code == 200
    for path in ("goals/", "key_results/", "initiatives/", "goals/1/events/"):
        answer = no_okrs.get(f"{ORG}/{path}")
        assert answer.status_code == 403 and "OKRs and initiatives" in answer.json()["detail"]
    anonymous = north.api()
    anonymous.headers.pop("Authorization")
    assert anonymous.get("/api/user/").status_code == 401
    assert anonymous.get("/api/user/", headers={"Authorization": "Bearer nope"}).json() == {"detail": "Invalid token."}


def test_private_team_is_visible_to_members_only(north: North) -> None:
    alyssa, ben = north.api(FULL), north.api(BEN)
    private = next(t["id"] for t in north.state.teams.values() if t["is_private"])
    assert private in [t["id"] for t in alyssa.get(f"{ORG}/teams/").json()]
    assert private not in [t["id"] for t in ben.get(f"{ORG}/teams/").json()]
    assert ben.get(f"{ORG}/teams/{private}/").status_code == 404
    assert ben.get(f"{ORG}/teams/{private}/memberships/").status_code == 404
    for path in ("goals", "key_results", "initiatives"):
        everything = alyssa.get(f"{ORG}/{path}/").json()
        seen_by_ben = ben.get(f"{ORG}/{path}/").json()
        hidden = [i for i in everything if i["team_id"] == private]
        assert hidden and len(seen_by_ben) == len(everything) - len(hidden)
        assert ben.get(f"{ORG}/{path}/{hidden[0]['id']}/").status_code == 404
        assert ben.get(f"{ORG}/{path}/{hidden[0]['id']}/events/").status_code == 404


def test_membership_patch_and_delete(north: North) -> None:
    alyssa, ben, state = north.api(), north.api(BEN), north.state
    member = next(u for u, kind in state.memberships[2].items() if kind == "regular" and u not in (2, 3))
    path = f"{ORG}/teams/2/memberships/{member}/"
    changed = alyssa.patch(path, json={"type": "owner"})
    assert changed.status_code == 200 and changed.json()["type"] == "owner" and changed.json()["user"]["email"]
    assert alyssa.get(path).json()["type"] == "owner"
    assert alyssa.patch(path, json={"type": "boss"}).json() == {"type": ['"boss" is not a valid choice.']}
    assert ben.patch(path, json={"type": "guest"}).status_code == 403  # Ben owns neither the team nor the org
    assert alyssa.delete(path).status_code == 204
    assert alyssa.get(path).status_code == 404 and member in state.memberships[1]
    everywhere = next(u for u in state.memberships[3] if u not in (2,))
    assert alyssa.delete(f"{ORG}/teams/1/memberships/{everywhere}/").status_code == 204
    assert all(everywhere not in members for members in state.memberships.values())


def test_removing_ben_from_the_root_team_ends_his_org_access(north: North) -> None:
    ben = north.api(BEN)
    assert north.api().delete(f"{ORG}/teams/1/memberships/3/").status_code == 204
    assert ben.get("/api/orgs/").json() == []
    assert ben.get(f"{ORG}/goals/").status_code == 404


def test_a_new_check_in_is_the_newest_event_and_bumps_updated_at(north: North) -> None:
    api = north.api()
    before = api.get(f"{ORG}/key_results/5/").json()["updated_at"]
    north.state.add_check_in("key_result", 5, status="at-risk", value=3, progress=0.1, comment="late")
    after = api.get(f"{ORG}/key_results/5/").json()
    assert after["updated_at"] > before and after["status"] == "at-risk" and after["current_value"] == 3
    newest = api.get(f"{ORG}/key_results/5/events/").json()[0]
    assert newest["kind"] == "check_in" and newest["data"]["comment"] == "late"
