"""Pure functions: Operately projects, milestones and tasks -> work item records.

Where Operately does not publish a meaning, the choice is in docs/vendors.md ("Operately"):
a task's outcome from its closed status (``canceled`` -> dropped), a project's from
``success_status``, tasks without a status or with a status the kanban lacks, space tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import Outcome, State, WorkItemKind, WorkItemRecord, resolve_state

from . import richtext
from .ids import short_of
from .mapping import (
    Links,
    check_in_time,
    contextual_date,
    health_of,
    last_check_in,
    last_status,
    parse_datetime,
    people_of,
    person_of,
    timeframe_dates,
)

PROJECT_STATE = {"active": State.ACTIVE, "paused": State.PAUSED, "closed": State.DONE}
PROJECT_OUTCOME = {"achieved": Outcome.ACHIEVED, "missed": Outcome.MISSED}  # open projects say "nil"
# Closed task statuses that mean "not done but given up" (the default "Canceled"; statuses are
# customisable, so the value is matched, spelt either way).
DROPPED_STATUSES = frozenset({"canceled", "cancelled"})


def project_progress(milestones: Any) -> float:
    items = [m for m in milestones if isinstance(m, Mapping)] if isinstance(milestones, list) else []
    if not items:
        return 0.0
    return sum(1 for m in items if m.get("status") == "done") / len(items) * 100.0


def project_outcome(project: Mapping[str, Any], state: State) -> Outcome | None:
    """A closed project keeps Operately's ``success_status`` (achieved / missed)."""
    if state is not State.DONE and project.get("state") != "closed":
        return None
    return PROJECT_OUTCOME.get(str(project.get("success_status")))


def map_project(project: Mapping[str, Any], links: Links) -> WorkItemRecord:
    vendor_id = str(project["id"])
    owners, owner_ids = person_of(project.get("champion"))
    start, due = timeframe_dates(project.get("timeframe"))
    space = project.get("space") if isinstance(project.get("space"), Mapping) else None
    state = resolve_state(PROJECT_STATE.get(str(project.get("state")), State.ACTIVE), archived=bool(project.get("is_archived")))
    last = last_check_in(project)
    return WorkItemRecord(
        external_id=short_of(vendor_id) or vendor_id,
        work_kind=WorkItemKind.PROJECT,
        title=str(project.get("name") or ""),
        team_external_ids=[t for t in [short_of(space.get("id")) if space else None] if t],
        goal_external_id=short_of(project.get("goal_id")),
        owners=owners,
        owner_external_ids=owner_ids,
        health=health_of(project.get("status"), last_status(project)),
        vendor_status=project.get("status"),
        state=state,
        outcome=project_outcome(project, state),
        progress=project_progress(project.get("milestones")),
        start_date=start,
        due_date=due,
        description=richtext.to_html(project.get("description")),
        # Operately decides staleness (is_outdated: the weekly check-in is >3 days late)
        is_stale=project.get("is_outdated") if isinstance(project.get("is_outdated"), bool) else None,
        last_check_in_at=check_in_time(last) if last else None,
        url=links.url("projects", vendor_id),
        updated_at=parse_datetime(project.get("updated_at")),
        raw=dict(project),
    )


def map_milestone(milestone: Mapping[str, Any], project: WorkItemRecord, links: Links) -> WorkItemRecord:
    vendor_id = str(milestone["id"])
    _, due = timeframe_dates(milestone.get("timeframe"))
    done = milestone.get("status") == "done"
    return WorkItemRecord(
        external_id=short_of(vendor_id) or vendor_id,
        work_kind=WorkItemKind.MILESTONE,
        title=str(milestone.get("title") or ""),
        team_external_ids=project.team_external_ids,
        goal_external_id=project.goal_external_id,
        parent_external_id=project.external_id,
        owners=project.owners,
        owner_external_ids=project.owner_external_ids,
        vendor_status=milestone.get("status"),
        state=State.DONE if done else resolve_state(State.ACTIVE, archived=project.state == State.ARCHIVED),
        due_date=due,
        description=richtext.to_html(milestone.get("description")),
        url=links.url("milestones", vendor_id),
        raw=dict(milestone),
    )


def task_state(status: Any, closed_at: Any = None) -> tuple[State, Outcome | None]:
    """Closed status -> done (``canceled`` dropped, any other achieved); ``pending`` -> not
    started; another open status -> active. No status: done if Operately says it was closed
    (``closed_at``, 2026-08), else not started."""
    if not isinstance(status, Mapping):
        return (State.DONE, Outcome.ACHIEVED) if parse_datetime(closed_at) else (State.NOT_STARTED, None)
    if status.get("closed"):
        return State.DONE, Outcome.DROPPED if str(status.get("value")).lower() in DROPPED_STATUSES else Outcome.ACHIEVED
    return (State.NOT_STARTED if status.get("value") == "pending" else State.ACTIVE), None


def map_task(task: Mapping[str, Any], project: WorkItemRecord | None, links: Links) -> WorkItemRecord:
    """A project task (parent = its project) or a space task (``type`` "space": no parent, team
    = its space). ``closed_at`` (2026-08) stays in raw: a done task is never overdue."""
    vendor_id = str(task["id"])
    owners, owner_ids = people_of(task.get("assignees"))
    status = task.get("status") if isinstance(task.get("status"), Mapping) else None
    own_project = task.get("project") if isinstance(task.get("project"), Mapping) else None
    own_space = task.get("space") if isinstance(task.get("space"), Mapping) else None
    parent = project.external_id if project else short_of(own_project.get("id") if own_project else None)
    if project:
        teams = list(project.team_external_ids)
    else:
        teams = [t for t in [short_of(own_space.get("id")) if own_space else None] if t]
    state, outcome = task_state(status, task.get("closed_at"))
    return WorkItemRecord(
        external_id=short_of(vendor_id) or vendor_id,
        work_kind=WorkItemKind.TASK,
        title=str(task.get("name") or ""),
        team_external_ids=teams,
        goal_external_id=project.goal_external_id if project else None,
        parent_external_id=parent,
        owners=owners,
        owner_external_ids=owner_ids,
        vendor_status=status.get("value") if status else None,
        state=state,
        outcome=outcome,
        progress=None,
        due_date=contextual_date(task.get("due_date")),
        description=richtext.to_html(task.get("description")),
        labels=[str(status["label"])] if status and status.get("label") else [],
        url=links.url("tasks", vendor_id),
        updated_at=parse_datetime(task.get("updated_at")),
        raw=dict(task),
    )
