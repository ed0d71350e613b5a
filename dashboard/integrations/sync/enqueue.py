"""Enqueueing syncs: one SyncRun per credential, skipped with the reason or queued on commit.

``enqueue_sync`` is the one entry point for "sync now" (page, CLI, API) and the scheduler.

The task is sent by its name (``SYNC_TASK``), so this module never imports
``dashboard.integrations.tasks``: the tasks import the engine, never the other way round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, cast

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from dashboard.core.logging import scrub_text
from dashboard.integrations.models import Credential, StreamResult, SyncRun

logger = logging.getLogger(__name__)

USER_TRIGGERS = frozenset({SyncRun.Trigger.MANUAL, SyncRun.Trigger.CLI, SyncRun.Trigger.API})
ACTIVE = (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING)


def blocked_reason(credential: Credential, trigger: str) -> str | None:
    """Why ``credential`` may not sync now, or None. Shown to the owner on the skipped run."""
    if not credential.connector.enabled:
        return f"The connector {credential.connector.name} is disabled by an admin."
    if credential.status == Credential.Status.NEEDS_REENTRY:
        why = credential.status_reason or "the vendor refused it"
        return f"The credential needs re-entry ({why}); enter the secret again to resume syncing."
    if credential.status == Credential.Status.PAUSED:
        reentered = bool(
            credential.secret_set_at and credential.status_changed_at and credential.secret_set_at > credential.status_changed_at
        )
        if trigger in USER_TRIGGERS and reentered:
            return None
        why = credential.status_reason or "repeated failures"
        return f"Syncing is paused ({why}); re-enter the secret and press sync now, or ask an admin to resume it."
    if not credential.secret_encrypted:
        return "No secret is stored for this credential."
    return None


def _skipped_run(credential: Credential, trigger: str, requested_by: Any, reason: str) -> SyncRun:
    now = timezone.now()
    return SyncRun.objects.create(
        credential=credential,
        trigger=trigger,
        requested_by=requested_by,
        status=SyncRun.Status.SKIPPED,
        started_at=now,
        finished_at=now,
        duration_seconds=0.0,
        error=reason,
    )


def create_runs(credentials: Iterable[Credential], *, trigger: str, requested_by: Any = None, adopt_active: bool = False) -> list[SyncRun]:
    """One SyncRun per credential: queued, or skipped with the reason (already active, paused...).

    ``adopt_active``: a credential's queued or running run is returned instead of a skipped one
    (``manage.py sync --wait`` takes it over or waits for it).
    """
    if trigger not in SyncRun.Trigger.values:
        raise ValueError(f"Unknown sync trigger {trigger!r}; use one of {', '.join(SyncRun.Trigger.values)}")
    runs: list[SyncRun] = []
    for credential in credentials:
        with transaction.atomic():
            # The row lock serialises concurrent requests for one credential (e.g. a double click).
            locked = Credential.objects.select_for_update().select_related("connector").get(pk=credential.pk)
            reason = blocked_reason(locked, trigger)
            active = SyncRun.objects.filter(credential=locked, status__in=ACTIVE).order_by("-created_at").first()
            if active is not None and adopt_active:
                runs.append(active)
                continue
            if active is not None:
                reason = f"A sync of this credential is already {active.status} (run {active.pk}); not queued twice."
            if reason:
                runs.append(_skipped_run(locked, trigger, requested_by, reason))
            else:
                runs.append(SyncRun.objects.create(credential=locked, trigger=trigger, requested_by=requested_by))
    return runs


# The name is a contract with queued messages: ``dashboard.integrations.tasks.sync_credential``
# registers the task under it.
SYNC_TASK = "dashboard.integrations.tasks.sync_credential"


def send_run(run_id: int) -> Any:
    """Send the task for ``run_id`` by name; a registered task (worker, eager mode) is applied
    itself, else the message goes to the broker.
    https://docs.celeryq.dev/en/stable/userguide/canvas.html#signatures"""
    return current_app.signature(SYNC_TASK, args=(run_id,)).apply_async()


def _dispatch(run_id: int) -> None:
    try:
        result = send_run(run_id)
    except Exception as exc:  # the broker is down: say so on the run instead of leaving it queued
        logger.exception("could not enqueue sync run %s", run_id)
        message = scrub_text(f"Could not reach the task queue: {type(exc).__name__}: {exc}")
        SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).update(
            status=SyncRun.Status.FAILED, error=message, finished_at=timezone.now()
        )
        return
    if result is not None and getattr(result, "id", None):
        SyncRun.objects.filter(pk=run_id).update(task_id=str(result.id)[:64])


def enqueue_sync(credentials: Iterable[Credential], *, trigger: str, requested_by: Any = None) -> list[SyncRun]:
    """Record a run per credential and send its task (``send_run``) on commit."""
    runs = create_runs(credentials, trigger=trigger, requested_by=requested_by)
    for run in runs:
        if run.status == SyncRun.Status.QUEUED:
            transaction.on_commit(cast("Callable[[], None]", lambda run_id=run.pk: _dispatch(run_id)))  # binds this run's id
    return runs


def due_credentials(now: Any = None) -> list[Credential]:
    """Enabled, active credentials whose connector interval has passed and that are not busy,
    and those whose latest run ended partial and may read whole on a retry (``due_syncs``)."""
    return [credential for credential, _reason in due_syncs(now)]


# A partial run is retried early when a stream of it broke (failed, or not read because the run
# stopped early: a rate limit); not when streams were only skipped for a missing scope or held
# back a mass removal: a retry changes neither, so those wait for the interval like any run.
_NOT_READ = "Not read:"  # how sync._finish marks the streams a run stopped before
_PARTIAL_HISTORY = 12  # runs looked at to count partial runs in a row (2**10 ticks > any interval)


def _broke(result: StreamResult) -> bool:
    if result.status == "failed":
        return not result.held_back
    return result.status == "skipped" and result.error.startswith(_NOT_READ)


def partial_retry_wait(partial_in_a_row: int, interval: timedelta) -> timedelta:
    """How long after a partial run the scheduler retries it: at the next tick after the first,
    then one tick, two, four... (``SYNC_SCHEDULER_EVERY_SECONDS``), never beyond ``interval``."""
    if partial_in_a_row <= 1:
        return timedelta(0)
    return min(interval, timedelta(seconds=settings.SYNC_SCHEDULER_EVERY_SECONDS * 2 ** min(partial_in_a_row - 2, 20)))


def _partial_retry(credential: Credential, interval: timedelta) -> tuple[timedelta, str] | None:
    """``(wait, reason)`` when the credential's latest runs ended partial with a broken stream."""
    runs = (
        SyncRun.objects.filter(credential=credential, status__in=(SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL, SyncRun.Status.FAILED))
        .order_by("-created_at", "-pk")
        .prefetch_related("stream_results")[:_PARTIAL_HISTORY]
    )
    in_a_row: list[tuple[SyncRun, list[str]]] = []
    for run in runs:
        broken = [result.stream for result in run.stream_results.all() if _broke(result)]
        if run.status != SyncRun.Status.PARTIAL or not broken:
            break
        in_a_row.append((run, broken))
    if not in_a_row:
        return None
    latest, broken = in_a_row[0]
    wait = partial_retry_wait(len(in_a_row), interval)
    when = "at the next scheduler tick" if not wait else f"{int(wait.total_seconds())}s after it ({len(in_a_row)} partial runs in a row)"
    minutes = int(interval.total_seconds() // 60)
    reason = f"Retry of partial run {latest.pk} ({', '.join(broken)} did not read whole): {when}, not after the {minutes}-minute interval."
    return wait, reason[:300]


def due_syncs(now: Any = None) -> list[tuple[Credential, str]]:
    """``(credential, why it is due)`` for every credential the scheduler should sync now."""
    now = now or timezone.now()
    finished = SyncRun.objects.filter(
        credential=OuterRef("pk"), status__in=(SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL, SyncRun.Status.FAILED)
    )
    candidates = (
        Credential.objects.select_related("connector")
        .filter(connector__enabled=True, status=Credential.Status.ACTIVE)
        .exclude(secret_encrypted="")
        .exclude(runs__status__in=ACTIVE)
        .annotate(latest_status=Subquery(finished.order_by("-created_at", "-pk").values("status")[:1]))
        .order_by("pk")
    )
    due: list[tuple[Credential, str]] = []
    for credential in candidates:
        last = credential.last_sync_at
        interval = timedelta(minutes=credential.connector.interval_minutes)
        if last is None:
            due.append((credential, "First sync of this credential."))
        elif last + interval <= now:
            due.append((credential, f"Scheduled: the {credential.connector.interval_minutes}-minute interval has passed."))
        elif credential.latest_status == SyncRun.Status.PARTIAL:
            retry = _partial_retry(credential, interval)
            # No wait: due at this tick, without comparing clocks (the scheduler's host may run a
            # moment behind the worker's that stamped ``last_sync_at``).
            if retry is not None and (not retry[0] or last + retry[0] <= now):
                due.append((credential, retry[1]))
    return due


def enqueue_due(now: Any = None) -> list[SyncRun]:
    """What the scheduler does each tick: a scheduled run for every due credential, each run
    recording why it was queued. The reasons are written in the same transaction as the runs, so
    a worker (sent the run on commit) never sees a run without its reason."""
    due = due_syncs(now)
    reasons = {credential.pk: reason for credential, reason in due}
    with transaction.atomic():
        runs = enqueue_sync([credential for credential, _ in due], trigger=SyncRun.Trigger.SCHEDULE)
        for run in runs:
            run.reason = reasons.get(run.credential_id, "")
            SyncRun.objects.filter(pk=run.pk).update(reason=run.reason)
    return runs


def expire_stuck_runs(now: Any = None) -> int:
    """Fail runs whose message can no longer arrive (lost broker data), so they stop blocking.

    The threshold is above the broker's redelivery window: a run waiting for redelivery after a
    worker crash is never expired.
    """
    now = now or timezone.now()
    visibility = int(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("visibility_timeout", 3600))
    threshold = now - timedelta(seconds=max(settings.SYNC_LOCK_TTL, visibility) + settings.SYNC_HEARTBEAT_TIMEOUT)
    stuck = (
        SyncRun.objects.filter(status__in=ACTIVE).annotate(last_seen=Coalesce("heartbeat_at", "created_at")).filter(last_seen__lt=threshold)
    )
    return stuck.update(status=SyncRun.Status.FAILED, finished_at=now, error="The run was never completed: its task was lost.")
