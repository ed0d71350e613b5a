"""The audit trail (issue #21): connectors, credentials (never the secret), shared grants and
write-backs are recorded with who and when, whatever the path; the admin page filters and
exports them."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.audit.models import AuditEvent
from dashboard.integrations.models import Connector, Credential
from dashboard.writeback.models import AuditLog
from tests.factories import AdminFactory, ConnectorFactory, CredentialFactory, UserFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ogsm_connector(sandbox_factory: Any) -> Any:
    sandbox, server = sandbox_factory("ogsm", seed=1, size="small")
    return sandbox, ConnectorFactory(vendor="ogsm", name="OGSM", base_url=server.url)


@pytest.fixture
def admin() -> Any:
    return AdminFactory(username="root")


@pytest.fixture
def admin_client(admin: Any) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def _events(area: str | None = None) -> list[AuditEvent]:
    events = AuditEvent.objects.order_by("id")
    return list(events.filter(area=area) if area else events)


def _no_secret_anywhere(*secrets: str) -> None:
    dumped = json.dumps(list(AuditEvent.objects.values()), default=str)
    for secret in secrets:
        assert secret not in dumped


def test_connector_pages_record_who_created_changed_and_deleted(admin_client: Client) -> None:
    admin_client.post(
        reverse("integrations:connector_add"),
        {"vendor": "north", "name": "North", "base_url": "http://127.0.0.1:8001/", "interval_minutes": 30, "enabled": "on"},
    )
    connector = Connector.objects.get(name="North")
    admin_client.post(
        reverse("integrations:connector_detail", args=[connector.pk]),
        {"vendor": "north", "name": "North EU", "base_url": "http://127.0.0.1:8001", "interval_minutes": 120, "enabled": "on"},
    )
    admin_client.post(reverse("integrations:connector_delete", args=[connector.pk]))

    created, changed, deleted = _events("connector")
    assert (created.action, created.actor_name, created.source, created.target_label) == ("connector.created", "root", "web", "North")
    assert created.changes["interval_minutes"] == [None, 30] and created.changes["vendor"] == [None, "north"]
    assert changed.action == "connector.changed" and changed.target_label == "North EU"
    assert changed.changes == {"name": ["North", "North EU"], "interval_minutes": [30, 120]}
    assert deleted.action == "connector.deleted" and deleted.target_id == str(connector.pk) and deleted.actor.username == "root"


def test_saves_that_change_nothing_audited_record_nothing() -> None:
    credential = CredentialFactory()
    AuditEvent.objects.all().delete()
    credential.status = Credential.Status.PAUSED
    credential.last_error = "North answered 503"
    credential.save(update_fields=["status", "last_error"])  # what a sync does
    credential.consecutive_failures = 3
    credential.save()
    connector = credential.connector
    connector.save()
    Connector.bump_data_version(connector.pk)  # a sync's cache invalidation
    assert _events() == []


def test_credentials_are_audited_without_their_secret(ogsm_connector: Any) -> None:
    sandbox, connector = ogsm_connector
    member = UserFactory(username="mia")
    client = Client()
    client.force_login(member)
    secret = dict(sandbox.credentials[0].secret)
    assert client.post(reverse("integrations:connect", args=[connector.pk]), secret, **HX).status_code == 200
    credential = Credential.objects.get(owner=member)

    client.post(reverse("integrations:replace_secret", args=[credential.pk]), secret, **HX)
    client.post(reverse("integrations:disconnect", args=[credential.pk]))

    added, replaced, removed = _events("credential")
    assert added.action == "credential.added" and added.actor_name == "mia" and added.target_label == "OGSM / mia"
    assert added.changes["secret"] == ["…", "set"] and added.changes["owner"] == [None, "mia"]
    assert replaced.action == "credential.secret_replaced" and replaced.changes == {"secret": ["…", "replaced"]}
    assert removed.action == "credential.removed" and removed.target_id == str(credential.pk)
    _no_secret_anywhere(secret["password"], credential.secret_encrypted, credential.secret_hint)


def test_shared_grants_are_audited_with_the_groups(admin_client: Client, ogsm_connector: Any) -> None:
    sandbox, connector = ogsm_connector
    leads, sales = Group.objects.create(name="Team leads"), Group.objects.create(name="Sales")
    secret = dict(sandbox.credentials[0].secret)
    response = admin_client.post(
        reverse("integrations:shared_add", args=[connector.pk]), {**secret, "label": "Service account", "groups": [leads.pk]}
    )
    assert response.status_code == 302
    shared = Credential.objects.get(connector=connector, is_shared=True)
    edit_url = reverse("integrations:shared_edit", args=[shared.pk])
    admin_client.post(edit_url, {"action": "sharing", "label": "Service account", "groups": [sales.pk]})
    admin_client.post(edit_url, {"action": "sharing", "label": "Service account", "share_with_everyone": "on"})

    grants = _events("grant")
    # groups.set() removes, then adds: two events, each saying what it did.
    # Shared with everyone, the form clears the groups.
    assert [g.summary for g in grants] == ["granted to Team leads", "revoked from Team leads", "granted to Sales", "revoked from Sales"]
    assert grants[1].changes == {"groups": [["Team leads"], []]} and grants[2].changes == {"groups": [[], ["Sales"]]}
    assert {g.actor_name for g in grants} == {"root"} and {g.target_label for g in grants} == {"OGSM / shared “Service account”"}
    everyone = [e for e in _events("credential") if e.action == "credential.changed"]
    assert any(e.changes.get("share_with_everyone") == [False, True] for e in everyone)
    _no_secret_anywhere(secret["password"])


def test_write_backs_are_in_the_trail() -> None:
    connector = ConnectorFactory(vendor="ogsm", name="OGSM")
    AuditLog.objects.create(
        username="ann",
        connector=connector,
        connector_name="OGSM",
        vendor="ogsm",
        operation="update_action",
        item_kind="action",
        item_external_id="a-7",
        item_title="Ship the pilot",
        sent={"traffic_light": "red"},
        outcome=AuditLog.Outcome.SUCCEEDED,
    )
    [event] = _events("writeback")
    assert event.action == "writeback.update_action" and event.target_label == "OGSM: Ship the pilot"
    assert event.summary == "Succeeded: update_action on action a-7" and event.changes == {"sent": {"traffic_light": "red"}}


def test_the_command_line_is_named_in_the_trail(tmp_path: Any) -> None:
    call_command(
        "connector", "add", "--vendor", "north", "--name", "North CLI", "--base-url", "http://127.0.0.1:8001", stdout=io.StringIO()
    )
    [event] = _events("connector")
    assert event.action == "connector.created" and event.source == "cli" and event.actor_name.startswith("command line (")
    assert event.actor is None


def test_the_page_is_for_admins_and_filters(admin_client: Client, admin: Any) -> None:
    member = Client()
    member.force_login(UserFactory(username="mo"))
    assert member.get("/audit/changes/").status_code == 404
    assert member.get("/audit/changes.csv").status_code == 404

    empty = admin_client.get("/audit/changes/")
    assert empty.status_code == 200 and "No changes recorded yet" in empty.content.decode()

    ConnectorFactory(name="Alpha")  # recorded as the system: no request, no command
    admin_client.post(
        reverse("integrations:connector_add"),
        {"vendor": "ogsm", "name": "Beta", "base_url": "http://127.0.0.1:8003", "interval_minutes": 60, "enabled": "on"},
    )
    old = _events("connector")[0]
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))

    page = admin_client.get("/audit/changes/").content.decode()
    assert "Alpha" in page and "Beta" in page and "connector.created" in page
    by_who = admin_client.get("/audit/changes/", {"who": "roo"}).content.decode()
    assert "Beta" in by_who and "Alpha" not in by_who
    recent = admin_client.get("/audit/changes/", {"since": (timezone.localdate() - timedelta(days=2)).isoformat()}).content.decode()
    assert "Beta" in recent and "Alpha" not in recent
    by_text = admin_client.get("/audit/changes/", {"q": "alph", "area": "connector"}).content.decode()
    assert "Alpha" in by_text and "Beta" not in by_text
    none = admin_client.get("/audit/changes/", {"area": "grant"})
    assert none.status_code == 200 and "No changes match these filters" in none.content.decode()
    bad = admin_client.get("/audit/changes/", {"since": "last week"}).content.decode()
    assert "must be a date like 2026-01-31" in bad and "Alpha" in bad and "Beta" in bad

    export = admin_client.get("/audit/changes.csv", {"who": "root"})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))  # type: ignore[attr-defined]
    assert rows[0] == ["when", "who", "source", "area", "action", "target", "target_id", "summary", "changes"]
    assert [(r[1], r[4], r[5]) for r in rows[1:]] == [("root", "connector.created", "Beta")]
    assert json.loads(rows[1][8])["vendor"] == [None, "ogsm"]


def test_csv_cells_cannot_run_as_formulas(admin_client: Client) -> None:
    ConnectorFactory(name='=HYPERLINK("http://evil")')
    export = admin_client.get("/audit/changes.csv")
    body = b"".join(export.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert "'=HYPERLINK" in body
