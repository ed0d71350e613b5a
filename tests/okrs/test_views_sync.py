"""'Sync now' on the overview against a real vendor sandbox over HTTP: the POST (CSRF) queues the
user's own credentials, the status partial polls and answers 286 once every run is finished."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape

from dashboard.integrations.models import SyncRun
from dashboard.integrations.services.sync import run_sync
from dashboard.okrs.models import Goal
from tests.factories import ConnectorFactory, CredentialFactory, UserFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def member(client):
    user = UserFactory(username="mia")
    client.force_login(user)
    return user


@pytest.fixture
def ogsm_credential(sandbox_factory, member):
    sandbox, server = sandbox_factory("ogsm", seed=3, size="small")
    connector = ConnectorFactory(vendor="ogsm", name="OGSM (sandbox)", base_url=server.url)
    return CredentialFactory(owner=member, connector=connector, secret=dict(sandbox.credentials[0].secret))


def test_sync_now_polls_until_the_run_finishes_then_stops_with_286(client, member, ogsm_credential, django_capture_on_commit_callbacks):
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
    assert done.status_code == 286 and done["HX-Trigger"] == "syncFinished"
    assert "every 1s" not in body and "Sync finished" in body and 'data-percent="100"' in body

    # the synced sandbox data now fills the overview, teams and goals pages
    overview = client.get("/", **HX).content.decode()
    assert "data-empty" not in overview
    first = Goal.objects.filter(connector=ogsm_credential.connector).order_by("title", "id").first()
    assert first is not None
    assert escape(first.title) in client.get("/goals/?vendor=ogsm&sort=title").content.decode()
    assert "OGSM (sandbox)" in client.get("/teams/").content.decode()


def test_sync_now_without_javascript_redirects_to_the_overview_with_the_runs(client, ogsm_credential, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/sync/now/")
    run = SyncRun.objects.get(credential=ogsm_credential)
    assert response.status_code == 302 and response["Location"] == f"/?run={run.pk}"
    page = client.get(response["Location"]).content.decode()
    assert f'data-run="{run.pk}"' in page


def test_sync_now_with_nothing_to_sync_says_what_to_do(client, member):
    body = client.post("/sync/now/", **HX).content.decode()
    assert "no connection of your own" in body and "Connections" in body


def test_sync_now_needs_post_and_a_csrf_token(member, ogsm_credential):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.get("/sync/now/").status_code == 405
    assert client.post("/sync/now/").status_code == 403
    assert not SyncRun.objects.exists()


def test_status_of_someone_elses_run_is_not_shown(client, member):
    other = CredentialFactory(owner=UserFactory(username="otto"))
    run = SyncRun.objects.create(credential=other, status="running")
    body = client.get(f"/sync/status/?run={run.pk}", **HX).content.decode()
    assert f'data-run="{run.pk}"' not in body
