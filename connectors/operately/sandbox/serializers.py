"""Objects as Operately's serializers emit them (CONTRACT.md §6): keys present even when null,
rich text as JSON strings, slugged short ids, raw UUIDs where the server leaks them."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from .ids import company_short, short_id, slug, with_slug
from .model import COMMENT, EDIT, FULL, VIEW, Goal, GoalUpdate, Person, Project, ProjectCheckIn, Space, State, Target, Task

LATEST = "2026-08"  # the profile whose objects gained fields (CONTRACT §11)


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


def person_full(st: State, p: Person) -> dict[str, Any]:
    out = {
        **(person_ess(p) or {}),
        "suspended": p.suspended,
        "timezone": "Europe/Berlin",
        "manager": None,
        "reports": None,
        "peers": None,
        "has_open_invitation": False,
        "permissions": None,
        "invite_link": None,
        "notify_about_assignments": True,
        "description": None,
        # declared in both catalogues; null unless asked for, like every relation
        "avatar_blob_id": None,
        "company": None,
        "send_daily_summary": True,
        "notify_on_mention": True,
        "show_dev_bar": False,
    }
    if st.profile == LATEST:  # email and time preferences (§11); agent_def is gone
        out |= {
            "time_format": "24h",
            "email_preference": "immediate",
            "email_window_minutes": 0,
            "daily_summary_delivery_time": "09:00",
            "dismissed_product_release_id": None,
        }
    else:
        out["agent_def"] = None
    return out


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
        "tasks_kanban_state": kanban_of(s.task_statuses, st.tasks_of_space(s)),
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
            "my_role": None,
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
    if st.profile == LATEST:
        out["resource_hub"] = None
    return out


def check_in_states(st: State, c: GoalUpdate | ProjectCheckIn) -> dict[str, Any]:
    """The 2026-08 check-in fields (§11); the 2026-03 version has none of them."""
    if st.profile != LATEST:
        return {}
    published = c.published_at or (c.inserted_at if c.state == "published" else None)
    return {
        "state": c.state,
        "updated_at": ts(c.updated_at or c.inserted_at),
        "published_at": ts(published),
        "scheduled_at": ts(c.scheduled_at),
    }


def goal_update_ess(st: State, u: GoalUpdate) -> dict[str, Any]:
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
        **check_in_states(st, u),
    }


def goal_update_full(st: State, u: GoalUpdate, viewer: Any, *, author: bool = True) -> dict[str, Any]:
    goal = st.goals[u.goal]
    level = st.access_level(viewer, goal)
    return {
        **goal_update_ess(st, u),
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


def kanban_of(statuses: list[dict[str, Any]], tasks: list[Task]) -> dict[str, list[str]]:
    """Task ids per status column. Only the statuses the project (or space) defines have a
    column: a task with no status, or one whose status was since removed, is in none."""
    kanban: dict[str, list[str]] = {s["value"]: [] for s in statuses}
    for t in tasks:
        if t.status is not None and t.status.get("value") in kanban:
            kanban[t.status["value"]].append(short_id(t.uuid))
    return kanban
