"""The Operately connector: check, the streams (incremental check-ins) and fetch_item; writes in writes.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

import httpx

from connectors.base import (
    ALL_STREAM_KINDS,
    AccountInfo,
    CredentialField,
    GoalRecord,
    Kind,
    NotFound,
    Page,
    Record,
    ScopeError,
    TransientError,
    WorkItemKind,
    WorkItemRecord,
    WriteOperation,
)
from connectors.http import RetryPolicy

from . import mapping, work_mapping
from .checkin_cursor import Subjects, make_cursor, previous_markers
from .client import OperatelyClient
from .ids import short_of
from .writes import WRITE_OPERATIONS, OperatelyWrites

PAGE_SIZE = 200
READ_ONLY_REASON = "read-only token: writes need a full-access token"


def _pages(stream: str, records: Iterable[Record], size: int = PAGE_SIZE, cursor: Mapping[str, Any] | None = None) -> Iterator[Page]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield Page(stream=stream, records=batch)
            batch = []
    yield Page(stream=stream, records=batch, complete=True, cursor=cursor)


class OperatelyConnector(OperatelyWrites):
    vendor: ClassVar[str] = "operately"
    display_name: ClassVar[str] = "Operately"
    credential_fields: ClassVar[Sequence[CredentialField]] = (
        CredentialField(
            "token",
            "Personal API token",
            secret=True,
            help_text="Create one in Operately under Account → Security → API tokens (starts with opk_). "
            "A read-only token syncs but cannot post check-ins.",
        ),
    )
    stream_kinds: ClassVar[Mapping[str, Kind]] = ALL_STREAM_KINDS  # all six, in dependency order
    streams: ClassVar[Sequence[str]] = tuple(stream_kinds)
    # goals and projects have check-ins; targets, milestones and tasks do not
    check_in_kinds: ClassVar[frozenset[str]] = frozenset({"goal", "project"})
    write_operations: ClassVar[Sequence[WriteOperation]] = WRITE_OPERATIONS

    def __init__(self, client: httpx.Client, secret: Mapping[str, str], *, options: Mapping[str, Any] | None = None) -> None:
        options = dict(options or {})
        policy = options.get("retry_policy")
        self.concurrency = int(options.get("concurrency", 8))
        self.api = OperatelyClient(
            client,
            str(secret.get("token") or ""),
            policy=policy if isinstance(policy, RetryPolicy) else None,
            concurrency=self.concurrency,
            profile=options.get("profile"),
        )
        self._company: dict[str, Any] | None = None
        # Hand-offs between the streams of one sync run, which one thread reads in order: what a
        # later stream needs from a list an earlier stream already fetched, so no list is asked
        # for twice. Only the few fields needed are kept (not the raw lists), and each is taken
        # (dropped) by the stream that uses it: reading a stream again asks the vendor again.
        self._spaces: list[dict[str, Any]] | None = None  # fetched by company() when it had to choose
        self._goal_targets: list[tuple[GoalRecord, list[dict[str, Any]]]] | None = None  # for key_results
        self._goal_subjects: Subjects | None = None  # goals with check-ins, for check_ins
        self._project_subjects: Subjects | None = None  # projects with check-ins, for check_ins
        self._task_spaces: list[str] | None = None  # space ids from teams, for the space tasks in work_items

    @property
    def requests_made(self) -> int:
        return self.api.http.requests_made

    @property
    def profile(self) -> str:
        return self.api.ensure_profile()

    # ---- account ---------------------------------------------------------------------------

    def company(self) -> dict[str, Any]:
        """The token's company (get_companies lists every company of the person's account; the
        one whose company space we can see is the token's)."""
        if self._company is not None:
            return self._company
        if self.profile == "2026-08":
            company: dict[str, Any] = self.api.query("company").get("company") or {}
        else:
            companies = [c for c in self.api.query("companies").get("companies") or [] if isinstance(c, dict)]
            company = companies[0] if companies else {}
            if len(companies) > 1:
                self._spaces = self._space_list()
                spaces = {short_of(s.get("id")) for s in self._spaces if s.get("is_company_space")}
                company = next((c for c in companies if short_of(c.get("company_space_id")) in spaces), company)
        self._company = company
        return company

    def links(self) -> mapping.Links:
        return mapping.Links(base_url=self.api.base_url, company_path=self.company().get("id"))

    def check(self) -> AccountInfo:
        me = self.api.get_me()
        company = self.company()
        try:
            can_write = self.api.probe_write_access()
        except TransientError:
            can_write = True  # unknown: the write itself will say
        name = str(me.get("full_name") or me.get("email") or "Operately user")
        detail = f"{company.get('name') or 'Operately'} (Operately API {self.profile})"
        return AccountInfo(
            account_name=name,
            account_id=short_of(me.get("id")),
            email=me.get("email") or None,
            detail=detail,
            can_write=can_write,
            write_disabled_reason="" if can_write else READ_ONLY_REASON,
            raw={"me": me, "company": company, "profile": self.profile},
        )

    # ---- streams ---------------------------------------------------------------------------

    def read(self, stream: str, cursor: Mapping[str, Any] | None = None) -> Iterator[Page]:
        readers = {
            "teams": self._teams,
            "people": self._people,
            "goals": self._goals,
            "key_results": self._key_results,
            "work_items": self._work_items,
        }
        if stream not in readers and stream != "check_ins":
            raise ValueError(f"unknown stream {stream!r}; Operately offers {', '.join(self.streams)}")
        try:
            if stream == "check_ins":
                records, next_cursor = self._check_ins(cursor)
                yield from _pages(stream, records, cursor=next_cursor)
            else:
                yield from _pages(stream, readers[stream]())
        except ScopeError as exc:
            raise ScopeError(
                f"Operately refused the {stream} stream: {exc.message}", scope=stream, endpoint=exc.endpoint, status=exc.status
            ) from None

    def _teams(self) -> Iterator[Record]:
        links = self.links()
        company = mapping.map_company(self.company(), links)
        yield company
        spaces, self._spaces = self._spaces, None
        spaces = spaces if spaces is not None else self._space_list()
        self._task_spaces = [str(space["id"]) for space in spaces]
        for space in spaces:
            yield mapping.map_space(space, company.external_id, links)

    def _space_list(self) -> list[dict[str, Any]]:
        return [s for s in self.api.query("spaces").get("spaces") or [] if isinstance(s, dict) and s.get("id")]

    def _people(self) -> Iterator[Record]:
        links = self.links()
        for person in self.api.query("people").get("people") or []:
            if isinstance(person, dict) and person.get("id"):
                yield mapping.map_person(person, links)

    def _goal_list(self) -> list[dict[str, Any]]:
        body = self.api.query("goals", include_champion=True, include_space=True, include_last_check_in=True)
        return [g for g in body.get("goals") or [] if isinstance(g, dict) and g.get("id")]

    def _goals(self) -> Iterator[Record]:
        links = self.links()
        targets: list[tuple[GoalRecord, list[dict[str, Any]]]] = []
        subjects = Subjects()
        for goal in self._goal_list():
            record = mapping.map_goal(goal, links)
            yield record
            subjects.add(goal)
            goal_targets = [t for t in goal.get("targets") or [] if isinstance(t, dict) and t.get("id")]
            if goal_targets:
                # a key result takes its goal's owners, health, dates and link, not its text or raw
                targets.append((replace(record, description="", raw={}), goal_targets))
        self._goal_targets, self._goal_subjects = targets, subjects

    def _key_results(self) -> Iterator[Record]:
        handoff, self._goal_targets = self._goal_targets, None
        if handoff is not None:
            for parent, targets in handoff:
                for target in targets:
                    yield mapping.map_target(target, parent)
            return
        links = self.links()  # the goals stream was not read in this run (e.g. a resumed run)
        subjects = Subjects()
        for goal in self._goal_list():
            subjects.add(goal)
            yield from mapping.map_targets(goal, links)
        if self._goal_subjects is None:
            self._goal_subjects = subjects

    def _project_list(self) -> list[dict[str, Any]]:
        body = self.api.query(
            "projects",
            include_milestones=True,
            include_champion=True,
            include_space=True,
            include_last_check_in=True,
            include_archived=True,
        )
        return [p for p in body.get("projects") or [] if isinstance(p, dict) and p.get("id")]

    def _work_items(self) -> Iterator[Record]:
        links = self.links()
        projects = self._project_list()
        records: dict[str, WorkItemRecord] = {}
        project_ids: list[str] = []
        subjects = Subjects()
        for project in projects:
            record = work_mapping.map_project(project, links)
            subjects.add(project)
            yield record
            for milestone in project.get("milestones") or []:
                if isinstance(milestone, dict) and milestone.get("id"):
                    yield work_mapping.map_milestone(milestone, record, links)
            # Every project's tasks are asked for: the kanban state lists only the tasks whose
            # status has a column, so a task with no status (or a removed one) is in none.
            project_ids.append(str(project["id"]))
            records[record.external_id] = replace(record, description="", raw={})  # parent of its tasks
        del projects  # the tasks below need only the slim parents
        self._project_subjects = subjects
        for project_id, tasks in self.api.http.map_concurrent(self._tasks_of, project_ids):
            parent = records.get(short_of(project_id) or "")
            for task in tasks:
                yield work_mapping.map_task(task, parent, links)
        space_ids, self._task_spaces = self._task_spaces, None
        if space_ids is None:  # the teams stream was not read in this run
            space_ids = [str(space["id"]) for space in self._space_list()]
        for _, tasks in self.api.http.map_concurrent(self._space_tasks_of, space_ids):
            for task in tasks:
                yield work_mapping.map_task(task, None, links)

    def _tasks_of(self, project_id: str) -> tuple[str, list[dict[str, Any]]]:
        try:
            tasks = self.api.query("project_tasks", project_id=project_id).get("tasks") or []
        except NotFound:
            return project_id, []  # the project vanished since the list: not a failed sync
        return project_id, [t for t in tasks if isinstance(t, dict) and t.get("id")]

    def _space_tasks_of(self, space_id: str) -> tuple[str, list[dict[str, Any]]]:
        """A space's own tasks (``type`` "space"), which belong to no project."""
        try:
            tasks = self.api.query("space_tasks", space_id=space_id).get("tasks") or []
        except NotFound:
            return space_id, []
        return space_id, [t for t in tasks if isinstance(t, dict) and t.get("id")]

    def _check_ins(self, cursor: Mapping[str, Any] | None) -> tuple[Iterator[Record], dict[str, Any]]:
        """Check-ins of the goals and projects whose latest check-in changed since ``cursor``
        (all of them without one), and the cursor for next time (see checkin_cursor.py)."""
        goals, self._goal_subjects = self._goal_subjects, None
        projects, self._project_subjects = self._project_subjects, None
        if goals is None:  # the goals stream was not read in this run
            goals = Subjects()
            for goal in self._goal_list():
                goals.add(goal)
        if projects is None:
            projects = Subjects()
            for project in self._project_list():
                projects.add(project)
        goal_ids = goals.changed_since(previous_markers(cursor, "goals"))
        project_ids = projects.changed_since(previous_markers(cursor, "projects"))
        return self._check_ins_of(goal_ids, project_ids), make_cursor(goals, projects)

    def _check_ins_of(self, goal_ids: list[str], project_ids: list[str]) -> Iterator[Record]:
        for goal_id, updates in self.api.http.map_concurrent(self._goal_check_ins, goal_ids):
            for update in updates:
                yield from mapping.map_goal_check_ins(update, short_of(goal_id) or goal_id)
        for project_id, check_ins in self.api.http.map_concurrent(self._project_check_ins, project_ids):
            for check_in in check_ins:
                yield mapping.map_project_check_in(check_in, short_of(project_id) or project_id)

    def _goal_check_ins(self, goal_id: str) -> tuple[str, list[dict[str, Any]]]:
        try:
            updates = self.api.query("goal_check_ins", goal_id=goal_id).get("check_ins") or []
        except NotFound:
            return goal_id, []
        # drafts (listed to their author) and scheduled check-ins are not check-ins yet
        return goal_id, [u for u in updates if isinstance(u, dict) and u.get("id") and mapping.is_published(u)]

    def _project_check_ins(self, project_id: str) -> tuple[str, list[dict[str, Any]]]:
        try:
            items = self.api.query("project_check_ins", project_id=project_id, include_author=True).get("project_check_ins") or []
        except NotFound:
            return project_id, []
        return project_id, [c for c in items if isinstance(c, dict) and c.get("id") and mapping.is_published(c)]

    # ---- single items ----------------------------------------------------------------------

    def fetch_item(self, kind: str, external_id: str) -> Record:
        """Re-read one item (before a write, to detect conflicts)."""
        links = self.links()
        if kind == "goal":
            return mapping.map_goal(self._goal(external_id), links)
        if kind == "key_result":
            for goal in self._goal_list():
                for record in mapping.map_targets(goal, links):
                    if record.external_id == external_id:
                        return record
            raise NotFound(
                f"No target {external_id} among the goals this token can see", endpoint=f"GET {self.api.name('goals')}", status=404
            )
        if kind in ("project", WorkItemKind.PROJECT):
            body = self.api.query(
                "project", id=external_id, include_milestones=True, include_champion=True, include_space=True, include_last_check_in=True
            )
            return work_mapping.map_project(body.get("project") or {"id": external_id}, links)
        if kind in ("task", WorkItemKind.TASK):
            task = self._task(external_id)
            project = task.get("project") if isinstance(task.get("project"), dict) else None
            parent = work_mapping.map_project(project, links) if project and project.get("id") else None
            return work_mapping.map_task(task, parent, links)
        if kind in ("milestone", WorkItemKind.MILESTONE):
            milestone = self.api.query("milestone", id=external_id, include_project=True).get("milestone") or {}
            project = work_mapping.map_project(milestone.get("project") or {"id": ""}, links)
            return work_mapping.map_milestone(milestone, project, links)
        raise ValueError(f"fetch_item does not know kind {kind!r}")
