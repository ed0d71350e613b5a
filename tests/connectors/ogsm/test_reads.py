"""Reading OGSM over real HTTP: check, the three streams, two tenants, auth, single items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from connectors import registry
from connectors.base import AuthError, GoalRecord, Health, NotFound, ScopeError, State, TeamRecord, WorkItemKind, WorkItemRecord
from connectors.ogsm import OgsmConnector
from connectors.ogsm.sandbox.data import INVOLVED_OWNER, MALICIOUS_DESCRIPTION, MEMBER_NAME

from .conftest import Served, records


def test_registered_with_basic_auth_fields() -> None:
    assert registry.get("ogsm") is OgsmConnector
    fields = {f.name: f for f in OgsmConnector.credential_fields}
    assert set(fields) == {"username", "password"}
    assert fields["password"].secret and not fields["username"].secret
    assert list(OgsmConnector.streams) == ["teams", "goals", "work_items"]


def test_check_lists_actions_and_names_the_account(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    connector = served.connector()
    info = connector.check()
    assert info.account_name == "api-acme"
    assert info.raw["actions"] == len(served.state.actions) == 30
    assert "30 actions" in info.detail
    assert [(r.method, r.path) for r in served.state.requests] == [("GET", "/api/v2/actions.json")]
    assert connector.requests_made == 1


def test_teams_are_canvases_named_by_their_objective(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    pages = list(served.connector().read("teams"))
    assert pages[-1].complete
    teams = {t.external_id: t for t in records(pages)}
    assert set(teams) == {str(c) for c in served.state.canvases} == {"701", "702", "703"}
    assert all(isinstance(t, TeamRecord) and t.parent_external_id is None for t in teams.values())
    assert teams["701"].name == "Become the most trusted supplier in the Benelux"  # the live objective, not the archived one
    assert teams["702"].name == "Groeien met plezier — 成長 🌱"
    assert teams["703"].name == "Canvas 703"  # no objective on this canvas


def test_goals_hold_objectives_and_goals_with_prefixed_ids(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    pages = list(served.connector().read("goals"))
    assert pages[-1].complete and not any(p.complete for p in pages[:-1])
    goals = {g.external_id: g for g in records(pages)}
    assert all(isinstance(g, GoalRecord) for g in goals.values())
    objective_ids = {f"objective-{i}" for i in served.state.objectives or {}}
    goal_ids = {f"goal-{i}" for i in served.state.goals or {}}
    assert set(goals) == objective_ids | goal_ids
    assert "objective-1" in goals and "goal-1" in goals  # the same vendor id in both kinds
    assert goals["objective-3"].state == State.ARCHIVED  # the replaced objective
    assert goals["goal-2"].state == State.ARCHIVED
    assert goals["goal-1"].parent_external_id == "objective-1" and goals["goal-1"].team_external_id == "701"
    assert goals["goal-9"].team_external_id == "703" and goals["goal-9"].parent_external_id is None
    assert "<script" not in goals["objective-1"].description  # the seeded objective carries the malicious HTML
    assert goals["objective-1"].raw["description"] == MALICIOUS_DESCRIPTION


def test_work_items_are_actions_with_every_awkward_case(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    pages = list(served.connector().read("work_items"))
    assert pages[-1].complete
    items = {w.external_id: w for w in records(pages)}
    assert set(items) == {str(i) for i in served.state.actions}
    assert all(isinstance(w, WorkItemRecord) and w.work_kind == WorkItemKind.ACTION for w in items.values())
    today = date.today()

    shared = items["1001"]  # on two canvases: one record, both teams
    assert shared.team_external_ids == ("701", "702")
    assert len(shared.raw["strategies"]) == 2

    late_start = items["1002"]
    assert late_start.state == State.NOT_STARTED and late_start.start_date and late_start.start_date < today
    assert late_start.health == Health.OFF_TRACK

    overdue = items["1003"]
    assert overdue.due_date and overdue.due_date < today and overdue.state == State.ACTIVE

    malicious = items["1004"]
    assert "<script" not in malicious.description and "onerror" not in malicious.description
    assert "javascript:" not in malicious.description
    assert malicious.raw["description"] == MALICIOUS_DESCRIPTION

    unicode_item = items["1005"]
    assert unicode_item.title == "Réduire les délais de livraison — 東京 🚀"
    assert unicode_item.owners == ("Zoë Ångström",) and unicode_item.involved == ("José Núñez", "Мария Иванова")

    assert items["1006"].state == State.ARCHIVED
    done_late = items["1007"]
    assert done_late.state == State.DONE and done_late.due_date and done_late.due_date < today
    assert (items["1008"].state, items["1008"].vendor_status) == (State.ACTIVE, "waiting")
    bare = items["1009"]
    assert (bare.health, bare.owners, bare.description) == (Health.UNKNOWN, (), "")
    assert '<a href="https://wiki.example.com/pilot" rel="noopener noreferrer">' in items["1010"].description


def test_a_legacy_tenant_without_objectives_and_goals(ogsm: Callable[..., Served]) -> None:
    served = ogsm(tenant="legacy")
    connector = served.connector()
    assert connector.check().account_name == "api-legacy"
    goal_pages = list(connector.read("goals"))
    assert goal_pages == [goal_pages[-1]] and goal_pages[-1].complete and not goal_pages[-1].records
    teams = records(list(connector.read("teams")))
    assert {t.name for t in teams} == {f"Canvas {c}" for c in served.state.canvases}
    work = records(list(connector.read("work_items")))
    assert len(work) == 30 and all(w.team_external_ids for w in work)
    # The 404s were real answers from the sandbox, and nothing failed.
    statuses = {(r.path, r.status) for r in served.state.requests}
    assert ("/api/v2/objectives.json", 404) in statuses and ("/api/v2/goals.json", 404) in statuses


def test_two_tenants_side_by_side_do_not_mix(ogsm: Callable[..., Served]) -> None:
    acme, legacy = ogsm(tenant="acme"), ogsm(tenant="legacy")
    acme_teams = {t.external_id for t in records(list(acme.connector().read("teams")))}
    legacy_teams = {t.external_id for t in records(list(legacy.connector().read("teams")))}
    assert acme_teams and legacy_teams and not acme_teams & legacy_teams
    # One tenant's credential is refused by the other.
    with pytest.raises(AuthError):
        legacy.connector(secret=dict(acme.sandbox.credentials[0].secret)).check()


def test_large_lists_come_in_bounded_pages(ogsm: Callable[..., Served]) -> None:
    served = ogsm(size=12, actions_per_canvas=60)  # 720 actions: more than one page
    pages = list(served.connector().read("work_items"))
    assert [len(p.records) for p in pages] == [500, 220]
    assert [p.complete for p in pages] == [False, True]


def test_a_wrong_password_is_an_auth_error_and_is_never_shown(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    secret = {"username": "api-acme", "password": "not-the-password"}
    connector = served.connector(secret=secret)
    with pytest.raises(AuthError) as excinfo:
        connector.check()
    assert "not-the-password" not in str(excinfo.value)
    with pytest.raises(AuthError):
        list(connector.read("work_items"))
    assert connector.requests_made == 2  # 401 is never retried
    with pytest.raises(AuthError, match="username and password"):
        served.connector(secret={"username": "api-acme", "password": ""}).check()


def test_the_second_user_reads_everything_too(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    info = served.connector(1).check()
    assert info.account_name == "member" and info.raw["actions"] == 30


def test_fetch_item_rereads_one_item(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    connector = served.connector()
    served.state.actions[1003]["progress"] = 77  # changed at the vendor since the last sync
    item = connector.fetch_item("work_item", "1003")
    assert isinstance(item, WorkItemRecord) and item.progress == 77.0
    assert ("GET", "/api/v2/actions/1003.json") in [(r.method, r.path) for r in served.state.requests]
    assert connector.fetch_item("goal", "goal-4").title == served.state.goals[4]["title"]  # type: ignore[index]
    assert connector.fetch_item("goal", "objective-2").external_id == "objective-2"
    assert connector.fetch_item("team", "703").name == "Canvas 703"
    with pytest.raises(NotFound):
        connector.fetch_item("work_item", "999999")
    with pytest.raises(NotFound):
        connector.fetch_item("goal", "goal-999")


def test_the_assignee_owns_and_the_involved_are_only_involved(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    items = {w.external_id: w for w in records(list(served.connector().read("work_items")))}
    for action_id, action in served.state.actions.items():
        item = items[str(action_id)]
        assignee = (action.get("assignee") or {}).get("name")
        assert item.owners == ((assignee,) if assignee else ()), action_id
        involved = [p["name"] for p in action["involved"] if p["name"] != assignee]
        assert item.involved == tuple(dict.fromkeys(involved)), action_id  # vendor order, once each
        assert item.strategy_external_ids == tuple(str(s["id"]) for s in action["strategies"]), action_id
    # the awkward one: the member is involved twice, the owner is listed as involved too, and a team
    overdue = items["1003"]
    assert overdue.owners == (INVOLVED_OWNER,) and overdue.involved == (MEMBER_NAME, "Operations")
    assert len(items["1001"].strategy_external_ids) == 2  # the action serving two canvases' strategies
    # the vendor agrees that being involved is not owning: the member may not edit that action
    with pytest.raises(ScopeError, match="action owner"):
        served.connector(1).update_action("1003", {"progress": 61})
