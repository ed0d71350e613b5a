"""Projects, milestones, project check-ins, tasks and work-map items as Operately's serializers
emit them (CONTRACT.md §6; the 2026-08 additions of §11 when the sandbox serves that profile)."""

from __future__ import annotations

from typing import Any

from .ids import short_id, with_slug
from .model import EDIT, Goal, Milestone, Project, ProjectCheckIn, State, Task
from .serializers import (
    LATEST,
    check_in_states,
    company_id,
    contextual,
    goal_ess,
    kanban_of,
    permissions,
    person_ess,
    privacy,
    rich,
    space_ess,
    ts,
)


def project_ess(st: State, p: Project) -> dict[str, Any]:
    return {
        "id": with_slug(p.name, p.uuid),
        "name": p.name,
        "privacy": privacy(p),
        "status": st.project_status(p),
        "success_status": p.success_status if p.success_status else "nil",  # Atom.to_string(nil): a server quirk (§5)
        "goal_id": short_id(p.goal) if p.goal else None,
        **({"space_id": with_slug(st.spaces[p.space].name, p.space)} if st.profile == LATEST else {}),  # required there
    }


def milestone(st: State, m: Milestone, *, project: bool = False) -> dict[str, Any]:
    p = st.projects[m.project]
    return {
        "id": with_slug(m.title, m.uuid),
        "title": m.title,
        "status": m.status,
        "description": None,
        "inserted_at": ts(m.inserted_at),
        "completed_at": ts(m.completed_at),
        "timeframe": {"contextual_start_date": None, "contextual_end_date": contextual(m.due_date)},
        "project": project_ess(st, p) if project else None,
        "creator": None,
        "tasks_kanban_state": None,
        "tasks_ordering_state": None,
        "comments": None,
        "comments_count": 0,
        "permissions": None,
        "space": None,
        "subscription_list": None,
        "available_statuses": None,
    }


def project_check_in(st: State, c: ProjectCheckIn, *, author: bool = True) -> dict[str, Any]:
    return {
        "id": f"{c.inserted_at.date().isoformat()}-{short_id(c.uuid)}",
        "status": c.status,
        "description": rich(c.description),
        "inserted_at": ts(c.inserted_at),
        "acknowledged_at": ts(c.acknowledged_at),
        "acknowledged_by": None,
        "project": None,
        "space": None,
        "reactions": [],
        "author": person_ess(st.people.get(c.author)) if author else None,
        "subscription_list": None,
        "potential_subscribers": None,
        "notifications": [],
        "comments_count": 0,
        **check_in_states(st, c),
    }


def project_full(st: State, p: Project, viewer: Any, inc: dict[str, Any]) -> dict[str, Any]:
    goal = st.goals.get(p.goal) if p.goal else None
    last = st.project_check_ins.get(p.last_check_in) if (p.last_check_in and inc.get("include_last_check_in")) else None
    milestones = st.project_milestones(p)
    pending = [m for m in milestones if m.status == "pending"]
    start = {"contextual_start_date": contextual(p.start_date), "contextual_end_date": contextual(p.deadline)}
    return {
        **project_ess(st, p),
        "state": p.state,
        "next_check_in_scheduled_at": ts(p.next_check_in_scheduled_at),
        "description": rich(p.description),
        "retrospective": None,
        "inserted_at": ts(p.inserted_at),
        "updated_at": ts(p.updated_at),
        "closed_at": ts(p.closed_at),
        "timeframe": start,
        "is_archived": p.archived_at is not None,
        "is_outdated": st.project_is_outdated(p),
        "space": space_ess(st.spaces[p.space]) if inc.get("include_space") else None,
        "champion": person_ess(st.people.get(p.champion)) if inc.get("include_champion") and p.champion else None,
        "reviewer": person_ess(st.people.get(p.reviewer)) if inc.get("include_reviewer") and p.reviewer else None,
        "goal": goal_ess(st, goal, viewer) if goal and inc.get("include_goal") else None,
        "milestones": [milestone(st, m) for m in milestones] if inc.get("include_milestones") else None,
        "milestones_ordering_state": [short_id(m.uuid) for m in milestones],
        "contributors": [],
        "last_check_in": project_check_in(st, last) if last else None,
        "next_milestone": milestone(st, pending[0]) if pending and inc.get("include_milestones") else None,
        "permissions": permissions(st.access_level(viewer, p)) if inc.get("include_permissions") else None,
        "access_levels": None,
        "potential_subscribers": None,
        "notifications": [],
        "subscription_list": None,
        "task_statuses": p.task_statuses,
        "tasks_kanban_state": kanban_of(p.task_statuses, st.tasks_of(p)),
        # declared in both catalogues (space_id is required at 2026-08)
        "space_id": with_slug(st.spaces[p.space].name, p.space),  # optional at 2026-03, required (also in ess) at 2026-08
        "archived_at": ts(p.archived_at),
        "next_update_scheduled_at": ts(p.next_check_in_scheduled_at),
        "is_pinned": False,
        "my_role": None,
        **({"resource_hub": None, "tasks_view": "kanban"} if st.profile == LATEST else {"key_resources": None}),
    }


def task_full(st: State, t: Task, viewer: Any, inc: dict[str, Any], *, all_relations: bool = False) -> dict[str, Any]:
    p = st.projects[t.project] if t.project is not None else None
    own_space = st.spaces[t.space] if t.space is not None else None
    ms = st.milestones.get(t.milestone) if t.milestone else None
    statuses = p.task_statuses if p else (own_space.task_statuses if own_space else [])
    level = st.access_level(viewer, p) if p else (EDIT if own_space and st.can_see_space(viewer, own_space) else 0)

    def rel(key: str) -> bool:
        return all_relations or bool(inc.get(key))

    out = {
        "id": with_slug(t.name, t.uuid),
        "name": t.name,
        "description": None,
        "priority": None,
        "size": None,
        "status": t.status,
        "due_date": contextual(t.due_date),
        "inserted_at": ts(t.inserted_at),
        "updated_at": ts(t.updated_at),
        "assignees": [person_ess(st.people[a]) for a in t.assignees] if rel("include_assignees") else None,
        "milestone": milestone(st, ms) if ms and rel("include_milestone") else None,
        "project": project_ess(st, p) if p and rel("include_project") else None,
        "creator": person_ess(st.people.get(t.creator)) if t.creator and inc.get("include_creator") else None,
        "project_space": space_ess(st.spaces[p.space]) if p and inc.get("include_project_space") else None,
        "space": space_ess(own_space),  # a space task's own space (null for project tasks)
        "permissions": permissions(level) if inc.get("include_permissions") else None,
        "comments_count": 0,
        "subscription_list": None,
        "available_statuses": statuses if inc.get("include_available_statuses") else None,
        "type": t.type,
    }
    if st.profile == LATEST:
        out |= {"closed_at": ts(t.closed_at), "reminders": None}
    return out


def work_map_item(st: State, item: Goal | Project, viewer: Any) -> dict[str, Any]:
    cid = company_id(st)
    space = st.spaces[item.space]
    owner = st.people.get(item.champion) if item.champion else None
    if isinstance(item, Goal):
        parent = item.parent_goal
        kind, status, state = "goal", st.goal_status(item), ("closed" if item.closed_at else "active")
        progress: float | int = st.goal_progress(item)
        path = f"/{cid}/goals/{with_slug(item.name, item.uuid)}"
        nxt = next((t.name for t in sorted(item.targets, key=lambda t: t.index) if st.target_progress(t) < 100), None)
        next_step = nxt or next((c.name for c in sorted(item.checklist, key=lambda c: c.index) if not c.completed), "")
        timeframe, completed = item.timeframe, item.closed_at
    else:
        parent = item.goal
        kind, status, state = "project", st.project_status(item), item.state
        progress = st.project_progress(item)
        path = f"/{cid}/projects/{with_slug(item.name, item.uuid)}"
        pending = [m for m in st.project_milestones(item) if m.status == "pending"]
        next_step = pending[0].title if pending else ""
        timeframe = {"contextual_start_date": contextual(item.start_date), "contextual_end_date": contextual(item.deadline)}
        completed = item.closed_at
    return {
        "id": with_slug(item.name, item.uuid),
        "parent_id": str(parent) if parent else None,  # the raw UUID leak (§3)
        "name": item.name,
        "type": kind,
        "status": status,
        "task_status": None,
        "state": state,
        "progress": progress,
        "item_path": path,
        "space": space_ess(space),
        "space_path": f"/{cid}/spaces/{with_slug(space.name, space.uuid)}/work-map",
        "project": None,
        "project_path": None,
        "owner": person_ess(owner),
        "owner_path": f"/{cid}/people/{with_slug(owner.full_name, owner.uuid)}" if owner else None,
        "reviewer": None,
        "reviewer_path": None,
        "next_step": next_step,
        "is_new": False,
        "completed_on": ts(completed),
        "timeframe": timeframe,
        "children": [],
        "privacy": privacy(item),
        "assignees": None,
    }
