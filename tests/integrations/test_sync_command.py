"""python manage.py sync [--connector NAME] [--user USERNAME] [--wait] [--json]"""

# ruff: noqa: F811 - pytest fixtures imported from fake_connector are redefined as arguments
from __future__ import annotations

import json
import threading
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from dashboard.core import locks
from dashboard.integrations.models import Credential, SyncRun
from dashboard.integrations.sync import create_runs, enqueue_sync
from dashboard.okrs.models import Goal
from tests.integrations.fake_connector import fake_sandbox, make_credential  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def run_command(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("sync", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_wait_runs_the_selected_syncs_and_prints_one_line_per_run(fake_sandbox, make_credential):
    _sandbox, server = fake_sandbox()
    alice = make_credential(server, "tok-alice")
    make_credential(server, "tok-bob")

    code, out, _err = run_command("--user", "alice", "--wait")

    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1 and "succeeded" in lines[0] and "created=33" in lines[0] and str(alice.connector) in lines[0]
    assert SyncRun.objects.get().trigger == "cli" and Goal.objects.count() == 6


def test_wait_json_reports_counts_and_exits_non_zero_when_a_sync_failed(fake_sandbox, make_credential):
    _sandbox, server = fake_sandbox()
    alice = make_credential(server, "tok-alice")
    make_credential(server, "tok-bob-revoked-000")

    code, out, err = run_command("--connector", alice.connector.name, "--wait", "--json")

    assert code == 1 and "1 of 2 syncs failed" in err
    runs = {row["credential_id"]: row for row in json.loads(out)["runs"]}
    assert runs[alice.pk]["status"] == "succeeded" and runs[alice.pk]["counts"]["created"] == 33
    failed = next(row for row in runs.values() if row["status"] == "failed")
    assert "401" in failed["error"] and failed["duration_seconds"] >= 0 and failed["requests"] == 1


def test_without_wait_the_syncs_are_enqueued(fake_sandbox, make_credential, django_capture_on_commit_callbacks):
    _sandbox, server = fake_sandbox()
    make_credential(server, "tok-alice")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        code, out, _err = run_command("--json")
    assert code == 0 and json.loads(out)["runs"][0]["status"] == "queued" and len(callbacks) == 1


def test_bad_input_gets_a_clear_message(fake_sandbox, make_credential):
    _sandbox, server = fake_sandbox()
    make_credential(server, "tok-alice")
    with pytest.raises(CommandError, match="No connector named 'Nope'; known: Fake"):
        call_command("sync", "--connector", "Nope")
    with pytest.raises(CommandError, match="No user named 'zed'"):
        call_command("sync", "--user", "zed")


def test_wait_exit_status_failed_wins_over_partial_and_json_says_so(fake_sandbox, make_credential):
    _sandbox, server = fake_sandbox()
    make_credential(server, "tok-alice")
    noscope = make_credential(server, "tok-noscope")  # lacks key_results:read: a partial run
    make_credential(server, "tok-bob-revoked-000")  # refused: a failed run

    code, out, err = run_command("--wait", "--json")

    document = json.loads(out)
    assert code == document["exit_status"] == 1 and "failed" in document["exit_status_meaning"]
    assert sorted(row["status"] for row in document["runs"]) == ["failed", "partial", "succeeded"]
    assert "1 of 3 syncs failed, 1 partial: exit 1" in err

    code, out, err = run_command("--user", "noscope", "--wait")
    assert code == 2 and "exit 2" in err
    (line,) = out.strip().splitlines()
    assert f"run {SyncRun.objects.filter(credential=noscope).latest('pk').pk}  partial  (ran here)" in line
    assert "reason: key_results: Skipped key_results" in line and "key_results:read" in line


def test_wait_takes_over_the_queued_run_instead_of_skipping_it(fake_sandbox, make_credential, django_capture_on_commit_callbacks):
    _sandbox, server = fake_sandbox()
    credential = make_credential(server, "tok-alice")
    with django_capture_on_commit_callbacks(execute=False):  # queued for a worker that never comes
        (queued,) = enqueue_sync([credential], trigger="cli")

    code, out, err = run_command("--wait")

    assert code == 0, out + err
    assert f"run {queued.pk}  succeeded  (took over the queued run and ran it here)" in out
    assert "skipped" not in out + err
    assert list(SyncRun.objects.values_list("pk", "status")) == [(queued.pk, "succeeded")]
    assert Goal.objects.count() == 6


def test_wait_reports_a_credential_that_cannot_sync_as_not_run(fake_sandbox, make_credential):
    _sandbox, server = fake_sandbox()
    credential = make_credential(server, "tok-alice")
    Credential.objects.filter(pk=credential.pk).update(status=Credential.Status.NEEDS_REENTRY, status_reason="HTTP 401")

    code, out, err = run_command("--wait")

    assert code == 1 and "exit 1" in err
    assert "skipped  (not run)" in out and "reason: The credential needs re-entry (HTTP 401)" in out


@pytest.mark.django_db(transaction=True)
def test_wait_waits_for_the_process_holding_the_run_and_reports_its_outcome(fake_sandbox, make_credential):
    """Another process (here: a thread standing in for a worker) holds the credential's lock and
    runs the run: --wait polls, prints progress on stderr and reports that run's own outcome."""
    _sandbox, server = fake_sandbox()
    credential = make_credential(server, "tok-alice")
    (run,) = create_runs([credential], trigger="manual")
    held = threading.Event()

    def worker() -> None:
        lock = locks.acquire(f"sync-credential-{credential.pk}", extra={"run": run.pk})
        assert lock is not None
        try:
            now = timezone.now()
            SyncRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=now, current_stream="goals", streams_total=6)
            held.set()
            time.sleep(1.5)
            SyncRun.objects.filter(pk=run.pk).update(status="partial", error="goals: vendor said no", finished_at=timezone.now())
        finally:
            lock.release()
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    assert held.wait(10)
    code, out, err = run_command("--wait")
    thread.join(10)

    assert code == 2, out + err
    assert f"run {run.pk}  partial  (waited for the worker running it)" in out and "reason: goals: vendor said no" in out
    assert f"run {run.pk} running on a worker, stream goals (0/6)" in err
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [run.pk]  # nothing run a second time
