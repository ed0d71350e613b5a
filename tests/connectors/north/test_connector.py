"""The North connector against the North sandbox over real HTTP: unified records, both list
styles, visibility, scopes, incremental events, NQL, the repeated-next guard and writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import (
    AuthError,
    CheckInRecord,
    GoalRecord,
    Health,
    KeyResultRecord,
    NotFound,
    Outcome,
    PermanentError,
    ReadOnlyError,
    ScopeError,
    State,
    TeamRecord,
    VendorValidationError,
    WorkItemRecord,
)
from connectors.north.mapping import MembershipRecord
from tests.connectors.north.conftest import BEN, FULL, NO_OKRS, NO_ORG, North, read_stream

HEALTH = {"on-track": Health.ON_TRACK, "behind": Health.NEEDS_ATTENTION, "at-risk": Health.OFF_TRACK, None: Health.UNKNOWN}


def read_all(north: North, label: str = FULL, **options: object) -> dict[str, list]:
    connector = north.connector(label, **options)
    return {stream: read_stream(connector, stream)[0] for stream in connector.streams}


def test_check_names_the_account_and_its_org(north: North) -> None:
    info = north.connector().check()
    assert info.account_name == "Alyssa P Hacker" and info.account_id == "2" and info.detail == "ACME"
    assert info.missing_scopes == () and info.can_write


def test_full_read_gives_the_unified_org(north: North) -> None:
    records = read_all(north)
    state = north.state
    teams: list[TeamRecord] = records["teams"]
    assert {t.external_id: t.parent_external_id for t in teams} == {"1": None, "2": "1", "3": "2"}  # root holds the tree
    assert [t.private for t in teams if t.external_id == "3"] == [True]
    people = {p.external_id: p for p in records["people"]}
    members = {u for team in state.memberships.values() for u in team}
    assert set(people) == {str(u) for u in members}  # including the guest outside the root team
    assert people["5"].name == "Eva Lu Ator" and people["5"].email == "eva@example.com"

    goals: dict[str, GoalRecord] = {g.external_id: g for g in records["goals"]}
    assert len(goals) == 30 and {g.team_external_id for g in goals.values()} == {"1", "2", "3"}
    assert all(g.parent_external_id is None or g.parent_external_id in goals for g in goals.values())
    for goal_id, raw in state.goals.items():
        goal = goals[str(goal_id)]
        assert goal.progress == pytest.approx(raw["progress"] * 100)
        assert goal.health == HEALTH[raw["status"]]
    assert goals["2"].owners == () and goals["1"].owners[0] == "Alyssa P Hacker"  # goal without owners; primary first
    assert [(goals[i].state, goals[i].outcome) for i in ("3", "4", "5", "6")] == [
        (State.DONE, Outcome.ACHIEVED),
        (State.DONE, Outcome.PARTIAL),
        (State.DONE, Outcome.MISSED),
        (State.DONE, Outcome.DROPPED),
    ]
    assert goals["7"].state == State.ARCHIVED

    krs: dict[str, KeyResultRecord] = {k.external_id: k for k in records["key_results"]}
    assert len(krs) == 90 and all(k.goal_external_id in goals for k in krs.values())
    decreasing = krs["2"]
    assert decreasing.target < decreasing.start  # type: ignore[operator]
    assert decreasing.progress == pytest.approx(
        max(0, min(100, (decreasing.current - decreasing.start) / (decreasing.target - decreasing.start) * 100))
    )  # type: ignore[operator]
    assert krs["3"].start == krs["3"].target and krs["3"].progress == 0.0
    without_progress = [k for k in krs.values() if "progress" not in k.raw and k.start != k.target]
    assert without_progress and all(k.progress is not None for k in without_progress)

    initiatives: list[WorkItemRecord] = records["work_items"]
    assert len(initiatives) == 30
    by_status = {i.vendor_status: (i.health, i.state) for i in initiatives if not i.raw.get("is_closed") and not i.raw.get("is_archived")}
    assert by_status["not-started"] == (Health.UNKNOWN, State.NOT_STARTED)
    assert by_status["at-risk"] == (Health.OFF_TRACK, State.ACTIVE)
    assert all(i.state in (State.DONE, State.ARCHIVED) for i in initiatives if i.vendor_status == "done")

    check_ins: list[CheckInRecord] = records["check_ins"]
    planned = sum(
        1
        for kind in ("goal", "key_result", "initiative")
        for i in state.items_of(kind)
        for e in state.events_for(kind, i)
        if e["kind"] == "check_in"
    )
    assert len(check_ins) == planned and len({c.external_id for c in check_ins}) == planned


def test_staleness_comes_from_the_newest_check_in_event(north: North) -> None:
    goals = {g.external_id: g for g in read_all(north)["goals"]}
    now = datetime.now(UTC)
    fresh, never, old = goals["1"], goals["10"], goals["11"]
    assert fresh.is_stale is False and now - fresh.last_check_in_at < timedelta(days=2)  # type: ignore[operator]
    assert never.last_check_in_at is None and never.is_stale is True and never.health == Health.UNKNOWN
    assert old.is_stale is True and now - old.last_check_in_at > timedelta(days=19)  # type: ignore[operator]
    assert all(g.is_stale is False for g in goals.values() if g.state != State.ACTIVE)
    newest = max(e["created_at"] for e in north.state.events_for("goal", 1) if e["kind"] == "check_in")
    assert fresh.last_check_in_at == datetime.fromisoformat(newest.replace("Z", "+00:00"))


def test_both_list_styles_give_the_same_records(north: North) -> None:
    bare = read_all(north)
    bare_requests = north.sandbox.app.requests_seen
    north.state.page_size = 4  # the same org, now served as page objects with next links
    paged = read_all(north)
    for stream in bare:
        key = lambda r: r.external_id  # noqa: E731
        assert sorted(bare[stream], key=key) == sorted(paged[stream], key=key), stream
    assert north.sandbox.app.requests_seen - bare_requests > bare_requests + 20  # the pages really were followed


def test_second_user_does_not_see_the_private_team(north: North) -> None:
    alyssa, ben = read_all(north), read_all(north, BEN)
    assert {t.external_id for t in alyssa["teams"]} - {t.external_id for t in ben["teams"]} == {"3"}
    for stream in ("goals", "key_results"):
        hidden = [r for r in alyssa[stream] if r.team_external_id == "3"]
        assert hidden and len(ben[stream]) == len(alyssa[stream]) - len(hidden)
        assert not [r for r in ben[stream] if r.team_external_id == "3"]
    assert all("3" not in w.team_external_ids for w in ben["work_items"])
    hidden_goal = next(g.external_id for g in alyssa["goals"] if g.team_external_id == "3")
    assert not [c for c in ben["check_ins"] if c.subject_external_id == hidden_goal]
    with pytest.raises(NotFound):
        north.connector(BEN).fetch_item("goal", hidden_goal)


def test_token_without_org_management(north: North) -> None:
    info = north.connector(NO_ORG).check()
    assert info.missing_scopes == ("Org management",) and not info.can_write and "Org management" in info.write_disabled_reason
    connector = north.connector(NO_ORG)
    for stream in ("teams", "people", "goals"):
        with pytest.raises(ScopeError) as refused:
            list(connector.read(stream))
        assert refused.value.scope == "Org management"
    # with the org named in the options, the OKR streams work and owner names come from /api/users/<id>/
    with_org = north.connector(NO_ORG, org_id="1")
    goals, _ = read_stream(with_org, "goals")
    assert len(goals) == 30 and next(g for g in goals if g.external_id == "1").owners[0] == "Alyssa P Hacker"
    assert read_stream(with_org, "check_ins")[0]


def test_token_without_okrs_scope(north: North) -> None:
    connector = north.connector(NO_OKRS)
    assert connector.check().missing_scopes == ("OKRs and initiatives",)
    assert len(read_stream(connector, "teams")[0]) == 3
    for stream in ("goals", "key_results", "work_items", "check_ins"):
        with pytest.raises(ScopeError) as refused:
            list(connector.read(stream))
        assert refused.value.scope == "OKRs and initiatives"


def test_wrong_token_is_an_auth_error_and_not_retried(north: North) -> None:
    connector = north.connector()
    connector.session.headers["Authorization"] = "Bearer wrong"
    with pytest.raises(AuthError):
        connector.check()
    assert connector.requests_made == 1
    with pytest.raises(AuthError):
        list(connector.read("goals"))


def test_events_are_fetched_only_for_changed_items(north: North) -> None:
    first = north.connector()
    cursors = {}
    for stream in first.streams:
        cursors[stream] = read_stream(first, stream)[1].cursor
    assert first.requests_made > 150  # one events request per goal, KR and initiative

    unchanged = north.connector()
    for stream in unchanged.streams:
        records, _ = read_stream(unchanged, stream, cursors[stream])
        if stream == "check_ins":
            assert records == []
        if stream == "goals":  # unchanged goals keep their newest check-in from the cursor
            fresh = next(g for g in records if g.external_id == "1")
            assert fresh.last_check_in_at is not None and fresh.is_stale is False
    # only list requests: orgs + teams, 3 membership lists, goals, KRs, initiatives
    assert unchanged.requests_made == 8

    north.state.add_check_in("goal", 11, status="on-track", progress=0.9, comment="Back on track")
    north.state.add_check_in("key_result", 4, status="behind", value=1.0)
    changed = north.connector()
    got: dict[str, list] = {}
    for stream in changed.streams:
        got[stream], _ = read_stream(changed, stream, cursors[stream])
    assert changed.requests_made == 8 + 2  # the two changed items' events, each fetched once
    goal = next(g for g in got["goals"] if g.external_id == "11")
    assert goal.is_stale is False and goal.health == Health.ON_TRACK
    assert datetime.now(UTC) - goal.last_check_in_at < timedelta(minutes=1)  # type: ignore[operator]
    subjects = {(c.subject_kind.value, c.subject_external_id) for c in got["check_ins"]}
    assert subjects == {("goal", "11"), ("key_result", "4")}
    assert any(c.comment == "Back on track" for c in got["check_ins"])


def test_check_ins_alone_rederive_the_items_and_fetch_events(north: North) -> None:
    connector = north.connector()
    check_ins, last = read_stream(connector, "check_ins")
    assert check_ins and len(last.cursor["updated"]) == 150  # type: ignore[index]
    again = north.connector()
    assert read_stream(again, "check_ins", last.cursor)[0] == []
    assert again.requests_made == 3 + 1  # the three item lists (+ the org lookup)


def test_initiatives_nql_option(north: North) -> None:
    at_risk, _ = read_stream(north.connector(initiatives_nql='status = "at-risk" ORDER BY due_date'), "work_items")
    expected = [i for i in north.state.initiatives.values() if i["status"] == "at-risk"]
    assert len(at_risk) == len(expected) > 0 and all(w.health == Health.OFF_TRACK for w in at_risk)
    with pytest.raises(VendorValidationError) as bad:
        list(north.connector(initiatives_nql="colour = 1").read("work_items"))
    assert "unknown field 'colour'" in bad.value.field_errors["nql"][0]


def test_a_repeated_next_link_is_an_error_not_a_loop(north_factory: Callable[..., North]) -> None:
    north = north_factory(page_size=5)
    north.state.repeat_next_link = True
    connector = north.connector()
    with pytest.raises(PermanentError, match="repeated the next link"):
        list(connector.read("goals"))
    assert connector.requests_made < 10


def test_membership_writes(north: North) -> None:
    connector, state = north.connector(), north.state
    member = next(u for u, kind in state.memberships[2].items() if kind == "regular" and u not in (2, 3))
    changed = connector.update_membership(1, 2, member, "owner")
    assert isinstance(changed, MembershipRecord) and changed.type == "owner" and changed.person.external_id == str(member)
    assert changed.person.email and state.memberships[2][member] == "owner"
    with pytest.raises(VendorValidationError) as invalid:
        connector.update_membership(1, 2, member, "boss")
    assert "type" in invalid.value.field_errors
    with pytest.raises(ReadOnlyError):
        north.connector(BEN).update_membership(1, 2, member, "guest")
    with pytest.raises(ScopeError) as no_scope:
        north.connector(NO_ORG).update_membership(1, 2, member, "guest")
    assert no_scope.value.scope == "Org management" and not isinstance(no_scope.value, ReadOnlyError)
    assert connector.remove_membership(1, 1, member) is None
    assert all(member not in members for members in state.memberships.values())  # root removal: every team
    with pytest.raises(NotFound):
        connector.remove_membership(1, 2, member)


def test_fetch_item_rereads_one_item(north: North) -> None:
    connector = north.connector()
    north.state.goals[1]["name"] = "Renamed at the vendor"
    goal = connector.fetch_item("goal", "1")
    assert isinstance(goal, GoalRecord) and goal.title == "Renamed at the vendor" and goal.is_stale is False
    assert isinstance(connector.fetch_item("work_item", "2"), WorkItemRecord)
    assert isinstance(connector.fetch_item("team", "2"), TeamRecord)
