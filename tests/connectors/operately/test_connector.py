"""The Operately connector against the sandbox over real HTTP, under both API profiles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from connectors.base import (
    AuthError,
    CheckInRecord,
    GoalRecord,
    Health,
    KeyResultRecord,
    Kind,
    NotFound,
    ReadOnlyError,
    Record,
    ScopeError,
    State,
    TeamRecord,
    TransientError,
    VendorValidationError,
    WorkItemKind,
    WorkItemRecord,
)
from connectors.http import RetryPolicy, make_client
from connectors.operately import OperatelyConnector
from connectors.operately.ids import uuid_to_short

FAST = {"retry_policy": RetryPolicy(max_attempts=3, base_delay=0.01, budget_seconds=5)}
PROFILES = ["2026-03", "2026-08"]


@pytest.fixture(params=PROFILES)
def env(
    request: pytest.FixtureRequest, sandbox_factory: Callable[..., Any]
) -> Iterator[tuple[Any, Any, Callable[..., OperatelyConnector]]]:
    sandbox, server = sandbox_factory("operately", seed=1, size="small", profile=request.param)
    clients: list[Any] = []

    def connect(index: int = 0, *, timeout: float = 5.0, token: str | None = None) -> OperatelyConnector:
        client = make_client(server.url, timeout=timeout)
        clients.append(client)
        return OperatelyConnector(client, {"token": token or sandbox.credentials[index].secret["token"]}, options=FAST)

    yield sandbox, server, connect
    for client in clients:
        client.close()


def read_all(connector: OperatelyConnector, stream: str) -> list[Record]:
    pages = list(connector.read(stream))
    assert pages[-1].complete and not any(p.complete for p in pages[:-1])
    return [r for p in pages for r in p.records]


ADA, ADA_READ_ONLY, BOB, CAROL = 0, 1, 2, 3


# ---- check -----------------------------------------------------------------------------------


def test_check_names_person_and_company_and_detects_the_profile(env: Any, request: pytest.FixtureRequest) -> None:
    _, _, connect = env
    profile = request.node.callspec.params["env"]
    for index, person in [(ADA, "Ada Lovelace"), (BOB, "Bob Builder"), (CAROL, "Carol Viewer")]:
        connector = connect(index)
        info = connector.check()
        assert info.account_name == person and "Acme Rocket Works" in info.detail
        assert info.can_write and not info.write_disabled_reason
        assert connector.profile == profile
    info = connect(ADA_READ_ONLY).check()
    assert info.account_name == "Ada Lovelace"
    assert info.can_write is False and info.write_disabled_reason == "read-only token: writes need a full-access token"


def test_probe_writes_nothing(env: Any) -> None:
    sandbox, _, connect = env
    before = (len(sandbox.state.goal_updates), len(sandbox.state.project_check_ins))
    connect(ADA).check()
    connect(ADA_READ_ONLY).check()
    assert (len(sandbox.state.goal_updates), len(sandbox.state.project_check_ins)) == before


def test_wrong_token_is_an_auth_error(env: Any) -> None:
    _, _, connect = env
    connector = connect(token="opk_" + "x" * 43)
    with pytest.raises(AuthError):
        connector.check()
    with pytest.raises(AuthError):
        read_all(connect(token="opk_" + "y" * 43), "goals")


# ---- streams ---------------------------------------------------------------------------------


def test_streams_give_the_unified_records(env: Any) -> None:
    sandbox, _, connect = env
    st = sandbox.state
    connector = connect(ADA)
    teams = read_all(connector, "teams")
    company = teams[0]
    assert isinstance(company, TeamRecord) and company.external_id == "0baa" and company.parent_external_id is None
    assert {t.external_id for t in teams[1:]} == {uuid_to_short(s.uuid) for s in st.spaces.values()}
    assert all(t.parent_external_id == "0baa" for t in teams[1:])  # type: ignore[union-attr]
    assert [t.name for t in teams if getattr(t, "private", False)] == ["Secret Lab 🔒"]

    people = read_all(connector, "people")
    assert {p.name for p in people} == {p.full_name for p in st.people.values() if not p.suspended}
    assert all(p.email for p in people)  # type: ignore[union-attr]

    goals = {g.external_id: g for g in read_all(connector, "goals")}
    assert set(goals) == {uuid_to_short(g.uuid) for g in st.goals.values()}
    for model in st.goals.values():
        record = goals[uuid_to_short(model.uuid)]
        assert isinstance(record, GoalRecord)
        assert record.vendor_status == st.goal_status(model) and record.is_stale == st.goal_is_outdated(model)
        assert record.progress == pytest.approx(st.goal_progress(model))
        assert record.team_external_id == uuid_to_short(model.space)
        if model.closed_at:
            assert record.state is State.DONE and record.outcome is not None and record.outcome.value == model.success_status
        elif model.archived_at:
            assert record.state is State.ARCHIVED
        if model.parent_goal:
            assert record.parent_external_id == uuid_to_short(model.parent_goal)
    outdated = next(g for g in goals.values() if g.vendor_status == "outdated")
    assert outdated.is_stale and outdated.health is not Health.UNKNOWN  # the last check-in's health
    pending = next(g for g in goals.values() if g.vendor_status == "pending")
    assert pending.health is Health.UNKNOWN

    krs = {k.external_id: k for k in read_all(connector, "key_results")}
    assert set(krs) == {uuid_to_short(t.uuid) for g in st.goals.values() for t in g.targets}
    decreasing = next(k for k in krs.values() if isinstance(k, KeyResultRecord) and k.title == "Open bugs")
    model_t = next(t for g in st.goals.values() for t in g.targets if uuid_to_short(t.uuid) == decreasing.external_id)
    assert decreasing.progress == pytest.approx(st.target_progress(model_t))

    items = read_all(connector, "work_items")
    by_kind: dict[WorkItemKind, list[WorkItemRecord]] = {}
    for item in items:
        assert isinstance(item, WorkItemRecord)
        by_kind.setdefault(item.work_kind, []).append(item)
    assert {p.external_id for p in by_kind[WorkItemKind.PROJECT]} == {uuid_to_short(p.uuid) for p in st.projects.values()}
    assert len(by_kind[WorkItemKind.MILESTONE]) == len(st.milestones)
    assert {t.external_id for t in by_kind[WorkItemKind.TASK]} == {uuid_to_short(t.uuid) for t in st.tasks.values()}
    for project in st.projects.values():
        record = next(p for p in by_kind[WorkItemKind.PROJECT] if p.external_id == uuid_to_short(project.uuid))
        expected = {"active": State.ACTIVE, "paused": State.PAUSED, "closed": State.DONE}[project.state]
        assert record.state is (State.ARCHIVED if project.archived_at else expected)
        assert record.progress == pytest.approx(st.project_progress(project))
    tasks = by_kind[WorkItemKind.TASK]
    assert all(t.progress is None for t in tasks)
    # a project task's parent is its project; a space task has none and belongs to its space
    parents = {uuid_to_short(t.uuid): (t.project, t.space) for t in st.tasks.values()}
    for task in tasks:
        project, space = parents[task.external_id]
        assert task.parent_external_id == (uuid_to_short(project) if project else None)
        if space:
            assert task.team_external_ids == [uuid_to_short(space)]

    check_ins = read_all(connector, "check_ins")
    goal_check_ins = [c for c in check_ins if isinstance(c, CheckInRecord) and c.subject_kind is Kind.GOAL]
    # only published check-ins (drafts and scheduled ones are not check-ins yet)
    published = {uuid_to_short(u.uuid) for u in st.goal_updates.values() if u.state == "published"}
    assert published and {c.external_id for c in goal_check_ins} == published
    project_check_ins = [c for c in check_ins if isinstance(c, CheckInRecord) and c.subject_kind is Kind.WORK_ITEM]
    published = {uuid_to_short(c.uuid) for c in st.project_check_ins.values() if c.state == "published"}
    assert published and {c.external_id for c in project_check_ins} == published
    assert all(c.subject_external_id in krs for c in check_ins if isinstance(c, CheckInRecord) and c.subject_kind is Kind.KEY_RESULT)
    assert all("Ada" in c.comment or c.comment for c in goal_check_ins)


def test_tasks_are_asked_of_every_project_and_space(env: Any) -> None:
    """The kanban state does not list every task (issue #16): no project or space is skipped."""
    sandbox, _, connect = env
    connector = connect(ADA)
    connector.check()
    before = connector.requests_made
    read_all(connector, "work_items")
    st = sandbox.state
    # the projects list, one tasks/list per project, the spaces list, one spaces/list_tasks per space
    assert connector.requests_made - before == 1 + len(st.projects) + 1 + len(st.spaces)


def test_person_scoped_visibility(env: Any) -> None:
    sandbox, _, connect = env
    st = sandbox.state
    bob = connect(BOB)
    teams = read_all(bob, "teams")
    assert "Secret Lab 🔒" not in {t.name for t in teams}
    goal_names = {g.title for g in read_all(bob, "goals")}  # type: ignore[union-attr]
    secret = {g.name for g in st.goals.values() if g.company_access_level == 0}
    private = {g.name for g in st.goals.values() if st.spaces[g.space].private}
    assert secret and private and not (goal_names & (secret | private))
    assert goal_names == {g.name for g in st.goals.values() if st.access_level(st.person_named("Bob Builder").uuid, g) >= 10}
    hidden = next(g for g in st.goals.values() if g.company_access_level == 0)
    with pytest.raises(NotFound):
        bob.fetch_item("goal", uuid_to_short(hidden.uuid))


# ---- writes ----------------------------------------------------------------------------------


def _editable_goal(st: Any) -> Any:
    return next(
        g for g in st.goals.values() if len(g.targets) >= 2 and g.closed_at is None and g.archived_at is None and g.company_access_level
    )


def test_post_goal_check_in_moves_status_and_targets_and_keeps_the_due_date(env: Any) -> None:
    sandbox, _, connect = env
    st = sandbox.state
    goal = _editable_goal(st)
    end_before = goal.timeframe["contextual_end_date"]
    target = goal.targets[1]
    connector = connect(ADA)
    record = connector.post_goal_check_in(
        uuid_to_short(goal.uuid), "off_track", "Blocked by <b>legal</b>", {uuid_to_short(target.uuid): 42.5}
    )
    assert record.subject_external_id == uuid_to_short(goal.uuid) and record.health is Health.OFF_TRACK
    assert record.author == "Ada Lovelace" and "Blocked by <b>legal</b>" in record.comment
    assert target.value == 42.5
    assert goal.last_update_status == "off_track" and st.goal_status(goal) == "off_track"
    assert goal.timeframe["contextual_end_date"] == end_before  # not cleared by a null due_date
    assert goal.next_update_scheduled_at > st.now
    update = st.goal_updates[goal.last_update]
    assert update.message["content"][0]["content"][0]["text"] == "Blocked by <b>legal</b>"
    fresh = connector.fetch_item("goal", uuid_to_short(goal.uuid))
    assert isinstance(fresh, GoalRecord) and fresh.health is Health.OFF_TRACK and fresh.due_date == date.fromisoformat(end_before["date"])
    with pytest.raises(VendorValidationError) as bad:
        connector.post_goal_check_in(uuid_to_short(goal.uuid), "on_track", "x", {"NotATarget": 1})
    assert "new_target_values" in bad.value.field_errors
    with pytest.raises(VendorValidationError):
        connector.post_goal_check_in(uuid_to_short(goal.uuid), "great", "x")


def test_post_project_check_in(env: Any) -> None:
    sandbox, _, connect = env
    st = sandbox.state
    project = next(p for p in st.projects.values() if p.state == "active" and p.archived_at is None and p.company_access_level)
    record = connect(ADA).post_project_check_in(uuid_to_short(project.uuid), "caution", "Slipping a week")
    assert record.subject_kind is Kind.WORK_ITEM and record.health is Health.NEEDS_ATTENTION
    assert project.last_check_in_status == "caution" and st.project_status(project) == "caution"
    assert st.project_check_ins[project.last_check_in].description["content"][0]["content"][0]["text"] == "Slipping a week"


def test_update_target_value(env: Any) -> None:
    sandbox, _, connect = env
    goal = _editable_goal(sandbox.state)
    target = goal.targets[0]
    record = connect(ADA).update_target_value(uuid_to_short(goal.uuid), uuid_to_short(target.uuid), 7.0)
    assert target.value == 7.0 and record.current == 7.0 and record.external_id == uuid_to_short(target.uuid)


def test_update_task_status_sends_the_whole_status_object(env: Any) -> None:
    sandbox, _, connect = env
    st = sandbox.state
    task = next(t for t in st.tasks.values() if not t.status["closed"])
    project = st.projects[task.project]
    done = next(s for s in project.task_statuses if s["closed"])
    record = connect(ADA).update_task_status(uuid_to_short(task.uuid), done["label"])
    assert task.status == done  # id, label, colour, index, value, closed: all of it
    assert record.state is State.DONE and record.vendor_status == done["value"]
    with pytest.raises(VendorValidationError) as bad:
        connect(ADA).update_task_status(uuid_to_short(task.uuid), "no such status")
    assert "status" in bad.value.field_errors


def test_read_only_token_cannot_write_and_nothing_changes(env: Any) -> None:
    sandbox, _, connect = env
    goal = _editable_goal(sandbox.state)
    before = (goal.last_update, [t.value for t in goal.targets])
    connector = connect(ADA_READ_ONLY)
    with pytest.raises(ReadOnlyError) as refused:
        connector.post_goal_check_in(uuid_to_short(goal.uuid), "on_track", "hi", {uuid_to_short(goal.targets[0].uuid): 1})
    assert "full-access token" in refused.value.message
    with pytest.raises(ReadOnlyError):
        connector.update_target_value(uuid_to_short(goal.uuid), uuid_to_short(goal.targets[0].uuid), 3)
    assert (goal.last_update, [t.value for t in goal.targets]) == before


def test_view_only_person_gets_a_403_not_a_read_only_error(env: Any) -> None:
    sandbox, _, connect = env
    st = sandbox.state
    carol = st.person_named("Carol Viewer").uuid
    goal = next(g for g in st.goals.values() if 10 <= st.access_level(carol, g) < 70 and g.targets)
    connector = connect(CAROL)
    assert connector.fetch_item("goal", uuid_to_short(goal.uuid)).external_id == uuid_to_short(goal.uuid)
    with pytest.raises(ScopeError) as refused:
        connector.update_target_value(uuid_to_short(goal.uuid), uuid_to_short(goal.targets[0].uuid), 3)
    assert not isinstance(refused.value, ReadOnlyError) and refused.value.status == 403
    with pytest.raises(ScopeError):
        connector.post_goal_check_in(uuid_to_short(goal.uuid), "on_track", "hi")
    assert goal.targets[0].value != 3


# ---- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["500", "502", "503", "429", "badjson", "truncated"])
def test_each_fault_kind_is_retried_within_the_budget(env: Any, fault: str) -> None:
    sandbox, _, connect = env
    connector = connect(ADA)
    connector.check()
    sandbox.faults = f"script={fault}|{fault},retry_after=0.01"
    goals = read_all(connector, "goals")
    assert len(goals) == len(sandbox.state.goals)
    assert sandbox.app.faults_served[fault] == 2


def test_timeouts_are_retried(env: Any) -> None:
    sandbox, _, connect = env
    connector = connect(ADA, timeout=0.5)
    connector.check()
    sandbox.faults = "script=timeout,hang=2"
    assert len(read_all(connector, "people")) == sum(1 for p in sandbox.state.people.values() if not p.suspended)


def test_persistent_500s_are_reported_with_the_endpoint(env: Any, request: pytest.FixtureRequest) -> None:
    sandbox, _, connect = env
    connector = connect(ADA)
    connector.check()
    sandbox.faults = "500=1"
    with pytest.raises(TransientError) as failed:
        read_all(connector, "goals")
    name = "get_goals" if request.node.callspec.params["env"] == "2026-03" else "goals/list"
    assert failed.value.endpoint == f"GET {name}" and name in str(failed.value)
    sandbox.faults = ""
    with pytest.raises(TransientError):  # writes are not retried
        sandbox.faults = "script=500"
        connector.post_project_check_in(uuid_to_short(next(iter(sandbox.state.projects))), "on_track", "x")


def test_a_vanished_project_is_not_a_failed_sync(env: Any) -> None:
    sandbox, _, connect = env
    st = sandbox.state
    inner = sandbox.app.app
    victim = next(t.project for t in st.tasks.values())
    short = uuid_to_short(victim)

    def vanish_on_tasks_request(environ: dict[str, Any], start_response: Any) -> Any:
        if "tasks/list" in environ.get("PATH_INFO", "") and short in environ.get("QUERY_STRING", ""):
            st.projects.pop(victim, None)  # deleted at the vendor between the list and this request
        return inner(environ, start_response)

    sandbox.app.app = vanish_on_tasks_request
    items = read_all(connect(ADA), "work_items")
    assert not any(isinstance(i, WorkItemRecord) and i.work_kind is WorkItemKind.TASK and i.parent_external_id == short for i in items)
    assert any(isinstance(i, WorkItemRecord) and i.work_kind is WorkItemKind.TASK for i in items)
