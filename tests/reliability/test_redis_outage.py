"""Redis stopped and restarted while pages are served.

Destructive, so it runs against a throwaway ``redis-server`` on port 6390 (never the shared
6379): the broker, the cache (login and API rate limits) and the sync locks all point at it.
Must survive: every page, served from PostgreSQL while Redis is down; sign-in and the read API;
"sync now" answers with a reason instead of an error; after Redis comes back a sync runs again.
"""

# ruff: noqa: F811 - pytest fixtures imported from the sync engine's tests are redefined as arguments
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client

from dashboard.accounts.tokens import create_token
from dashboard.integrations.models import SyncRun
from dashboard.integrations.sync import enqueue_sync
from tests.conftest import port_open, require
from tests.integrations.test_sync_celery import broker, wait_for, worker_factory  # noqa: F401 - fixtures
from tests.reliability.helpers import connect, text_of

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

PORT = 6390
PAGES = ("/", "/teams/", "/goals/", "/actions/", "/review/", "/connections/", "/search/?q=a")


class ThrowawayRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pidfile = directory / "redis.pid"
        self.url = f"redis://127.0.0.1:{PORT}/0"

    def start(self) -> None:
        subprocess.run(
            ["redis-server", "--port", str(PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "yes", "--pidfile", str(self.pidfile), "--dir", str(self.directory)],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", PORT):
            assert time.monotonic() < deadline, "the throwaway redis-server did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if not self.pidfile.exists():
            return
        pid = int(self.pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)  # only the server this fixture started, by its pid
        deadline = time.monotonic() + 10
        while port_open("127.0.0.1", PORT) or self.pidfile.exists():
            assert time.monotonic() < deadline, "the throwaway redis-server did not stop"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    require(subprocess.run(["which", "redis-server"], capture_output=True).returncode == 0, "redis-server binary")
    require(not port_open("127.0.0.1", PORT), f"a free port {PORT} for a throwaway Redis")
    server = ThrowawayRedis(Path(tempfile.mkdtemp(prefix="okrhub-redis-")))
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_url(throwaway_redis: ThrowawayRedis) -> str:
    """Overrides the shared Redis for this module: the broker fixture and the workers use 6390."""
    return throwaway_redis.url


@pytest.fixture
def on_throwaway_redis(settings, throwaway_redis: ThrowawayRedis) -> Iterator[ThrowawayRedis]:
    """The web process's cache and locks on the throwaway Redis, as in production."""
    settings.REDIS_URL = throwaway_redis.url
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": throwaway_redis.url}}
    yield throwaway_redis
    if not port_open("127.0.0.1", PORT):
        throwaway_redis.start()  # leave it running for the next test
    caches["default"].clear()


def test_pages_keep_working_while_redis_is_down_and_syncing_resumes_after(sandbox_factory, worker_factory, on_throwaway_redis, broker):
    """Must survive: every dashboard page and the data on it while Redis is down; "sync now"
    gives a reason, not a server error; after the restart a sync succeeds on a worker again."""
    sandbox, server = sandbox_factory("ogsm", seed=2, size="small")
    c = connect(sandbox, server)
    worker = worker_factory()
    first = wait_for(enqueue_sync([c.credential], trigger="manual")[0], worker)
    assert first.status == "succeeded", first.error
    title = "Renew the ISO certification"  # an action of the sandbox, shown on /actions/

    on_throwaway_redis.stop()
    for page in PAGES:
        response = c.client.get(page)
        assert response.status_code == 200, f"{page} answered {response.status_code} while Redis was down"
    assert title in text_of(c.client.get("/actions/"))
    sync_now = c.client.post("/sync/now/", HTTP_HX_REQUEST="true")
    assert sync_now.status_code < 500
    run = SyncRun.objects.order_by("-pk").first()
    assert run.status == "failed" and "Could not reach the task queue" in run.error
    # "sync now" answers at once (its first answer may still say "waiting"); its status poll says why
    poll = c.client.get(f"/sync/status/?run={run.pk}", HTTP_HX_REQUEST="true")
    assert "Could not reach the task queue" in text_of(poll)
    assert "Last sync failed" in text_of(c.client.get("/"))

    on_throwaway_redis.start()
    second = wait_for(enqueue_sync([c.credential], trigger="manual")[0], worker, timeout=60)
    assert second.status == "succeeded", second.error
    assert title in text_of(c.client.get("/actions/"))


def test_sign_in_and_the_api_work_while_redis_is_down(on_throwaway_redis, django_user_model, settings):
    """Must survive: signing in (its rate limit lives in the Redis cache) and the read API (its
    per-token rate limit too) while Redis is down: they degrade, they do not answer 500."""
    settings.LOGIN_ATTEMPTS_PER_15_MINUTES = 3
    user = django_user_model.objects.create_user("redisless", password="pw-Secret-123")
    token = create_token(user, "outage").raw
    on_throwaway_redis.stop()
    client = Client(raise_request_exception=False)

    login = client.post("/accounts/login/", {"username": "redisless", "password": "pw-Secret-123"})
    api = client.get("/api/v1/goals", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert (login.status_code, api.status_code) == (302, 200), (login.status_code, api.status_code)
    # ...and sign-in keeps a limit meanwhile (counted in the web process until Redis is back)
    guesser = Client(REMOTE_ADDR="10.11.12.13")
    for attempt in range(settings.LOGIN_ATTEMPTS_PER_15_MINUTES):
        assert guesser.post("/accounts/login/", {"username": "redisless", "password": f"guess-{attempt}"}).status_code == 200
    assert guesser.post("/accounts/login/", {"username": "redisless", "password": "pw-Secret-123"}).status_code == 429


def test_pages_say_that_syncing_is_paused_while_the_queue_is_down(on_throwaway_redis, sandbox_factory, broker):
    """Must survive: the user's understanding. While the task queue is unreachable, pages say that
    syncing is paused (not just the result of a failed "sync now")."""
    sandbox, server = sandbox_factory("ogsm", seed=2, size="small")
    c = connect(sandbox, server)
    notice = "Syncing is paused : the task queue cannot be reached, so data is not refreshed."  # as read: <strong> ends at ":"
    before = c.client.get("/")
    assert before.status_code == 200 and notice not in text_of(before)  # the control: the queue is up

    on_throwaway_redis.stop()

    for page in ("/", "/goals/", "/actions/"):
        response = c.client.get(page)
        assert response.status_code == 200, f"{page} answered {response.status_code} while the queue was down"
        assert notice in text_of(response), f"{page} does not say that syncing is paused: {text_of(response)[:600]}"
