"""Sending the weekly digest (issue #18): which deliveries are due, and one send, at most once.

- :func:`create_due_deliveries` (beat, every 15 minutes): enabled subscriptions whose local weekday
  and hour are now, in their own zone, get this week's :class:`DigestDelivery` row (``week_start``:
  the Monday in the user's zone); the rows still ``pending`` are returned for sending.
- :func:`send_delivery`: claims the row (a conditional UPDATE from ``pending``/``failed`` to
  ``sending``, which one worker only can win), composes, sends through Django's e-mail backend and
  marks the row ``sent``. A refused or unreachable server marks it ``failed`` and raises
  :class:`SendRefused` for the task to retry later.
- :func:`expire_stuck_deliveries`: a row left in ``sending`` (its worker died mid-send) becomes
  ``failed_unknown`` and is never resent automatically: the message may have left.

See docs/digest.md.
"""

from __future__ import annotations

import logging
import smtplib
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from dashboard.core.logging import scrub_text
from dashboard.digest import compose
from dashboard.digest.models import DigestDelivery, DigestSubscription, week_start_in

logger = logging.getLogger(__name__)

Status = DigestDelivery.Status
CLAIMABLE = (Status.PENDING, Status.FAILED)
MAX_ERROR = 1000


class SendRefused(Exception):
    """The SMTP server refused the message or could not be reached; the row is ``failed``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class SendOutcome:
    status: str  # the row's status after this call, or "claimed_elsewhere"
    delivery_id: int


def scrub_error(exc: BaseException) -> str:
    """A short description of ``exc`` without secrets (the SMTP password, tokens)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        text = f"{type(exc).__name__}: {exc.smtp_code} {detail}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = scrub_text(text)
    for secret in (settings.EMAIL_HOST_PASSWORD,):
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[:MAX_ERROR]


# -- which deliveries are due ---------------------------------------------------------------------


def due_subscriptions(now: datetime) -> list[DigestSubscription]:
    """Enabled subscriptions of active users with an address whose weekday and hour, in their own
    zone, are those of ``now``: two queries whatever the number of zones."""
    enabled = DigestSubscription.objects.filter(enabled=True, user__is_active=True).exclude(user__email="")
    zones = list(enabled.values_list("timezone", flat=True).distinct())
    if not zones:
        return []
    conditions = []
    for zone in zones:
        try:
            local = now.astimezone(zoneinfo.ZoneInfo(zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            logger.warning("digest: unknown time zone %r on a subscription; skipped", zone[:60])
            continue
        conditions.append(Q(timezone=zone, weekday=local.weekday(), hour=local.hour))
    if not conditions:
        return []
    return list(enabled.filter(reduce(or_, conditions)).select_related("user"))


def create_due_deliveries(now: datetime | None = None) -> list[int]:
    """This week's delivery row of every due subscription (created once: one row per user and
    week); the ids of those still ``pending``, to be sent. Sent, skipped, failed (being retried)
    and lost rows are left alone."""
    now = now or timezone.now()
    ids = []
    for sub in due_subscriptions(now):
        delivery, _created = DigestDelivery.objects.get_or_create(user=sub.user, week_start=week_start_in(sub.timezone, now))
        if delivery.status == Status.PENDING:
            ids.append(delivery.pk)
    return ids


def expire_stuck_deliveries(now: datetime | None = None) -> int:
    """Rows claimed longer ago than DIGEST_SENDING_TIMEOUT_MINUTES and still ``sending``: their
    worker died between the claim and the final update. Marked ``failed_unknown``, not resent."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.DIGEST_SENDING_TIMEOUT_MINUTES)
    stuck = DigestDelivery.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff)
    count = stuck.update(
        status=Status.FAILED_UNKNOWN,
        last_error=f"Still sending {settings.DIGEST_SENDING_TIMEOUT_MINUTES} minutes after the claim: the worker was lost; "
        "the message may or may not have been sent. Not resent automatically.",
        updated_at=now,
    )
    if count:
        logger.warning("digest: %s deliveries stuck in sending marked failed_unknown", count)
    return count


# -- one send ----------------------------------------------------------------------------------------


def claim(delivery_id: int, message_id: str, now: datetime) -> bool:
    """Move the row from ``pending``/``failed`` to ``sending``, in its own transaction: of two
    workers, one updates one row and the other none. ``message_id`` is used unless the row has
    one from an earlier attempt."""
    with transaction.atomic():
        updated = DigestDelivery.objects.filter(pk=delivery_id, status__in=CLAIMABLE).update(
            status=Status.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            # Known before the send (an admin can look a lost one up in the mail log) and kept across
            # attempts: a copy that did arrive despite an error has the same Message-ID as the retry.
            message_id=Case(When(message_id="", then=Value(message_id)), default=F("message_id")),
            updated_at=now,
        )
    return updated == 1


def _finish(delivery_id: int, status: str, **fields: object) -> None:
    # By id alone: a send that outlived the "sending" timeout still records how it really ended.
    DigestDelivery.objects.filter(pk=delivery_id).update(status=status, updated_at=timezone.now(), **fields)


def build_message(delivery: DigestDelivery, digest: compose.Digest, message_id: str) -> EmailMultiAlternatives:
    subject, text, html = compose.render(digest)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.user.email],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def send_delivery(delivery_id: int) -> SendOutcome:
    """Claim, compose and send one delivery; see the module docstring. Raises :class:`SendRefused`
    after marking the row ``failed`` when the SMTP server refused or was unreachable."""
    message_id = make_msgid(domain=DNS_NAME)
    if not claim(delivery_id, message_id, timezone.now()):
        logger.info("digest delivery %s: not claimable (sent, being sent or final); nothing to do", delivery_id)
        return SendOutcome("claimed_elsewhere", delivery_id)
    delivery = DigestDelivery.objects.select_related("user").get(pk=delivery_id)
    try:
        zone = DigestSubscription.objects.filter(user_id=delivery.user_id).values_list("timezone", flat=True).first()
        digest = compose.compose(delivery.user, zone=zone or str(settings.TIME_ZONE))
        if digest.is_empty:
            _finish(delivery_id, Status.SKIPPED_EMPTY, last_error="", message_id="")
            logger.info("digest delivery %s: nothing to report; skipped", delivery_id)
            return SendOutcome(Status.SKIPPED_EMPTY, delivery_id)
        message = build_message(delivery, digest, delivery.message_id)
    except Exception as exc:  # a bug while composing: nothing left, so "failed", not "unknown"
        _finish(delivery_id, Status.FAILED, last_error=scrub_error(exc))
        raise
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        error = scrub_error(exc)
        _finish(delivery_id, Status.FAILED, last_error=error)
        logger.warning("digest delivery %s: send failed: %s", delivery_id, error)
        raise SendRefused(error) from None
    _finish(delivery_id, Status.SENT, sent_at=timezone.now(), last_error="")
    logger.info("digest delivery %s: sent as %s", delivery_id, delivery.message_id)
    return SendOutcome(Status.SENT, delivery_id)


def retry_delay(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: exponential from DIGEST_RETRY_BASE_DELAY."""
    return int(settings.DIGEST_RETRY_BASE_DELAY * 2 ** min(retries, 10))
