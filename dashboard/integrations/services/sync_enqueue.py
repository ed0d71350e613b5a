"""Enqueueing syncs: one SyncRun per credential, skipped with the reason or queued on commit.

``enqueue_sync`` is the one entry point for "sync now" (page, CLI, API) and the scheduler; it is
re-exported by ``dashboard.integrations.services.sync``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from dashboard.core.logging import scrub_text
from dashboard.integrations.models import Credential, SyncRun

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


def create_runs(credentials: Iterable[Credential], *, trigger: str, requested_by: Any = None) -> list[SyncRun]:
    """One SyncRun per credential: queued, or skipped with the reason (already active, paused...)."""
    if trigger not in SyncRun.Trigger.values:
        raise ValueError(f"Unknown sync trigger {trigger!r}; use one of {', '.join(SyncRun.Trigger.values)}")
    runs: list[SyncRun] = []
    for credential in credentials:
        with transaction.atomic():
            # The row lock serialises concurrent requests for one credential (e.g. a double click).
            locked = Credential.objects.select_for_update().select_related("connector").get(pk=credential.pk)
            reason = blocked_reason(locked, trigger)
            active = SyncRun.objects.filter(credential=locked, status__in=ACTIVE).order_by("-created_at").first()
            if active is not None:
                reason = f"A sync of this credential is already {active.status} (run {active.pk}); not queued twice."
            if reason:
                runs.append(_skipped_run(locked, trigger, requested_by, reason))
            else:
                runs.append(SyncRun.objects.create(credential=locked, trigger=trigger, requested_by=requested_by))
    return runs


def _dispatch(run_id: int) -> None:
    from dashboard.integrations.tasks import sync_credential

    try:
        result = sync_credential.delay(run_id)
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
    """Record a run per credential and enqueue ``sync_credential.delay(run_id)`` on commit."""
    runs = create_runs(credentials, trigger=trigger, requested_by=requested_by)
    for run in runs:
        if run.status == SyncRun.Status.QUEUED:
            transaction.on_commit(lambda run_id=run.pk: _dispatch(run_id))
    return runs


def due_credentials(now: Any = None) -> list[Credential]:
    """Enabled, active credentials whose connector interval has passed and that are not busy."""
    now = now or timezone.now()
    candidates = (
        Credential.objects.select_related("connector")
        .filter(connector__enabled=True, status=Credential.Status.ACTIVE)
        .exclude(secret_encrypted="")
        .exclude(runs__status__in=ACTIVE)
        .order_by("pk")
    )
    due = []
    for credential in candidates:
        last = credential.last_sync_at
        if last is None or last + timedelta(minutes=credential.connector.interval_minutes) <= now:
            due.append(credential)
    return due


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
