"""Operately's meanings as they land in the dashboard's tables: a real sync (Celery-free service
call) of the 2026-08 sandbox over HTTP, checked against the sandbox's seeded state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from connectors.base import Health, Outcome
from connectors.operately.ids import uuid_to_short
from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.sync import create_runs, run_sync
from dashboard.okrs.models import CheckIn, Goal, KeyResult, WorkItem
from dashboard.okrs.selectors import overdue_q
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def synced(sandbox_factory: Callable[..., Any], profile: str) -> tuple[Any, Connector, SyncRun]:
    sandbox, server = sandbox_factory("operately", seed=1, size="small", profile=profile)
    connector = Connector.objects.create(vendor="operately", name="Operately sandbox", base_url=server.url)
    credential = Credential(connector=connector, owner=UserFactory(username="ada"))
    credential.set_secret(dict(sandbox.credentials[0].secret))
    credential.save()
    (run,) = create_runs([credential], trigger="manual")
    return sandbox, connector, run_sync(run.pk)


def test_a_sync_stores_only_published_check_ins_and_their_times(sandbox_factory: Callable[..., Any]) -> None:
    sandbox, connector, run = synced(sandbox_factory, "2026-08")
    assert run.status == "succeeded", run.error
    st = sandbox.state
    stored = set(CheckIn.objects.filter(connector=connector).values_list("external_id", flat=True))
    published = {uuid_to_short(u.uuid) for u in st.goal_updates.values() if u.state == "published"}
    published |= {uuid_to_short(c.uuid) for c in st.project_check_ins.values() if c.state == "published"}
    unpublished = {uuid_to_short(u.uuid) for u in st.goal_updates.values() if u.state != "published"}
    unpublished |= {uuid_to_short(c.uuid) for c in st.project_check_ins.values() if c.state != "published"}
    assert unpublished and published <= stored and not stored & unpublished
    for goal in st.goals.values():
        mine = [u for u in st.goal_updates.values() if u.goal == goal.uuid and u.state == "published"]
        row = Goal.objects.get(connector=connector, external_id=uuid_to_short(goal.uuid))
        assert row.last_check_in_at == max((u.published_at or u.inserted_at for u in mine), default=None)
    for project in st.projects.values():
        mine = [c for c in st.project_check_ins.values() if c.project == project.uuid and c.state == "published"]
        row = WorkItem.objects.get(connector=connector, kind="project", external_id=uuid_to_short(project.uuid))
        assert row.last_check_in_at == max((c.published_at or c.inserted_at for c in mine), default=None)
        # staleness is computed for projects (they check in), from Operately's own rule
        assert (row.stale_at is not None and row.stale_at <= timezone.now()) == st.project_is_outdated(project), project.name
    assert WorkItem.objects.filter(connector=connector, kind="project", stale_at__lte=timezone.now()).exists()
    # tasks and milestones do not check in: never stale
    assert not WorkItem.objects.filter(connector=connector, kind__in=["task", "milestone"], stale_at__isnull=False).exists()


def test_a_sync_stores_outcomes_health_and_every_task(sandbox_factory: Callable[..., Any]) -> None:
    sandbox, connector, run = synced(sandbox_factory, "2026-08")
    assert run.status == "succeeded", run.error
    st = sandbox.state
    assert set(KeyResult.objects.filter(connector=connector).values_list("health", flat=True)) == {Health.UNKNOWN}
    tasks = {w.external_id: w for w in WorkItem.objects.filter(connector=connector, kind="task")}
    assert set(tasks) == {uuid_to_short(t.uuid) for t in st.tasks.values()}  # statusless and space tasks too
    for task in st.tasks.values():
        row = tasks[uuid_to_short(task.uuid)]
        if task.status and task.status["closed"]:
            expected = Outcome.DROPPED if task.status["value"] == "canceled" else Outcome.ACHIEVED
            assert (row.state, row.outcome) == ("done", expected)
        else:
            assert row.outcome is None
        assert row.raw["closed_at"] == (task.closed_at.strftime("%Y-%m-%dT%H:%M:%SZ") if task.closed_at else None)
    overdue_canceled = [
        t for t in st.tasks.values() if t.status and t.status["value"] == "canceled" and t.due_date and t.due_date < st.now.date()
    ]
    assert overdue_canceled
    overdue = set(WorkItem.objects.filter(connector=connector).filter(overdue_q(st.now.date())).values_list("external_id", flat=True))
    assert not overdue & {uuid_to_short(t.uuid) for t in overdue_canceled}
    assert overdue  # open tasks past their due date still are
    for project in st.projects.values():
        row = WorkItem.objects.get(connector=connector, kind="project", external_id=uuid_to_short(project.uuid))
        assert row.outcome == (project.success_status if project.state == "closed" else None)
    assert WorkItem.objects.filter(connector=connector, kind="project", outcome=Outcome.MISSED).exists()
