"""The writes each vendor offers, as ``WriteSpec``s for ``writes.perform`` (issue #10).

For each item kind: ``*_snapshot`` is the set of vendor fields a form is drawn from (and
compared with a fresh read before writing), ``*_spec`` builds the write. The snapshot functions
accept a fresh connector record or the local row, so a form can still be drawn (disabled) when
the user has no write access. Vendor JSON (raw fields, bodies, choices) is read only by each
vendor's ``connectors/<vendor>/writes.py`` (issue #19).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, cast

from connectors.base import CheckInRecord, Kind, NotFound, WorkItemKind
from connectors.north import writes as north_writes
from connectors.ogsm import writes as ogsm_writes
from connectors.operately import writes as operately_writes
from dashboard.integrations.models import Credential
from dashboard.okrs.models import Goal, KeyResult, Team, WorkItem
from dashboard.writeback.services import ItemRef, WriteSpec, plain, store_records

# -- OGSM actions ------------------------------------------------------------------------------

ACTION_FIELDS = tuple(f.name for f in ogsm_writes.ACTION_FIELDS)
OGSM_STATUSES = list(ogsm_writes.STATUS_CHOICES)
TRAFFIC_LIGHTS = list(ogsm_writes.TRAFFIC_LIGHT_CHOICES)
action_light = ogsm_writes.traffic_light  # the action's traffic light as the vendor spells it


def action_snapshot(item: Any) -> dict[str, Any]:
    """An OGSM action's editable fields, from a WorkItemRecord or a WorkItem row."""
    return cast("dict[str, Any]", plain(ogsm_writes.action_fields(item)))


def _action_value(name: str, value: Any) -> Any:
    """Form values -> what ``OgsmConnector`` takes (an empty traffic light or date is null)."""
    if name in ("traffic_light", "due_date") and value in ("", None):
        return None
    if name == "due_date" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def changed_action_fields(mine: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """Only what differs from the version compared against (PATCH sends exactly these)."""
    mine_plain = plain(dict(mine))
    return {k: _action_value(k, mine[k]) for k in ACTION_FIELDS if k in mine and mine_plain[k] != base.get(k)}


def _fetch_action(external_id: str) -> Any:
    return lambda connector: action_snapshot(connector.fetch_item(Kind.WORK_ITEM, external_id))


def _store_action(credential: Credential, record: Any) -> None:
    store_records(credential, [record])


def _describe_action(record: Any) -> str:
    progress = "-" if record.progress is None else f"{record.progress:g}%"
    return f"action {record.external_id} “{record.title}”: {record.vendor_status or record.state}, progress {progress}"


def update_action_spec(item: WorkItem, mine: Mapping[str, Any]) -> WriteSpec:
    def call(connector: Any, theirs: dict[str, Any] | None) -> Any:
        changed = changed_action_fields(mine, theirs or {})
        if not changed:
            return connector.fetch_item(Kind.WORK_ITEM, item.external_id)  # nothing differs: no write
        return connector.update_action(item.external_id, changed)

    return WriteSpec(
        operation="update_action",
        item=ItemRef("action", item.external_id, item.title),
        sent=plain(dict(mine)),
        current=_fetch_action(item.external_id),
        call=call,
        store=_store_action,
        describe=_describe_action,
    )


def create_action_spec(canvas: Team, mine: Mapping[str, Any]) -> WriteSpec:
    fields = {k: _action_value(k, v) for k, v in mine.items() if k in ACTION_FIELDS and v not in ("", None)}
    fields["team_external_ids"] = [canvas.external_id]
    return WriteSpec(
        operation="create_action",
        item=ItemRef("action", "", str(mine.get("title") or "")),
        sent=plain(fields),
        call=lambda connector, _theirs: connector.create_action(fields),
        store=_store_action,
        describe=_describe_action,
    )


def delete_action_spec(item: WorkItem) -> WriteSpec:
    def store(credential: Credential, _record: Any) -> None:
        WorkItem.objects.filter(connector=credential.connector, kind=WorkItemKind.ACTION, external_id=item.external_id).delete()

    return WriteSpec(
        operation="delete_action",
        item=ItemRef("action", item.external_id, item.title),
        sent={"id": item.external_id},
        current=_fetch_action(item.external_id),
        call=lambda connector, _theirs: connector.delete_action(item.external_id),
        store=store,
        describe=lambda record: f"deleted action {item.external_id} “{item.title}”",
    )


# -- Operately ---------------------------------------------------------------------------------

CHECK_IN_STATUSES = list(operately_writes.CHECK_IN_CHOICES)
goal_targets = operately_writes.goal_targets
task_status_choices = operately_writes.task_status_choices


def goal_snapshot(goal: Any) -> dict[str, Any]:
    return cast(
        "dict[str, Any]",
        plain(
            {
                "status": goal.vendor_status or "",
                "last_check_in": operately_writes.goal_last_check_in(goal.raw),
                "targets": {str(t["id"]): t.get("value") for t in goal_targets(goal.raw)},
            }
        ),
    )


def _goal_with_targets(connector: Any, goal_external_id: str) -> list[Any]:
    return list(connector.goal_with_targets(goal_external_id))


def _store_all(credential: Credential, records: list[Any]) -> None:
    store_records(credential, records)


def goal_check_in_spec(goal: Goal, status: str, message: str, values: Mapping[str, float]) -> WriteSpec:
    def call(connector: Any, _theirs: dict[str, Any] | None) -> list[Any]:
        check_in = connector.post_goal_check_in(goal.external_id, status, message, dict(values))
        return [check_in, *_goal_with_targets(connector, goal.external_id)]

    return WriteSpec(
        operation="goal_check_in",
        item=ItemRef("goal", goal.external_id, goal.title),
        sent={"status": status, "message": message, "new_target_values": dict(values)},
        current=lambda connector: goal_snapshot(connector.fetch_item("goal", goal.external_id)),
        call=call,
        store=_store_all,
        describe=lambda records: f"check-in {records[0].external_id} posted: {status}",
    )


def project_snapshot(project: Any) -> dict[str, Any]:
    last = operately_writes.project_last_check_in(project.raw)
    return cast("dict[str, Any]", plain({"status": project.vendor_status or "", "health": project.health, "last_check_in": last}))


def project_check_in_spec(project: WorkItem, status: str, message: str) -> WriteSpec:
    def call(connector: Any, _theirs: dict[str, Any] | None) -> list[Any]:
        check_in: CheckInRecord = connector.post_project_check_in(project.external_id, status, message)
        return [check_in, connector.fetch_item("project", project.external_id)]

    return WriteSpec(
        operation="project_check_in",
        item=ItemRef("project", project.external_id, project.title),
        sent={"status": status, "message": message},
        current=lambda connector: project_snapshot(connector.fetch_item("project", project.external_id)),
        call=call,
        store=_store_all,
        describe=lambda records: f"project check-in {records[0].external_id} posted: {status}",
    )


def target_snapshot(kr: Any) -> dict[str, Any]:
    return cast("dict[str, Any]", plain({"value": kr.current}))


def target_value_spec(kr: KeyResult, value: float) -> WriteSpec:
    def call(connector: Any, _theirs: dict[str, Any] | None) -> list[Any]:
        record = connector.update_target_value(kr.goal_external_id, kr.external_id, value)
        try:  # the goal's progress follows its targets
            return [record, connector.fetch_item("goal", kr.goal_external_id)]
        except NotFound:
            return [record]

    return WriteSpec(
        operation="update_target_value",
        item=ItemRef("key_result", kr.external_id, kr.title),
        sent={"goal_id": kr.goal_external_id, "target_id": kr.external_id, "value": value},
        current=lambda connector: target_snapshot(connector.fetch_item("key_result", kr.external_id)),
        call=call,
        store=_store_all,
        describe=lambda records: f"target {kr.external_id} now {records[0].current:g} ({records[0].progress or 0:.0f}%)",
    )


def task_snapshot(task: Any) -> dict[str, Any]:
    return cast("dict[str, Any]", plain({"status": task.vendor_status or ""}))


def task_status_spec(task: WorkItem, status: str) -> WriteSpec:
    return WriteSpec(
        operation="update_task_status",
        item=ItemRef("task", task.external_id, task.title),
        sent={"status": status},
        current=lambda connector: task_snapshot(connector.fetch_item("task", task.external_id)),
        call=lambda connector, _theirs: connector.update_task_status(task.external_id, status),
        store=_store_action,
        describe=lambda record: f"task {record.external_id} moved to {record.vendor_status}",
    )


# -- North memberships ---------------------------------------------------------------------------

MEMBERSHIP_TYPES = list(north_writes.MEMBERSHIP_CHOICES)


def list_members(connector: Any, team_external_id: str) -> list[Any]:
    """The team's memberships as North has them now (MembershipRecords), by name."""
    return list(connector.members(team_external_id))


def membership_snapshot(members: list[Any], user_external_id: str) -> dict[str, Any]:
    found = next((m for m in members if m.person.external_id == user_external_id), None)
    return {"type": found.type if found else None}


def _current_membership(team: Team, user_external_id: str) -> Any:
    return lambda connector: membership_snapshot(list_members(connector, team.external_id), user_external_id)


def membership_type_spec(team: Team, user_external_id: str, name: str, member_type: str) -> WriteSpec:
    return WriteSpec(
        operation="update_membership",
        item=ItemRef("membership", f"{team.external_id}/{user_external_id}", f"{name} in {team.name}"),
        sent={"team_id": team.external_id, "user_id": user_external_id, "type": member_type},
        current=_current_membership(team, user_external_id),
        call=lambda connector, _theirs: connector.update_membership(connector.org_id(), team.external_id, user_external_id, member_type),
        describe=lambda record: f"{record.person.name} is now {record.type} in {team.name}",
    )


def membership_remove_spec(team: Team, user_external_id: str, name: str) -> WriteSpec:
    return WriteSpec(
        operation="remove_membership",
        item=ItemRef("membership", f"{team.external_id}/{user_external_id}", f"{name} in {team.name}"),
        sent={"team_id": team.external_id, "user_id": user_external_id},
        current=_current_membership(team, user_external_id),
        call=lambda connector, _theirs: connector.remove_membership(connector.org_id(), team.external_id, user_external_id),
        describe=lambda _answer: f"removed {name} from {team.name}",
    )


def is_root_team(team: Team) -> bool:
    """North's root team is the org itself: removal there removes the person from every team."""
    return team.parent_id is None and not team.parent_external_id
