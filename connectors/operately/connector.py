"""The Operately connector: check, streams and the writes the dashboard offers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, ClassVar

import httpx

from connectors.base import (
    AccountInfo,
    CheckInRecord,
    CredentialField,
    KeyResultRecord,
    NotFound,
    Page,
    Record,
    ScopeError,
    TransientError,
    VendorValidationError,
    WorkItemKind,
    WorkItemRecord,
)
from connectors.http import RetryPolicy

from . import mapping, richtext
from .client import OperatelyClient
from .ids import short_of

PAGE_SIZE = 200
CHECK_IN_STATUSES = ("on_track", "caution", "off_track")
READ_ONLY_REASON = "read-only token: writes need a full-access token"


def _pages(stream: str, records: Iterable[Record], size: int = PAGE_SIZE) -> Iterator[Page]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield Page(stream=stream, records=batch)
            batch = []
    yield Page(stream=stream, records=batch, complete=True)


def contextual_day(day: date) -> dict[str, str]:
    return {"date_type": "day", "value": f"{day:%b} {day.day}, {day.year}", "date": day.isoformat()}


class OperatelyConnector:
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
    streams: ClassVar[Sequence[str]] = ("teams", "people", "goals", "key_results", "work_items", "check_ins")

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
                spaces = {short_of(s.get("id")) for s in self.api.query("spaces").get("spaces") or [] if s.get("is_company_space")}
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
            "check_ins": self._check_ins,
        }
        if stream not in readers:
            raise ValueError(f"unknown stream {stream!r}; Operately offers {', '.join(self.streams)}")
        try:
            yield from _pages(stream, readers[stream]())
        except ScopeError as exc:
            raise ScopeError(
                f"Operately refused the {stream} stream: {exc.message}", scope=stream, endpoint=exc.endpoint, status=exc.status
            ) from None

    def _teams(self) -> Iterator[Record]:
        links = self.links()
        company = mapping.company_record(self.company(), links)
        yield company
        for space in self.api.query("spaces").get("spaces") or []:
            if isinstance(space, dict) and space.get("id"):
                yield mapping.space_record(space, company.external_id, links)

    def _people(self) -> Iterator[Record]:
        links = self.links()
        for person in self.api.query("people").get("people") or []:
            if isinstance(person, dict) and person.get("id"):
                yield mapping.person_record(person, links)

    def _goal_list(self) -> list[dict[str, Any]]:
        body = self.api.query("goals", include_champion=True, include_space=True, include_last_check_in=True)
        return [g for g in body.get("goals") or [] if isinstance(g, dict) and g.get("id")]

    def _goals(self) -> Iterator[Record]:
        links = self.links()
        for goal in self._goal_list():
            yield mapping.goal_record(goal, links)

    def _key_results(self) -> Iterator[Record]:
        links = self.links()
        for goal in self._goal_list():
            yield from mapping.target_records(goal, links)

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
        with_tasks: list[str] = []
        for project in projects:
            record = mapping.project_record(project, links)
            records[record.external_id] = record
            yield record
            for milestone in project.get("milestones") or []:
                if isinstance(milestone, dict) and milestone.get("id"):
                    yield mapping.milestone_record(milestone, record, links)
            kanban = project.get("tasks_kanban_state")
            # the kanban state lists every task id by status: no ids, no tasks, no request
            if not isinstance(kanban, dict) or any(kanban.values()):
                with_tasks.append(str(project["id"]))
        for project_id, tasks in self.api.http.map_concurrent(self._tasks_of, with_tasks):
            parent = records.get(short_of(project_id) or "")
            for task in tasks:
                yield mapping.task_record(task, parent, links)

    def _tasks_of(self, project_id: str) -> tuple[str, list[dict[str, Any]]]:
        try:
            tasks = self.api.query("project_tasks", project_id=project_id).get("tasks") or []
        except NotFound:
            return project_id, []  # the project vanished since the list: not a failed sync
        return project_id, [t for t in tasks if isinstance(t, dict) and t.get("id")]

    def _check_ins(self) -> Iterator[Record]:
        goals = [str(g["id"]) for g in self._goal_list() if g.get("last_check_in_id")]
        projects = [str(p["id"]) for p in self._project_list() if p.get("last_check_in")]
        for goal_id, updates in self.api.http.map_concurrent(self._goal_check_ins, goals):
            for update in updates:
                yield from mapping.goal_check_in_records(update, short_of(goal_id) or goal_id)
        for project_id, check_ins in self.api.http.map_concurrent(self._project_check_ins, projects):
            for check_in in check_ins:
                yield mapping.project_check_in_record(check_in, short_of(project_id) or project_id)

    def _goal_check_ins(self, goal_id: str) -> tuple[str, list[dict[str, Any]]]:
        try:
            updates = self.api.query("goal_check_ins", goal_id=goal_id).get("check_ins") or []
        except NotFound:
            return goal_id, []
        return goal_id, [u for u in updates if isinstance(u, dict) and u.get("id")]

    def _project_check_ins(self, project_id: str) -> tuple[str, list[dict[str, Any]]]:
        try:
            items = self.api.query("project_check_ins", project_id=project_id, include_author=True).get("project_check_ins") or []
        except NotFound:
            return project_id, []
        return project_id, [c for c in items if isinstance(c, dict) and c.get("id")]

    # ---- single items ----------------------------------------------------------------------

    def _goal(self, goal_id: str) -> dict[str, Any]:
        body = self.api.query(
            "goal", id=goal_id, include_champion=True, include_space=True, include_last_check_in=True, include_checklist=True
        )
        goal = body.get("goal")
        if not isinstance(goal, dict):
            raise NotFound("Operately returned no goal", endpoint=f"GET {self.api.name('goal')}", status=404)
        return goal

    def _task(self, task_id: str) -> dict[str, Any]:
        body = self.api.query("task", id=task_id, include_assignees=True, include_project=True, include_available_statuses=True)
        task = body.get("task")
        if not isinstance(task, dict):
            raise NotFound("Operately returned no task", endpoint=f"GET {self.api.name('task')}", status=404)
        return task

    def fetch_item(self, kind: str, external_id: str) -> Record:
        """Re-read one item (before a write, to detect conflicts)."""
        links = self.links()
        if kind == "goal":
            return mapping.goal_record(self._goal(external_id), links)
        if kind == "key_result":
            for goal in self._goal_list():
                for record in mapping.target_records(goal, links):
                    if record.external_id == external_id:
                        return record
            raise NotFound(
                f"No target {external_id} among the goals this token can see", endpoint=f"GET {self.api.name('goals')}", status=404
            )
        if kind in ("project", WorkItemKind.PROJECT):
            body = self.api.query(
                "project", id=external_id, include_milestones=True, include_champion=True, include_space=True, include_last_check_in=True
            )
            return mapping.project_record(body.get("project") or {"id": external_id}, links)
        if kind in ("task", WorkItemKind.TASK):
            task = self._task(external_id)
            project = task.get("project") if isinstance(task.get("project"), dict) else None
            parent = mapping.project_record(project, links) if project and project.get("id") else None
            return mapping.task_record(task, parent, links)
        if kind in ("milestone", WorkItemKind.MILESTONE):
            milestone = self.api.query("milestone", id=external_id, include_project=True).get("milestone") or {}
            project = mapping.project_record(milestone.get("project") or {"id": ""}, links)
            return mapping.milestone_record(milestone, project, links)
        raise ValueError(f"fetch_item does not know kind {kind!r}")

    # ---- writes ----------------------------------------------------------------------------

    @staticmethod
    def _status(status: str) -> str:
        if status not in CHECK_IN_STATUSES:
            raise VendorValidationError(
                f"Status must be one of {', '.join(CHECK_IN_STATUSES)}",
                field_errors={"status": [f"choose one of {', '.join(CHECK_IN_STATUSES)}"]},
            )
        return status

    def _me_record(self, check_in: CheckInRecord) -> CheckInRecord:
        """Mutation answers leave relations null: the author is the token's person."""
        me = self.api.get_me()
        from dataclasses import replace

        return replace(
            check_in,
            author=check_in.author or me.get("full_name"),
            author_external_id=check_in.author_external_id or short_of(me.get("id")),
        )

    def post_goal_check_in(
        self,
        goal_id: str,
        status: str,
        message: str,
        new_target_values: Mapping[str, float] | None = None,
        *,
        due_date: date | None = None,
    ) -> CheckInRecord:
        """Post a goal check-in. ``new_target_values`` maps target ids to new values. The goal's
        end date is re-sent unless ``due_date`` is given: Operately sets the goal's timeframe from
        this field, so leaving it null would clear the due date."""
        self._status(status)
        goal = self._goal(goal_id)
        targets = {short_of(str(t.get("id"))): t for t in goal.get("targets") or [] if isinstance(t, dict)}
        values: list[dict[str, Any]] = []
        errors: list[str] = []
        for target_id, value in (new_target_values or {}).items():
            key = short_of(target_id)
            if key not in targets:
                errors.append(f"{target_id} is not a target of this goal")
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(f"{target_id}: the value must be a number")
                continue
            values.append({"id": key, "value": float(value)})
        if errors:
            raise VendorValidationError("Some target values were not accepted", field_errors={"new_target_values": errors})
        timeframe: dict[str, Any] = goal["timeframe"] if isinstance(goal.get("timeframe"), dict) else {}
        end = contextual_day(due_date) if due_date else timeframe.get("contextual_end_date")
        body: dict[str, Any] = {
            "goal_id": goal_id,
            "status": status,
            "content": richtext.document(message),
            "new_target_values": json.dumps(values),  # a JSON *string*, not a list (§8)
        }
        if self.profile == "2026-03":
            body["due_date"] = end  # key required; the current end date keeps the timeframe as it is
            body["checklist"] = []  # key required; [] changes no check
        elif end is not None:
            body["due_date"] = end
        update = self.api.mutate("post_goal_check_in", body).get("update") or {}
        records = list(mapping.goal_check_in_records(update, short_of(goal_id) or goal_id)) if update.get("id") else []
        if not records:
            raise TransientError(
                "Operately accepted the check-in but returned no update", endpoint=f"POST {self.api.name('post_goal_check_in')}"
            )
        return self._me_record(records[0])

    def post_project_check_in(self, project_id: str, status: str, message: str) -> CheckInRecord:
        self._status(status)
        body = {"project_id": project_id, "status": status, "description": richtext.document(message)}
        check_in = self.api.mutate("post_project_check_in", body).get("check_in") or {}
        if not check_in.get("id"):
            raise TransientError(
                "Operately accepted the check-in but returned none", endpoint=f"POST {self.api.name('post_project_check_in')}"
            )
        return self._me_record(mapping.project_check_in_record(check_in, short_of(project_id) or project_id))

    def update_target_value(self, goal_id: str, target_id: str, value: float) -> KeyResultRecord:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise VendorValidationError("The value must be a number", field_errors={"value": ["must be a number"]})
        self.api.mutate("update_target_value", {"goal_id": goal_id, "target_id": target_id, "value": float(value)})
        goal = self._goal(goal_id)  # the answer is {"success": true}: read the target back
        wanted = short_of(target_id)
        for record in mapping.target_records(goal, self.links()):
            if record.external_id == wanted:
                return record
        raise NotFound(f"Target {target_id} is gone from goal {goal_id}", endpoint=f"GET {self.api.name('goal')}", status=404)

    def update_task_status(self, task_id: str, status: str) -> WorkItemRecord:
        """Set a task's status by value, label or id. Operately wants the whole status object of
        the task's project (or space) and the task ``type``: both are read from the task first."""
        task = self._task(task_id)
        available = [s for s in task.get("available_statuses") or [] if isinstance(s, dict)]
        wanted = status.strip().lower()
        chosen = next(
            (
                s
                for s in available
                if wanted in (str(s.get("value", "")).lower(), str(s.get("label", "")).lower(), str(s.get("id", "")).lower())
            ),
            None,
        )
        if chosen is None:
            choices = ", ".join(str(s.get("label")) for s in sorted(available, key=lambda s: s.get("index") or 0))
            raise VendorValidationError(f"Unknown task status {status!r}", field_errors={"status": [f"choose one of: {choices}"]})
        body = {"task_id": task_id, "type": task.get("type") or "project", "status": chosen}
        answer = self.api.mutate("update_task_status", body).get("task") or {}
        project: Any = answer.get("project") if isinstance(answer.get("project"), dict) else task.get("project")
        links = self.links()
        parent = mapping.project_record(project, links) if isinstance(project, dict) and project.get("id") else None
        return mapping.task_record(answer if answer.get("id") else task, parent, links)
