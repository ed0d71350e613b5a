"""Read-side queries: visibility, flags and roll-ups, all in SQL.

The visibility rule (issue #2): a user sees an item only when one of their own credentials, or
a shared credential granted to them, returned it in its latest complete sync (``seen_by``).
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, models
from django.db.models import Avg, Case, Count, Exists, F, Func, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from connectors.base import Health, State
from dashboard.integrations.models import Credential, SyncRun
from dashboard.okrs.models import CheckIn, Goal, KeyResult, Person, ProgressSnapshot, Team, WorkItem

M = TypeVar("M", bound=models.Model)
UserLike = AbstractBaseUser | AnonymousUser


def visible_credentials(user: UserLike) -> QuerySet[Credential]:
    """Credentials whose data ``user`` may see: their own, and shared ones granted to them."""
    if not user.is_authenticated:
        return Credential.objects.none()
    group_ids = user.groups.values("id")  # type: ignore[union-attr]
    return Credential.objects.filter(connector__enabled=True).filter(
        Q(owner=user) | Q(is_shared=True, share_with_everyone=True) | Q(is_shared=True, groups__in=group_ids)
    )


def visible_credential_ids(user: UserLike) -> list[int]:
    """Evaluated once per request; the id list keeps later queries simple and index-friendly."""
    cache_attr = "_okrhub_visible_credential_ids"
    cached = getattr(user, cache_attr, None)
    if cached is not None:
        return list(cached)
    ids = sorted(set(visible_credentials(user).values_list("id", flat=True)))
    with contextlib.suppress(AttributeError):  # an object that refuses attributes: no cache
        setattr(user, cache_attr, tuple(ids))
    return ids


def _visible(model: type[M], credential_ids: list[int]) -> QuerySet[M]:
    through = model.seen_by.through  # type: ignore[attr-defined]
    fk = f"{model._meta.model_name}_id"
    seen = through.objects.filter(**{fk: OuterRef("pk"), "credential_id__in": credential_ids})
    return model.objects.filter(Exists(seen))  # type: ignore[attr-defined, no-any-return]


def visible_teams(user: UserLike) -> QuerySet[Team]:
    return _visible(Team, visible_credential_ids(user))


def visible_people(user: UserLike) -> QuerySet[Person]:
    return _visible(Person, visible_credential_ids(user))


def visible_goals(user: UserLike) -> QuerySet[Goal]:
    return with_goal_flags(_visible(Goal, visible_credential_ids(user)))


def visible_key_results(user: UserLike) -> QuerySet[KeyResult]:
    return _visible(KeyResult, visible_credential_ids(user))


def visible_work_items(user: UserLike) -> QuerySet[WorkItem]:
    return with_work_item_flags(_visible(WorkItem, visible_credential_ids(user)))


def visible_check_ins(user: UserLike) -> QuerySet[CheckIn]:
    ids = visible_credential_ids(user)
    return CheckIn.objects.filter(
        Q(goal__in=_visible(Goal, ids)) | Q(key_result__in=_visible(KeyResult, ids)) | Q(work_item__in=_visible(WorkItem, ids))
    )


# -- flags computed in SQL ----------------------------------------------------------------------


def stale_q(now: datetime | None = None) -> Q:
    return Q(stale_at__isnull=False, stale_at__lte=now or timezone.now())


def overdue_q(today: date | None = None) -> Q:
    # ``due_date IS NOT NULL`` keeps the flag a real False (not SQL NULL) for undated items.
    return Q(due_date__isnull=False, due_date__lt=today or timezone.localdate()) & ~Q(state__in=[State.DONE, State.ARCHIVED])


def with_goal_flags(qs: QuerySet[Goal]) -> QuerySet[Goal]:
    return qs.annotate(
        is_stale=models.ExpressionWrapper(stale_q(), output_field=models.BooleanField()),
        is_overdue=models.ExpressionWrapper(overdue_q(), output_field=models.BooleanField()),
    )


def with_work_item_flags(qs: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
    return qs.annotate(is_overdue=models.ExpressionWrapper(overdue_q(), output_field=models.BooleanField()))


# -- roll-ups --------------------------------------------------------------------------------

HEALTH_KEYS = [h.value for h in Health]
STATE_KEYS = [s.value for s in State]


def health_counts(goals: QuerySet[Goal]) -> dict[str, int]:
    """Counts per health plus ``goals`` (total), in one query."""
    agg: dict[str, Any] = goals.aggregate(goals=Count("id"), **{h: Count("id", filter=Q(health=h)) for h in HEALTH_KEYS})
    return {k: int(v or 0) for k, v in agg.items()}


def goal_summary(goals: QuerySet[Goal]) -> dict[str, Any]:
    """Counts per health and per state, stale, overdue and mean progress: one query."""
    agg: dict[str, Any] = goals.order_by().aggregate(
        goals=Count("id"),
        progress=Avg("progress"),
        stale=Count("id", filter=stale_q()),
        overdue=Count("id", filter=overdue_q()),
        **{h: Count("id", filter=Q(health=h)) for h in HEALTH_KEYS},
        **{f"state_{s}": Count("id", filter=Q(state=s)) for s in STATE_KEYS},
    )
    return {k: (v if k == "progress" else int(v or 0)) for k, v in agg.items()}


def work_item_summary(items: QuerySet[WorkItem]) -> dict[str, Any]:
    agg: dict[str, Any] = items.order_by().aggregate(
        items=Count("id"),
        overdue=Count("id", filter=overdue_q()),
        **{h: Count("id", filter=Q(health=h)) for h in HEALTH_KEYS},
        **{f"state_{s}": Count("id", filter=Q(state=s)) for s in STATE_KEYS},
    )
    return {k: int(v or 0) for k, v in agg.items()}


def _subtree_aggregate(goals: QuerySet[Goal], function: str, column: str, output: models.Field[Any, Any]) -> Subquery:
    """One correlated scalar subquery over the goals in the outer team's subtree (by path)."""
    in_subtree = goals.filter(team__path__startswith=OuterRef("path")).order_by()
    # A bare aggregate Func (not an Aggregate) keeps Django from adding a GROUP BY: one row back.
    value = Func(F(column), function=function, output_field=output)
    return Subquery(in_subtree.annotate(_value=value).values("_value")[:1], output_field=output)


def with_rollups(teams: QuerySet[Team], goals: QuerySet[Goal]) -> QuerySet[Team]:
    """Annotate each team with its subtree's mean progress and counts per health, in SQL (one
    correlated subquery per value). Pages use :func:`attach_rollups`, which is cheaper for long
    lists; this form lets a caller filter or order by a roll-up (the read API)."""
    annotations: dict[str, Any] = {
        "rollup_progress": _subtree_aggregate(goals, "AVG", "progress", models.FloatField()),
    }
    for h in HEALTH_KEYS:
        annotations[f"rollup_{h}"] = _subtree_aggregate(goals.filter(health=h), "COUNT", "id", models.IntegerField())
    return teams.annotate(**annotations)


def rollup_goal_count(team: Team) -> int:
    return sum(int(getattr(team, f"rollup_{h}", 0) or 0) for h in HEALTH_KEYS)


def subtree_rollups(targets: QuerySet[Team], goals: QuerySet[Goal]) -> dict[int, dict[str, Any]]:
    """Per target team: goal count, mean progress and counts per health over its whole subtree.

    One SQL query: goals are first aggregated per team (GROUP BY team), then those few rows are
    summed into every target whose materialised path prefixes theirs. ``goals`` is already
    limited to what the user may see (and any filters), so a roll-up never counts a hidden item.
    """
    per_team = (
        goals.order_by()
        .values("team_id")
        .annotate(
            n_progress=Count("progress"),
            sum_progress=Sum("progress"),
            **{f"n_{h}": Count("id", filter=Q(health=h)) for h in HEALTH_KEYS},
        )
    )
    per_sql, per_params = per_team.query.sql_with_params()
    target_sql, target_params = targets.order_by().values("id", "path").query.sql_with_params()
    health_sums = ", ".join(f"COALESCE(SUM(g.n_{h}), 0)" for h in HEALTH_KEYS)
    # Interpolated: Django-compiled SQL (with placeholders), our column and table names. Every
    # value (filters, credential ids) travels as a parameter.
    sql = (
        f"SELECT t.id, COALESCE(SUM(g.n_progress), 0), SUM(g.sum_progress), {health_sums} "  # noqa: S608
        f"FROM ({target_sql}) t "
        f"JOIN {Team._meta.db_table} d ON d.path LIKE (t.path || '%%') "
        f"JOIN ({per_sql}) g ON g.team_id = d.id "
        "GROUP BY t.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*target_params, *per_params))
        rows = cursor.fetchall()
    result: dict[int, dict[str, Any]] = {}
    for team_id, n_progress, sum_progress, *health_counts in rows:
        counts = {h: int(c) for h, c in zip(HEALTH_KEYS, health_counts, strict=True)}
        result[team_id] = {
            "goals": sum(counts.values()),
            "progress": (float(sum_progress) / int(n_progress)) if n_progress else None,
            **counts,
        }
    return result


EMPTY_ROLLUP: dict[str, Any] = {"goals": 0, "progress": None, **dict.fromkeys(HEALTH_KEYS, 0)}


def attach_rollups(teams: list[Team], goals: QuerySet[Goal]) -> list[Team]:
    """Set ``rollup_goals``, ``rollup_progress`` and ``rollup_<health>`` on each team (1 query)."""
    if not teams:
        return teams
    rollups = subtree_rollups(Team.objects.filter(pk__in=[t.pk for t in teams]), goals)
    for team in teams:
        set_rollup(team, rollups.get(team.pk, EMPTY_ROLLUP))
    return teams


def set_rollup(team: Team, rollup: dict[str, Any]) -> None:
    team.rollup_goals = rollup["goals"]  # type: ignore[attr-defined]
    team.rollup_progress = rollup["progress"]  # type: ignore[attr-defined]
    for h in HEALTH_KEYS:
        setattr(team, f"rollup_{h}", rollup[h])


def with_matching_goals_only(teams: QuerySet[Team], goals: QuerySet[Goal]) -> QuerySet[Team]:
    """Keep teams whose subtree holds at least one of ``goals`` (used when goals are filtered)."""
    return teams.filter(Exists(goals.filter(team__path__startswith=OuterRef("path"))))


def with_has_children(teams: QuerySet[Team], visible: QuerySet[Team]) -> QuerySet[Team]:
    return teams.annotate(has_children=Exists(visible.filter(parent_id=OuterRef("pk"))))


def visible_goals_base(user: UserLike) -> QuerySet[Goal]:
    """Visible goals without the per-row flags (for subqueries and aggregates)."""
    return _visible(Goal, visible_credential_ids(user))


def team_roots(user: UserLike, goals: QuerySet[Goal], *, vendors: list[str] | None = None, only_matching: bool = False) -> QuerySet[Team]:
    """Top of each visible tree: teams without a parent, or whose parent this user cannot see."""
    visible = visible_teams(user)
    roots = visible.filter(Q(parent__isnull=True) | ~Q(parent_id__in=visible.values("id")))
    if vendors:
        roots = roots.filter(vendor__in=vendors)
    if only_matching:
        roots = with_matching_goals_only(roots, goals)
    roots = with_has_children(roots, visible)
    return roots.select_related("connector").order_by("connector__name", "name", "id")


def team_children(user: UserLike, parent_id: int, goals: QuerySet[Goal], *, only_matching: bool = False) -> QuerySet[Team]:
    visible = visible_teams(user)
    children = visible.filter(parent_id=parent_id)
    if only_matching:
        children = with_matching_goals_only(children, goals)
    children = with_has_children(children, visible)
    return children.select_related("connector").order_by("name", "id")


def team_ancestors(user: UserLike, team: Team) -> list[Team]:
    """Visible teams on the path from the root down to ``team`` (excluded): the breadcrumb."""
    ids = [int(part) for part in team.path.strip("/").split("/") if part.isdigit() and int(part) != team.pk]
    if not ids:
        return []
    by_id = {t.pk: t for t in visible_teams(user).filter(pk__in=ids).only("id", "name", "path", "vendor")}
    return [by_id[i] for i in ids if i in by_id]


def connector_rollups(goals: QuerySet[Goal]) -> dict[int, dict[str, Any]]:
    """Per connector: goal count, mean progress, counts per health (one grouped query)."""
    rows = (
        goals.order_by()
        .values("connector_id")
        .annotate(goals=Count("id"), progress=Avg("progress"), **{h: Count("id", filter=Q(health=h)) for h in HEALTH_KEYS})
    )
    return {row["connector_id"]: row for row in rows}


def attention_q(*, with_stale: bool = True) -> Q:
    """What needs attention: off track, needs attention, stale or overdue (open items only).

    Work items have no check-in cadence, so they pass ``with_stale=False``.
    """
    open_items = ~Q(state__in=[State.DONE, State.ARCHIVED])
    reasons = Q(health__in=[Health.OFF_TRACK, Health.NEEDS_ATTENTION]) | overdue_q()
    if with_stale:
        reasons |= stale_q()
    return open_items & reasons


def with_health_rank(qs: QuerySet[M]) -> QuerySet[M]:
    """Worst first: off track, needs attention, no status, on track."""
    order = [Health.OFF_TRACK, Health.NEEDS_ATTENTION, Health.UNKNOWN, Health.ON_TRACK]
    return qs.annotate(
        health_rank=Case(
            *[When(health=h, then=Value(i)) for i, h in enumerate(order)], default=Value(9), output_field=models.IntegerField()
        )
    )


def with_state_rank(qs: QuerySet[M]) -> QuerySet[M]:
    order = [State.ACTIVE, State.NOT_STARTED, State.PAUSED, State.DONE, State.ARCHIVED]
    return qs.annotate(
        state_rank=Case(*[When(state=s, then=Value(i)) for i, s in enumerate(order)], default=Value(9), output_field=models.IntegerField())
    )


# Lists never show the vendor's raw JSON; leaving it in the database keeps big pages light.
LIST_DEFER = ("raw", "fingerprint")


def recent_snapshots_prefetch(weeks: int = 12, to_attr: str = "recent_snapshots") -> Prefetch:
    since = timezone.now() - timedelta(weeks=weeks)
    return Prefetch(
        "snapshots",
        queryset=ProgressSnapshot.objects.filter(taken_at__gte=since)
        .only("goal_id", "key_result_id", "work_item_id", "taken_at", "progress")
        .order_by("taken_at"),
        to_attr=to_attr,
    )


def goals_with_details(user: UserLike, goals: QuerySet[Goal]) -> QuerySet[Goal]:
    """Goals for a list: team and connector joined, visible key results and recent snapshots
    prefetched (one query each for the whole page)."""
    key_results = visible_key_results(user).defer(*LIST_DEFER).order_by("title", "id")
    return (
        goals.defer(*LIST_DEFER, "description")
        .select_related("team", "connector")
        .prefetch_related(
            Prefetch("key_results", queryset=key_results, to_attr="visible_key_results"),
            recent_snapshots_prefetch(),
        )
    )


def goal_check_ins(user: UserLike, goal: Goal, limit: int = 200) -> QuerySet[CheckIn]:
    """Check-ins on the goal and on its key results the user can see, newest first."""
    krs = visible_key_results(user).filter(goal=goal).values("id")
    return CheckIn.objects.filter(Q(goal=goal) | Q(key_result_id__in=krs)).select_related("key_result").order_by("-created_at")[:limit]


def work_items_with_teams(user: UserLike, items: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
    teams = visible_teams(user).only("id", "name", "vendor").order_by("name")
    return (
        items.defer(*LIST_DEFER, "description")
        .select_related("connector")
        .prefetch_related(Prefetch("teams", queryset=teams, to_attr="visible_teams"))
    )


def board_columns(items: QuerySet[WorkItem], per_column: int) -> QuerySet[WorkItem]:
    """At most ``per_column`` items per state, most urgent first, in one query (a window)."""
    ranked = items.annotate(
        column_rank=Window(
            RowNumber(), partition_by=[F("state")], order_by=[F("due_date").asc(nulls_last=True), F("title").asc(), F("id").asc()]
        )
    )
    return ranked.filter(column_rank__lte=per_column).order_by("state", "column_rank")


def work_item_team_names(user: UserLike, items: QuerySet[WorkItem]) -> dict[int, list[str]]:
    """Visible team names per work item for a whole (export-sized) set, in one query."""
    through = WorkItem.teams.through
    rows = (
        through.objects.filter(workitem_id__in=items.values("id"), team_id__in=visible_teams(user).values("id"))
        .order_by("team__name")
        .values_list("workitem_id", "team__name")
    )
    names: dict[int, list[str]] = {}
    for item_id, name in rows:
        names.setdefault(item_id, []).append(name)
    return names


def freshness(user: UserLike) -> dict[str, Any]:
    """When this user's data was last synced and whether a connection is failing (one query)."""
    failing = Q(last_error__gt="") | ~Q(status=Credential.Status.ACTIVE)
    agg: dict[str, Any] = Credential.objects.filter(id__in=visible_credential_ids(user)).aggregate(
        credentials=Count("id"),
        latest_success=Max("last_success_at"),
        latest_sync=Max("last_sync_at"),
        failing=Count("id", filter=failing),
        never_synced=Count("id", filter=Q(last_success_at__isnull=True)),
    )
    return agg


def connection_statuses(user: UserLike) -> QuerySet[Credential]:
    """Visible credentials with their connector and their latest run's status, one query."""
    latest = SyncRun.objects.filter(credential_id=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        Credential.objects.filter(id__in=visible_credential_ids(user))
        .select_related("connector", "owner")
        .annotate(
            last_run_status=Subquery(latest.values("status")[:1]),
            last_run_error=Subquery(latest.values("error")[:1]),
            last_run_at=Subquery(latest.values("created_at")[:1]),
        )
        .order_by("connector__name", "is_shared", "id")
    )


def own_sync_credentials(user: UserLike) -> QuerySet[Credential]:
    """What "Sync now" syncs: the user's own credentials on enabled connectors."""
    return visible_credentials(user).filter(owner_id=user.pk).exclude(status=Credential.Status.NEEDS_REENTRY)


def visible_runs(user: UserLike, run_ids: list[int]) -> QuerySet[SyncRun]:
    return (
        SyncRun.objects.filter(pk__in=run_ids, credential_id__in=visible_credential_ids(user))
        .select_related("credential__connector")
        .order_by("id")
    )


def unfinished_runs(user: UserLike) -> QuerySet[SyncRun]:
    return (
        SyncRun.objects.filter(credential__owner_id=user.pk, status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING])
        .select_related("credential__connector")
        .order_by("id")
    )
