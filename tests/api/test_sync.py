"""Sync runs (own runs; admins see all) and POST /api/v1/sync through the real sync service."""

from __future__ import annotations

from typing import Any

from django.test import Client

from dashboard.accounts.tokens import create_token
from dashboard.integrations.models import Credential, StreamResult, SyncRun
from tests.api.conftest import World, api_get, ids
from tests.factories import AdminFactory, ConnectorFactory, CredentialFactory

SYNC_RUN_FIELDS = {
    "id", "credential_id", "connector", "vendor", "requested_by", "trigger", "status", "created_at", "started_at", "finished_at",
    "duration_seconds", "requests_made", "percent", "current_stream", "streams_done", "streams_total", "items_done", "counts", "error",
}  # fmt: skip


def _post_sync(token: str, **params: Any) -> Any:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return Client().post(f"/api/v1/sync{'?' + query if query else ''}", headers={"Authorization": f"Bearer {token}"})


def test_sync_runs_are_own_runs_and_admins_see_all(world: World) -> None:
    run_a = SyncRun.objects.create(credential=world.cred_a, status="succeeded", trigger="schedule", requests_made=12)
    StreamResult.objects.create(run=run_a, stream="goals", status="succeeded", complete=True, fetched=7, created=5, updated=2)
    StreamResult.objects.create(run=run_a, stream="teams", status="succeeded", complete=True, fetched=3, unchanged=3)
    run_b = SyncRun.objects.create(credential=world.cred_b, status="failed", error="North answered 503 on /goals", requested_by=world.bob)

    assert ids(api_get(world.alice_token, "sync-runs")) == {run_a.pk}
    assert ids(api_get(world.bob_token, "sync-runs")) == {run_b.pk}
    admin_token = create_token(AdminFactory(username="root"), "ops").raw
    assert ids(api_get(admin_token, "sync-runs")) == {run_a.pk, run_b.pk}

    [row] = api_get(world.alice_token, "sync-runs").json()["results"]
    assert set(row) >= SYNC_RUN_FIELDS
    assert row["connector"] == "North HQ" and row["vendor"] == "north" and row["credential_id"] == world.cred_a.pk
    assert row["counts"] == {"fetched": 10, "created": 5, "updated": 2, "unchanged": 3, "removed": 0}
    assert row["percent"] == 100 and row["requests_made"] == 12 and row["trigger"] == "schedule"
    [bob_row] = api_get(world.bob_token, "sync-runs").json()["results"]
    assert bob_row["error"] == "North answered 503 on /goals" and bob_row["requested_by"] == "bob"


def test_sync_run_filters(world: World) -> None:
    ok = SyncRun.objects.create(credential=world.cred_a, status="succeeded")
    failed = SyncRun.objects.create(credential=world.cred_a, status="failed")
    admin_token = create_token(AdminFactory(username="root"), "ops").raw
    assert ids(api_get(world.alice_token, "sync-runs", status="failed")) == {failed.pk}
    assert ids(api_get(world.alice_token, "sync-runs", status="succeeded")) == {ok.pk}
    assert ids(api_get(admin_token, "sync-runs", vendor="north")) == {ok.pk, failed.pk}
    assert ids(api_get(admin_token, "sync-runs", vendor="operately")) == set()
    assert ids(api_get(admin_token, "sync-runs", connector="north hq")) == {ok.pk, failed.pk}


def test_post_sync_enqueues_the_callers_own_credentials(world: World, django_capture_on_commit_callbacks: Any) -> None:
    second = CredentialFactory(connector=ConnectorFactory(vendor="ogsm", name="OGSM"), owner=world.alice)
    CredentialFactory(connector=ConnectorFactory(vendor="north", name="Off", enabled=False), owner=world.alice)  # disabled connector
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post_sync(world.alice_token)
    assert response.status_code == 202, response.content
    body = response.json()
    runs = SyncRun.objects.filter(pk__in=body["run_ids"]).order_by("id")
    assert [r.credential_id for r in runs] == [world.cred_a.pk, second.pk]
    assert {(r.trigger, r.status, r.requested_by_id) for r in runs} == {("api", "queued", world.alice.pk)}
    assert len(callbacks) == 2  # one task dispatch per run, after the transaction commits
    assert body["message"].startswith("Queued 2 syncs")
    # Bob's credential was not touched.
    assert not SyncRun.objects.filter(credential=world.cred_b).exists()


def test_post_sync_for_one_connector_and_a_busy_credential_is_skipped(world: World) -> None:
    first = _post_sync(world.alice_token, connector="North%20HQ").json()
    assert len(first["run_ids"]) == 1
    again = _post_sync(world.alice_token, connector="North%20HQ").json()
    [skipped] = SyncRun.objects.filter(pk__in=again["run_ids"])
    assert skipped.status == "skipped" and "already" in skipped.error
    assert "1 skipped" in again["message"]


def test_post_sync_without_credentials_explains(world: World) -> None:
    Credential.objects.filter(owner=world.alice).delete()
    response = _post_sync(world.alice_token)
    assert response.status_code == 400
    assert response.json()["message"] == "You have no credentials to sync. Add one on the Connections page."
    unknown = _post_sync(world.bob_token, connector="nope")
    assert unknown.status_code == 400 and unknown.json()["parameter"] == "connector"
