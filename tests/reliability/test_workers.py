"""Real Celery workers (subprocesses on Redis) against a real vendor sandbox over HTTP:
a worker killed with SIGKILL mid-sync, and two workers racing on one credential.

The worker helpers come from the sync engine's own Celery tests (tests/integrations).
"""

# ruff: noqa: F811 - pytest fixtures imported from the sync engine's tests are redefined as arguments
from __future__ import annotations

import itertools
import time

import pytest

from dashboard.integrations.models import SyncRun
from dashboard.integrations.sync import enqueue_sync
from dashboard.integrations.tasks import sync_credential
from dashboard.okrs.models import Goal, Team, WorkItem
from tests.integrations.test_sync_celery import broker, wait_for, worker_factory  # noqa: F401 - fixtures
from tests.reliability.helpers import assert_stored_as_the_sandbox_holds, connect, duplicates, text_of

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def ogsm_totals(sandbox) -> dict[str, int]:
    """What the vendor holds: every action (archived ones too), one team per canvas."""
    state = sandbox.state
    goals = len(state.objectives or {}) + len(state.goals or {})
    return {"work_items": len(state.actions), "teams": len(state.canvases), "goals": goals}


def stored_totals(connector) -> dict[str, int]:
    return {
        "work_items": WorkItem.objects.filter(connector=connector).count(),
        "teams": Team.objects.filter(connector=connector).count(),
        "goals": Goal.objects.filter(connector=connector).count(),
    }


def assert_no_duplicates(connector) -> None:
    for model in (WorkItem, Team, Goal):
        ids = list(model.objects.filter(connector=connector).values_list("external_id", flat=True))
        assert len(ids) == len(set(ids)), f"duplicate {model.__name__} rows"


def test_sigkill_mid_sync_keeps_pages_working_and_the_redelivered_run_completes(sandbox_factory, worker_factory):
    """Must survive: the pages while no worker is alive (served from the database), then the run
    itself: redelivered to a new worker, resumed after the streams it had finished, completed with
    every kind equal to what the vendor holds (its sandbox's own state) and no duplicate rows."""
    sandbox, server = sandbox_factory("operately", seed=4, size=2)
    c = connect(sandbox, server)
    first_worker = worker_factory()
    # Teams, people and goals answer at once; every project request (work items, their check-ins)
    # takes 3 s, so however fast the engine is, the run is still mid-sync when the worker dies.
    sandbox.faults = "latency=3s,match=projects/"
    (run,) = enqueue_sync([c.credential], trigger="manual", requested_by=c.user)
    wait_for(run, first_worker, until=lambda r: r.streams_done >= 1 or r.is_finished)

    first_worker.kill9()
    run.refresh_from_db()
    assert run.status == "running", f"the run was not mid-sync when the worker was killed: {run.status}"
    streams_finished_before_kill = run.streams_done
    for page in ("/", "/teams/", "/connections/"):
        assert c.client.get(page).status_code == 200
    assert "Syncing" in text_of(c.client.get("/"))  # the interrupted run is shown as still in progress

    sandbox.faults = ""
    second_worker = worker_factory()
    run = wait_for(run, second_worker, timeout=90)

    assert run.status == "succeeded", run.error
    assert run.attempt == 2 and run.streams_done == run.streams_total >= streams_finished_before_kill
    assert_stored_as_the_sandbox_holds(c.credential, sandbox)
    assert duplicates() == []


def test_two_workers_racing_on_one_credential_never_sync_it_twice_at_once(sandbox_factory, worker_factory):
    """Must survive: one credential's data when four deliveries for it reach two workers at the
    same moment: the runs never overlap in time, the losers are skipped with the reason, and the
    rows equal what the vendor holds (its sandbox's own state) with no duplicates."""
    sandbox, server = sandbox_factory("ogsm", seed=6, size=3, actions_per_canvas=20)
    c = connect(sandbox, server)
    workers = [worker_factory(), worker_factory()]
    sandbox.faults = "latency=300ms"
    # Runs created behind enqueue_sync's back (e.g. a beat tick and a CLI call at once), so only the
    # workers' lock and the database backstop stand between them.
    runs = [SyncRun.objects.create(credential=c.credential, trigger=trigger) for trigger in ("api", "cli", "schedule", "manual")]
    for run in runs:
        sync_credential.delay(run.pk)

    finished = [wait_for(run, workers[0], timeout=90) for run in runs]

    by_status: dict[str, list[SyncRun]] = {}
    for run in finished:
        by_status.setdefault(run.status, []).append(run)
    assert set(by_status) <= {"succeeded", "skipped"}, {r.pk: (r.status, r.error) for r in finished}
    assert by_status.get("succeeded"), "no run synced the credential"
    for skipped in by_status.get("skipped", []):
        assert "Another sync of this credential is running" in skipped.error
    ran = sorted(by_status["succeeded"], key=lambda r: r.started_at)
    for earlier, later in itertools.pairwise(ran):
        assert earlier.finished_at <= later.started_at, "two syncs of one credential overlapped"
    assert_stored_as_the_sandbox_holds(c.credential, sandbox)
    assert stored_totals(c.connector) == ogsm_totals(sandbox)
    assert_no_duplicates(c.connector)
    time.sleep(0.5)  # nothing still running behind the last answer
    assert SyncRun.objects.filter(status__in=("queued", "running")).count() == 0
