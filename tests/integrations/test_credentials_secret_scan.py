"""A scan for secrets: connect through the page, run full syncs (a clean one, one with vendor
faults, one with a refused secret) against each sandbox over HTTP, then look for every secret in
the logs, the run and credential records, the pages, the Django admin and the CLI output."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from dashboard.integrations.models import Connector, Credential, StreamResult, SyncRun
from dashboard.integrations.sync import create_runs, run_sync
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db

WRONG = {"north": {"token": "wrong-north-token-55aa77"}, "operately": {"token": "opk_wrongoperatelytoken55aa77"}}


@pytest.mark.parametrize("vendor", ["north", "operately", "ogsm"])
def test_no_secret_in_logs_records_pages_admin_or_cli(vendor: str, sandbox_factory, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    sandbox, server = sandbox_factory(vendor, seed=1, size="small")
    connector = Connector.objects.create(vendor=vendor, name=f"{vendor} sandbox", base_url=server.url)
    secret = dict(sandbox.credentials[0].secret)
    wrong = WRONG.get(vendor) or {"username": secret["username"], "password": "wrong-ogsm-password-55aa77"}
    secrets = [v for s in (secret, wrong) for k, v in s.items() if k != "username"]

    member = UserFactory(username="mia")
    client = Client()
    client.force_login(member)
    body = client.post(reverse("integrations:connect", args=[connector.pk]), secret, HTTP_HX_REQUEST="true").content.decode()
    assert "Connected as" in body
    credential = Credential.objects.get(owner=member, connector=connector)
    first = run_sync(SyncRun.objects.get(credential=credential).pk)
    assert first.status == "succeeded", first.error

    sandbox.faults = "500=0.3,seed=3"
    (faulty,) = create_runs([credential], trigger="manual")
    run_sync(faulty.pk)
    sandbox.faults = ""

    refused = Credential(connector=connector, owner=UserFactory(username="rex"))
    refused.set_secret(wrong)
    refused.save()
    (bad,) = create_runs([refused], trigger="manual")
    bad = run_sync(bad.pk)
    assert bad.status == "failed" and bad.error

    admin = Client()
    admin.force_login(AdminFactory(username="root"))
    pages = [
        client.get(reverse("integrations:connections")),
        client.post(reverse("integrations:test_connection", args=[credential.pk]), HTTP_HX_REQUEST="true"),
        client.get(reverse("okrs:overview")),
        admin.get(reverse("integrations:connector_list")),
        admin.get(reverse("integrations:connector_detail", args=[connector.pk])),
        admin.get(reverse("admin:integrations_credential_change", args=[credential.pk])),
        admin.get(reverse("admin:integrations_credential_changelist")),
        admin.get(reverse("admin:integrations_syncrun_change", args=[bad.pk])),
    ]
    assert all(page.status_code == 200 for page in pages), [page.status_code for page in pages]
    out = io.StringIO()
    call_command("credential", "list", "--json", stdout=out)

    haystacks = {
        "logs": caplog.text,
        "pages": "\n".join(page.content.decode() for page in pages),
        "cli": out.getvalue(),
        "runs": "\n".join(SyncRun.objects.values_list("error", flat=True)),
        "streams": "\n".join(StreamResult.objects.values_list("error", flat=True)),
        "credentials": "\n".join(f"{c.last_error} {c.status_reason}" for c in Credential.objects.all()),
    }
    assert caplog.records, "the sync logged nothing: the scan would prove nothing"
    assert "refused" in haystacks["runs"].lower() or "401" in haystacks["runs"]  # the failure is explained...
    for where, text in haystacks.items():
        for value in secrets:
            assert value not in text, f"a secret leaked into the {where}"  # ...without the secret
