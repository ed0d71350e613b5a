"""Mutation handlers of the sandbox: the writes the dashboard offers (CONTRACT.md §8)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from . import serializers as ser
from . import serializers_work as wser
from .handlers import Ctx, missing, not_found, visible_goal, visible_project, visible_task
from .ids import decode_uuid_or_short
from .model import GoalUpdate, ProjectCheckIn, first_of_next_month, next_week

CHECK_IN_STATUSES = ("on_track", "caution", "off_track")


def _new_state(inp: dict[str, Any]) -> tuple[str, Any]:
    """2026-08 ``post_as_draft`` / ``scheduled_at`` (CONTRACT §11): a draft or a scheduled check-in
    changes nothing on its goal or project until it is published."""
    if inp.get("post_as_draft"):
        return "draft", None
    if inp.get("scheduled_at") is not None:
        return "scheduled", inp["scheduled_at"]
    return "published", None


def _rich_text(value: Any) -> dict[str, Any]:
    """``Jason.decode!`` of a rich-text string: missing or invalid raises (a 500)."""
    if not isinstance(value, str):
        raise RuntimeError("rich text must be a JSON string")
    decoded = json.loads(value)
    if not isinstance(decoded, dict):
        raise RuntimeError("rich text must be a document")
    return decoded


def h_post_goal_check_in(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    st = ctx.state
    goal = visible_goal(ctx, inp["goal_id"], edit=True)
    status = inp["status"]
    if status not in CHECK_IN_STATUSES:
        raise RuntimeError(f"invalid status {status!r}")  # the operation fails: a 500 (§8)
    message = _rich_text(inp.get("content"))
    raw_values = inp.get("new_target_values")
    if raw_values is None and not ctx.namespaced:
        raise RuntimeError("new_target_values is nil")  # required in practice at 2026-03
    new_values = json.loads(raw_values) if raw_values is not None else []
    by_uuid = {t.uuid: t for t in goal.targets}
    changes: list[tuple[Any, float]] = []
    for entry in new_values:
        target = by_uuid.get(decode_uuid_or_short(str(entry["id"])))  # type: ignore[arg-type]
        if target is None:
            raise RuntimeError("unknown target id")  # a 500 in Operately
        changes.append((target, float(entry["value"])))
    now = st.now_func()
    state, scheduled_at = _new_state(inp)
    previous = {t.uuid: t.value for t in goal.targets}
    proposed = previous | {target.uuid: value for target, value in changes}
    if state != "published":
        update = GoalUpdate(
            uuid=uuid.uuid4(),
            goal=goal.uuid,
            author=ctx.viewer,
            status=status,
            message=message,
            inserted_at=now,
            timeframe=goal.timeframe,
            target_updates=[_target_update(t, proposed[t.uuid], previous[t.uuid]) for t in goal.targets],
            checklist=[],
            state=state,
            scheduled_at=scheduled_at,
        )
        st.goal_updates[update.uuid] = update
        return {"update": ser.goal_update_full(st, update, ctx.viewer, author=False)}
    for target, value in changes:
        target.value = value
        target.updated_at = now
    for entry in inp.get("checklist") or []:
        for check in goal.checklist:
            if check.uuid == entry.get("id"):
                check.completed = bool(entry.get("completed"))
                check.completed_at = now if check.completed else None
                check.index = int(entry.get("index", check.index))
    if "due_date" in inp:
        # the goal's timeframe becomes {start: day(inserted_at), end: due_date}: null clears the end (§8 trap)
        end = inp["due_date"]
        if end is not None:
            end = {**end, "date": end["date"].isoformat() if isinstance(end.get("date"), date) else end.get("date")}
        goal.timeframe = {"contextual_start_date": ser.contextual(goal.inserted_at.date()), "contextual_end_date": end}
    update = GoalUpdate(
        uuid=uuid.uuid4(),
        goal=goal.uuid,
        author=ctx.viewer,
        status=status,
        message=message,
        inserted_at=now,
        timeframe=goal.timeframe,
        target_updates=[_target_update(t, t.value, previous[t.uuid]) for t in goal.targets],
        checklist=[{"id": str(c.uuid), "name": c.name, "index": c.index, "completed": c.completed} for c in goal.checklist],
    )
    st.goal_updates[update.uuid] = update
    goal.last_update, goal.last_update_status = update.uuid, status
    goal.next_update_scheduled_at = first_of_next_month(now)
    goal.updated_at = now
    out = ser.goal_update_full(st, update, ctx.viewer, author=False)  # relations are not loaded
    return {"update": out}


def _target_update(t: Any, value: float, previous: float) -> dict[str, Any]:
    return {
        "id": str(t.uuid),
        "name": t.name,
        "from": t.start,
        "to": t.to,
        "unit": t.unit,
        "index": t.index,
        "value": value,
        "previous_value": previous,
    }


def h_post_project_check_in(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    st = ctx.state
    project = visible_project(ctx, inp.get("project_id"), edit=True)
    status = inp.get("status")
    if status not in CHECK_IN_STATUSES:
        raise RuntimeError(f"invalid status {status!r}")
    description = _rich_text(inp.get("description"))
    now = st.now_func()
    state, scheduled_at = _new_state(inp)
    check_in = ProjectCheckIn(
        uuid=uuid.uuid4(),
        project=project.uuid,
        author=ctx.viewer,
        status=status,
        description=description,
        inserted_at=now,
        state=state,
        scheduled_at=scheduled_at,
    )
    st.project_check_ins[check_in.uuid] = check_in
    if state != "published":
        return {"check_in": wser.project_check_in(st, check_in, author=False)}
    project.last_check_in, project.last_check_in_status = check_in.uuid, status
    project.next_check_in_scheduled_at = next_week(now)
    project.updated_at = now
    return {"check_in": wser.project_check_in(st, check_in, author=False)}


def h_update_target_value(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    goal = visible_goal(ctx, inp["goal_id"], edit=True)
    target = next((t for t in goal.targets if t.uuid == inp["target_id"]), None)
    if target is None:
        raise not_found("Target not found")
    target.value = float(inp["value"])
    target.updated_at = goal.updated_at = ctx.state.now_func()
    return {"success": True}


TASK_STATUS_KEYS = ("id", "label", "color", "index", "value", "closed")


def h_update_task_status(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    st = ctx.state
    task = st.tasks.get(inp["task_id"])
    if task is None or inp["type"] != task.type:
        raise missing(ctx, "Task")
    task = visible_task(ctx, task.uuid, edit=True)
    statuses = st.projects[task.project].task_statuses if task.project else st.spaces[task.space].task_statuses  # type: ignore[index]
    status = inp.get("status")
    if status is None or any(k not in status for k in TASK_STATUS_KEYS):
        raise RuntimeError("status must be a whole task_status object")  # null or partial: a 500
    if status["value"] not in {s["value"] for s in statuses}:
        raise RuntimeError("status is not one of the project's statuses")
    was_closed = bool((task.status or {}).get("closed"))
    task.status = {k: status[k] for k in TASK_STATUS_KEYS}
    task.updated_at = st.now_func()
    if bool(status["closed"]) != was_closed:  # closed_at follows the status: set on closing, cleared on reopening
        task.closed_at = task.updated_at if status["closed"] else None
    inc = {"include_assignees": True, "include_project": True}
    return {"task": wser.task_full(st, task, ctx.viewer, inc), "updated_milestone": None}
