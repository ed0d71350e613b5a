"""'Sync now' on the overview against a real vendor sandbox over HTTP: the POST (CSRF) queues the
user's own credentials, the status partial polls and answers 286 once every run is finished."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils.html import escape

from connectors.base import Kind
from dashboard.integrations.models import SyncRun
from dashboard.integrations.sync import run_sync
from dashboard.okrs.models import Goal
from tests.factories import ConnectorFactory, CredentialFactory, UserFactory
from tests.reliability.helpers import text_of
from tests.sandbox_state import sandbox_titles

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def member(client):
    user = UserFactory(username="mia")
    client.force_login(user)
    return user


@pytest.fixture
def ogsm_sandbox(sandbox_factory):
    return sandbox_factory("ogsm", seed=3, size="small")


@pytest.fixture
def ogsm_credential(ogsm_sandbox, member):
    sandbox, server = ogsm_sandbox
    connector = ConnectorFactory(vendor="ogsm", name="OGSM (sandbox)", base_url=server.url)
    return CredentialFactory(owner=member, connector=connector, secret=dict(sandbox.credentials[0].secret))


def test_sync_now_polls_until_the_run_finishes_then_stops_with_286(
    client, member, ogsm_sandbox, ogsm_credential, django_capture_on_commit_callbacks
):
    sandbox, _server = ogsm_sandbox
    other = CredentialFactory(owner=UserFactory(username="otto"))  # someone else's: never synced by mia
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # no broker: we run the sync ourselves
        response = client.post("/sync/now/", **HX)
    assert response.status_code == 200 and len(callbacks) == 1
    (run,) = SyncRun.objects.filter(credential=ogsm_credential)
    assert not SyncRun.objects.filter(credential=other).exists()
    panel = response.content.decode()
    assert "<html" not in panel and f'hx-get="/sync/status/?run={run.pk}"' in panel and 'hx-trigger="every 1s"' in panel
    assert "Waiting for a worker" in panel

    polling = client.get(f"/sync/status/?run={run.pk}", **HX)
    assert polling.status_code == 200 and "every 1s" in polling.content.decode()

    finished = run_sync(run.pk)
    assert finished.status == "succeeded", finished.error
    done = client.get(f"/sync/status/?run={run.pk}", **HX)
    body = done.content.decode()
    assert done.status_code == 286 and json.loads(done["HX-Trigger"]) == {"syncFinished": {}}  # django-htmx trigger_client_event
    assert "every 1s" not in body and "Sync finished" in body and 'data-percent="100"' in body

    # the synced sandbox data now fills the overview, teams and goals pages
    held = sandbox_titles(sandbox)
    overview = client.get("/", **HX)
    assert overview.status_code == 200
    summary = text_of(overview)
    assert "data-empty" not in overview.content.decode() and "Goals by health" in summary
    assert f"· {len(held[Kind.GOAL])} goals" in summary, summary[:400]  # every goal the vendor holds
    first = Goal.objects.filter(connector=ogsm_credential.connector).order_by("title", "id").first()
    assert first is not None and first.title == held[Kind.GOAL][first.external_id]
    goals_page = client.get("/goals/?vendor=ogsm&sort=title")
    assert goals_page.status_code == 200 and escape(first.title) in goals_page.content.decode()
    teams_page = client.get("/teams/")
    assert teams_page.status_code == 200 and "OGSM (sandbox)" in teams_page.content.decode()


def test_sync_now_without_javascript_redirects_to_the_overview_with_the_runs(client, ogsm_credential, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/sync/now/")
    run = SyncRun.objects.get(credential=ogsm_credential)
    assert response.status_code == 302 and response["Location"] == f"/?run={run.pk}"
    page = client.get(response["Location"])
    assert page.status_code == 200 and f'data-run="{run.pk}"' in page.content.decode()


def test_sync_now_with_nothing_to_sync_says_what_to_do(client, member):
    response = client.post("/sync/now/", **HX)
    body = response.content.decode()
    assert response.status_code == 200 and not SyncRun.objects.exists()
    assert "You have no connection of your own to sync yet. Connect one under Connections." in body


def test_sync_now_needs_post_and_a_csrf_token(member, ogsm_credential):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.get("/sync/now/").status_code == 405
    assert client.post("/sync/now/").status_code == 403
    assert not SyncRun.objects.exists()


def test_status_of_someone_elses_run_is_not_shown(client, member):
    other = CredentialFactory(owner=UserFactory(username="otto"))
    theirs = SyncRun.objects.create(credential=other, status="running")
    mine = SyncRun.objects.create(credential=CredentialFactory(owner=member), status="running")
    response = client.get(f"/sync/status/?run={theirs.pk}&run={mine.pk}", **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="sync-panel"' in body and f'data-run="{mine.pk}"' in body  # the panel, with mia's own run
    assert f'data-run="{theirs.pk}"' not in body
    assert f"run={theirs.pk}" not in body  # nor is it polled for

    alone = client.get(f"/sync/status/?run={theirs.pk}", **HX)
    assert alone.status_code == 200 and 'id="sync-panel"' in alone.content.decode()
    assert "data-run=" not in alone.content.decode() and 'hx-trigger="every 1s"' not in alone.content.decode()
