"""python manage.py sync [--connector NAME] [--user USERNAME] [--wait] [--json]"""

# ruff: noqa: F811 - pytest fixtures imported from fake_connector are redefined as arguments
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dashboard.integrations.models import SyncRun
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
