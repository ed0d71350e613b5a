"""Writes the dashboard offers on Operately (check-ins, target values, task status), as a mixin
of the connector: each reads what the vendor needs first, sends the mutation and maps the answer.

This module owns Operately's write JSON: the mutation bodies, the vendor fields a form is drawn
from (a goal's ``targets``, a task's ``available_statuses``) and the declarations the dashboard
builds its forms from (issue #19)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from connectors.base import (
    CheckInRecord,
    FieldType,
    KeyResultRecord,
    NotFound,
    Record,
    TransientError,
    VendorValidationError,
    WorkItemRecord,
    WriteField,
    WriteOperation,
)

from . import mapping, richtext, work_mapping
from .client import OperatelyClient
from .ids import short_of

CHECK_IN_STATUSES = ("on_track", "caution", "off_track")
CHECK_IN_CHOICES = (("on_track", "On track"), ("caution", "Caution"), ("off_track", "Off track"))
_CHECK_IN_FIELDS = (
    WriteField("status", "Status", FieldType.CHOICE, choices=CHECK_IN_CHOICES, widget="radio"),
    WriteField("message", "Message", FieldType.LONG_TEXT),
)

WRITE_OPERATIONS: Sequence[WriteOperation] = (
    # The goal's targets are fields of their own, one per target (``goal_targets``).
    WriteOperation(
        name="goal_check_in",
        label="Check in on a goal",
        item_kinds=frozenset({"goal"}),
        fields=(_CHECK_IN_FIELDS[0], replace(_CHECK_IN_FIELDS[1], help_text="What happened since the last check-in.")),
    ),
    WriteOperation(name="project_check_in", label="Check in on a project", item_kinds=frozenset({"project"}), fields=_CHECK_IN_FIELDS),
    WriteOperation(
        name="update_target_value",
        label="Update a target's value",
        item_kinds=frozenset({"key_result"}),
        fields=(WriteField("value", "New value", FieldType.NUMBER),),
    ),
    WriteOperation(
        name="update_task_status",
        label="Move a task",
        item_kinds=frozenset({"task"}),
        fields=(WriteField("status", "Status", FieldType.CHOICE, dynamic_choices=True),),
    ),
)


def goal_targets(raw: Mapping[str, Any] | Any) -> list[dict[str, Any]]:
    """A goal's targets from its raw JSON, in the vendor's order (id, name, from, to, unit, value)."""
    found = raw.get("targets") if isinstance(raw, Mapping) else None
    targets = [t for t in found or [] if isinstance(t, Mapping) and t.get("id")]
    return sorted((dict(t) for t in targets), key=lambda t: t.get("index") or 0)


def goal_last_check_in(raw: Mapping[str, Any] | Any) -> str:
    return str(raw.get("last_check_in_id") or "") if isinstance(raw, Mapping) else ""


def project_last_check_in(raw: Mapping[str, Any] | Any) -> str:
    last = raw.get("last_check_in") if isinstance(raw, Mapping) else None
    return str(last.get("id") or "") if isinstance(last, Mapping) else ""


def task_status_choices(raw: Mapping[str, Any] | Any, project_raw: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """Status choices: the task's ``available_statuses`` (a fresh read), else the project's
    ``task_statuses`` from its raw JSON."""
    own = raw.get("available_statuses") if isinstance(raw, Mapping) else None
    statuses = own or (project_raw or {}).get("task_statuses") or []
    ordered = sorted((s for s in statuses if isinstance(s, Mapping) and s.get("value")), key=lambda s: s.get("index") or 0)
    return [(str(s["value"]), str(s.get("label") or s["value"])) for s in ordered]


def contextual_day(day: date) -> dict[str, str]:
    return {"date_type": "day", "value": f"{day:%b} {day.day}, {day.year}", "date": day.isoformat()}


def _contextual_input(value: Any) -> dict[str, Any] | None:
    """A contextual date read from a goal, as an input: only the input type's fields (what the
    server adds on output, such as the 2026-08 catalogue's ``__typename``, is no input field)."""
    if not isinstance(value, dict):
        return None
    return {key: value.get(key) for key in ("date_type", "value", "date")}


class OperatelyWrites:
    api: OperatelyClient

    if TYPE_CHECKING:  # provided by OperatelyConnector

        @property
        def profile(self) -> str: ...

        def links(self) -> mapping.Links: ...

    if TYPE_CHECKING:

        def fetch_item(self, kind: str, external_id: str) -> Record: ...

    def goal_with_targets(self, goal_id: str) -> list[Record]:
        """The goal as the vendor now has it, plus its targets (key results), for the local copy."""
        goal = self.fetch_item("goal", goal_id)
        return [goal, *mapping.map_targets(goal.raw, self.links())]

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
        end = contextual_day(due_date) if due_date else _contextual_input(timeframe.get("contextual_end_date"))
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
        records = list(mapping.map_goal_check_ins(update, short_of(goal_id) or goal_id)) if update.get("id") else []
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
        return self._me_record(mapping.map_project_check_in(check_in, short_of(project_id) or project_id))

    def update_target_value(self, goal_id: str, target_id: str, value: float) -> KeyResultRecord:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise VendorValidationError("The value must be a number", field_errors={"value": ["must be a number"]})
        self.api.mutate("update_target_value", {"goal_id": goal_id, "target_id": target_id, "value": float(value)})
        goal = self._goal(goal_id)  # the answer is {"success": true}: read the target back
        wanted = short_of(target_id)
        for record in mapping.map_targets(goal, self.links()):
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
        parent = work_mapping.map_project(project, links) if isinstance(project, dict) and project.get("id") else None
        return work_mapping.map_task(answer if answer.get("id") else task, parent, links)
