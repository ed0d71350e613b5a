"""A run that ended ``partial`` because a stream broke is retried by the scheduler at its next
tick, not after the connector's full interval, and the new run records why it was queued.
Partial runs in a row back off (one tick, two, four...) up to the interval; a run that is
partial only because a scope is missing is not retried early (a retry cannot change that).

The North sandbox over real HTTP; the beat task ``enqueue_due_syncs`` (what beat sends every
tick) called in this process, its queued runs run by ``run_sync`` as a worker would; and once
with a real Celery worker on Redis (PostgreSQL), beat's message sent to it.
"""

# ruff: noqa: F811 - pytest fixtures imported from test_sync_celery are redefined as arguments
from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from connectors.http import RetryPolicy
from dashboard.celery import app as celery_app
from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.services import connectors as connector_service
from dashboard.integrations.sync import run_sync
from dashboard.integrations.sync.enqueue import due_syncs, enqueue_due
from dashboard.integrations.tasks import enqueue_due_syncs
from tests.integrations.test_sync_celery import Worker, broker, wait_for, worker, worker_factory  # noqa: F401 - fixtures
from tests.reliability.helpers import Connected, assert_stored_as_the_sandbox_holds, connect, sync

pytestmark = pytest.mark.django_db

BROKEN_INITIATIVES = "badjson=1,match=/initiatives/"  # a proxy page for every initiatives request
NO_OKRS = "alyssa (no OKRs and initiatives)"


@pytest.fixture
def short_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The production attempts per request, with millisecond waits between them."""
    real = connector_service.connector_options
    policy = RetryPolicy(base_delay=0.005, max_delay=0.02)

    def connector_options(credential: Any, **extra: Any) -> dict[str, Any]:
        return real(credential, **{"retry_policy": policy, **extra})

    monkeypatch.setattr(connector_service, "connector_options", connector_options)


@pytest.fixture
def north(sandbox_factory: Any, short_retry_waits: None) -> Connected:
    sandbox, server = sandbox_factory("north", seed=2, size="small")
    return connect(sandbox, server)


def scheduler_tick(capture: Any) -> list[SyncRun]:
    """What beat does each tick: send ``enqueue_due_syncs``; then run what it queued, as the
    worker receiving the runs' tasks would (the tasks are sent on commit: captured here)."""
    before = set(SyncRun.objects.values_list("pk", flat=True))
    with capture(execute=False):
        enqueue_due_syncs()
    queued = SyncRun.objects.exclude(pk__in=before).order_by("pk")
    return [run_sync(run.pk) for run in queued]


def credential_of(c: Connected) -> Credential:
    return Credential.objects.get(pk=c.credential.pk)


def test_a_partial_run_is_retried_at_the_next_tick_and_says_why(north: Connected, django_capture_on_commit_callbacks: Any) -> None:
    north.sandbox.faults = BROKEN_INITIATIVES
    first = sync(north.credential)
    assert first.status == SyncRun.Status.PARTIAL and "garbled" in first.error, first.error
    interval = timedelta(minutes=north.connector.interval_minutes)
    north.sandbox.faults = ""  # the proxy is fine again

    (retry,) = scheduler_tick(django_capture_on_commit_callbacks)

    assert retry.trigger == SyncRun.Trigger.SCHEDULE and retry.status == SyncRun.Status.SUCCEEDED, retry.error
    assert retry.reason.startswith(f"Retry of partial run {first.pk}") and "work_items" in retry.reason
    assert "next scheduler tick" in retry.reason
    # the run record says why, in the admin's list and in the read API
    north.credential.owner.is_staff = True
    north.credential.owner.save()
    client = Client()
    client.force_login(north.credential.owner)
    listed = {run["id"]: run for run in client.get("/api/v1/sync-runs").json()["results"]}
    assert listed[retry.pk]["reason"] == retry.reason and listed[first.pk]["reason"] == ""
    assert retry.created_at - first.finished_at < interval  # not a full interval later
    assert_stored_as_the_sandbox_holds(north.credential, north.sandbox)
    # converged: the next tick has nothing to do until the interval passes
    assert scheduler_tick(django_capture_on_commit_callbacks) == []
    last = credential_of(north).last_sync_at
    assert [c.pk for c, _ in due_syncs(last + interval)] == [north.credential.pk]


def test_partial_runs_in_a_row_back_off_up_to_the_interval(north: Connected, settings: Any) -> None:
    settings.SYNC_SCHEDULER_EVERY_SECONDS = 60
    Connector.objects.filter(pk=north.connector.pk).update(interval_minutes=5)
    north.sandbox.faults = BROKEN_INITIATIVES  # broken for good: every retry ends partial too
    assert sync(north.credential).status == SyncRun.Status.PARTIAL
    second = timedelta(seconds=1)

    waits = []
    for in_a_row in range(1, 5):
        last = credential_of(north).last_sync_at
        due_at = next(last + timedelta(seconds=s) for s in (0, 60, 120, 240, 300) if due_syncs(last + timedelta(seconds=s)))
        waits.append(int((due_at - last).total_seconds()))
        if due_at > last:
            assert due_syncs(due_at - second) == []  # not a moment earlier
        ((credential, reason),) = due_syncs(due_at)
        assert credential.pk == north.credential.pk and reason.startswith("Retry of partial run")
        if in_a_row > 1:
            assert f"({in_a_row} partial runs in a row)" in reason
        (run,) = enqueue_due(due_at)
        assert run.reason == reason and SyncRun.objects.get(pk=run.pk).reason == reason
        assert run_sync(run.pk).status == SyncRun.Status.PARTIAL

    assert waits == [0, 60, 120, 240]  # the next tick, then 1, 2, 4 ticks
    # five in a row would wait 8 ticks: capped at the 5-minute interval, an ordinary scheduled run
    last = credential_of(north).last_sync_at
    assert due_syncs(last + timedelta(seconds=299)) == []
    ((_, reason),) = due_syncs(last + timedelta(seconds=300))
    assert reason.startswith("Scheduled: the 5-minute interval has passed")


def test_a_partial_run_for_a_missing_scope_waits_for_the_interval(north: Connected, django_capture_on_commit_callbacks: Any) -> None:
    limited = connect(north.sandbox, north.server, username="scoped", credential_index=labels(north).index(NO_OKRS))
    run = sync(limited.credential)
    assert run.status == SyncRun.Status.PARTIAL and "lacks the scope" in run.error, run.error
    Credential.objects.filter(pk=north.credential.pk).update(last_sync_at=timezone.now())  # only the limited one is in question

    assert scheduler_tick(django_capture_on_commit_callbacks) == []

    last = credential_of(limited).last_sync_at
    interval = timedelta(minutes=limited.connector.interval_minutes)
    assert [c.pk for c, _ in due_syncs(last + interval - timedelta(seconds=1)) if c.pk == limited.credential.pk] == []
    due = {c.pk: why for c, why in due_syncs(last + interval)}
    assert due[limited.credential.pk].startswith("Scheduled: the 60-minute interval has passed")


def test_a_stream_the_run_never_reached_is_retried_early(north: Connected, django_capture_on_commit_callbacks: Any) -> None:
    """A 429 storm stops a run before its later streams ("Not read"): retried at the next tick."""
    north.sandbox.faults = "429=1,retry_after=0,match=/key_results/"
    first = sync(north.credential)
    assert first.status == SyncRun.Status.PARTIAL and "Rate limited" in first.error, first.error
    not_read = set(first.stream_results.filter(status="skipped", error__startswith="Not read").values_list("stream", flat=True))
    assert not_read == {"work_items", "check_ins"}  # the streams after key_results, never asked
    north.sandbox.faults = ""

    (retry,) = scheduler_tick(django_capture_on_commit_callbacks)

    assert retry.status == SyncRun.Status.SUCCEEDED and f"Retry of partial run {first.pk}" in retry.reason
    assert "key_results, work_items, check_ins did not read whole" in retry.reason


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)  # the worker process reads what this test wrote
def test_beat_on_a_real_worker_retries_a_partial_run(north: Connected, worker: Worker) -> None:
    north.sandbox.faults = BROKEN_INITIATIVES
    first = sync(north.credential)
    assert first.status == SyncRun.Status.PARTIAL, first.error
    north.sandbox.faults = ""

    celery_app.send_task("dashboard.integrations.tasks.enqueue_due_syncs", queue=worker.queue)  # what beat sends

    deadline = time.monotonic() + 60
    while not SyncRun.objects.filter(trigger=SyncRun.Trigger.SCHEDULE).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    retry = SyncRun.objects.filter(trigger=SyncRun.Trigger.SCHEDULE).first()
    assert retry is not None, worker.log()
    retry = wait_for(retry, worker)
    assert retry.status == SyncRun.Status.SUCCEEDED, retry.error
    assert retry.reason.startswith(f"Retry of partial run {first.pk}") and "work_items" in retry.reason
    assert_stored_as_the_sandbox_holds(north.credential, north.sandbox)


def labels(c: Connected) -> list[str]:
    return [credential.label for credential in c.sandbox.credentials]
