"""The sync engine under a REAL Celery worker on Redis (a subprocess), PostgreSQL and the fake
vendor's sandbox over HTTP: schedule, manual sync, the lock, partial failure, 401, 429 with
Retry-After, retry exhaustion, pause, SIGKILL mid-sync with redelivery, double delivery.

The worker gets its own queue and short retry/redelivery timings through its environment, and
the test database through DATABASE_URL (pytest-django's ``test_<name>``); tests use
``transaction=True`` so the worker sees committed rows.
"""

# ruff: noqa: F811 - pytest fixtures imported from fake_connector are redefined as arguments
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone
from kombu import pools as kombu_pools

from dashboard.celery import app as celery_app
from dashboard.integrations.models import Credential, SyncRun
from dashboard.integrations.sync import enqueue_sync
from dashboard.integrations.tasks import sync_credential
from dashboard.okrs.models import CheckIn, Goal, KeyResult, ProgressSnapshot, Team, WorkItem
from tests.conftest import require
from tests.integrations.fake_connector import fake_sandbox, make_credential  # noqa: F401 - fixtures

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
# Short timings for the worker: retries, redelivery of a dead worker's message, pause threshold.
WORKER_SETTINGS = {
    "SYNC_MAX_RETRIES": "2",
    "SYNC_RETRY_BASE_DELAY": "0.3",
    "SYNC_RETRY_MAX_DELAY": "1",
    "SYNC_RETRY_AFTER_CAP": "5",
    "SYNC_PAUSE_AFTER_FAILURES": "2",
    "CELERY_VISIBILITY_TIMEOUT": "8",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    "CELERY_UNACKED_RESTORE_THROTTLE": "1",
}


class Worker:
    """``celery -A dashboard worker`` in its own process group (so kill -9 takes all of it)."""

    def __init__(self, env: dict[str, str], queue: str, log: Path) -> None:
        self.env, self.queue, self.log_path = env, queue, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        self.log_path.write_text("")
        log = self.log_path.open("ab")
        name = f"sync-test-{uuid.uuid4().hex[:6]}@%h"
        cmd = [CELERY, "-A", "dashboard", "worker", "-Q", self.queue, "-n", name, "--concurrency=2", "--loglevel=INFO"]
        cmd += ["--include=tests.integrations.fake_connector", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "ready." in self.log_path.read_text(errors="replace"):
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited at start:\n{self.log()}")
            time.sleep(0.2)
        raise RuntimeError(f"the Celery worker did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def kill9(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def broker(redis_url: str) -> Iterator[dict[str, str]]:
    """Point this process's Celery app at Redis and a queue of our own (restored afterwards)."""
    queue = f"okrhub-sync-test-{uuid.uuid4().hex[:8]}"
    options = {"visibility_timeout": 8, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
    saved = {k: celery_app.conf.get(k) for k in ("broker_url", "task_default_queue", "broker_transport_options", "task_always_eager")}

    def reconnect(**conf: Any) -> None:
        celery_app.conf.update(**conf)
        # The app's connection pool lives in kombu's global pool groups, keyed by broker URL and
        # options: closing it alone leaves a closed pool there for the next test with the same
        # Redis ("Acquire on closed pool"). reset() closes every pool and empties the groups.
        kombu_pools.reset()
        celery_app._pool = None
        celery_app.__dict__.pop("amqp", None)  # rebuilt with the new default queue

    reconnect(broker_url=redis_url, task_default_queue=queue, broker_transport_options=options, task_always_eager=False)
    yield {"url": redis_url, "queue": queue}
    reconnect(**saved)


def worker_environment(broker: dict[str, str], tmp_path: Path, **extra: str) -> dict[str, str]:
    """A worker's environment: the test database, this module's broker and queue, ``extra``."""
    db = connection.settings_dict
    database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    require(connection.vendor == "postgresql", "PostgreSQL (the worker shares the test database)")
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker["url"],
        "CELERY_TASK_DEFAULT_QUEUE": broker["queue"],
        "REDIS_URL": broker["url"],
        "SYNC_LOCK_DIR": str(tmp_path / "locks"),
        "OKRHUB_IGNORE_DOTENV": "1",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@pytest.fixture
def worker_factory(broker: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], Worker]]:
    env = worker_environment(broker, tmp_path, **WORKER_SETTINGS)
    workers: list[Worker] = []

    def start() -> Worker:
        worker = Worker(env, broker["queue"], tmp_path / f"worker{len(workers)}.log").start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def worker(worker_factory: Callable[[], Worker]) -> Worker:
    return worker_factory()


def wait_for(run: SyncRun, worker: Worker, *, timeout: float = 60, until: Callable[[SyncRun], bool] | None = None) -> SyncRun:
    deadline = time.monotonic() + timeout
    check = until or (lambda r: r.is_finished)
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if check(run):
            return run
        time.sleep(0.2)
    pytest.fail(f"run {run.pk} still {run.status} after {timeout}s ({run.error}); worker log:\n{worker.log()}")


def api_requests(sandbox: Any, path: str) -> list[tuple[float, str, int]]:
    return [r for r in list(sandbox.state.requests) if r[1] == path]


# What the fake vendor holds (its sandbox state) against what is stored: sorted (id, title) per stream.
STORED = {"teams": (Team, "name"), "goals": (Goal, "title"), "key_results": (KeyResult, "title"), "work_items": (WorkItem, "title")}


def held_by(sandbox: Any) -> dict[str, list[tuple[str, str]]]:
    with sandbox.state.lock:
        held = {
            stream: sorted((i, item[field]) for i, item in getattr(sandbox.state, stream).items()) for stream, (_, field) in STORED.items()
        }
        held["check_ins"] = sorted((i, item["goal"]) for i, item in sandbox.state.check_ins.items())
    return held


def stored_as_held(sandbox: Any) -> dict[str, list[tuple[str, str]]]:
    stored = {stream: sorted(model.objects.values_list("external_id", field)) for stream, (model, field) in STORED.items()}
    stored["check_ins"] = sorted(CheckIn.objects.values_list("external_id", "goal__external_id"))
    return stored


def test_the_beat_entry_enqueues_only_due_credentials(fake_sandbox, make_credential, worker):
    from django_celery_beat.models import PeriodicTask

    _sandbox, server = fake_sandbox()
    due = make_credential(server, "tok-alice")
    recent = make_credential(server, "tok-bob")
    Credential.objects.filter(pk=recent.pk).update(last_sync_at=timezone.now() - timedelta(minutes=5))
    overdue = make_credential(server, "tok-noscope")
    Credential.objects.filter(pk=overdue.pk).update(last_sync_at=timezone.now() - timedelta(minutes=61))
    paused = make_credential(server, "tok-alice", username="paula")
    Credential.objects.filter(pk=paused.pk).update(status=Credential.Status.PAUSED, status_reason="test")
    # The data migration creates the beat entry; a transactional test flushed it, so re-run it.
    from django.apps import apps

    migration = __import__("dashboard.integrations.migrations.0003_sync_beat_schedule", fromlist=["create_schedule"])
    migration.create_schedule(apps, None)
    entry = PeriodicTask.objects.get(name=migration.SCHEDULER_TASK_NAME)
    assert entry.enabled and entry.interval is not None and entry.interval.every == 60

    celery_app.send_task(entry.task, queue=worker.queue)  # exactly what beat sends

    deadline = time.monotonic() + 60
    while SyncRun.objects.filter(status__in=SyncRun.FINISHED).count() < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    runs = {run.credential_id: run for run in SyncRun.objects.all()}
    assert set(runs) == {due.pk, overdue.pk}, worker.log()
    assert runs[due.pk].trigger == "schedule" and runs[due.pk].status == "succeeded"
    assert runs[overdue.pk].status == "partial"  # tok-noscope lacks key_results:read
    assert Goal.objects.count() == 6


def test_a_manual_sync_runs_on_the_worker(fake_sandbox, make_credential, worker):
    _sandbox, server = fake_sandbox()
    cred = make_credential(server)

    (run,) = enqueue_sync([cred], trigger="manual", requested_by=cred.owner)

    run = wait_for(run, worker)
    assert run.status == "succeeded", run.error
    assert run.task_id and run.requested_by == cred.owner and run.attempt == 1
    assert (Team.objects.count(), Goal.objects.count(), KeyResult.objects.count(), WorkItem.objects.count()) == (3, 6, 12, 3)
    assert run.streams_done == run.streams_total == 6 and run.items_done == 33


def test_two_concurrent_requests_give_one_run_and_one_skipped(fake_sandbox, make_credential, worker):
    sandbox, server = fake_sandbox(page_size=2)
    cred = make_credential(server)
    sandbox.faults = "latency=100ms"
    runs: list[SyncRun] = []
    barrier = threading.Barrier(2)

    def request() -> None:
        barrier.wait()
        try:
            runs.extend(enqueue_sync([Credential.objects.get(pk=cred.pk)], trigger="manual"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status for r in runs) == ["queued", "skipped"]
    queued = next(r for r in runs if r.status == "queued")
    wait_for(queued, worker, until=lambda r: r.status == "running")

    # A run that got past enqueue anyway (e.g. sent by hand) meets the lock in the worker.
    intruder = SyncRun.objects.create(credential=cred, trigger="api")
    sync_credential.delay(intruder.pk)
    intruder = wait_for(intruder, worker)
    assert intruder.status == "skipped" and "Another sync of this credential is running" in intruder.error
    assert wait_for(queued, worker).status == "succeeded"
    assert Goal.objects.count() == 6


def test_a_failing_stream_is_retried_then_ends_partial_without_losing_data(fake_sandbox, make_credential, worker):
    sandbox, server = fake_sandbox()
    cred = make_credential(server)
    assert wait_for(enqueue_sync([cred], trigger="manual")[0], worker).status == "succeeded"
    del sandbox.state.goals["g3-2"]
    sandbox.faults = "500=1,match=/api/goals"

    run = wait_for(enqueue_sync([cred], trigger="manual")[0], worker)

    assert run.status == "partial" and run.attempt == 3  # first try + SYNC_MAX_RETRIES
    assert "GET /api/goals" in run.error
    assert Goal.objects.filter(external_id="g3-2", seen_by=cred).exists()  # nothing removed
    assert KeyResult.objects.count() == 12 and CheckIn.objects.count() == 6
    assert len(api_requests(sandbox, "/api/teams")) == 2  # the retries resumed: teams read once per run


def test_401_needs_reentry_and_is_not_retried(fake_sandbox, make_credential, worker):
    sandbox, server = fake_sandbox()
    cred = make_credential(server, "tok-revoked-000000")

    run = wait_for(enqueue_sync([cred], trigger="manual")[0], worker)

    assert run.status == "failed" and run.attempt == 1 and "401" in run.error
    assert len([r for r in sandbox.state.requests if r[2] == 401]) == 1
    cred.refresh_from_db()
    assert cred.status == Credential.Status.NEEDS_REENTRY


def test_429_waits_for_retry_after_then_completes(fake_sandbox, make_credential, worker):
    sandbox, server = fake_sandbox()
    cred = make_credential(server)
    sandbox.faults = "script=429,retry_after=2,match=/api/goals"

    run = wait_for(enqueue_sync([cred], trigger="manual")[0], worker)

    assert run.status == "succeeded", run.error
    assert run.attempt == 2
    goals = api_requests(sandbox, "/api/goals")
    assert goals[0][2] == 429 and goals[1][2] == 200
    assert goals[1][0] - goals[0][0] >= 2.0  # Retry-After honoured by the Celery retry
    assert len(api_requests(sandbox, "/api/teams")) == 1  # resumed, not restarted
    assert Goal.objects.count() == 6


def test_retry_exhaustion_fails_the_run_and_repeated_failures_pause_the_credential(fake_sandbox, make_credential, worker):
    sandbox, server = fake_sandbox()
    cred = make_credential(server)
    sandbox.faults = "503=1"

    first = wait_for(enqueue_sync([cred], trigger="manual")[0], worker)
    assert first.status == "failed" and first.attempt == 3 and "503" in first.error and "GET /api/teams" in first.error
    assert len(api_requests(sandbox, "/api/teams")) == 3
    cred.refresh_from_db()
    assert cred.status == "active" and cred.consecutive_failures == 1

    second = wait_for(enqueue_sync([cred], trigger="schedule")[0], worker)
    assert second.status == "failed"
    cred.refresh_from_db()
    assert cred.status == Credential.Status.PAUSED and "2 failed syncs in a row" in cred.status_reason
    (third,) = enqueue_sync([cred], trigger="schedule")
    assert third.status == "skipped" and "paused" in third.error


def test_sigkill_mid_sync_is_redelivered_and_completes_without_duplicates(fake_sandbox, make_credential, worker_factory):
    sandbox, server = fake_sandbox(teams=6, goals_per_team=3, krs_per_goal=2, page_size=3)
    cred = make_credential(server)
    first_worker = worker_factory()
    sandbox.faults = "latency=250ms"
    (run,) = enqueue_sync([cred], trigger="manual")
    wait_for(run, first_worker, until=lambda r: r.current_stream == "key_results" and r.items_done > 3)

    first_worker.kill9()
    killed_at = time.monotonic()
    run.refresh_from_db()
    assert run.status == "running" and not run.is_finished
    goals_before = Goal.objects.count()
    assert goals_before == 18

    sandbox.faults = ""
    second_worker = worker_factory()
    run = wait_for(run, second_worker, timeout=90)

    assert run.status == "succeeded", run.error
    assert run.attempt == 2
    # every row is one the vendor holds (its sandbox's own state), once: ids, titles, counts
    assert stored_as_held(sandbox) == held_by(sandbox)
    assert (Team.objects.count(), Goal.objects.count(), KeyResult.objects.count(), CheckIn.objects.count()) == (6, 18, 36, 18)
    # first sight gives one snapshot per item; a page applied twice would add none, a duplicate row would
    assert ProgressSnapshot.objects.count() == len(sandbox.state.goals) + len(sandbox.state.key_results) + len(sandbox.state.work_items)
    assert [r for r in api_requests(sandbox, "/api/teams") if r[0] > killed_at] == []  # resumed after finished streams


def test_a_killed_pool_process_is_rejected_requeued_and_the_run_completes(fake_sandbox, make_credential, worker, broker, settings):
    from dashboard.core import locks

    settings.REDIS_URL = broker["url"]  # read the worker's lock: its value names the pool process

    sandbox, server = fake_sandbox(teams=4, goals_per_team=3, page_size=2)
    cred = make_credential(server)
    sandbox.faults = "latency=150ms"
    (run,) = enqueue_sync([cred], trigger="manual")
    wait_for(run, worker, until=lambda r: r.current_stream == "goals")
    holder = locks.holder_of(f"sync-credential-{cred.pk}")
    assert holder is not None and holder.extra["run"] == run.pk

    os.kill(holder.pid, signal.SIGKILL)  # the pool child running the task; the worker survives
    sandbox.faults = ""

    run = wait_for(run, worker, timeout=60)
    assert run.status == "succeeded" and run.attempt == 2, run.error
    # Requeued at once (reject_on_worker_lost): the broker alone would restore the message only
    # once its visibility timeout (8 s after delivery, about when the run started) had passed.
    assert (run.finished_at - run.started_at).total_seconds() < 8
    assert "SIGKILL" in worker.log()
    assert stored_as_held(sandbox) == held_by(sandbox)  # the sandbox's own state, not our connector's read
    assert (Goal.objects.count(), KeyResult.objects.count(), ProgressSnapshot.objects.count()) == (12, 24, 12 + 24 + 4)


def test_the_same_run_delivered_twice_runs_once(fake_sandbox, make_credential, worker):
    sandbox, server = fake_sandbox()
    cred = make_credential(server)
    sandbox.faults = "latency=50ms"
    (run,) = enqueue_sync([cred], trigger="manual")
    sync_credential.delay(run.pk)  # a duplicate message for the same run id

    run = wait_for(run, worker)
    time.sleep(1.0)  # let the duplicate finish too
    run.refresh_from_db()

    assert run.status == "succeeded" and run.attempt == 1
    assert len(api_requests(sandbox, "/api/teams")) == 1
    assert (Goal.objects.count(), KeyResult.objects.count(), ProgressSnapshot.objects.count()) == (6, 12, 6 + 12 + 3)
    assert SyncRun.objects.count() == 1
