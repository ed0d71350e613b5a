"""Sending the weekly digest (issue #18): a real SMTP server on loopback (aiosmtpd) receives the
messages and the tests read what arrived. Tasks run in-process here (Celery's eager mode), so
each case is quick; tests/digest/test_worker.py runs the same path through a real worker.
Times are moved relative to the pinned "now" (shifted in CI), never to a date.
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from dashboard.celery import app as celery_app
from dashboard.digest import sending, tasks
from dashboard.digest.models import DigestDelivery, DigestSubscription, week_start_in
from tests.factories import AdminFactory, CredentialFactory, GoalFactory, UserFactory, see

pytestmark = pytest.mark.django_db
SITE = "https://okr.example.com"
FROM = "OKR Hub <digest@okr.example.com>"
Status = DigestDelivery.Status


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it accepts, and refuses the next ``refuse_next``
    messages with ``refusal`` (451: a temporary failure)."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse_next: int = 0
    refusal: str = "451 4.3.0 try later"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls its hooks by these names
        if self.refuse_next > 0:
            self.refuse_next -= 1
            return self.refusal
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 2.0.0 accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(settings) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = FROM
    settings.SITE_URL = SITE
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def eager() -> Iterator[None]:
    """``send_digest.delay`` runs in-process, retries included (their countdown is not waited).
    Not ``task_eager_propagates``: that would raise the first Retry instead of running it; the
    tests read the rows and the inbox instead."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = before


def five_past(moment: datetime) -> datetime:
    """``moment``'s hour at :05 (room for the ticking clock within the hour, and for +15, +30 min)."""
    return moment.replace(minute=5, second=0, microsecond=0)


@pytest.fixture
def ann(db) -> Any:
    """Ann sees an off-track goal (so her digest is not empty); Otto's goal is hidden from her."""
    user = UserFactory(username="ann", email="ann@example.com", first_name="Ann", last_name="Lee")
    cred = CredentialFactory(owner=user, connector__vendor="north", connector__name="North")
    see(cred, GoalFactory(connector=cred.connector, title="Fix onboarding", health="off_track"))
    hidden = CredentialFactory(owner=UserFactory(username="otto"), connector=cred.connector)
    see(hidden, GoalFactory(connector=cred.connector, title="Secret merger", health="off_track"))
    return user


def subscribe(user: Any, zone: str, at: datetime) -> DigestSubscription:
    """A subscription due at ``at``, in ``zone``."""
    local = at.astimezone(zoneinfo.ZoneInfo(zone))
    return DigestSubscription.objects.create(user=user, enabled=True, weekday=local.weekday(), hour=local.hour, timezone=zone)


def run_beat(django_capture_on_commit_callbacks: Any) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return int(tasks.send_due_digests())


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def test_a_due_digest_arrives_once_with_both_parts_and_only_what_the_user_sees(
    smtp, eager, ann, time_machine, django_capture_on_commit_callbacks
):
    now = five_past(timezone.now())
    time_machine.move_to(now)
    subscribe(ann, "Europe/Berlin", now)
    assert run_beat(django_capture_on_commit_callbacks) == 1
    assert len(smtp.messages) == 1
    mail_from, rcpt_tos, message = smtp.messages[0]
    assert rcpt_tos == ["ann@example.com"] and message["To"] == "ann@example.com"
    assert mail_from == "digest@okr.example.com" and message["From"] == FROM
    assert message["Subject"].startswith("OKR Hub digest, week of ") and "1 need attention" in message["Subject"]
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    for content in body.values():
        assert "Fix onboarding" in content and "Secret merger" not in content
        assert f"{SITE}/goals/" in content and f"{SITE}/digest/" in content
    assert 'href="/' not in body["text/html"]  # absolute links only
    delivery = DigestDelivery.objects.get(user=ann)
    assert delivery.status == Status.SENT and delivery.attempts == 1 and delivery.last_error == ""
    assert delivery.sent_at is not None and delivery.message_id == message["Message-ID"]
    assert delivery.week_start == week_start_in("Europe/Berlin", now)

    # Beat runs again within the hour, and later in the week: nothing more is sent.
    for later in (timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1), timedelta(days=1)):
        time_machine.move_to(now + later)
        assert run_beat(django_capture_on_commit_callbacks) == 0
    assert len(smtp.messages) == 1 and DigestDelivery.objects.count() == 1


def test_two_workers_with_the_same_delivery_send_it_once(smtp, ann, time_machine):
    now = five_past(timezone.now())
    time_machine.move_to(now)
    subscribe(ann, "UTC", now)
    [delivery_id] = sending.create_due_deliveries()
    assert sending.create_due_deliveries() == [delivery_id]  # still pending: the same row, not a second
    assert sending.send_delivery(delivery_id).status == Status.SENT
    assert sending.send_delivery(delivery_id).status == "claimed_elsewhere"  # a duplicate message: no-op
    assert len(smtp.messages) == 1


def test_a_refused_send_is_recorded_then_the_retry_delivers_it_once(smtp, ann, time_machine):
    now = five_past(timezone.now())
    time_machine.move_to(now)
    subscribe(ann, "UTC", now)
    [delivery_id] = sending.create_due_deliveries()
    smtp.refuse_next = 1
    with pytest.raises(sending.SendRefused):
        sending.send_delivery(delivery_id)
    delivery = DigestDelivery.objects.get(pk=delivery_id)
    assert delivery.status == Status.FAILED and delivery.attempts == 1
    assert "451" in delivery.last_error and "try later" in delivery.last_error
    assert smtp.messages == []
    first_message_id = delivery.message_id
    assert first_message_id.startswith("<") and first_message_id.endswith(">")
    assert sending.create_due_deliveries() == []  # a failed row belongs to its retries, not to beat
    assert sending.send_delivery(delivery_id).status == Status.SENT  # the retry claims it from "failed"
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT and delivery.attempts == 2 and delivery.last_error == ""
    assert len(smtp.messages) == 1
    assert delivery.message_id == first_message_id == smtp.messages[0][2]["Message-ID"]  # one id across attempts


def test_the_task_retries_with_backoff_until_the_server_accepts(smtp, eager, ann, time_machine, django_capture_on_commit_callbacks):
    now = five_past(timezone.now())
    time_machine.move_to(now)
    subscribe(ann, "UTC", now)
    smtp.refuse_next = 2
    run_beat(django_capture_on_commit_callbacks)
    delivery = DigestDelivery.objects.get(user=ann)
    assert delivery.status == Status.SENT and delivery.attempts == 3
    assert len(smtp.messages) == 1
    assert [sending.retry_delay(n) for n in range(5)] == [60, 120, 240, 480, 960]  # DIGEST_RETRY_BASE_DELAY 60


def test_the_task_gives_up_after_its_retries_and_keeps_the_row_failed(
    smtp, eager, ann, settings, time_machine, django_capture_on_commit_callbacks
):
    settings.DIGEST_MAX_RETRIES = 2
    now = five_past(timezone.now())
    time_machine.move_to(now)
    subscribe(ann, "UTC", now)
    smtp.refuse_next = 99
    run_beat(django_capture_on_commit_callbacks)
    delivery = DigestDelivery.objects.get(user=ann)
    assert delivery.status == Status.FAILED and delivery.attempts == 3  # the first try and two retries
    assert smtp.messages == []
    time_machine.move_to(now + timedelta(minutes=15))
    assert run_beat(django_capture_on_commit_callbacks) == 0  # beat does not start it over


def test_an_unreachable_server_is_a_failure_too(smtp, ann, settings, time_machine):
    settings.EMAIL_PORT = free_port()  # nobody listens there
    now = five_past(timezone.now())
    time_machine.move_to(now)
    subscribe(ann, "UTC", now)
    [delivery_id] = sending.create_due_deliveries()
    with pytest.raises(sending.SendRefused):
        sending.send_delivery(delivery_id)
    delivery = DigestDelivery.objects.get(pk=delivery_id)
    assert delivery.status == Status.FAILED and "ConnectionRefusedError" in delivery.last_error


def test_the_smtp_password_is_never_stored_nor_logged(smtp, ann, settings, time_machine, caplog):
    settings.EMAIL_HOST_PASSWORD = "hunter2-smtp-password"  # no user: the backend does not log in
    smtp.refuse_next, smtp.refusal = 1, "451 4.7.0 rejected hunter2-smtp-password"  # a server echoing it
    now = five_past(timezone.now())
    time_machine.move_to(now)
    subscribe(ann, "UTC", now)
    [delivery_id] = sending.create_due_deliveries()
    with caplog.at_level(logging.INFO), pytest.raises(sending.SendRefused):
        sending.send_delivery(delivery_id)
    delivery = DigestDelivery.objects.get(pk=delivery_id)
    assert "rejected [redacted]" in delivery.last_error and "hunter2" not in delivery.last_error
    assert "hunter2" not in caplog.text


def test_a_delivery_stuck_in_sending_becomes_failed_unknown_and_is_not_resent(
    smtp, eager, ann, settings, time_machine, django_capture_on_commit_callbacks
):
    now = five_past(timezone.now())
    time_machine.move_to(now)
    subscribe(ann, "UTC", now)
    bob = UserFactory(username="bob", email="bob@example.com")
    see(CredentialFactory(owner=bob), GoalFactory(title="Bob's fire", health="off_track"))
    subscribe(bob, "UTC", now)
    week = week_start_in("UTC", now)
    lost = DigestDelivery.objects.create(
        user=ann,
        week_start=week,
        status=Status.SENDING,
        attempts=1,
        claimed_at=now - timedelta(minutes=settings.DIGEST_SENDING_TIMEOUT_MINUTES + 1),
    )  # its worker died mid-send
    busy = DigestDelivery.objects.create(
        user=bob, week_start=week, status=Status.SENDING, attempts=1, claimed_at=now - timedelta(minutes=2)
    )
    run_beat(django_capture_on_commit_callbacks)
    lost.refresh_from_db()
    busy.refresh_from_db()
    assert lost.status == Status.FAILED_UNKNOWN and "may or may not have been sent" in lost.last_error
    assert busy.status == Status.SENDING  # still within its time: its worker may be sending it now
    assert sending.send_delivery(lost.pk).status == "claimed_elsewhere"  # a redelivered task message: no-op
    time_machine.move_to(now + timedelta(minutes=15))
    run_beat(django_capture_on_commit_callbacks)
    lost.refresh_from_db()
    assert lost.status == Status.FAILED_UNKNOWN and lost.attempts == 1
    assert smtp.messages == []


def next_sunday_at(hour: int) -> datetime:
    """The next Sunday ``hour``:00 UTC after the (pinned) now."""
    now = timezone.now().astimezone(UTC)
    sunday = (now + timedelta(days=(6 - now.weekday()) % 7)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return sunday if sunday > now else sunday + timedelta(days=7)


def test_a_user_in_tokyo_gets_monday_eight_oclock_at_sunday_23_utc(smtp, eager, ann, time_machine, django_capture_on_commit_callbacks):
    sunday_22 = next_sunday_at(22)
    DigestSubscription.objects.create(user=ann, enabled=True, weekday=0, hour=8, timezone="Asia/Tokyo")
    time_machine.move_to(sunday_22 + timedelta(minutes=1))  # Monday 07:01 in Tokyo
    assert run_beat(django_capture_on_commit_callbacks) == 0
    assert smtp.messages == [] and not DigestDelivery.objects.exists()
    time_machine.move_to(sunday_22 + timedelta(hours=1, minutes=1))  # Sunday 23:01 UTC, Monday 08:01 in Tokyo
    assert run_beat(django_capture_on_commit_callbacks) == 1
    assert len(smtp.messages) == 1
    delivery = DigestDelivery.objects.get(user=ann)
    assert delivery.status == Status.SENT
    assert delivery.week_start == sunday_22.date() + timedelta(days=1)  # Tokyo's Monday, a day after UTC's Sunday


def test_an_empty_digest_is_skipped_and_nothing_is_sent(smtp, eager, time_machine, django_capture_on_commit_callbacks):
    nobody = UserFactory(username="nobody", email="nobody@example.com")
    now = five_past(timezone.now())
    time_machine.move_to(now)
    subscribe(nobody, "UTC", now)
    run_beat(django_capture_on_commit_callbacks)
    delivery = DigestDelivery.objects.get(user=nobody)
    assert delivery.status == Status.SKIPPED_EMPTY and delivery.sent_at is None
    assert smtp.messages == []
    time_machine.move_to(now + timedelta(minutes=15))
    assert run_beat(django_capture_on_commit_callbacks) == 0 and smtp.messages == []


def test_disabled_subscriptions_and_users_without_an_address_get_nothing(
    smtp, eager, ann, time_machine, django_capture_on_commit_callbacks
):
    now = five_past(timezone.now())
    time_machine.move_to(now)
    sub = subscribe(ann, "UTC", now)
    sub.enabled = False
    sub.save()
    subscribe(UserFactory(username="noaddress", email=""), "UTC", now)
    assert run_beat(django_capture_on_commit_callbacks) == 0
    assert smtp.messages == [] and not DigestDelivery.objects.exists()


def test_the_beat_entry_runs_the_sender_every_quarter_hour():
    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    migration = __import__("dashboard.digest.migrations.0002_digest_beat_schedule", fromlist=["create_schedule"])
    migration.create_schedule(apps, None)  # idempotent; a transactional test may have flushed it
    entry = PeriodicTask.objects.get(name=migration.DIGEST_TASK_NAME)
    assert entry.enabled and entry.task == "dashboard.digest.tasks.send_due_digests"
    assert entry.crontab is not None and entry.crontab.minute == "0,15,30,45" and entry.crontab.hour == "*"
    assert entry.task in celery_app.tasks and "dashboard.digest.tasks.send_digest" in celery_app.tasks


def test_admins_find_lost_deliveries_and_can_send_one_again_by_hand(
    client, smtp, eager, ann, time_machine, django_capture_on_commit_callbacks
):
    now = five_past(timezone.now())
    time_machine.move_to(now)
    week = week_start_in("UTC", now)
    lost = DigestDelivery.objects.create(user=ann, week_start=week, status=Status.FAILED_UNKNOWN, attempts=1, message_id="<lost@x>")
    done = DigestDelivery.objects.create(user=ann, week_start=week - timedelta(days=7), status=Status.SENT, attempts=1)
    client.force_login(AdminFactory(username="root"))
    listing = client.get("/admin/digest/digestdelivery/?status__exact=failed_unknown")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert f"/admin/digest/digestdelivery/{lost.pk}/change/" in html and f"/admin/digest/digestdelivery/{done.pk}/change/" not in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/digest/digestdelivery/", {"action": "send_again", "_selected_action": [lost.pk, done.pk]}, follow=True
        )
    assert response.status_code == 200 and "1 queued to be sent again" in response.content.decode()
    lost.refresh_from_db()
    done.refresh_from_db()
    assert lost.status == Status.SENT and lost.attempts == 2 and done.status == Status.SENT and done.attempts == 1
    assert len(smtp.messages) == 1 and smtp.messages[0][1] == ["ann@example.com"]
