"""Pace (dashboard/okrs/pace.py): the rule, its limits, and SQL that agrees with Python."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.okrs.models import Goal, KeyResult
from dashboard.okrs.pace import BEHIND_PACE_POINTS, behind_pace, expected_progress, pace_of, with_pace_gap
from tests.factories import ConnectorFactory, GoalFactory, KeyResultFactory


def test_expected_progress_is_linear_between_start_and_due():
    today = timezone.localdate()
    start, due = today - timedelta(days=30), today + timedelta(days=60)
    assert expected_progress(start, due, today) == pytest.approx(100 * 30 / 90)
    assert expected_progress(start, due, start) == 0.0
    assert expected_progress(start, due, start - timedelta(days=5)) == 0.0
    assert expected_progress(start, due, due) == 100.0
    assert expected_progress(start, due, due + timedelta(days=5)) == 100.0


@pytest.mark.parametrize(
    ("start_offset", "due_offset"),
    [(None, 10), (-10, None), (None, None), (5, 5), (5, -5)],
    ids=["no-start", "no-due", "no-timeframe", "zero-length", "due-before-start"],
)
def test_no_expected_progress_without_a_usable_timeframe(start_offset, due_offset):
    today = timezone.localdate()
    start = None if start_offset is None else today + timedelta(days=start_offset)
    due = None if due_offset is None else today + timedelta(days=due_offset)
    assert expected_progress(start, due, today) is None


def test_pace_of_an_item_says_how_far_behind_it_is():
    today = timezone.localdate()
    goal = Goal(progress=20.0, state="active", start_date=today - timedelta(days=50), due_date=today + timedelta(days=50))
    pace = pace_of(goal, today)
    assert pace is not None
    assert pace.expected == pytest.approx(50.0)
    assert pace.behind_by == 30
    assert pace.is_behind

    ahead = Goal(progress=80.0, state="active", start_date=goal.start_date, due_date=goal.due_date)
    ahead_pace = pace_of(ahead, today)
    assert ahead_pace is not None and ahead_pace.behind_by == 0 and not ahead_pace.is_behind

    just_under = Goal(progress=50.0 - BEHIND_PACE_POINTS + 1, state="active", start_date=goal.start_date, due_date=goal.due_date)
    assert pace_of(just_under, today).is_behind is False  # type: ignore[union-attr]


@pytest.mark.parametrize("state", ["done", "archived"])
def test_closed_items_have_no_pace(state):
    today = timezone.localdate()
    goal = Goal(progress=0.0, state=state, start_date=today - timedelta(days=50), due_date=today - timedelta(days=1))
    assert pace_of(goal, today) is None


def test_items_without_progress_have_no_pace():
    today = timezone.localdate()
    goal = Goal(progress=None, state="active", start_date=today - timedelta(days=50), due_date=today + timedelta(days=1))
    assert pace_of(goal, today) is None


@pytest.mark.django_db
def test_sql_gap_and_filter_agree_with_python_for_goals_and_key_results():
    today = timezone.localdate()
    connector = ConnectorFactory()
    cases = []
    for start_offset in (None, -90, -30, 0, 10):
        for due_offset in (None, -10, 0, 30, 90):
            for progress in (None, 0.0, 15.0, 40.0, 100.0):
                for state in ("active", "not_started", "done"):
                    cases.append((start_offset, due_offset, progress, state))
    for i, (start_offset, due_offset, progress, state) in enumerate(cases):
        values = {
            "connector": connector,
            "external_id": f"p{i}",
            "progress": progress,
            "state": state,
            "start_date": None if start_offset is None else today + timedelta(days=start_offset),
            "due_date": None if due_offset is None else today + timedelta(days=due_offset),
        }
        GoalFactory(**values)
        KeyResultFactory(goal=None, **values)

    for model in (Goal, KeyResult):
        rows = list(with_pace_gap(model.objects.all(), today))
        assert len(rows) == len(cases)
        for row in rows:
            pace = pace_of(row, today)
            if pace is None:
                assert row.pace_gap is None, (row.start_date, row.due_date, row.progress, row.state)
            else:
                assert row.pace_gap == pytest.approx(pace.gap), (row.start_date, row.due_date, row.progress, row.state)
        expected_ids = {row.pk for row in rows if (p := pace_of(row, today)) is not None and p.is_behind}
        assert expected_ids, "the grid includes items behind pace"
        assert set(behind_pace(model.objects.all(), today).values_list("pk", flat=True)) == expected_ids
