"""The weekly digest through a REAL Celery worker on Redis (a subprocess sharing the test
PostgreSQL database and the tests' pinned clock) and a real SMTP server on loopback (aiosmtpd):
beat's task finds the digest due, the worker sends it, a refusal is retried with backoff, and
exactly one message arrives however often beat runs."""

# ruff: noqa: F811 - pytest fixtures imported from other test modules are redefined as arguments
from __future__ import annotations

import re
import time
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from dashboard.digest import tasks
from dashboard.digest.models import DigestDelivery, DigestSubscription
from tests.digest.test_sending import Inbox, free_port
from tests.factories import CredentialFactory, GoalFactory, UserFactory, see
from tests.integrations.test_sync_celery import Worker, broker, worker_environment  # noqa: F401 - the broker fixture

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
SITE = "https://okr.example.com"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


@pytest.fixture
def digest_worker(broker: dict[str, str], inbox: tuple[Inbox, int], tmp_path: Path) -> Iterator[Worker]:
    env = worker_environment(
        broker,
        tmp_path,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(inbox[1]),
        EMAIL_TIMEOUT="10",
        DEFAULT_FROM_EMAIL="OKR Hub <digest@okr.example.com>",
        SITE_URL=SITE,
        DIGEST_RETRY_BASE_DELAY="1",
    )
    worker = Worker(env, broker["queue"], tmp_path / "digest-worker.log").start()
    yield worker
    worker.stop()


def due_now() -> tuple[str, int, int]:
    """A zone, weekday and hour that are "now" with room to spare in the hour (UTC, or a zone
    half an hour off it when UTC is near the turn of the hour)."""
    for zone in ("UTC", "Asia/Kolkata"):
        local = timezone.now().astimezone(zoneinfo.ZoneInfo(zone))
        if 3 <= local.minute <= 52:
            return zone, local.weekday(), local.hour
    raise AssertionError("unreachable: UTC and UTC+5:30 cannot both be near the turn of the hour")


def wait_until(check: Callable[[], bool], worker: Worker, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {timeout}s; worker log:\n{worker.log()}")


def test_the_worker_sends_a_due_digest_once_retrying_a_refusal(digest_worker: Worker, inbox: tuple[Inbox, int]) -> None:
    box, _ = inbox
    ann = UserFactory(username="ann", email="ann@example.com")
    cred = CredentialFactory(owner=ann, connector__vendor="north", connector__name="North")
    see(cred, GoalFactory(connector=cred.connector, title="Fix onboarding", health="off_track"))
    hidden = CredentialFactory(owner=UserFactory(username="otto"), connector=cred.connector)
    see(hidden, GoalFactory(connector=cred.connector, title="Secret merger", health="off_track"))
    zone, weekday, hour = due_now()
    DigestSubscription.objects.create(user=ann, enabled=True, weekday=weekday, hour=hour, timezone=zone)
    box.refuse_next = 1  # the first attempt gets "451 try later"

    first = tasks.send_due_digests.delay()
    wait_until(lambda: bool(box.messages), digest_worker, "the digest's arrival")
    delivery = DigestDelivery.objects.get(user=ann)
    wait_until(lambda: DigestDelivery.objects.get(pk=delivery.pk).status == DigestDelivery.Status.SENT, digest_worker, "status sent")
    delivery.refresh_from_db()
    assert delivery.attempts == 2, delivery.last_error  # refused once, then delivered
    assert re.search(rf"{first.id}\] succeeded in [\d.]+s: 1\b", digest_worker.log())  # it found one due digest

    [(_, rcpt_tos, message)] = box.messages
    assert rcpt_tos == ["ann@example.com"] and message["Message-ID"] == delivery.message_id
    text = next(p.get_content() for p in message.walk() if p.get_content_type() == "text/plain")
    assert "Fix onboarding" in text and "Secret merger" not in text and f"{SITE}/goals/" in text

    # Beat runs again in the same hour: the worker finds nothing to send.
    again = tasks.send_due_digests.delay()
    wait_until(lambda: f"{again.id}] succeeded" in digest_worker.log(), digest_worker, "the second beat run")
    assert re.search(rf"{again.id}\] succeeded in [\d.]+s: 0\b", digest_worker.log()) and len(box.messages) == 1
    assert DigestDelivery.objects.count() == 1
