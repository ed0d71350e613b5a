"""Objects as Operately's serializers emit them (CONTRACT.md §6): keys present even when null,
rich text as JSON strings, slugged short ids, raw UUIDs where the server leaks them."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from .ids import company_short, short_id, slug, with_slug
from .model import COMMENT, EDIT, FULL, VIEW, Goal, GoalUpdate, Milestone, Person, Project, ProjectCheckIn, Space, State, Target, Task


def ts(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rich(document: dict[str, Any] | None) -> str | None:
    return None if document is None else json.dumps(document, ensure_ascii=False)


def company_id(st: State) -> str:
    prefix = slug(st.company.name)
    return f"{prefix}-{company_short(st.company.short_number)}"


def permissions(level: int) -> dict[str, bool]:
    return {"can_view": level >= VIEW, "can_comment": level >= COMMENT, "can_edit": level >= EDIT, "has_full_access": level >= FULL}


def privacy(item: Goal | Project) -> str:
    if item.company_access_level:
        return "internal"
    if item.space_access_level:
        return "confidential"
    return "secret"


def person_ess(p: Person | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "id": with_slug(p.full_name, p.uuid),
        "full_name": p.full_name,
        "email": p.email,
        "avatar_url": None,
        "title": p.title,
        "type": p.type,
    }


def person_full(p: Person) -> dict[str, Any]:
    return {
        **(person_ess(p) or {}),
        "suspended": p.suspended,
        "timezone": "Europe/Berlin",
        "manager": None,
        "reports": None,
        "peers": None,
        "has_open_invitation": False,
        "permissions": None,
        "invite_link": None,
        "agent_def": None,
        "notify_about_assignments": True,
        "description": None,
    }


def me(p: Person) -> dict[str, Any]:
    return {
        "id": with_slug(p.full_name, p.uuid),
        "full_name": p.full_name,
        "email": p.email,
        "type": p.type,
        "title": p.title,
        "avatar_url": None,
        "timezone": "Europe/Berlin",
        "avatar_blob_id": None,
        "send_daily_summary": True,
        "notify_on_mention": True,
        "notify_about_assignments": True,
        "description": None,
        "manager": None,
        "show_dev_bar": False,
    }


def company(st: State) -> dict[str, Any]:
    general = st.spaces.get(st.company.company_space) if st.company.company_space else None
    return {
        "id": company_id(st),
        "name": st.company.name,
        "setup_completed": True,
        "member_count": sum(1 for p in st.people.values() if not p.suspended),
        "trusted_email_domains": ["acme.example"],
        "enabled_experimental_features": [],
        "company_space_id": with_slug(general.name, general.uuid) if general else None,
        "people": None,
        "admins": None,
        "owners": None,
        "permissions": None,
        "general_space": None,
    }


def space_ess(s: Space | None) -> dict[str, Any] | None:
    return None if s is None else {"id": with_slug(s.name, s.uuid), "name": s.name}


def space_full(st: State, s: Space, viewer: Any) -> dict[str, Any]:
    level = FULL if st.people[viewer].admin else (EDIT if viewer in s.members else (VIEW if not s.private else 0))
    return {
        "id": with_slug(s.name, s.uuid),
        "name": s.name,
        "mission": s.mission,
        "is_member": viewer in s.members,
        "is_company_space": s.is_company_space,
        "private_space": s.private,
        "permissions": permissions(level),
        "members": [
            person_ess(st.people[m]) for m in sorted(s.members, key=lambda m: st.people[m].full_name) if not st.people[m].suspended
        ],
        "access_levels": None,
        "potential_subscribers": None,
        "notifications": [],
        "task_statuses": s.task_statuses,
        "tasks_kanban_state": {},
    }


def contextual(day: date | None) -> dict[str, Any] | None:
    if day is None:
        return None
    return {"date_type": "day", "value": f"{day:%b} {day.day}, {day.year}", "date": day.isoformat()}


def target(t: Target) -> dict[str, Any]:
    return {
        "id": short_id(t.uuid),
        "name": t.name,
        "from": t.start,
        "to": t.to,
        "unit": t.unit,
        "index": t.index,
        "value": t.value,
        "inserted_at": ts(t.inserted_at),
        "updated_at": ts(t.updated_at),
    }


def goal_ess(
    st: State, g: Goal, viewer: Any, *, champion: bool = False, reviewer: bool = False, space: bool = False, perms: bool = False
) -> dict[str, Any]:
    return {
        "id": with_slug(g.name, g.uuid),
        "name": g.name,
        "status": st.goal_status(g),
        "success": g.success_status == "achieved",
        "is_closed": g.closed_at is not None,
        "is_archived": g.archived_at is not None,
        "is_outdated": st.goal_is_outdated(g),
        "closed_at": ts(g.closed_at),
        "closed_by": None,
        "archived_at": ts(g.archived_at),
        "inserted_at": ts(g.inserted_at),
        "updated_at": ts(g.updated_at),
        "last_check_in_id": short_id(g.last_update) if g.last_update else None,
        "timeframe": g.timeframe,
        "targets": [target(t) for t in sorted(g.targets, key=lambda t: t.index)],
        "space": space_ess(st.spaces[g.space]) if space else None,
        "champion": person_ess(st.people.get(g.champion)) if champion and g.champion else None,
        "reviewer": person_ess(st.people.get(g.reviewer)) if reviewer and g.reviewer else None,
        "permissions": permissions(st.access_level(viewer, g)) if perms else None,
    }


def goal_full(st: State, g: Goal, viewer: Any, inc: dict[str, Any], *, always_space: bool = False) -> dict[str, Any]:
    out = goal_ess(
        st,
        g,
        viewer,
        champion=bool(inc.get("include_champion")),
        reviewer=bool(inc.get("include_reviewer")),
        space=always_space or bool(inc.get("include_space")),
        perms=bool(inc.get("include_permissions")),
    )
    parent = st.goals.get(g.parent_goal) if g.parent_goal else None
    last = st.goal_updates.get(g.last_update) if (g.last_update and inc.get("include_last_check_in")) else None
    out.update(
        {
            "description": rich(g.description),
            "parent_goal_id": with_slug(parent.name, parent.uuid) if parent else None,
            "parent_goal": goal_ess(st, parent, viewer) if parent else None,
            "progress_percentage": st.goal_progress(g),
            "projects": None,
            "last_check_in": goal_update_full(st, last, viewer) if last else None,
            "access_levels": None,
            "privacy": privacy(g) if inc.get("include_privacy") else None,
            "potential_subscribers": None,
            "notifications": [],
            "next_update_scheduled_at": ts(g.next_update_scheduled_at),
            "retrospective": None,
            "checklist": [
                {
                    "id": short_id(c.uuid),
                    "name": c.name,
                    "completed": c.completed,
                    "completed_at": ts(c.completed_at),
                    "index": c.index,
                    "inserted_at": ts(c.inserted_at),
                    "updated_at": ts(c.updated_at),
                }
                for c in sorted(g.checklist, key=lambda c: c.index)
            ],
        }
    )
    return out


def goal_update_ess(u: GoalUpdate) -> dict[str, Any]:
    return {
        "id": f"{u.inserted_at.date().isoformat()}-{short_id(u.uuid)}",
        "status": u.status,
        "message": rich(u.message),
        "inserted_at": ts(u.inserted_at),
        "goal_target_updates": u.target_updates,
        "checklist": u.checklist,
        "timeframe": u.timeframe,
        "acknowledged": u.acknowledged_at is not None,
        "acknowledged_at": ts(u.acknowledged_at),
    }


def goal_update_full(st: State, u: GoalUpdate, viewer: Any, *, author: bool = True) -> dict[str, Any]:
    goal = st.goals[u.goal]
    level = st.access_level(viewer, goal)
    return {
        **goal_update_ess(u),
        "goal": None,
        "author": person_ess(st.people.get(u.author)) if author else None,
        "acknowledging_person": None,
        "reactions": [],
        "comments_count": 0,
        "subscription_list": None,
        "potential_subscribers": None,
        "notifications": [],
        "permissions": {
            "can_view": level >= VIEW,
            "can_edit": u.author == viewer,
            "can_delete": u.author == viewer,
            "can_acknowledge": viewer == goal.reviewer and u.acknowledged_at is None,
            "can_comment": level >= COMMENT,
        },
    }


def project_ess(st: State, p: Project) -> dict[str, Any]:
    return {
        "id": with_slug(p.name, p.uuid),
        "name": p.name,
        "privacy": privacy(p),
        "status": st.project_status(p),
        "success_status": p.success_status if p.success_status else "nil",  # Atom.to_string(nil): a server quirk (§5)
        "goal_id": short_id(p.goal) if p.goal else None,
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
    }


def project_full(st: State, p: Project, viewer: Any, inc: dict[str, Any]) -> dict[str, Any]:
    goal = st.goals.get(p.goal) if p.goal else None
    last = st.project_check_ins.get(p.last_check_in) if (p.last_check_in and inc.get("include_last_check_in")) else None
    milestones = st.project_milestones(p)
    pending = [m for m in milestones if m.status == "pending"]
    kanban: dict[str, list[str]] = {s["value"]: [] for s in p.task_statuses}
    for t in st.tasks_of(p):
        kanban.setdefault(t.status.get("value", ""), []).append(short_id(t.uuid))
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
        "key_resources": None,
        "access_levels": None,
        "potential_subscribers": None,
        "notifications": [],
        "subscription_list": None,
        "task_statuses": p.task_statuses,
        "tasks_kanban_state": kanban,
    }


def task_full(st: State, t: Task, viewer: Any, inc: dict[str, Any], *, all_relations: bool = False) -> dict[str, Any]:
    p = st.projects[t.project]
    ms = st.milestones.get(t.milestone) if t.milestone else None

    def rel(key: str) -> bool:
        return all_relations or bool(inc.get(key))

    return {
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
        "project": project_ess(st, p) if rel("include_project") else None,
        "creator": person_ess(st.people.get(t.creator)) if t.creator and inc.get("include_creator") else None,
        "project_space": space_ess(st.spaces[p.space]) if inc.get("include_project_space") else None,
        "space": None,
        "permissions": permissions(st.access_level(viewer, p)) if inc.get("include_permissions") else None,
        "comments_count": 0,
        "subscription_list": None,
        "available_statuses": p.task_statuses if inc.get("include_available_statuses") else None,
        "type": "project",
    }


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
