"""Every filter on every list endpoint, and pagination with next/previous links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.api.conftest import World, api_get, ids
from tests.factories import GoalFactory, see

GOAL_FILTERS_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({"vendor": "north"}, ["g_root", "g_child", "g_both"]),
    ({"vendor": "operately"}, []),
    ({"connector": "north hq"}, ["g_root", "g_child", "g_both"]),  # by name, case-insensitive
    ({"connector": "Operately"}, []),
    ({"team": "root"}, ["g_root", "g_child"]),  # the team and the teams below it
    ({"team": "child"}, ["g_child"]),
    ({"owner": "bo chen"}, ["g_root", "g_child"]),
    ({"owner": "Ann Lee"}, ["g_root"]),
    ({"owner": "Ann"}, []),  # exact owner name, not a substring
    ({"health": "off_track"}, ["g_child"]),
    ({"health": "unknown"}, ["g_both"]),
    ({"state": "not_started"}, ["g_both"]),
    ({"stale": "true"}, ["g_child"]),
    ({"stale": "false"}, ["g_root", "g_both"]),
    ({"overdue": "true"}, ["g_child"]),
    ({"overdue": "false"}, ["g_root", "g_both"]),
    ({"q": "REFERRAL"}, ["g_child"]),
    ({"q": "g-both"}, ["g_both"]),  # exact external id
    ({"health": "off_track", "team": "root", "stale": "true"}, ["g_child"]),
]


def test_goal_filters(world: World) -> None:
    failures = []
    for params, expected in GOAL_FILTERS_CASES:
        params = {k: (str(getattr(world, v).pk) if k == "team" else v) for k, v in params.items()}
        got = ids(api_get(world.alice_token, "goals", **params))
        want = {getattr(world, name).pk for name in expected}
        if got != want:
            failures.append((params, sorted(got), sorted(want)))
    assert not failures, failures


def test_connector_filter_accepts_an_id(world: World) -> None:
    assert ids(api_get(world.bob_token, "goals", connector=str(world.ops.pk))) == {world.g_bob.pk}


TEAM_FILTERS_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({"vendor": "north"}, ["root", "child"]),
    ({"connector": "North HQ"}, ["root", "child"]),
    ({"vendor": "ogsm"}, []),
    ({"q": "grow"}, ["child"]),
    ({"team": "child"}, ["child"]),
    ({"team": "root"}, ["root", "child"]),
    ({"archived": "false"}, ["root", "child"]),
    ({"archived": "true"}, []),
]


def test_team_filters(world: World) -> None:
    failures = []
    for params, expected in TEAM_FILTERS_CASES:
        params = {k: (str(getattr(world, v).pk) if k == "team" else v) for k, v in params.items()}
        got = ids(api_get(world.alice_token, "teams", **params))
        want = {getattr(world, name).pk for name in expected}
        if got != want:
            failures.append((params, sorted(got), sorted(want)))
    assert not failures, failures


KEY_RESULT_FILTERS_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({"vendor": "north"}, ["kr_root"]),
    ({"connector": "Operately"}, []),
    ({"team": "root"}, ["kr_root"]),  # through the goal's team
    ({"team": "child"}, []),
    ({"goal": "g_root"}, ["kr_root"]),
    ({"goal": "g_child"}, []),
    ({"owner": "ann lee"}, ["kr_root"]),
    ({"health": "on_track"}, ["kr_root"]),
    ({"health": "off_track"}, []),
    ({"state": "active"}, ["kr_root"]),
    ({"state": "done"}, []),
    ({"q": "arr"}, ["kr_root"]),
]


def test_key_result_filters(world: World) -> None:
    failures = []
    for params, expected in KEY_RESULT_FILTERS_CASES:
        params = {k: (str(getattr(world, v).pk) if k in ("team", "goal") else v) for k, v in params.items()}
        got = ids(api_get(world.alice_token, "key-results", **params))
        want = {getattr(world, name).pk for name in expected}
        if got != want:
            failures.append((params, sorted(got), sorted(want)))
    assert not failures, failures


WORK_ITEM_FILTERS_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({"vendor": "north"}, ["wi_alice"]),
    ({"vendor": "operately"}, []),
    ({"connector": "north hq"}, ["wi_alice"]),
    ({"team": "root"}, ["wi_alice"]),
    ({"team": "child"}, ["wi_alice"]),
    ({"goal": "g_child"}, ["wi_alice"]),
    ({"goal": "g_root"}, []),
    ({"kind": "initiative"}, ["wi_alice"]),
    ({"kind": "task"}, []),
    ({"owner": "Bo Chen"}, ["wi_alice"]),
    ({"health": "on_track"}, ["wi_alice"]),
    ({"state": "done"}, []),
    ({"overdue": "true"}, ["wi_alice"]),
    ({"overdue": "false"}, []),
    ({"q": "emails"}, ["wi_alice"]),
]


def test_work_item_filters(world: World) -> None:
    failures = []
    for params, expected in WORK_ITEM_FILTERS_CASES:
        params = {k: (str(getattr(world, v).pk) if k in ("team", "goal") else v) for k, v in params.items()}
        got = ids(api_get(world.alice_token, "work-items", **params))
        want = {getattr(world, name).pk for name in expected}
        if got != want:
            failures.append((params, sorted(got), sorted(want)))
    assert not failures, failures


def test_bobs_done_task_is_not_overdue(world: World) -> None:
    assert ids(api_get(world.bob_token, "work-items", overdue="false", state="done", kind="task")) == {world.wi_bob.pk}


PEOPLE_FILTERS_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({"vendor": "north"}, ["person_a"]),
    ({"vendor": "operately"}, []),
    ({"connector": "North HQ"}, ["person_a"]),
    ({"q": "ann@"}, ["person_a"]),  # name or email
    ({"q": "lee"}, ["person_a"]),
    ({"q": "bob"}, []),
]


def test_people_filters(world: World) -> None:
    failures = []
    for params, expected in PEOPLE_FILTERS_CASES:
        got = ids(api_get(world.alice_token, "people", **params))
        want = {getattr(world, name).pk for name in expected}
        if got != want:
            failures.append((params, sorted(got), sorted(want)))
    assert not failures, failures


def test_a_team_filter_on_a_team_the_caller_cannot_see_is_a_400_like_an_unknown_team(world: World) -> None:
    hidden = api_get(world.alice_token, "goals", team=str(world.ops_team.pk))
    unknown = api_get(world.alice_token, "goals", team="987654321")
    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json()["parameter"] == "team" and "team" in hidden.json()["message"]
    assert hidden.json()["message"].replace(str(world.ops_team.pk), "X") == unknown.json()["message"].replace("987654321", "X")


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def test_pagination_walks_every_goal_once_with_next_and_previous_links(world: World) -> None:
    for n in range(4):
        see(world.cred_a, GoalFactory(connector=world.north, team=world.root, health="on_track", external_id=f"page-{n}"))
    # 5 on-track goals for Alice: g_root plus the four above.
    first = api_get(world.alice_token, "goals", health="on_track", limit=2).json()
    assert first["count"] == 5 and first["previous"] is None and len(first["results"]) == 2
    assert first["next"].startswith("http://testserver/api/v1/goals?")
    assert _query(first["next"]) == {"health": ["on_track"], "limit": ["2"], "offset": ["2"]}

    seen = [g["id"] for g in first["results"]]
    page, url = first, first["next"]
    while url:
        page = api_get(world.alice_token, "goals", **{k: v[0] for k, v in _query(url).items()}).json()
        seen += [g["id"] for g in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 5
    assert _query(page["previous"]) == {"health": ["on_track"], "limit": ["2"], "offset": ["2"]}

    middle = api_get(world.alice_token, "goals", health="on_track", limit=2, offset=1).json()
    assert _query(middle["previous"])["offset"] == ["0"]


@pytest.mark.parametrize("path", ["teams", "goals", "key-results", "work-items", "people", "sync-runs"])
def test_every_list_has_the_envelope_and_honours_limit(world: World, path: str) -> None:
    body = api_get(world.alice_token, path, limit=1).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert len(body["results"]) == min(1, body["count"])
    assert (body["next"] is not None) == (body["count"] > 1)
