"""Reading the rows of the dashboard lists: few queries, narrow rows (issue #8, "Speed").

A list is read in two steps: the ids of the wanted rows, sorted and cut by the database on bare
rows (:func:`first_ids`, :func:`page_ids`, :func:`board_column_ids`), then only those rows
with the columns a row shows (:func:`goal_rows`, :func:`work_item_rows`). What a row adds
(key results, sparkline values, team names) comes in one query of bare values per list
(``attach_*``), never as a model instance per row. Visibility is applied by the queries of
:mod:`dashboard.okrs.selectors` that pick the ids.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any, TypeVar

from django.db import models
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from dashboard.okrs.models import Goal, KeyResult, ProgressSnapshot, WorkItem
from dashboard.okrs.selectors import UserLike, visible_key_results, with_goal_flags, with_work_item_flags, work_item_team_names

M = TypeVar("M", bound=models.Model)


def first_ids(qs: QuerySet[Any], limit: int) -> list[int]:
    """The ids of ``qs[:limit]``, sorted and cut on the bare rows (no joins, no wide columns)."""
    return list(qs.prefetch_related(None).select_related(None).values_list("pk", flat=True)[:limit])


def page_ids(qs: QuerySet[Any], limit: int, offset: int) -> tuple[list[int], int | None]:
    """The ids of ``qs[offset:offset + limit]`` and the size of the whole ``qs``, in one query
    (a window count over the same scan the sort needs anyway). ``None`` for the size when the
    slice is past the end (the count is then unknown)."""
    rows = list(
        qs.prefetch_related(None)
        .select_related(None)
        .annotate(_total=Window(Count("pk")))
        .values_list("pk", "_total")[offset : offset + limit]
    )
    if not rows:
        return [], (0 if offset == 0 else None)
    return [pk for pk, _ in rows], int(rows[0][1])


def in_order(qs: QuerySet[M], ids: list[int]) -> list[M]:
    """The rows of ``qs`` with these ids (joins and prefetches of ``qs`` included), in ``ids`` order."""
    if not ids:
        return []
    by_id = {obj.pk: obj for obj in qs.filter(pk__in=ids).order_by()}
    return [by_id[pk] for pk in ids if pk in by_id]


# Row readers: what a list row shows, for ids that a filtered, visible query chose. They carry
# no visibility filter of their own: never pass them ids from anywhere else. Only the columns a
# row shows are loaded (a model instance with 30 fields, several of them JSON, costs far more to
# build than its row costs to render); reading another field on such a row costs a query per
# row: add it here instead.
ROW_FIELDS = ("id", "vendor", "title", "owners", "health", "vendor_status", "state", "progress", "due_date", "url")
GOAL_ROW_FIELDS = (*ROW_FIELDS, "outcome", "start_date", "last_check_in_at", "stale_at", "team__id", "team__name", "team__vendor")
WORK_ITEM_ROW_FIELDS = (*ROW_FIELDS, "kind", "outcome", "start_date", "last_check_in_at", "stale_at")


def goal_rows() -> QuerySet[Goal]:
    return with_goal_flags(Goal.objects.select_related("team").only(*GOAL_ROW_FIELDS))


def work_item_rows() -> QuerySet[WorkItem]:
    return with_work_item_flags(WorkItem.objects.only(*WORK_ITEM_ROW_FIELDS))


def key_result_search_rows() -> QuerySet[KeyResult]:
    shown = ("id", "vendor", "health", "title", "owners", "progress", "goal__id", "goal__title", "goal__health")
    return KeyResult.objects.select_related("goal").only(*shown)


# What a key-result row of the goals list shows (a page carries ~75 of them).
KEY_RESULT_ROW_FIELDS = (
    "id", "goal_id", "vendor", "title", "owners", "health", "vendor_status", "state", "progress", "current", "target", "unit", "start_date",
    "due_date",
)  # fmt: skip


class KeyResultRow(SimpleNamespace):
    """A key result as a list row reads it: its fields, without a model instance per row."""


def attach_key_results(user: UserLike, goals: list[Goal]) -> list[Goal]:
    """Set ``visible_key_results`` (by title) on each goal: one query of bare values."""
    if not goals:
        return goals
    by_goal: dict[int, list[KeyResultRow]] = {g.pk: [] for g in goals}
    rows = visible_key_results(user).filter(goal_id__in=list(by_goal)).order_by("title", "id").values_list(*KEY_RESULT_ROW_FIELDS)
    for values in rows:
        row = KeyResultRow(**dict(zip(KEY_RESULT_ROW_FIELDS, values, strict=True)))
        row.pk = row.id
        by_goal[row.goal_id].append(row)
    for goal in goals:
        goal.visible_key_results = by_goal[goal.pk]  # type: ignore[attr-defined]
    return goals


def attach_recent_progress(goals: list[Goal], weeks: int = 12) -> list[Goal]:
    """Set ``recent_progress`` on each goal: the progress of its snapshots of the last ``weeks``,
    oldest first (for the sparkline). One query of bare values, no model instances."""
    if not goals:
        return goals
    since = timezone.now() - timedelta(weeks=weeks)
    by_goal: dict[int, list[float | None]] = {g.pk: [] for g in goals}
    rows = (
        ProgressSnapshot.objects.filter(goal_id__in=list(by_goal), taken_at__gte=since)
        .order_by("goal_id", "taken_at", "id")
        .values_list("goal_id", "progress")
    )
    for goal_id, progress in rows:
        by_goal[goal_id].append(progress)
    for goal in goals:
        goal.recent_progress = by_goal[goal.pk]  # type: ignore[attr-defined]
    return goals


def attach_team_names(user: UserLike, items: list[WorkItem]) -> list[WorkItem]:
    """Set ``visible_team_names`` (sorted) on each item: one query of bare values."""
    if items:
        names = work_item_team_names(user, [w.pk for w in items])
        for item in items:
            item.visible_team_names = names.get(item.pk, [])  # type: ignore[attr-defined]
    return items


def board_column_ids(items: QuerySet[WorkItem], per_column: int) -> list[int]:
    """Ids of at most ``per_column`` items per state, most urgent first, in one query (a window
    over narrow rows); ordered by state, then urgency."""
    urgent_first = [F("due_date").asc(nulls_last=True), F("title").asc(), F("id").asc()]
    ranked = items.order_by().annotate(column_rank=Window(RowNumber(), partition_by=[F("state")], order_by=urgent_first))
    return list(ranked.filter(column_rank__lte=per_column).order_by("state", "column_rank").values_list("pk", flat=True))


def board_columns(items: QuerySet[WorkItem], per_column: int) -> list[WorkItem]:
    """At most ``per_column`` items per state, most urgent first (two queries: ids, then rows)."""
    return in_order(items, board_column_ids(items, per_column))
