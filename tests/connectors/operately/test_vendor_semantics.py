"""Operately meanings the vendor documents leave open (issue #16, docs/vendors.md "Operately"),
over real HTTP against the sandbox, which serves each awkward case (both API profiles).

Expected values come from the sandbox's seeded state, never from the connector's own output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from connectors.base import CheckInRecord, GoalRecord, Health, KeyResultRecord, Kind, Outcome, State, WorkItemKind, WorkItemRecord
from connectors.http import RetryPolicy, make_client
from connectors.operately import OperatelyConnector
from connectors.operately.client import API_PREFIX, ENDPOINTS
from connectors.operately.ids import uuid_to_short
from connectors.operately.sandbox.seed_cases import REMOVED_STATUS

FAST = {"retry_policy": RetryPolicy(max_attempts=3, base_delay=0.01, budget_seconds=5)}
ADA, BOB, CAROL = 0, 2, 3


class Env:
    def __init__(self, sandbox: Any, server: Any, profile: str) -> None:
        self.sandbox, self.server, self.profile = sandbox, server, profile
        self.st = sandbox.state
        self.clients: list[httpx.Client] = []

    def connector(self, who: int = ADA) -> OperatelyConnector:
        client = make_client(self.server.url)
        self.clients.append(client)
        return OperatelyConnector(client, {"token": self.sandbox.credentials[who].secret["token"]}, options=FAST)

    def get(self, operation: str, who: int = ADA, **params: Any) -> dict[str, Any]:
        """The raw JSON of one query, as the person ``who`` (for what the sandbox serves to whom)."""
        client = httpx.Client(base_url=self.server.url + "/" + API_PREFIX, timeout=5)
        self.clients.append(client)
        token = self.sandbox.credentials[who].secret["token"]
        response = client.get(ENDPOINTS[self.profile][operation], params=params, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def read(self, stream: str, who: int = ADA) -> list[Any]:
        return [r for page in self.connector(who).read(stream) for r in page.records]

    def close(self) -> None:
        for client in self.clients:
            client.close()


@pytest.fixture(params=["2026-03", "2026-08"])
def env(request: pytest.FixtureRequest, sandbox_factory: Callable[..., Any]) -> Iterator[Env]:
    sandbox, server = sandbox_factory("operately", seed=1, size="small", profile=request.param)
    served = Env(sandbox, server, request.param)
    yield served
    served.close()


def _served(sandbox_factory: Callable[..., Any], profile: str) -> Iterator[Env]:
    sandbox, server = sandbox_factory("operately", seed=1, size="small", profile=profile)
    served = Env(sandbox, server, profile)
    yield served
    served.close()


@pytest.fixture
def latest(sandbox_factory: Callable[..., Any]) -> Iterator[Env]:
    """The 2026-08 profile: check-in states, published_at and closed_at exist only there."""
    yield from _served(sandbox_factory, "2026-08")


@pytest.fixture
def older(sandbox_factory: Callable[..., Any]) -> Iterator[Env]:
    """The 2026-03 profile: no drafts, no scheduling, no closed_at in that version."""
    yield from _served(sandbox_factory, "2026-03")


def moment(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(microsecond=0)


# ---- key results -----------------------------------------------------------------------------


def test_a_target_has_no_health_of_its_own(env: Env) -> None:
    goals = {g.external_id: g for g in env.read("goals") if isinstance(g, GoalRecord)}
    krs = [k for k in env.read("key_results") if isinstance(k, KeyResultRecord)]
    targets = {uuid_to_short(t.uuid): (g, t) for g in env.st.goals.values() for t in g.targets}
    assert krs and {k.external_id for k in krs} == set(targets)
    # the goals do have health: a key result that copied it would not be unknown
    assert any(goals[k.goal_external_id].health is not Health.UNKNOWN for k in krs if k.goal_external_id)
    for kr in krs:
        goal, target = targets[kr.external_id]
        assert kr.health is Health.UNKNOWN and kr.vendor_status is None
        assert kr.goal_external_id == uuid_to_short(goal.uuid)
        # the raw target JSON as served, untouched
        assert kr.raw["id"] == uuid_to_short(target.uuid) and (kr.raw["from"], kr.raw["to"], kr.raw["value"]) == (
            target.start,
            target.to,
            target.value,
        )


# ---- check-in states (2026-08) ---------------------------------------------------------------


def _staged_goal(st: Any) -> Any:
    """A goal the sandbox gave drafts and a scheduled check-in."""
    return next(g for g in st.goals.values() if any(u.goal == g.uuid and u.state == "draft" for u in st.goal_updates.values()))


def _staged_project(st: Any) -> Any:
    return next(p for p in st.projects.values() if any(c.project == p.uuid and c.state == "draft" for c in st.project_check_ins.values()))


def test_drafts_are_served_only_to_their_author(latest: Env) -> None:
    st = latest.st
    goal, project = _staged_goal(st), _staged_project(st)
    ada, bob = st.person_named("Ada Lovelace").uuid, st.person_named("Bob Builder").uuid
    for who, person in ((ADA, ada), (BOB, bob), (CAROL, None)):
        listed = latest.get("goal_check_ins", who, goal_id=uuid_to_short(goal.uuid))["check_ins"]
        drafts = {c["id"].rsplit("-", 1)[-1] for c in listed if c["state"] == "draft"}
        own = {uuid_to_short(u.uuid) for u in st.goal_updates.values() if u.goal == goal.uuid and u.state == "draft" and u.author == person}
        assert drafts == own, who
        assert {c["state"] for c in listed} >= {"published", "scheduled"}  # scheduled ones are listed to everyone
        listed = latest.get("project_check_ins", who, project_id=uuid_to_short(project.uuid))["project_check_ins"]
        drafts = {c["id"].rsplit("-", 1)[-1] for c in listed if c["state"] == "draft"}
        own = {
            uuid_to_short(c.uuid)
            for c in st.project_check_ins.values()
            if c.project == project.uuid and c.state == "draft" and c.author == person
        }
        assert drafts == own, who
    assert own == set() and len({u.author for u in st.goal_updates.values() if u.goal == goal.uuid and u.state == "draft"}) == 2


def test_only_published_check_ins_are_read_and_their_time_is_published_at(latest: Env) -> None:
    st = latest.st
    for who in (ADA, BOB):  # Ada and Bob each see their own drafts: neither becomes a check-in
        check_ins = [c for c in latest.read("check_ins", who) if isinstance(c, CheckInRecord) and c.subject_kind is not Kind.KEY_RESULT]
        served = {c.external_id for c in check_ins}
        unpublished = {uuid_to_short(u.uuid) for u in st.goal_updates.values() if u.state != "published"}
        unpublished |= {uuid_to_short(c.uuid) for c in st.project_check_ins.values() if c.state != "published"}
        assert unpublished and not served & unpublished
        assert all(c.raw["state"] == "published" for c in check_ins)
    # a check-in drafted first and published a day later counts from its publication
    later = [u for u in st.goal_updates.values() if u.published_at and u.published_at != u.inserted_at]
    later += [c for c in st.project_check_ins.values() if c.published_at and c.published_at != c.inserted_at]
    by_id = {c.external_id: c for c in check_ins}
    assert later and all(by_id[uuid_to_short(c.uuid)].created_at == c.published_at for c in later if uuid_to_short(c.uuid) in by_id)
    assert {uuid_to_short(c.uuid) for c in later} <= set(by_id)


def _last_published(items: list[Any]) -> datetime | None:
    published = [c for c in items if c.state == "published"]
    return max((c.published_at or c.inserted_at for c in published), default=None)


def test_goals_and_projects_take_their_last_check_in_time_from_published_check_ins(env: Env) -> None:
    st = env.st
    goals = {g.external_id: g for g in env.read("goals") if isinstance(g, GoalRecord)}
    works = [w for w in env.read("work_items") if isinstance(w, WorkItemRecord)]
    projects = {p.external_id: p for p in works if p.work_kind is WorkItemKind.PROJECT}
    for goal in st.goals.values():
        expected = _last_published([u for u in st.goal_updates.values() if u.goal == goal.uuid])
        if env.profile == "2026-03" and expected is not None:  # no published_at in that version
            expected = max(u.inserted_at for u in st.goal_updates.values() if u.goal == goal.uuid and u.state == "published")
        assert goals[uuid_to_short(goal.uuid)].last_check_in_at == expected, goal.name
    with_check_ins = 0
    for project in st.projects.values():
        record = projects[uuid_to_short(project.uuid)]
        mine = [c for c in st.project_check_ins.values() if c.project == project.uuid]
        expected = _last_published(mine)
        if env.profile == "2026-03" and expected is not None:
            expected = max(c.inserted_at for c in mine if c.state == "published")
        assert record.last_check_in_at == expected, project.name
        assert record.is_stale == st.project_is_outdated(project)  # Operately's rule decides
        with_check_ins += expected is not None
    assert with_check_ins and any(p.last_check_in_at is None for p in projects.values())


def test_a_check_in_posted_as_a_draft_or_scheduled_changes_nothing_yet(latest: Env) -> None:
    st = latest.st
    goal = next(g for g in st.goals.values() if g.last_update and g.closed_at is None and g.company_access_level and g.targets)
    project = next(p for p in st.projects.values() if p.last_check_in and p.state == "active" and p.company_access_level)
    before = (st.goal_status(goal), goal.last_update, [t.value for t in goal.targets], project.last_check_in)
    document = json.dumps({"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Draft"}]}]})
    client = httpx.Client(base_url=latest.server.url + "/" + API_PREFIX, timeout=5)
    latest.clients.append(client)
    headers = {"Authorization": f"Bearer {latest.sandbox.credentials[ADA].secret['token']}"}
    target = {"id": uuid_to_short(goal.targets[0].uuid), "value": goal.targets[0].value + 1}
    body = {"goal_id": uuid_to_short(goal.uuid), "status": "off_track", "content": document, "post_as_draft": True}
    draft = client.post("goals/create_check_in", json=body | {"new_target_values": json.dumps([target])}, headers=headers)
    assert draft.status_code == 200 and draft.json()["update"]["state"] == "draft"
    assert draft.json()["update"]["published_at"] is None
    body = {"project_id": uuid_to_short(project.uuid), "status": "caution", "description": document, "scheduled_at": "2099-01-01T09:00:00Z"}
    scheduled = client.post("projects/create_check_in", json=body, headers=headers)
    assert scheduled.status_code == 200 and scheduled.json()["check_in"]["state"] == "scheduled"
    assert (st.goal_status(goal), goal.last_update, [t.value for t in goal.targets], project.last_check_in) == before
    new = {draft.json()["update"]["id"].rsplit("-", 1)[-1], scheduled.json()["check_in"]["id"].rsplit("-", 1)[-1]}
    read = {c.external_id.split(".")[0] for c in latest.read("check_ins") if isinstance(c, CheckInRecord)}
    assert read and not read & new


def test_the_older_profile_serves_no_draft_and_no_state(older: Env) -> None:
    st = older.st
    goal = _staged_goal(st)
    listed = older.get("goal_check_ins", ADA, goal_id=uuid_to_short(goal.uuid))["check_ins"]
    assert listed and all("state" not in c and "published_at" not in c for c in listed)
    assert {c["id"].rsplit("-", 1)[-1] for c in listed} == {
        uuid_to_short(u.uuid) for u in st.goal_updates.values() if u.goal == goal.uuid and u.state == "published"
    }


# ---- tasks and projects ----------------------------------------------------------------------


def _work_items(env: Env, who: int = ADA) -> dict[str, WorkItemRecord]:
    return {w.external_id: w for w in env.read("work_items", who) if isinstance(w, WorkItemRecord)}


def test_tasks_the_kanban_does_not_list_are_read(env: Env) -> None:
    st = env.st
    lost = [t for t in st.tasks.values() if t.project and (t.status is None or t.status["value"] == REMOVED_STATUS["value"])]
    assert lost
    projects = {p["id"].rsplit("-", 1)[-1]: p for p in env.get("projects", ADA, include_archived=True)["projects"]}
    for task in lost:
        kanban = projects[uuid_to_short(task.project)]["tasks_kanban_state"]
        assert uuid_to_short(task.uuid) not in {i for ids in kanban.values() for i in ids}
    # the sandbox puts them in projects whose kanban lists no task at all
    assert any(not any(projects[uuid_to_short(t.project)]["tasks_kanban_state"].values()) for t in lost)
    items = _work_items(env)
    for task in lost:
        record = items[uuid_to_short(task.uuid)]
        assert record.work_kind is WorkItemKind.TASK and record.parent_external_id == uuid_to_short(task.project)
        if task.status is None:
            assert record.state is State.NOT_STARTED and record.vendor_status is None and record.labels == []
        else:  # a status the project no longer has: still the task's status
            assert record.state is State.ACTIVE and record.vendor_status == REMOVED_STATUS["value"]
            assert record.labels == [REMOVED_STATUS["label"]]


def test_a_canceled_task_is_dropped_and_a_done_one_achieved(env: Env) -> None:
    st = env.st
    items = _work_items(env)
    tasks = [t for t in st.tasks.values() if t.status]
    canceled = [t for t in tasks if t.status["value"] == "canceled"]  # type: ignore[index]
    other_closed = [t for t in tasks if t.status["closed"] and t.status["value"] != "canceled"]  # type: ignore[index]
    still_open = [t for t in tasks if not t.status["closed"]]  # type: ignore[index]
    assert canceled and other_closed and still_open
    assert all(items[uuid_to_short(t.uuid)].state is State.DONE for t in canceled + other_closed)
    assert all(items[uuid_to_short(t.uuid)].outcome is Outcome.DROPPED for t in canceled)
    assert all(items[uuid_to_short(t.uuid)].outcome is Outcome.ACHIEVED for t in other_closed)  # "Done", "Shipped"
    assert all(items[uuid_to_short(t.uuid)].outcome is None for t in still_open)
    # the overdue canceled task is done, so nothing calls it overdue
    overdue = [t for t in canceled if t.due_date and t.due_date < st.now.date()]
    assert overdue and all(items[uuid_to_short(t.uuid)].state is State.DONE for t in overdue)


def test_closed_at_is_served_and_kept_at_2026_08(latest: Env) -> None:
    st = latest.st
    items = _work_items(latest)
    closed = [t for t in st.tasks.values() if t.closed_at]
    assert closed and any(t.project is None for t in closed)
    for task in st.tasks.values():
        record = items[uuid_to_short(task.uuid)]
        assert record.raw["closed_at"] == (task.closed_at.strftime("%Y-%m-%dT%H:%M:%SZ") if task.closed_at else None)
        assert (record.state is State.DONE) == bool(task.status and task.status["closed"])


def test_closed_at_is_absent_at_2026_03(older: Env) -> None:
    items = _work_items(older)
    tasks = [w for w in items.values() if w.work_kind is WorkItemKind.TASK]
    assert tasks and all("closed_at" not in t.raw for t in tasks)


def test_closing_a_task_sets_closed_at_and_reopening_clears_it(latest: Env) -> None:
    st = latest.st
    task = next(t for t in st.tasks.values() if t.project and t.status and not t.status["closed"] and t.status["value"] != "qa_review")
    writer = latest.connector()
    closed = writer.update_task_status(uuid_to_short(task.uuid), "canceled")
    assert closed.state is State.DONE and closed.outcome is Outcome.DROPPED
    assert task.closed_at is not None and closed.raw["closed_at"] == task.closed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    reopened = writer.update_task_status(uuid_to_short(task.uuid), "in_progress")
    assert reopened.state is State.ACTIVE and reopened.outcome is None and reopened.raw["closed_at"] is None


def test_a_closed_project_keeps_its_success_status(env: Env) -> None:
    st = env.st
    items = _work_items(env)
    closed = [p for p in st.projects.values() if p.state == "closed"]
    assert {p.success_status for p in closed} == {"achieved", "missed"}
    for project in st.projects.values():
        record = items[uuid_to_short(project.uuid)]
        if project.state == "closed":
            assert record.outcome is Outcome(project.success_status) and record.vendor_status == project.success_status
            assert record.state is (State.ARCHIVED if project.archived_at else State.DONE)
        else:
            assert record.outcome is None and record.raw["success_status"] == "nil"


def test_space_tasks_are_read(env: Env) -> None:
    st = env.st
    space_tasks = [t for t in st.tasks.values() if t.project is None]
    assert space_tasks and {t.space for t in space_tasks} == set(st.spaces)  # the company space too
    for who in (ADA, BOB):
        items = _work_items(env, who)
        person = st.person_named("Ada Lovelace" if who == ADA else "Bob Builder").uuid
        for task in space_tasks:
            record = items.get(uuid_to_short(task.uuid))
            if not st.can_see_space(person, st.spaces[task.space]):
                assert record is None  # the private space's tasks stay hidden from non-members
                continue
            assert record is not None and record.work_kind is WorkItemKind.TASK and record.raw["type"] == "space"
            assert record.parent_external_id is None and record.team_external_ids == [uuid_to_short(task.space)]
            assert record.title == task.name and record.owner_external_ids == [uuid_to_short(a) for a in task.assignees]
        if who == BOB:
            assert any(not st.can_see_space(person, st.spaces[t.space]) for t in space_tasks)
