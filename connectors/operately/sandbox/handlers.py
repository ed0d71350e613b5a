"""Endpoint handlers of the sandbox: queries and the mutations the dashboard offers.

Each handler takes the caller's context and the parsed inputs and returns the JSON object of
outputs, or raises ``HandlerError`` (mapped by Dispatch to the JSON 400/403/404 bodies). Any
other exception becomes the 500 JSON body, as in Operately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from . import serializers as ser
from . import serializers_work as wser
from .ids import decode_uuid_or_short, with_slug
from .model import EDIT, VIEW, Goal, Project, State, Task


class HandlerError(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def not_found(message: str = "The requested resource was not found") -> HandlerError:
    return HandlerError(404, "Not found", message)


def forbidden() -> HandlerError:
    return HandlerError(403, "Forbidden", "You don't have permission to perform this action")


def bad(message: str = "The request was malformed") -> HandlerError:
    return HandlerError(400, "Bad request", message)


@dataclass
class Ctx:
    state: State
    viewer: UUID
    namespaced: bool  # namespaced handlers name the missing thing ("Goal not found")


def missing(ctx: Ctx, what: str) -> HandlerError:
    return not_found(f"{what} not found") if ctx.namespaced else not_found()


def _as_uuid(value: Any) -> UUID | None:
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        return decode_uuid_or_short(value)
    return None


def visible_goal(ctx: Ctx, ident: Any, *, edit: bool = False) -> Goal:
    goal = ctx.state.goals.get(_as_uuid(ident))  # type: ignore[arg-type]
    if goal is None or ctx.state.access_level(ctx.viewer, goal) < VIEW:
        raise missing(ctx, "Goal")
    if edit and ctx.state.access_level(ctx.viewer, goal) < EDIT:
        raise forbidden()
    return goal


def visible_project(ctx: Ctx, ident: Any, *, edit: bool = False) -> Project:
    project = ctx.state.projects.get(_as_uuid(ident))  # type: ignore[arg-type]
    if project is None or ctx.state.access_level(ctx.viewer, project) < VIEW:
        raise missing(ctx, "Project")
    if edit and ctx.state.access_level(ctx.viewer, project) < EDIT:
        raise forbidden()
    return project


def _visible_goals(ctx: Ctx) -> list[Goal]:
    st = ctx.state
    return [g for g in st.goals.values() if st.access_level(ctx.viewer, g) >= VIEW]


def _visible_projects(ctx: Ctx) -> list[Project]:
    st = ctx.state
    return [p for p in st.projects.values() if st.access_level(ctx.viewer, p) >= VIEW]


# ---- queries ---------------------------------------------------------------------------------


def h_me(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    return {"me": ser.me(ctx.state.people[ctx.viewer])}


def h_account(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    return {"account": {"full_name": ctx.state.people[ctx.viewer].full_name, "site_admin": False}}


def h_companies(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    return {"companies": [ser.company(ctx.state)]}


def h_company(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    if not ctx.namespaced and inp.get("id") != ctx.state.company.short_number:
        raise not_found()  # the id is optional in the schema but needed in practice
    return {"company": ser.company(ctx.state)}


def h_people(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    people = sorted(ctx.state.people.values(), key=lambda p: p.full_name)
    if inp.get("only_suspended"):
        people = [p for p in people if p.suspended]
    elif not inp.get("include_suspended"):
        people = [p for p in people if not p.suspended]
    return {"people": [ser.person_full(ctx.state, p) for p in people]}


def h_spaces(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    st = ctx.state
    spaces = sorted((s for s in st.spaces.values() if st.can_see_space(ctx.viewer, s)), key=lambda s: s.name)
    return {"spaces": [ser.space_full(st, s, ctx.viewer) for s in spaces]}


def h_space(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    st = ctx.state
    space = st.spaces.get(inp.get("id"))  # type: ignore[arg-type]
    if space is None or not st.can_see_space(ctx.viewer, space):
        raise missing(ctx, "Space")
    return {"space": ser.space_full(st, space, ctx.viewer)}


def h_goals(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    goals = _visible_goals(ctx)
    if inp.get("space_id") is not None:
        space = _as_uuid(inp["space_id"])
        goals = [g for g in goals if g.space == space]
    return {"goals": [ser.goal_full(ctx.state, g, ctx.viewer, inp, always_space=True) for g in goals]}


def h_goal(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    goal = visible_goal(ctx, inp["id"])
    out: dict[str, Any] = {"goal": ser.goal_full(ctx.state, goal, ctx.viewer, inp)}
    if inp.get("include_markdown"):
        out["markdown"] = f"# {goal.name}\n"
    return out


def h_goal_check_ins(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    goal = visible_goal(ctx, inp["goal_id"])
    return {"check_ins": [ser.goal_update_full(ctx.state, u, ctx.viewer) for u in ctx.state.goal_updates_of(goal, ctx.viewer)]}


def h_goal_check_in(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    ident = _as_uuid(inp["id"])
    if ident is None:
        raise bad()
    update = ctx.state.goal_updates.get(ident)
    if update is None or not ctx.state.check_in_visible(update, ctx.viewer):
        raise missing(ctx, "Check-in")
    visible_goal(ctx, update.goal)
    return {"update": ser.goal_update_full(ctx.state, update, ctx.viewer, author=bool(inp.get("include_author")))}


def h_projects(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    projects = _visible_projects(ctx)
    if not inp.get("include_archived"):
        projects = [p for p in projects if p.archived_at is None]
    if inp.get("space_id") is not None:
        projects = [p for p in projects if p.space == _as_uuid(inp["space_id"])]
    if inp.get("goal_id") is not None:
        projects = [p for p in projects if p.goal == _as_uuid(inp["goal_id"])]
    if inp.get("only_my_projects"):
        projects = [p for p in projects if p.champion == ctx.viewer]
    projects.sort(key=lambda p: p.name)
    return {"projects": [wser.project_full(ctx.state, p, ctx.viewer, inp) for p in projects]}


def h_project(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    if inp.get("id") is None:
        raise bad("id is required")
    project = visible_project(ctx, inp["id"])
    return {"project": wser.project_full(ctx.state, project, ctx.viewer, inp)}


def h_project_check_ins(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, inp["project_id"])
    author = bool(inp.get("include_author"))
    return {
        "project_check_ins": [
            wser.project_check_in(ctx.state, c, author=author) for c in ctx.state.project_check_ins_of(project, ctx.viewer)
        ]
    }


def h_project_check_in(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    check_in = ctx.state.project_check_ins.get(_as_uuid(inp["id"]))  # type: ignore[arg-type]
    if check_in is None or not ctx.state.check_in_visible(check_in, ctx.viewer):
        raise missing(ctx, "Check-in")
    visible_project(ctx, check_in.project)
    return {"project_check_in": wser.project_check_in(ctx.state, check_in, author=bool(inp.get("include_author")))}


def h_milestone(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    milestone = ctx.state.milestones.get(inp["id"])
    if milestone is None:
        raise missing(ctx, "Milestone")
    visible_project(ctx, milestone.project)
    return {"milestone": wser.milestone(ctx.state, milestone, project=bool(inp.get("include_project")))}


def h_project_tasks(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, inp["project_id"])
    inc = {"include_assignees": True, "include_milestone": True}
    return {"tasks": [wser.task_full(ctx.state, t, ctx.viewer, inc) for t in ctx.state.tasks_of(project)]}


def h_space_tasks(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    """``spaces/list_tasks``: the tasks of the space itself (type "space"), not its projects'."""
    st = ctx.state
    space = st.spaces.get(_as_uuid(inp["space_id"]))  # type: ignore[arg-type]
    if space is None or not st.can_see_space(ctx.viewer, space):
        raise missing(ctx, "Space")
    inc = {"include_assignees": True}
    return {"tasks": [wser.task_full(st, t, ctx.viewer, inc) for t in st.tasks_of_space(space)]}


def visible_task(ctx: Ctx, ident: Any, *, edit: bool = False) -> Task:
    st = ctx.state
    task = st.tasks.get(_as_uuid(ident))  # type: ignore[arg-type]
    if task is None:
        raise missing(ctx, "Task")
    if task.project is not None:
        visible_project(ctx, task.project, edit=edit)
    elif task.space is None or not st.can_see_space(ctx.viewer, st.spaces[task.space]):
        raise missing(ctx, "Task")
    return task


def h_milestone_tasks(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    ident = _as_uuid(inp.get("milestone_id"))
    milestone = ctx.state.milestones.get(ident) if ident else None
    if milestone is None:
        raise RuntimeError("milestone_id missing or invalid")  # a 500 in Operately too
    project = visible_project(ctx, milestone.project)
    tasks = [t for t in ctx.state.tasks_of(project) if t.milestone == milestone.uuid]
    return {"tasks": [wser.task_full(ctx.state, t, ctx.viewer, inp) for t in tasks]}


def h_task(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    task = visible_task(ctx, inp["id"])
    return {"task": wser.task_full(ctx.state, task, ctx.viewer, inp)}


def _work_map_items(ctx: Ctx, inp: dict[str, Any]) -> list[dict[str, Any]]:
    st = ctx.state
    items: list[Goal | Project] = [g for g in _visible_goals(ctx) if g.archived_at is None]
    items += [p for p in _visible_projects(ctx) if p.archived_at is None]
    if inp.get("space_id"):
        items = [i for i in items if i.space == inp["space_id"]]
    if inp.get("parent_goal_id"):
        items = [i for i in items if (i.parent_goal if isinstance(i, Goal) else i.goal) == inp["parent_goal_id"]]
    people = [inp[k] for k in ("champion_id", "reviewer_id") if inp.get(k)]
    if people:
        items = [i for i in items if i.champion in people or i.reviewer in people]
    if inp.get("only_completed"):
        items = [i for i in items if i.closed_at is not None]
    return [wser.work_map_item(st, i, ctx.viewer) for i in items]


def h_flat_work_map(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    items = _work_map_items(ctx, inp)
    if inp.get("include_tasks"):
        st = ctx.state
        who = inp.get("contributor_id") or ctx.viewer
        for task in st.tasks.values():
            if task.project is None:
                continue  # space tasks: not simulated in the flat map
            project = st.projects[task.project]
            if (
                who in task.assignees
                and not (task.status or {}).get("closed")
                and project.state == "active"
                and st.access_level(ctx.viewer, project) >= VIEW
            ):
                items.append(
                    {
                        **wser.work_map_item(st, project, ctx.viewer),
                        "id": with_slug(task.name, task.uuid),
                        "name": task.name,
                        "type": "task",
                        "parent_id": str(project.uuid),
                        "status": None,
                        "task_status": task.status,
                        "progress": 0.0,
                        "privacy": None,
                        "next_step": "",
                    }
                )
    return {"work_map": items}


def h_work_map(ctx: Ctx, inp: dict[str, Any]) -> dict[str, Any]:
    flat = _work_map_items(ctx, inp)
    by_uuid = {str(decode_uuid_or_short(i["id"])): i for i in flat}
    roots: list[dict[str, Any]] = []
    for item in sorted(flat, key=lambda i: i["type"] != "project"):  # projects before subgoals
        parent = by_uuid.get(item["parent_id"] or "")
        (parent["children"] if parent else roots).append(item)
    return {"work_map": roots}
