"""Celery tasks of the weekly digest (issue #18). Tasks take ids and call one service each
(:mod:`dashboard.digest.sending`); docs/digest.md describes the never-twice rule.

``send_digest`` keeps the global ``acks_late`` + ``reject_on_worker_lost``: a message redelivered
after a worker died finds its row already ``sending`` and does nothing, so the claim, not the
broker, decides that a digest goes out at most once.
https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_late
"""

from __future__ import annotations

import logging
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction

from dashboard.digest import sending

logger = logging.getLogger(__name__)


@shared_task(name="dashboard.digest.tasks.send_due_digests")  # type: ignore[untyped-decorator]  # celery ships no py.typed: its decorator is Any to mypy
def send_due_digests() -> int:
    """Beat runs this every 15 minutes: lost sends become ``failed_unknown``; every subscription
    due now gets this week's row, and each pending row a ``send_digest`` once this commits."""
    sending.expire_stuck_deliveries()
    with transaction.atomic():
        ids = sending.create_due_deliveries()
        for delivery_id in ids:
            transaction.on_commit(partial(_dispatch, delivery_id))
    return len(ids)


def _dispatch(delivery_id: int) -> None:
    send_digest.delay(delivery_id)


@shared_task(  # type: ignore[untyped-decorator]  # celery ships no py.typed: its decorator is Any to mypy
    bind=True,
    name="dashboard.digest.tasks.send_digest",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=max(1, settings.DIGEST_SEND_TIME_LIMIT - 30),
    time_limit=settings.DIGEST_SEND_TIME_LIMIT,
)
def send_digest(self, delivery_id: int) -> str:  # type: ignore[no-untyped-def]
    """Send one delivery; a refused or unreachable SMTP server comes back as a Celery retry with
    exponential backoff, up to DIGEST_MAX_RETRIES (the row stays ``failed`` after the last)."""
    retries = self.request.retries
    try:
        return sending.send_delivery(delivery_id).status
    except sending.SendRefused:
        if retries >= settings.DIGEST_MAX_RETRIES:
            logger.error("digest delivery %s: giving up after %s attempts", delivery_id, retries + 1)
            return str(sending.Status.FAILED)
        countdown = sending.retry_delay(retries)
        logger.info("digest delivery %s: retry %s in %ss", delivery_id, retries + 1, countdown)
        raise self.retry(countdown=countdown, max_retries=settings.DIGEST_MAX_RETRIES) from None
