"""Requests per sync run, counted at the sandbox over real HTTP (both API profiles).

One run = one connector instance reading every stream in order. Within a run no request may be
repeated; a re-run with the previous run's cursors asks only the lists (no check-in requests),
and after a new check-in it asks exactly that goal's (or project's) check-ins.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pytest

from connectors.base import CheckInRecord, GoalRecord, Kind, Record, WorkItemKind, WorkItemRecord
from connectors.http import RetryPolicy, make_client
from connectors.operately import OperatelyConnector
from connectors.operately.checkin_cursor import CURSOR_VERSION, previous_markers
from connectors.operately.client import API_PREFIX, ENDPOINTS
from connectors.operately.ids import uuid_to_short
from connectors.operately.sandbox import build
from connectors.sandbox_kit import serve

FAST = {"retry_policy": RetryPolicy(max_attempts=3, base_delay=0.01, budget_seconds=5)}
CHECK_IN_OPS = ("goal_check_ins", "project_check_ins")
LIST_OPS = ("me", "companies", "company", "spaces", "people", "goals", "projects", "project_tasks", "space_tasks")

Call = tuple[str, str, str]  # method, endpoint name, query string


class RequestLog:
    """WSGI middleware in front of the sandbox: every request it receives, in order."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        name = str(environ.get("PATH_INFO", "")).removeprefix("/" + API_PREFIX)
        with self._lock:
            self.calls.append((environ["REQUEST_METHOD"], name, str(environ.get("QUERY_STRING", ""))))
        return self.app(environ, start_response)

    def take(self) -> list[Call]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls


class Env:
    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.sandbox = build(seed=1, size="small", profile=profile)
        self.log = RequestLog(self.sandbox.app)
        self.server = serve(self.log)
        self.clients: list[Any] = []

    def connector(self) -> OperatelyConnector:
        client = make_client(self.server.url)
        self.clients.append(client)
        return OperatelyConnector(client, {"token": self.sandbox.credentials[0].secret["token"]}, options=FAST)

    def name(self, operation: str) -> str:
        return ENDPOINTS[self.profile][operation]

    def sync(
        self, cursors: Mapping[str, Mapping[str, Any] | None] | None = None
    ) -> tuple[dict[str, list[Record]], dict[str, Any], list[Call]]:
        """One run: a new connector reads every stream in order with ``cursors``; returns the
        records per stream, the last page's cursor per stream and the requests made."""
        self.log.take()
        connector = self.connector()
        records: dict[str, list[Record]] = {}
        next_cursors: dict[str, Any] = {}
        for stream in connector.streams:
            pages = list(connector.read(stream, (cursors or {}).get(stream)))
            assert pages[-1].complete and not any(p.complete for p in pages[:-1])
            records[stream] = [r for p in pages for r in p.records]
            next_cursors[stream] = pages[-1].cursor
        calls = self.log.take()
        assert connector.requests_made == len(calls)
        return records, next_cursors, calls

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.server.stop()


@pytest.fixture(params=["2026-03", "2026-08"])
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    served = Env(request.param)
    yield served
    served.close()


def repeated(calls: list[Call]) -> dict[Call, int]:
    return {call: n for call, n in Counter(calls).items() if n > 1}


def per_name(calls: list[Call]) -> Counter[str]:
    return Counter(name for _, name, _ in calls)


def test_a_full_run_repeats_no_request_and_asks_each_list_once(env: Env) -> None:
    records, cursors, calls = env.sync()
    assert repeated(calls) == {}
    names = per_name(calls)
    for operation in ("goals", "projects", "people", "spaces"):
        assert names[env.name(operation)] == 1, operation
    assert names[env.name("companies")] + names[env.name("company")] == 1  # 2026-08 asks for the token's company
    goals = [r for r in records["goals"] if isinstance(r, GoalRecord)]
    with_check_ins = {g.external_id for g in goals if g.raw.get("last_check_in_id")}
    assert with_check_ins and names[env.name("goal_check_ins")] == len(with_check_ins)
    projects = [r for r in records["work_items"] if isinstance(r, WorkItemRecord) and r.work_kind == WorkItemKind.PROJECT]
    projects_with_check_ins = {p.external_id for p in projects if p.raw.get("last_check_in")}
    assert projects_with_check_ins and names[env.name("project_check_ins")] == len(projects_with_check_ins)
    check_ins = [r for r in records["check_ins"] if isinstance(r, CheckInRecord)]
    assert {c.subject_external_id for c in check_ins if c.subject_kind is Kind.GOAL} == with_check_ins
    assert {c.subject_external_id for c in check_ins if c.subject_kind is Kind.WORK_ITEM} == projects_with_check_ins
    # the check_ins cursor names every goal and project with check-ins; the other streams have none
    cursor = cursors["check_ins"]
    assert cursor["version"] == CURSOR_VERSION
    assert set(cursor["goals"]) == with_check_ins and set(cursor["projects"]) == projects_with_check_ins
    assert all(cursors[s] is None for s in cursors if s != "check_ins")


def test_a_no_change_rerun_asks_only_the_lists(env: Env) -> None:
    first, cursors, full = env.sync()
    again, cursors_again, calls = env.sync(cursors)
    assert repeated(calls) == {}
    names = per_name(calls)
    assert all(names[env.name(op)] == 0 for op in CHECK_IN_OPS)
    profile_probes = {endpoints["me"] for endpoints in ENDPOINTS.values()}  # "who am I", per profile
    assert set(names) <= {env.name(op) for op in LIST_OPS} | profile_probes
    # the same lists as the full run, nothing more
    assert Counter(c for c in calls) == Counter(c for c in full if c[1] not in {env.name(op) for op in CHECK_IN_OPS})
    assert again["check_ins"] == [] and cursors_again["check_ins"] == cursors["check_ins"]
    assert {s: again[s] for s in again if s != "check_ins"} == {s: first[s] for s in first if s != "check_ins"}


def test_after_new_check_ins_the_rerun_reads_exactly_their_subjects(env: Env) -> None:
    _, cursors, _ = env.sync()
    st = env.sandbox.state
    goal = next(g for g in st.goals.values() if g.closed_at is None and g.archived_at is None and g.company_access_level)
    project = next(p for p in st.projects.values() if p.state == "active" and p.archived_at is None and p.company_access_level)
    goal_id, project_id = uuid_to_short(goal.uuid), uuid_to_short(project.uuid)
    writer = env.connector()
    posted_goal = writer.post_goal_check_in(goal_id, "caution", "Hiring is behind plan")
    posted_project = writer.post_project_check_in(project_id, "off_track", "Vendor slipped")

    records, cursors_after, calls = env.sync(cursors)
    check_in_calls = [c for c in calls if c[1] in {env.name(op) for op in CHECK_IN_OPS}]
    assert len(check_in_calls) == 2
    assert [c[1] for c in check_in_calls] == [env.name("goal_check_ins"), env.name("project_check_ins")]
    assert goal_id in check_in_calls[0][2] and project_id in check_in_calls[1][2]
    got = {(r.subject_kind, r.subject_external_id, r.external_id) for r in records["check_ins"] if isinstance(r, CheckInRecord)}
    assert (Kind.GOAL, goal_id, posted_goal.external_id) in got
    assert (Kind.WORK_ITEM, project_id, posted_project.external_id) in got
    # nobody else's check-ins (key-result check-ins come from that goal's own check-ins)
    assert {subject for kind, subject, _ in got if kind is not Kind.KEY_RESULT} == {goal_id, project_id}
    assert {subject for kind, subject, _ in got if kind is Kind.KEY_RESULT} <= {uuid_to_short(t.uuid) for t in goal.targets}
    assert cursors_after["check_ins"]["goals"][goal_id] != cursors["check_ins"]["goals"].get(goal_id)
    # and the run after that is quiet again
    _, _, quiet = env.sync(cursors_after)
    assert not [c for c in quiet if c[1] in {env.name(op) for op in CHECK_IN_OPS}]


def test_an_edited_latest_check_in_is_read_again(env: Env) -> None:
    _, cursors, _ = env.sync()
    st = env.sandbox.state
    goal = next(g for g in st.goals.values() if g.last_update and g.company_access_level)
    st.goal_updates[goal.last_update].status = "off_track" if st.goal_updates[goal.last_update].status != "off_track" else "on_track"
    records, _, calls = env.sync(cursors)
    check_in_calls = [c for c in calls if c[1] in {env.name(op) for op in CHECK_IN_OPS}]
    assert len(check_in_calls) == 1 and uuid_to_short(goal.uuid) in check_in_calls[0][2]
    assert {r.subject_external_id for r in records["check_ins"] if isinstance(r, CheckInRecord) and r.subject_kind is Kind.GOAL} == {
        uuid_to_short(goal.uuid)
    }


def test_streams_read_alone_give_what_a_run_gives(env: Env) -> None:
    """The hand-offs between streams change no record: key results and check-ins read by a
    connector that read nothing before equal those of a full run."""
    run, _, _ = env.sync()
    for stream in ("key_results", "check_ins"):
        alone = [r for p in env.connector().read(stream) for r in p.records]
        assert alone == run[stream], stream


@pytest.mark.parametrize(
    "cursor",
    [None, {}, {"version": CURSOR_VERSION + 1, "goals": {}}, {"version": CURSOR_VERSION, "goals": ["not", "a", "map"]}],
)
def test_a_missing_or_unknown_cursor_reads_every_check_in(cursor: Any) -> None:
    assert previous_markers(cursor, "goals") is None
