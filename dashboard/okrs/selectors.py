"""Read-side queries: visibility, flags and roll-ups, all in SQL.

The visibility rule (issue #2): a user sees an item only when one of their own credentials, or
a shared credential granted to them, returned it in its latest complete sync (``seen_by``).
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, cast

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection, models
from django.db.models import Case, Count, Exists, F, Func, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from connectors.base import Health, State
from dashboard.integrations.models import Credential, SyncRun
from dashboard.integrations.visibility import visible_credentials
from dashboard.okrs.models import CheckIn, Goal, KeyResult, Person, Team, WorkItem
from dashboard.okrs.pace import BEHIND_PACE_POINTS, pace_gap_expression

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

M = TypeVar("M", bound=models.Model)
# The project's user model (AUTH_USER_MODEL is Django's default); anonymous users see nothing.
UserLike = User | AnonymousUser


_CACHE_ATTR = "_okrhub_visible_credentials"


def _visible_credential_rows(user: UserLike) -> tuple[tuple[Any, ...], ...]:
    """(id, last_success_at, last_sync_at, last_error, status, connector data_version) of each visible
    credential: evaluated once per request (cached on the user object), for the id list,
    freshness and the cache key of :mod:`dashboard.okrs.cache`."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    rows = visible_credentials(user).values_list("id", "last_success_at", "last_sync_at", "last_error", "status", "connector__data_version")
    by_id = {row[0]: row for row in rows}  # the groups join can repeat a credential
    result = tuple(by_id[pk] for pk in sorted(by_id))
    with contextlib.suppress(AttributeError):  # an object that refuses attributes: no cache
        setattr(user, _CACHE_ATTR, result)
    return result


def visible_credential_versions(user: UserLike) -> list[tuple[int, int]]:
    """(id, its connector's data_version) of each visible credential, by id: what cached page data is keyed by."""
    return [(row[0], row[5]) for row in _visible_credential_rows(user)]


def visible_credential_ids(user: UserLike) -> list[int]:
    """Evaluated once per request; the id list keeps later queries simple and index-friendly."""
    return [row[0] for row in _visible_credential_rows(user)]


def _visible(model: type[M], credential_ids: list[int]) -> QuerySet[M]:
    through = model.seen_by.through  # type: ignore[attr-defined]
    fk = f"{model._meta.model_name}_id"
    seen = through.objects.filter(**{fk: OuterRef("pk"), "credential_id__in": credential_ids})
    return model.objects.filter(Exists(seen))  # type: ignore[attr-defined, no-any-return]


def visible_teams(user: UserLike) -> QuerySet[Team]:
    return _visible(Team, visible_credential_ids(user))


def visible_people(user: UserLike) -> QuerySet[Person]:
    return _visible(Person, visible_credential_ids(user))


def visible_goals(user: UserLike) -> QuerySet[FlaggedGoal]:
    return with_goal_flags(_visible(Goal, visible_credential_ids(user)))


def visible_key_results(user: UserLike) -> QuerySet[KeyResult]:
    return _visible(KeyResult, visible_credential_ids(user))


def visible_work_items(user: UserLike) -> QuerySet[FlaggedWorkItem]:
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


class GoalFlags(TypedDict):
    is_stale: bool
    is_overdue: bool


class WorkItemFlags(TypedDict):
    is_stale: bool
    is_overdue: bool
    is_late_start: bool


class HasChildren(TypedDict):
    has_children: bool


class StateRank(TypedDict):
    state_rank: int


if TYPE_CHECKING:
    # Rows of the querysets below: the model with the annotated attributes.
    FlaggedGoal = WithAnnotations[Goal, GoalFlags]
    FlaggedWorkItem = WithAnnotations[WorkItem, WorkItemFlags]
    TreeTeam = WithAnnotations[Team, HasChildren]
    RankedWorkItem = WithAnnotations[WorkItem, StateRank]


def with_goal_flags(qs: QuerySet[Goal]) -> QuerySet[FlaggedGoal]:
    return qs.annotate(
        is_stale=models.ExpressionWrapper(stale_q(), output_field=models.BooleanField()),
        is_overdue=models.ExpressionWrapper(overdue_q(), output_field=models.BooleanField()),
    )


def late_start_q(today: date | None = None) -> Q:
    """OGSM's "past its start date and not started" (any vendor's item can be late to start)."""
    return Q(state=State.NOT_STARTED, start_date__isnull=False, start_date__lt=today or timezone.localdate())


def with_work_item_flags(qs: QuerySet[WorkItem]) -> QuerySet[FlaggedWorkItem]:
    # stale_at is set by the sync only for kinds whose vendor checks in (never an OGSM action).
    return qs.annotate(
        is_stale=models.ExpressionWrapper(stale_q(), output_field=models.BooleanField()),
        is_overdue=models.ExpressionWrapper(overdue_q(), output_field=models.BooleanField()),
        is_late_start=models.ExpressionWrapper(late_start_q(), output_field=models.BooleanField()),
    )


# -- roll-ups --------------------------------------------------------------------------------

HEALTH_KEYS = [h.value for h in Health]
STATE_KEYS = [s.value for s in State]


def _summary_rows(qs: QuerySet[Any], **aggregates: Any) -> list[dict[str, Any]]:
    """Aggregates per (health, state): at most 20 rows, summed in Python. One query, and far
    fewer expressions for Django to build and the database to evaluate per row than a FILTER
    clause per health and per state."""
    return list(qs.order_by().values("health", "state").annotate(n=Count("id"), **aggregates))


def _sum_counts(rows: list[dict[str, Any]], total_key: str, extra: tuple[str, ...]) -> dict[str, Any]:
    counts: dict[str, Any] = {total_key: 0, **dict.fromkeys(extra, 0), **dict.fromkeys(HEALTH_KEYS, 0)}
    counts.update({f"state_{s}": 0 for s in STATE_KEYS})
    for row in rows:
        n = int(row["n"])
        counts[total_key] += n
        for key in extra:
            counts[key] += int(row[key] or 0)
        if row["health"] in HEALTH_KEYS:
            counts[row["health"]] += n
        if row["state"] in STATE_KEYS:
            counts[f"state_{row['state']}"] += n
    return counts


def behind_pace_q(today: date | None = None) -> Q:
    """Behind pace (:mod:`dashboard.okrs.pace`) as a condition, for ``filter()``, ``Q | Q`` and
    aggregates: the same SQL as :func:`pace.behind_pace`."""
    gap = pace_gap_expression(today or timezone.localdate())
    return Q(GreaterThanOrEqual(gap, Value(float(BEHIND_PACE_POINTS))))


def goal_summary(goals: QuerySet[Goal]) -> dict[str, Any]:
    """Counts per health and per state, stale, overdue, behind pace and mean progress: one query."""
    rows = _summary_rows(
        goals,
        stale=Count("id", filter=stale_q()),
        overdue=Count("id", filter=overdue_q()),
        behind_pace=Count("id", filter=behind_pace_q()),
        n_progress=Count("progress"),
        sum_progress=Sum("progress"),
    )
    counts = _sum_counts(rows, "goals", ("stale", "overdue", "behind_pace"))
    n_progress = sum(int(r["n_progress"]) for r in rows)
    counts["progress"] = sum(float(r["sum_progress"] or 0) for r in rows) / n_progress if n_progress else None
    return counts


def work_item_summary(items: QuerySet[WorkItem]) -> dict[str, Any]:
    rows = _summary_rows(items, overdue=Count("id", filter=overdue_q()), stale=Count("id", filter=stale_q()))
    return _sum_counts(rows, "items", ("overdue", "stale"))


def _subtree_aggregate(
    goals: QuerySet[Goal], function: str, column: str, output: models.Field[Any, Any], aligned: QuerySet[Goal] | None = None
) -> Subquery:
    """One correlated scalar subquery over the goals in the outer team's subtree (by path), and
    the ``aligned`` goals aligned under a team of that subtree or a goal of one."""
    in_subtree = Q(team__path__startswith=OuterRef("path"))
    if aligned is not None:
        path = OuterRef(OuterRef("path"))
        under = aligned.filter(Q(alignment__parent_team__path__startswith=path) | Q(alignment__parent_goal__team__path__startswith=path))
        in_subtree |= Q(pk__in=under.values("pk"))
    # A bare aggregate Func (not an Aggregate) keeps Django from adding a GROUP BY: one row back.
    value = Func(F(column), function=function, output_field=output)
    return Subquery(goals.filter(in_subtree).order_by().annotate(_value=value).values("_value")[:1], output_field=output)


def with_rollups(teams: QuerySet[Team], goals: QuerySet[Goal], *, aligned: QuerySet[Goal] | None = None) -> QuerySet[Team]:
    """Annotate each team with its subtree's mean progress and counts per health, in SQL (one
    correlated subquery per value). Pages use :func:`attach_rollups`, which is cheaper for long
    lists; this form lets a caller filter or order by a roll-up (the read API). ``aligned`` as
    in :func:`subtree_rollups`."""
    annotations: dict[str, Any] = {
        "rollup_progress": _subtree_aggregate(goals, "AVG", "progress", models.FloatField(), aligned),
    }
    for h in HEALTH_KEYS:
        annotations[f"rollup_{h}"] = _subtree_aggregate(goals.filter(health=h), "COUNT", "id", models.IntegerField(), aligned)
    return teams.annotate(**annotations)


def rollup_goal_count(team: Team) -> int:
    return sum(int(getattr(team, f"rollup_{h}", 0) or 0) for h in HEALTH_KEYS)


def subtree_rollups(targets: QuerySet[Team], goals: QuerySet[Goal], *, aligned: QuerySet[Goal] | None = None) -> dict[int, dict[str, Any]]:
    """Per target team: goal count, mean progress and counts per health over its whole subtree.

    One SQL query: goals are first aggregated per team (GROUP BY team), then those few rows are
    summed into every target whose materialised path prefixes theirs. ``goals`` is already
    limited to what the user may see (and any filters), so a roll-up never counts a hidden item.
    ``aligned`` (from :func:`dashboard.alignment.selectors.aligned_goals`) adds the goals of
    other connectors aligned under a team of the subtree (issue #18), counted as ``aligned``.
    """
    return tree_rollups(targets, goals, per_connector=False, aligned=aligned)[0]


def _per_team_sql(goals: QuerySet[Goal], team_column: str) -> tuple[str, tuple[Any, ...]]:
    per_team = (
        goals.order_by()
        .values(team_column, "connector_id")
        .annotate(
            n=Count("id"),
            n_progress=Count("progress"),
            sum_progress=Sum("progress"),
            **{f"n_{h}": Count("id", filter=Q(health=h)) for h in HEALTH_KEYS},
        )
    )
    sql, params = per_team.query.sql_with_params()
    return str(sql), tuple(params)


def tree_rollups(
    targets: QuerySet[Team], goals: QuerySet[Goal], *, per_connector: bool = True, aligned: QuerySet[Goal] | None = None
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """:func:`subtree_rollups` and, with ``per_connector``, :func:`connector_rollups` from one
    scan of the goals (one query: both are sums over the same per-team aggregate). Aligned
    goals count in the teams they are aligned under, never in the per-connector totals."""
    per_sql, per_params = _per_team_sql(goals, "team_id")
    target_sql, target_params = targets.order_by().values("id", "path").query.sql_with_params()
    columns = f"n, n_progress, sum_progress, {', '.join(f'n_{h}' for h in HEALTH_KEYS)}"
    # Interpolated: Django-compiled SQL (with placeholders), our column and table names. Every
    # value (filters, credential ids) travels as a parameter.
    ctes = f"WITH g0 AS ({per_sql}), "
    params: tuple[Any, ...] = per_params
    union = f"SELECT team_id, connector_id, {columns}, 0 AS aligned FROM g0"  # noqa: S608
    if aligned is not None:
        aligned_sql, aligned_params = _per_team_sql(aligned, "aligned_team_id")
        ctes += f"ga AS ({aligned_sql}), "
        params += aligned_params
        union += f" UNION ALL SELECT aligned_team_id, connector_id, {columns}, 1 FROM ga"  # noqa: S608
    sums = (
        "COALESCE(SUM(g.aligned * g.n), 0), COALESCE(SUM(g.n_progress), 0), SUM(g.sum_progress), "
        f"{', '.join(f'COALESCE(SUM(g.n_{h}), 0)' for h in HEALTH_KEYS)}"
    )
    sql = (
        f"{ctes}g AS ({union}) "  # noqa: S608
        f"SELECT 0, t.id, {sums} FROM ({target_sql}) t "
        f"JOIN {Team._meta.db_table} d ON d.path LIKE (t.path || '%%') "
        "JOIN g ON g.team_id = d.id GROUP BY t.id"
    )
    params += target_params
    if per_connector:
        sql += f" UNION ALL SELECT 1, g.connector_id, {sums} FROM g WHERE g.aligned = 0 GROUP BY g.connector_id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    teams: dict[int, dict[str, Any]] = {}
    connectors: dict[int, dict[str, Any]] = {}
    for kind, key, n_aligned, n_progress, sum_progress, *health_counts in rows:
        counts = {h: int(c) for h, c in zip(HEALTH_KEYS, health_counts, strict=True)}
        rollup = {
            "goals": sum(counts.values()),
            "progress": (float(sum_progress) / int(n_progress)) if n_progress else None,
            "with_progress": int(n_progress),
            "aligned": int(n_aligned),
            **counts,
        }
        if kind:
            connectors[key] = {"connector_id": key, **rollup}
        else:
            teams[key] = rollup
    return teams, connectors


EMPTY_ROLLUP: dict[str, Any] = {"goals": 0, "progress": None, "with_progress": 0, "aligned": 0, **dict.fromkeys(HEALTH_KEYS, 0)}


def attach_rollups(teams: list[Team], goals: QuerySet[Goal], *, aligned: QuerySet[Goal] | None = None) -> list[Team]:
    """Set ``rollup_goals``, ``rollup_progress`` and ``rollup_<health>`` on each team (1 query)."""
    if teams:
        rollups = subtree_rollups(Team.objects.filter(pk__in=[t.pk for t in teams]), goals, aligned=aligned)
        for team in teams:
            set_rollup(team, rollups.get(team.pk, EMPTY_ROLLUP))
    return teams


def set_rollup(team: Team, rollup: dict[str, Any]) -> None:
    team.rollup_goals = rollup["goals"]  # type: ignore[attr-defined]
    team.rollup_progress = rollup["progress"]  # type: ignore[attr-defined]
    team.rollup_aligned = rollup.get("aligned", 0)  # type: ignore[attr-defined]
    team.rollup_with_progress = rollup.get("with_progress", 0)  # type: ignore[attr-defined]
    for h in HEALTH_KEYS:
        setattr(team, f"rollup_{h}", rollup[h])


def with_matching_goals_only(teams: QuerySet[Team], goals: QuerySet[Goal]) -> QuerySet[Team]:
    """Keep teams whose subtree holds at least one of ``goals`` (used when goals are filtered)."""
    return teams.filter(Exists(goals.filter(team__path__startswith=OuterRef("path"))))


def with_has_children(teams: QuerySet[Team], visible: QuerySet[Team]) -> QuerySet[TreeTeam]:
    return teams.annotate(has_children=Exists(visible.filter(parent_id=OuterRef("pk"))))


def visible_goals_base(user: UserLike) -> QuerySet[Goal]:
    """Visible goals without the per-row flags (for subqueries, aggregates and id queries)."""
    return _visible(Goal, visible_credential_ids(user))


def visible_work_items_base(user: UserLike) -> QuerySet[WorkItem]:
    """Visible work items without the per-row flags (for aggregates and id queries)."""
    return _visible(WorkItem, visible_credential_ids(user))


def team_roots(
    user: UserLike, goals: QuerySet[Goal], *, vendors: list[str] | None = None, only_matching: bool = False
) -> QuerySet[TreeTeam]:
    """Top of each visible tree: teams without a parent, or whose parent this user cannot see."""
    visible = visible_teams(user)
    roots = visible.filter(Q(parent__isnull=True) | ~Q(parent_id__in=visible.values("id")))
    if vendors:
        roots = roots.filter(vendor__in=vendors)
    if only_matching:
        roots = with_matching_goals_only(roots, goals)
    roots = with_has_children(roots, visible)
    return roots.defer(*LIST_DEFER).select_related("connector").order_by("connector__name", "name", "id")


def team_children(user: UserLike, parent_id: int, goals: QuerySet[Goal], *, only_matching: bool = False) -> QuerySet[TreeTeam]:
    visible = visible_teams(user)
    children = visible.filter(parent_id=parent_id)
    if only_matching:
        children = with_matching_goals_only(children, goals)
    children = with_has_children(children, visible)
    return children.defer(*LIST_DEFER).select_related("connector").order_by("name", "id")


def team_ancestors(user: UserLike, team: Team) -> list[Team]:
    """Visible teams on the path from the root down to ``team`` (excluded): the breadcrumb."""
    ids = [int(part) for part in team.path.strip("/").split("/") if part.isdigit() and int(part) != team.pk]
    if not ids:
        return []
    by_id = {t.pk: t for t in visible_teams(user).filter(pk__in=ids).only("id", "name", "path", "vendor")}
    return [by_id[i] for i in ids if i in by_id]


def connector_rollups(goals: QuerySet[Goal]) -> dict[int, dict[str, Any]]:
    """Per connector: goal count, mean progress, counts per health (one query, grouped by
    connector and health: a dozen rows, summed here)."""
    rows = (
        goals.order_by()
        .values("connector_id", "health")
        .annotate(n=Count("id"), n_progress=Count("progress"), sum_progress=Sum("progress"))
    )
    result: dict[int, dict[str, Any]] = {}
    sums: dict[int, list[float]] = {}
    for row in rows:
        connector_id = row["connector_id"]
        rollup = result.setdefault(connector_id, {"connector_id": connector_id, "goals": 0, **dict.fromkeys(HEALTH_KEYS, 0)})
        rollup["goals"] += row["n"]
        if row["health"] in HEALTH_KEYS:
            rollup[row["health"]] += row["n"]
        total = sums.setdefault(connector_id, [0, 0.0])
        total[0] += row["n_progress"]
        total[1] += float(row["sum_progress"] or 0)
    for connector_id, (n_progress, sum_progress) in sums.items():
        result[connector_id]["progress"] = sum_progress / n_progress if n_progress else None
    return result


def attention_q() -> Q:
    """What needs attention: off track, needs attention, stale or overdue (open items only).

    Goals and work items alike: ``stale_at`` is only ever set where the vendor checks in on that
    kind of item, so an OGSM action (no check-ins) is never here for being stale.
    """
    open_items = ~Q(state__in=[State.DONE, State.ARCHIVED])
    reasons = Q(health__in=[Health.OFF_TRACK, Health.NEEDS_ATTENTION]) | overdue_q() | stale_q()
    return open_items & reasons


def goal_attention_q(*, pace_filter: bool = False) -> Q:
    """The goals an attention list (Overview, Review) holds: :func:`attention_q`, whatever the pace.

    Pace is shown beside the vendor's health, never in its place, so by default a goal behind
    pace is listed only if it needs attention anyway. With the Behind pace filter on
    (``pace_filter``), a goal behind pace is listed for that alone: the filter asks about pace,
    and the list then holds what the Overview's "Behind pace" counter counts (closed goals have
    no pace, :mod:`dashboard.okrs.pace`).
    """
    return attention_q() | behind_pace_q() if pace_filter else attention_q()


# Built once: annotate() copies an expression as it resolves it, so one instance serves all.
HEALTH_RANK = Case(
    *[When(health=h, then=Value(i)) for i, h in enumerate([Health.OFF_TRACK, Health.NEEDS_ATTENTION, Health.UNKNOWN, Health.ON_TRACK])],
    default=Value(9),
    output_field=models.IntegerField(),
)
STATE_RANK = Case(
    *[When(state=s, then=Value(i)) for i, s in enumerate([State.ACTIVE, State.NOT_STARTED, State.PAUSED, State.DONE, State.ARCHIVED])],
    default=Value(9),
    output_field=models.IntegerField(),
)


def with_health_rank(qs: QuerySet[M]) -> QuerySet[M]:
    """Worst first: off track, needs attention, no status, on track."""
    # cast: the django-stubs plugin types annotate() on a generic queryset as QuerySet[Model, M].
    return cast("QuerySet[M]", qs.annotate(health_rank=HEALTH_RANK))


def with_state_rank(qs: QuerySet[WorkItem]) -> QuerySet[RankedWorkItem]:
    return qs.annotate(state_rank=STATE_RANK)


# Lists never show the vendor's raw JSON; leaving it in the database keeps big pages light.
LIST_DEFER = ("raw", "fingerprint")


def goals_with_details(user: UserLike, goals: QuerySet[Goal], *, key_results: bool = True) -> QuerySet[Goal]:
    """Goals for a list: team joined and, with ``key_results``, the visible key results
    prefetched (one query for the whole page). Lists that render many rows use the lighter
    :func:`attach_key_results` and :func:`attach_recent_progress` instead."""
    goals = goals.defer(*LIST_DEFER, "description").select_related("team")
    if not key_results:
        return goals
    krs = visible_key_results(user).defer(*LIST_DEFER).order_by("title", "id")
    return goals.prefetch_related(Prefetch("key_results", queryset=krs, to_attr="visible_key_results"))


def goal_check_ins(user: UserLike, goal: Goal, limit: int = 200, *, key_result_ids: list[int] | None = None) -> QuerySet[CheckIn]:
    """Check-ins on the goal and on its key results the user can see, newest first.

    Pass ``key_result_ids`` (the visible key results of the goal) when the caller has them: a
    list lets the database use both foreign-key indexes instead of scanning every check-in."""
    krs: Any = visible_key_results(user).filter(goal=goal).values("id") if key_result_ids is None else key_result_ids
    return (
        CheckIn.objects.filter(Q(goal=goal) | Q(key_result_id__in=krs))
        .defer("raw")
        .select_related("key_result")
        .defer("key_result__raw", "key_result__fingerprint")
        .order_by("-created_at")[:limit]
    )


def work_item_team_names(user: UserLike, items: QuerySet[WorkItem] | list[int]) -> dict[int, list[str]]:
    """Visible team names per work item (a queryset, or ids) for a whole set, in one query."""
    through = WorkItem.teams.through
    # A values("id") queryset is a one-column subquery of ids (the stubs see it as rows of dicts).
    item_ids: QuerySet[WorkItem, Any] | list[int] = items.values("id") if isinstance(items, QuerySet) else items
    rows = (
        through.objects.filter(workitem_id__in=item_ids, team_id__in=visible_teams(user).values("id"))
        .order_by("team__name")
        .values_list("workitem_id", "team__name")
    )
    names: dict[int, list[str]] = {}
    for item_id, name in rows:
        names.setdefault(item_id, []).append(name)
    return names


def freshness(user: UserLike) -> dict[str, Any]:
    """When this user's data was last synced and whether a connection is failing. No query of
    its own: it reads the visible credentials every page loads anyway."""
    rows = _visible_credential_rows(user)
    successes = [row[1] for row in rows if row[1] is not None]
    syncs = [row[2] for row in rows if row[2] is not None]
    return {
        "credentials": len(rows),
        "latest_success": max(successes, default=None),
        "latest_sync": max(syncs, default=None),
        "failing": sum(1 for row in rows if row[3] or row[4] != Credential.Status.ACTIVE),
        "never_synced": sum(1 for row in rows if row[1] is None),
    }


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
