"""Pace: how far along a goal or key result would be by today if it moved linearly from its
start date to its due date, and how many points of progress it is behind that.

This is OKR Hub's own reading, shown beside the vendor's health and never replacing it. The rule
and its limits are in ``docs/pace.md``:

- only items with a start date, a due date after it, and a progress value have a pace;
- items that are done or archived have none (their outcome says how they ended);
- before the start the expected progress is 0, after the due date it is 100;
- an item is *behind pace* when it is at least :data:`BEHIND_PACE_POINTS` points behind.

The Python functions (for rows already loaded) and the SQL expressions (for filters) compute the
same thing; tests check that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.db import models
from django.db.models import Case, ExpressionWrapper, F, Func, Q, QuerySet, Value, When
from django.utils import timezone

from connectors.base import State

BEHIND_PACE_POINTS = 10
"""How many points below the expected progress count as "behind pace" (smaller gaps are noise:
most teams check in weekly, and one week of a quarter is about 8 points)."""

_CLOSED = (State.DONE.value, State.ARCHIVED.value)
QS = TypeVar("QS", bound="QuerySet[Any]")


@dataclass(frozen=True)
class Pace:
    expected: float
    """Expected progress by today, 0..100."""
    gap: float
    """Points behind the expected progress (negative: ahead of it)."""

    @property
    def behind_by(self) -> int:
        """Whole points behind (0 when on or ahead of pace)."""
        return max(0, int(self.gap))

    @property
    def is_behind(self) -> bool:
        return self.gap >= BEHIND_PACE_POINTS


def expected_progress(start: date | None, due: date | None, today: date) -> float | None:
    """Linear expected progress (0..100) by ``today``, or None without a usable timeframe."""
    if start is None or due is None or due <= start:
        return None
    if today <= start:
        return 0.0
    if today >= due:
        return 100.0
    return 100.0 * (today - start).days / (due - start).days


def pace_of(item: Any, today: date | None = None) -> Pace | None:
    """The pace of a goal, key result or work item row (anything with ``progress``,
    ``start_date``, ``due_date`` and ``state``), or None where pace does not apply."""
    if getattr(item, "state", None) in _CLOSED or getattr(item, "progress", None) is None:
        return None
    expected = expected_progress(item.start_date, item.due_date, today or timezone.localdate())
    if expected is None:
        return None
    return Pace(expected=expected, gap=expected - float(item.progress))


def _julian(expression: Any) -> Func:
    return Func(expression, function="julianday", output_field=models.FloatField())


def _days(start: Any, end: Any) -> Any:
    """``end - start`` in days, for either backend (chosen at SQL compile time)."""
    return _DaysExpression(start, end)


class _DaysExpression(Func):
    """Days from the first date expression to the second, as a float, on PostgreSQL and SQLite
    (the two databases OKR Hub runs on)."""

    arity = 2
    output_field = models.FloatField()

    def as_sql(
        self, compiler: Any, connection: Any, function: Any = None, template: Any = None, arg_joiner: Any = None, **extra: Any
    ) -> Any:
        raise NotImplementedError(f"pace needs PostgreSQL or SQLite, not {connection.vendor}")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        start, end = self.source_expressions
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        return f"CAST(({end_sql})::date - ({start_sql})::date AS DOUBLE PRECISION)", (*end_params, *start_params)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        start, end = self.source_expressions
        end_sql, end_params = compiler.compile(_julian(end))
        start_sql, start_params = compiler.compile(_julian(start))
        return f"({end_sql} - {start_sql})", (*end_params, *start_params)


def expected_progress_expression(today: date) -> Case:
    """SQL for :func:`expected_progress` (NULL where it does not apply)."""
    today_value = Value(today, output_field=models.DateField())
    return Case(
        When(Q(start_date__isnull=True) | Q(due_date__isnull=True) | Q(due_date__lte=F("start_date")), then=Value(None)),
        When(start_date__gte=today_value, then=Value(0.0)),
        When(due_date__lte=today_value, then=Value(100.0)),
        default=ExpressionWrapper(
            Value(100.0) * _days(F("start_date"), today_value) / _days(F("start_date"), F("due_date")),
            output_field=models.FloatField(),
        ),
        output_field=models.FloatField(),
    )


def pace_gap_expression(today: date) -> Case:
    """SQL for :attr:`Pace.gap` (NULL where pace does not apply)."""
    return Case(
        When(Q(state__in=_CLOSED) | Q(progress__isnull=True), then=Value(None)),
        default=ExpressionWrapper(expected_progress_expression(today) - F("progress"), output_field=models.FloatField()),
        output_field=models.FloatField(),
    )


def with_pace_gap(qs: QS, today: date | None = None) -> QS:
    """Annotate ``pace_gap`` (points behind expected progress; NULL where pace does not apply)."""
    return qs.annotate(pace_gap=pace_gap_expression(today or timezone.localdate()))


def behind_pace(qs: QS, today: date | None = None) -> QS:
    """Only the rows that are at least :data:`BEHIND_PACE_POINTS` behind pace."""
    gap = pace_gap_expression(today or timezone.localdate())
    return qs.alias(_pace_gap=gap).filter(_pace_gap__gte=BEHIND_PACE_POINTS)
