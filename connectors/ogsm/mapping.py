"""Pure mapping: OGSM vendor JSON -> records of connectors.base.

Tolerant reader (vendors/README.md): ids may be numbers or strings, missing optional fields
become null, an unexpected value degrades that one field and never the record. The vendor's
raw JSON (including the raw, unsanitised HTML description) is kept in ``raw`` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from connectors.base import (
    GoalRecord,
    Health,
    State,
    TeamRecord,
    WorkItemKind,
    WorkItemRecord,
    clamp_progress,
    resolve_state,
)
from connectors.text import sanitise_html

# Traffic light -> health (issue #5). The middle value has several spellings in the wild.
TRAFFIC_LIGHT_HEALTH: Mapping[str, Health] = {
    "green": Health.ON_TRACK,
    "orange": Health.NEEDS_ATTENTION,
    "amber": Health.NEEDS_ATTENTION,
    "yellow": Health.NEEDS_ATTENTION,
    "red": Health.OFF_TRACK,
}

# Action status name -> state (issue #5). The UI labels (NOTES.md: "To do", "Busy", "Completed")
# are accepted as spellings of the same states; any other name is an active action whose raw
# name is kept in vendor_status.
STATUS_STATE: Mapping[str, State] = {
    "icebox": State.NOT_STARTED,
    "todo": State.NOT_STARTED,
    "to do": State.NOT_STARTED,
    "to_do": State.NOT_STARTED,
    "doing": State.ACTIVE,
    "busy": State.ACTIVE,
    "done": State.DONE,
    "completed": State.DONE,
}

OBJECTIVE_PREFIX = "objective-"
GOAL_PREFIX = "goal-"


def sanitize_html(html: Any) -> str:
    """Vendor HTML -> HTML that is safe to render (the shared policy in connectors/text.py)."""
    return sanitise_html(html, link_rel="noopener noreferrer")


def id_of(value: Any) -> str | None:
    """A vendor id as a string (ids may be numbers or strings); None when absent or odd."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        text = str(value).strip()
        return text or None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def health_of(traffic_light: Any) -> Health:
    if not isinstance(traffic_light, str):
        return Health.UNKNOWN
    return TRAFFIC_LIGHT_HEALTH.get(traffic_light.strip().lower(), Health.UNKNOWN)


def status_name(status: Any) -> str | None:
    """``status: {"name": "doing"}``; a bare string is tolerated."""
    if isinstance(status, Mapping):
        status = status.get("name")
    if isinstance(status, str) and status.strip():
        return status.strip()
    return None


def state_of(name: str | None, *, archived: bool) -> State:
    state = STATUS_STATE.get(name.lower(), State.ACTIVE) if name else State.ACTIVE
    return resolve_state(state, archived=archived)


def name_of(person: Any) -> str | None:
    if isinstance(person, Mapping):
        person = person.get("name")
    if isinstance(person, str) and person.strip():
        return person.strip()
    return None


def names_of(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [n for n in (name_of(item) for item in items) if n]


def canvas_ids_of(item: Mapping[str, Any]) -> list[str]:
    """Canvas ids in the vendor's order, without duplicates."""
    canvases = item.get("ogsm_canvases")
    if not isinstance(canvases, list):
        return []
    out: list[str] = []
    for canvas in canvases:
        cid = id_of(canvas.get("id")) if isinstance(canvas, Mapping) else id_of(canvas)
        if cid and cid not in out:
            out.append(cid)
    return out


def owners_of(item: Mapping[str, Any]) -> list[str]:
    """The assignee, OGSM's one owner (with the team admin, the only one who may edit an action).
    The people involved are not owners: see ``involved_of``."""
    owner = name_of(item.get("assignee"))
    return [owner] if owner else []


def involved_of(item: Mapping[str, Any], owners: Sequence[str] = ()) -> list[str]:
    """The people (or teams: OGSM allows both) involved, vendor order, without repeats and
    without the owner (an assignee also listed as involved is still the owner only)."""
    out: list[str] = []
    for name in names_of(item.get("involved")):
        if name not in out and name not in owners:
            out.append(name)
    return out


def strategy_ids_of(item: Mapping[str, Any]) -> list[str]:
    """The ids of the strategies an action serves (``strategies: [{"id": 456}]``), vendor order."""
    strategies = item.get("strategies")
    if not isinstance(strategies, list):
        return []
    out: list[str] = []
    for strategy in strategies:
        sid = id_of(strategy.get("id")) if isinstance(strategy, Mapping) else id_of(strategy)
        if sid and sid not in out:
            out.append(sid)
    return out


def title_of(item: Mapping[str, Any], fallback: str) -> str:
    title = item.get("title")
    return title.strip() if isinstance(title, str) and title.strip() else fallback


def is_archived(item: Mapping[str, Any]) -> bool:
    return item.get("archived") is True


def map_action(action: Mapping[str, Any]) -> WorkItemRecord:
    """One action, wherever it is shown: an action on several canvases is ONE work item with
    several team ids. Overdue and OGSM's "past its start date and not started" are computed by
    the dashboard at query time, from ``due_date``/``start_date`` and ``state`` (``icebox`` and
    ``todo`` are ``not_started``), so they stay true as the days pass without a sync."""
    action_id = id_of(action.get("id"))
    if action_id is None:
        raise ValueError("an OGSM action without an id cannot be stored")
    raw_status = status_name(action.get("status"))
    owners = owners_of(action)
    return WorkItemRecord(
        external_id=action_id,
        work_kind=WorkItemKind.ACTION,
        title=title_of(action, f"Action {action_id}"),
        team_external_ids=tuple(canvas_ids_of(action)),
        owners=tuple(owners),
        involved=tuple(involved_of(action, owners)),
        strategy_external_ids=tuple(strategy_ids_of(action)),
        health=health_of(action.get("traffic_light")),
        vendor_status=raw_status,
        state=state_of(raw_status, archived=is_archived(action)),
        progress=clamp_progress(action.get("progress")),
        start_date=parse_date(action.get("start")),
        due_date=parse_date(action.get("due")),
        description=sanitize_html(action.get("description")),
        labels=tuple(names_of(action.get("labels"))),
        raw=dict(action),
    )


def map_objective(objective: Mapping[str, Any]) -> GoalRecord:
    objective_id = id_of(objective.get("id"))
    if objective_id is None:
        raise ValueError("an OGSM objective without an id cannot be stored")
    canvases = canvas_ids_of(objective)
    owner = name_of(objective.get("assignee"))
    return GoalRecord(
        external_id=OBJECTIVE_PREFIX + objective_id,
        title=title_of(objective, f"Objective {objective_id}"),
        team_external_id=canvases[0] if canvases else None,
        owners=(owner,) if owner else (),
        health=health_of(objective.get("traffic_light")),
        state=resolve_state(State.ACTIVE, archived=is_archived(objective)),
        description=sanitize_html(objective.get("description")),
        raw=dict(objective),
    )


def map_goal(goal: Mapping[str, Any], objective_by_canvas: Mapping[str, str] | None = None) -> GoalRecord:
    """An OGSM goal (a measurable target of the canvas's objective). It hangs under the objective
    on its first canvas when the tenant offers objectives (``objective_by_canvas`` maps a canvas
    id to the prefixed objective id)."""
    goal_id = id_of(goal.get("id"))
    if goal_id is None:
        raise ValueError("an OGSM goal without an id cannot be stored")
    canvases = canvas_ids_of(goal)
    team = canvases[0] if canvases else None
    owner = name_of(goal.get("assignee"))
    return GoalRecord(
        external_id=GOAL_PREFIX + goal_id,
        title=title_of(goal, f"Goal {goal_id}"),
        team_external_id=team,
        parent_external_id=(objective_by_canvas or {}).get(team) if team else None,
        owners=(owner,) if owner else (),
        health=health_of(goal.get("traffic_light")),
        state=resolve_state(State.ACTIVE, archived=is_archived(goal)),
        description=sanitize_html(goal.get("description")),
        raw=dict(goal),
    )


def canvas_names(objectives: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Canvas id -> the title of the objective on it. An OGSM has one objective; if a canvas
    shows several, a live one wins over an archived one, then the first one listed."""
    names: dict[str, str] = {}
    archived_names: dict[str, str] = {}
    for objective in objectives:
        title = objective.get("title")
        if not isinstance(title, str) or not title.strip():
            continue
        target = archived_names if is_archived(objective) else names
        for canvas in canvas_ids_of(objective):
            target.setdefault(canvas, title.strip())
    return {**archived_names, **names}


def objective_ids_by_canvas(objectives: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Canvas id -> prefixed id of its objective (live before archived, then first listed)."""
    live: dict[str, str] = {}
    archived: dict[str, str] = {}
    for objective in objectives:
        oid = id_of(objective.get("id"))
        if oid is None:
            continue
        target = archived if is_archived(objective) else live
        for canvas in canvas_ids_of(objective):
            target.setdefault(canvas, OBJECTIVE_PREFIX + oid)
    return {**archived, **live}


def canvas_team(canvas_id: str, names: Mapping[str, str]) -> TeamRecord:
    """One team per canvas; flat (the API says nothing about how canvases nest)."""
    return TeamRecord(external_id=canvas_id, name=names.get(canvas_id) or f"Canvas {canvas_id}", raw={"id": canvas_id})


def canvas_ids_in(items: Iterable[Mapping[str, Any]], seen: dict[str, None]) -> None:
    """Add the canvas ids the items sit on to ``seen`` (an ordered set)."""
    for item in items:
        for canvas in canvas_ids_of(item):
            seen.setdefault(canvas, None)


def only_objects(body: Any) -> Sequence[Mapping[str, Any]]:
    """A list answer, keeping only the objects in it (a stray value degrades, never fails)."""
    if not isinstance(body, list):
        return []
    return [item for item in body if isinstance(item, Mapping)]
