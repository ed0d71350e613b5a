"""Celery tasks of the integrations app. Tasks take ids and call one service each.

``acks_late`` + ``reject_on_worker_lost`` (also set globally in settings): a worker killed in
the middle of a sync leaves its message unacknowledged, the broker redelivers it, and
``run_sync`` resumes the same run idempotently.
https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_late
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from dashboard.integrations.sync import SyncRetry, run_sync
from dashboard.integrations.sync.enqueue import SYNC_TASK, enqueue_due, expire_stuck_runs

logger = logging.getLogger(__name__)


@shared_task(bind=True, name=SYNC_TASK, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]  # celery ships no py.typed: its decorator is Any to mypy
def sync_credential(self, run_id: int) -> str:  # type: ignore[no-untyped-def]
    """Run the sync ``run_id``; 429 and transient failures come back as Celery retries."""
    retries = self.request.retries
    try:
        run = run_sync(run_id, allow_retry=retries < settings.SYNC_MAX_RETRIES, retries=retries)
    except SyncRetry as retry:
        logger.info("sync run %s: retry %s in %.1fs", run_id, retries + 1, retry.countdown)
        raise self.retry(countdown=retry.countdown, max_retries=settings.SYNC_MAX_RETRIES) from None
    return str(run.status)


@shared_task(name="dashboard.integrations.tasks.enqueue_due_syncs")  # type: ignore[untyped-decorator]  # celery ships no py.typed: its decorator is Any to mypy
def enqueue_due_syncs() -> int:
    """Beat runs this every minute: enqueue a sync for every credential that is due (its interval
    passed, or its latest run ended partial: retried early), each run saying why."""
    expire_stuck_runs()
    runs = enqueue_due()
    return sum(1 for run in runs if run.status == "queued")
