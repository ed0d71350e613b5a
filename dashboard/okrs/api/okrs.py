"""Endpoints over the unified OKR model: teams, goals, key results, work items, people.

Every queryset starts from ``dashboard.okrs.selectors.visible_*``, so the API shows exactly what
the pages show. Related rows (team, parent goal, key results) are prefetched through the same
visibility, so a link to something the caller cannot see comes back as null. Query counts per
request are constant: select_related/prefetch_related, and team roll-ups are SQL subqueries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest
from ninja import Query, Router
from ninja.params import functions as param  # typed param functions: ninja.Path is an Annotated alias to mypy

from dashboard.alignment.selectors import aligned_goals, aligned_parent, visible_alignments
from dashboard.okrs import selectors, work_item_selectors
from dashboard.okrs.api import schemas
from dashboard.okrs.api.errors import bad_parameter, not_found
from dashboard.okrs.api.params import (
    MAX_ID,
    GoalParams,
    KeyResultParams,
    PersonParams,
    TeamParams,
    TrackedParams,
    VendorParams,
    WorkItemParams,
    connector_q,
    owner_q,
    paginate,
    person_q,
)
from dashboard.okrs.models import CheckIn, Goal, KeyResult, Person, ProgressSnapshot, Team, WorkItem
from dashboard.okrs.pace import behind_pace, pace_of

router = Router(tags=["OKRs"])
ERRORS: dict[int, Any] = {400: schemas.ErrorOut, 401: schemas.ErrorOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut, 429: schemas.ErrorOut}


# -- shared filtering --------------------------------------------------------------------------


def _vendor_filters(qs: QuerySet[Any], filters: VendorParams, *, text_fields: tuple[str, ...]) -> QuerySet[Any]:
    if filters.vendor:
        qs = qs.filter(vendor=filters.vendor.value)
    if filters.connector:
        qs = qs.filter(connector_q(filters.connector))
    if filters.q and filters.q.strip():
        text = Q()
        for field in text_fields:
            text |= Q(**{f"{field}__icontains": filters.q.strip()})
        qs = qs.filter(text | Q(external_id=filters.q.strip()))
    return qs


def _visible_team_path(request: HttpRequest, team_id: int) -> str:
    """The materialised path of a team the caller can see; a 400 otherwise (same for unknown)."""
    team = selectors.visible_teams(request.user).filter(pk=team_id).only("id", "path").first()
    if team is None:
        raise bad_parameter("team", team_id, "no such team")
    return team.path or f"/{team.pk}/"


def _tracked_filters(request: HttpRequest, qs: QuerySet[Any], filters: TrackedParams, *, team_fields: tuple[str, ...]) -> QuerySet[Any]:
    qs = _vendor_filters(qs, filters, text_fields=("title",))
    if filters.owner and filters.owner.strip():
        qs = qs.filter(owner_q(filters.owner))
    if filters.person:
        qs = qs.filter(person_q(filters.person))
    if filters.health:
        qs = qs.filter(health=filters.health.value)
    if filters.state:
        qs = qs.filter(state=filters.state.value)
    if filters.team:
        path = _visible_team_path(request, filters.team)
        in_subtree = Q()
        for field in team_fields:
            in_subtree |= Q(**{f"{field}__path__startswith": path})
        qs = qs.filter(in_subtree)
    return qs


def _flag_filter(qs: QuerySet[Any], condition: Q, wanted: bool | None) -> QuerySet[Any]:
    # exclude() rather than "flag = false": a null due date is "not overdue", and SQL's
    # three-valued logic would drop it from an equality test.
    if wanted is None:
        return qs
    return qs.filter(condition) if wanted else qs.exclude(condition)


def _check_visible_goal(request: HttpRequest, goal_id: int) -> None:
    if not selectors.visible_goals(request.user).filter(pk=goal_id).exists():
        raise bad_parameter("goal", goal_id, "no such goal")


# -- serialisation -----------------------------------------------------------------------------


def _team_ref(team: Team | None) -> dict[str, Any] | None:
    return {"id": team.pk, "external_id": team.external_id, "name": team.name} if team is not None else None


def _goal_ref(goal: Goal | None) -> dict[str, Any] | None:
    return {"id": goal.pk, "external_id": goal.external_id} if goal is not None else None


def _pace(item: Goal | KeyResult) -> dict[str, Any] | None:
    pace = pace_of(item)
    if pace is None:
        return None
    return {"expected": round(pace.expected, 1), "behind_by": pace.behind_by, "is_behind": pace.is_behind}


def _key_result(kr: KeyResult) -> dict[str, Any]:
    return {
        "id": kr.pk,
        "vendor": kr.vendor,
        "connector": kr.connector.name,
        "external_id": kr.external_id,
        "goal_id": kr.goal.pk if kr.goal is not None else None,
        "goal_external_id": kr.goal_external_id or None,
        "title": kr.title,
        "owners": list(kr.owners or []),
        "health": kr.health,
        "vendor_status": kr.vendor_status,
        "state": kr.state,
        "progress": kr.progress,
        "start": kr.start,
        "target": kr.target,
        "current": kr.current,
        "unit": kr.unit,
        "url": kr.url or None,
        "start_date": kr.start_date,
        "due_date": kr.due_date,
        "pace": _pace(kr),
    }


def _goal(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.pk,
        "vendor": goal.vendor,
        "connector": goal.connector.name,
        "external_id": goal.external_id,
        "title": goal.title,
        "team": _team_ref(goal.team),
        "parent": _goal_ref(goal.parent),
        "owners": list(goal.owners or []),
        "health": goal.health,
        "vendor_status": goal.vendor_status,
        "state": goal.state,
        "outcome": goal.outcome or None,
        "progress": goal.progress,
        "is_stale": bool(goal.is_stale),  # type: ignore[attr-defined]
        "is_overdue": bool(goal.is_overdue),  # type: ignore[attr-defined]
        "last_check_in_at": goal.last_check_in_at,
        "start_date": goal.start_date,
        "due_date": goal.due_date,
        "url": goal.url or None,
        "key_results": [_key_result(kr) for kr in goal.key_results.all()],
        "aligned_parent": aligned_parent(getattr(goal, "visible_alignment", None)),  # prefetched by _goals
        "pace": _pace(goal),
    }


def _check_in(c: CheckIn) -> dict[str, Any]:
    return {
        "id": c.pk,
        "external_id": c.external_id,
        "subject_kind": c.subject_kind,
        "key_result_id": c.key_result_id,
        "created_at": c.created_at,
        "author": c.author,
        "value": c.value,
        "progress": c.progress,
        "health": c.health,
        "vendor_status": c.vendor_status,
        "comment": c.comment,
    }


def _snapshot(s: ProgressSnapshot) -> dict[str, Any]:
    return {"taken_at": s.taken_at, "progress": s.progress, "health": s.health}


def _work_item(w: WorkItem) -> dict[str, Any]:
    return {
        "id": w.pk,
        "vendor": w.vendor,
        "connector": w.connector.name,
        "external_id": w.external_id,
        "kind": w.kind,
        "title": w.title,
        "team": _team_ref(w.visible_teams[0] if w.visible_teams else None),  # type: ignore[attr-defined]
        "goal": _goal_ref(w.goal),
        "owners": list(w.owners or []),
        "health": w.health,
        "vendor_status": w.vendor_status,
        "state": w.state,
        "progress": w.progress,
        "start_date": w.start_date,
        "due_date": w.due_date,
        "is_overdue": bool(w.is_overdue),  # type: ignore[attr-defined]
        "url": w.url or None,
        "outcome": w.outcome or None,
        "involved": [str(name) for name in w.involved or []],
        "strategy_ids": [str(s) for s in w.strategy_external_ids or []],
        "is_stale": bool(w.is_stale),  # type: ignore[attr-defined]
        "is_late_start": bool(w.is_late_start),  # type: ignore[attr-defined]
        "last_check_in_at": w.last_check_in_at,
    }


# -- querysets ---------------------------------------------------------------------------------


def _goal_refs(request: HttpRequest) -> QuerySet[Goal]:
    return selectors.visible_goals(request.user).only("id", "external_id")


def _team_refs(request: HttpRequest) -> QuerySet[Team]:
    return selectors.visible_teams(request.user).only("id", "external_id", "name")


def _goals(request: HttpRequest) -> QuerySet[Goal]:
    key_results = selectors.visible_key_results(request.user).select_related("connector").order_by("id")
    return (
        selectors.visible_goals(request.user)
        .select_related("connector")
        .prefetch_related(
            Prefetch("team", queryset=_team_refs(request)),
            Prefetch("parent", queryset=_goal_refs(request)),
            Prefetch("key_results", queryset=key_results),
            # An OKR Hub link shows only when both ends are visible (issue #18).
            Prefetch(
                "alignment",
                queryset=visible_alignments(request.user).select_related("parent_goal", "parent_team", "created_by"),
                to_attr="visible_alignment",
            ),
        )
        .order_by("id")
    )


def _work_items(request: HttpRequest) -> QuerySet[WorkItem]:
    return (
        selectors.visible_work_items(request.user)
        .select_related("connector")
        .prefetch_related(
            Prefetch("teams", queryset=_team_refs(request).order_by("id"), to_attr="visible_teams"),
            Prefetch("goal", queryset=_goal_refs(request)),
        )
        .order_by("id")
    )


def _teams_with_rollups(request: HttpRequest) -> QuerySet[Team]:
    # The same SQL roll-ups as the Teams page (correlated subqueries over Team.path), over the
    # goals this user can see: never a per-team loop in Python.
    goals = selectors.visible_goals_base(request.user)
    teams = selectors.with_rollups(selectors.visible_teams(request.user), goals, aligned=aligned_goals(request.user, goals))
    return (
        teams.select_related("connector")
        .prefetch_related(Prefetch("parent", queryset=selectors.visible_teams(request.user).only("id")))
        .order_by("path", "id")
    )


def _counts(team: Team) -> dict[str, int]:
    per_health = {h: int(getattr(team, f"rollup_{h}", 0) or 0) for h in selectors.HEALTH_KEYS}
    return {"goals": sum(per_health.values()), **per_health}


# -- endpoints ---------------------------------------------------------------------------------


@router.get(
    "/teams", response={200: schemas.TeamPage, **ERRORS}, summary="Teams with progress and health counts rolled up over each subtree"
)
def list_teams(request: HttpRequest, filters: Query[TeamParams]) -> dict[str, Any]:
    qs = _vendor_filters(_teams_with_rollups(request), filters, text_fields=("name",))
    if filters.team:
        qs = qs.filter(path__startswith=_visible_team_path(request, filters.team))
    if filters.archived is not None:
        qs = qs.filter(archived=filters.archived)

    def serialize(teams: Iterable[Team]) -> list[dict[str, Any]]:
        return [
            {
                "id": t.pk,
                "vendor": t.vendor,
                "connector": t.connector.name,
                "external_id": t.external_id,
                "name": t.name,
                "parent_id": t.parent.pk if t.parent is not None else None,
                "parent_external_id": t.parent_external_id or None,
                "archived": t.archived,
                "progress": t.rollup_progress,  # type: ignore[attr-defined]
                "counts": _counts(t),
            }
            for t in teams
        ]

    return paginate(request, qs, filters, serialize)


@router.get("/goals", response={200: schemas.GoalPage, **ERRORS}, summary="Goals with their key results")
def list_goals(request: HttpRequest, filters: Query[GoalParams]) -> dict[str, Any]:
    qs = _tracked_filters(request, _goals(request), filters, team_fields=("team",))
    qs = _flag_filter(qs, selectors.stale_q(), filters.stale)
    qs = _flag_filter(qs, selectors.overdue_q(), filters.overdue)
    if filters.pace:
        qs = behind_pace(qs)
    return paginate(request, qs, filters, lambda goals: [_goal(g) for g in goals])


@router.get("/goals/{goal_id}", response={200: schemas.GoalDetailOut, **ERRORS}, summary="One goal with its check-ins and history")
def get_goal(request: HttpRequest, goal_id: int = param.Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    goal = _goals(request).filter(pk=goal_id).first()
    if goal is None:
        raise not_found("Goal", goal_id)
    key_result_ids = [kr.pk for kr in goal.key_results.all()]
    check_ins = (
        selectors.visible_check_ins(request.user)
        .filter(Q(goal_id=goal.pk) | Q(key_result_id__in=key_result_ids))
        .order_by("-created_at", "-id")
    )
    data = _goal(goal)
    data["check_ins"] = [_check_in(c) for c in check_ins]
    data["history"] = [_snapshot(s) for s in goal.snapshots.order_by("taken_at", "id")]
    return data


@router.get("/key-results", response={200: schemas.KeyResultPage, **ERRORS}, summary="Key results")
def list_key_results(request: HttpRequest, filters: Query[KeyResultParams]) -> dict[str, Any]:
    qs = (
        selectors.visible_key_results(request.user)
        .select_related("connector")
        .prefetch_related(Prefetch("goal", queryset=_goal_refs(request)))
        .order_by("id")
    )
    qs = _tracked_filters(request, qs, filters, team_fields=("team", "goal__team"))
    if filters.goal:
        _check_visible_goal(request, filters.goal)
        qs = qs.filter(goal_id=filters.goal)
    if filters.pace:
        qs = behind_pace(qs)
    return paginate(request, qs, filters, lambda krs: [_key_result(kr) for kr in krs])


@router.get(
    "/work-items", response={200: schemas.WorkItemPage, **ERRORS}, summary="Work items: initiatives, projects, milestones, tasks, actions"
)
def list_work_items(request: HttpRequest, filters: Query[WorkItemParams]) -> dict[str, Any]:
    qs = _vendor_filters(_work_items(request), filters, text_fields=("title",))
    if filters.owner and filters.owner.strip():
        qs = qs.filter(owner_q(filters.owner))  # owners only: involved people are not owners
    if filters.person:
        qs = qs.filter(person_q(filters.person))
    if filters.health:
        qs = qs.filter(health=filters.health.value)
    if filters.state:
        qs = qs.filter(state=filters.state.value)
    if filters.team:
        path = _visible_team_path(request, filters.team)
        linked = WorkItem.teams.through.objects.filter(workitem_id=OuterRef("pk"), team__path__startswith=path)
        qs = qs.filter(Q(Exists(linked)) | Q(goal__team__path__startswith=path))
    if filters.kind:
        qs = qs.filter(kind=filters.kind.value)
    if filters.goal:
        _check_visible_goal(request, filters.goal)
        qs = qs.filter(goal_id=filters.goal)
    qs = _flag_filter(qs, selectors.overdue_q(), filters.overdue)
    qs = _flag_filter(qs, selectors.stale_q(), filters.stale)
    return paginate(request, qs, filters, lambda items: [_work_item(w) for w in items])


@router.get(
    "/work-items/{item_id}",
    response={200: schemas.WorkItemDetailOut, **ERRORS},
    summary="One work item with its check-ins (North initiative events, Operately project check-ins) and history",
)
def get_work_item(request: HttpRequest, item_id: int = param.Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    item = _work_items(request).filter(pk=item_id).first()
    if item is None:
        raise not_found("Work item", item_id)
    data = _work_item(item)
    # Check-ins and snapshots follow their subject: whoever sees the item sees its history.
    data["check_ins"] = [_check_in(c) for c in work_item_selectors.work_item_check_ins(item, limit=None)]
    data["history"] = [_snapshot(s) for s in work_item_selectors.work_item_snapshots(item, weeks=None)]
    return data


@router.get("/people", response={200: schemas.PersonPage, **ERRORS}, summary="People")
def list_people(request: HttpRequest, filters: Query[PersonParams]) -> dict[str, Any]:
    qs = selectors.visible_people(request.user).select_related("connector").order_by("name", "id")
    qs = _vendor_filters(qs, filters, text_fields=("name", "email"))

    def serialize(people: Iterable[Person]) -> list[dict[str, Any]]:
        return [
            {"id": p.pk, "vendor": p.vendor, "connector": p.connector.name, "external_id": p.external_id, "name": p.name, "email": p.email}
            for p in people
        ]

    return paginate(request, qs, filters, serialize)
