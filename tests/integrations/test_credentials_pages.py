"""Members' "My connections" against the OGSM sandbox over real HTTP: connect, test, replace,
disconnect; secrets never echoed; other members' credential ids give 404."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.views.debug import ExceptionReporter

from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.services import connections as service
from dashboard.okrs import selectors
from tests.factories import ConnectorFactory, CredentialFactory, GoalFactory, UserFactory, see

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ogsm(sandbox_factory):  # type: ignore[no-untyped-def]
    sandbox, server = sandbox_factory("ogsm", seed=1, size="small")
    connector = ConnectorFactory(vendor="ogsm", name="OGSM", base_url=server.url)
    return sandbox, connector


@pytest.fixture
def member() -> object:
    return UserFactory(username="mia")


@pytest.fixture
def member_client(member) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(member)
    return client


def ogsm_secret(sandbox) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(sandbox.credentials[0].secret)


def test_empty_state_teaches_what_to_do(member_client: Client) -> None:
    body = member_client.get(reverse("integrations:connections")).content.decode()
    assert "No vendors to connect yet" in body
    assert "An administrator first adds" in body


def test_disabled_connectors_are_not_offered(member_client: Client) -> None:
    ConnectorFactory(name="Old North", enabled=False)
    on = ConnectorFactory(name="Live North")
    body = member_client.get(reverse("integrations:connections")).content.decode()
    assert "Live North" in body and "Old North" not in body
    assert f'id="connector-{on.pk}"' in body
    assert "Connect your North account to see its goals here." in body


def test_connect_over_http_stores_the_account_and_never_echoes_the_secret(ogsm, member, member_client: Client) -> None:  # type: ignore[no-untyped-def]
    sandbox, connector = ogsm
    secret = ogsm_secret(sandbox)
    url = reverse("integrations:connect", args=[connector.pk])
    response = member_client.post(url, secret, **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body  # the htmx answer is the connector's region only
    assert f'id="connector-{connector.pk}"' in body
    assert "Connected as" in body
    assert secret["password"] not in body
    credential = Credential.objects.get(owner=member, connector=connector)
    assert credential.account_name  # stored from check()
    assert credential.get_secret() == secret
    assert credential.secret_hint == secret["password"][-4:]
    # The first sync is queued with the connection (dispatched to Celery when the request commits).
    assert "The first sync has been queued." in body
    assert [(run.trigger, run.status) for run in SyncRun.objects.filter(credential=credential)] == [("manual", "queued")]
    page = member_client.get(reverse("integrations:connections")).content.decode()
    assert secret["password"] not in page
    assert f"…{credential.secret_hint}" in page
    # Connecting twice is refused with a clear message, not a second credential.
    again = member_client.post(url, secret, **HX).content.decode()
    assert "already connected" in again and secret["password"] not in again
    assert Credential.objects.filter(owner=member, connector=connector).count() == 1


def test_plain_post_connect_redirects_with_a_message(ogsm, member_client: Client) -> None:  # type: ignore[no-untyped-def]
    sandbox, connector = ogsm
    secret = ogsm_secret(sandbox)
    response = member_client.post(reverse("integrations:connect", args=[connector.pk]), secret, follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("integrations:connections")
    assert "Connected as" in body and secret["password"] not in body


def test_refused_password_is_not_saved_and_not_echoed(ogsm, member_client: Client) -> None:  # type: ignore[no-untyped-def]
    sandbox, connector = ogsm
    wrong = {"username": sandbox.credentials[0].secret["username"], "password": "Wrong-Password-7x7x7x"}
    for extra in ({}, HX):
        response = member_client.post(reverse("integrations:connect", args=[connector.pk]), wrong, **extra)
        body = response.content.decode()
        assert "Wrong user name or password" in body
        assert wrong["password"] not in body
    assert not Credential.objects.filter(connector=connector).exists()


def test_validation_errors_never_echo_the_secret(ogsm, member_client: Client) -> None:  # type: ignore[no-untyped-def]
    _sandbox, connector = ogsm
    typed = "Typed-But-Incomplete-4242"
    for extra in ({}, HX):
        response = member_client.post(reverse("integrations:connect", args=[connector.pk]), {"username": "", "password": typed}, **extra)
        body = response.content.decode()
        assert "This field is required" in body
        assert typed not in body
    token_connector = ConnectorFactory(vendor="north", name="North")
    long_token = "x" * 4001
    body = member_client.post(reverse("integrations:connect", args=[token_connector.pk]), {"token": long_token}).content.decode()
    assert "at most 4000 characters" in body and long_token not in body


def test_test_connection_is_an_htmx_partial_naming_the_account(ogsm, member, member_client: Client) -> None:  # type: ignore[no-untyped-def]
    sandbox, connector = ogsm
    credential = CredentialFactory(connector=connector, owner=member, secret=ogsm_secret(sandbox))
    response = member_client.post(reverse("integrations:test_connection", args=[credential.pk]), **HX)
    body = response.content.decode()
    assert "<html" not in body and 'class="test-result test-ok"' in body
    credential.refresh_from_db()
    assert credential.account_name and credential.account_name in body
    # Without htmx the same button renders the whole page with the result in place.
    body = member_client.post(reverse("integrations:test_connection", args=[credential.pk])).content.decode()
    assert "<html" in body and "test-result test-ok" in body


def test_replace_secret_keeps_the_old_one_when_refused(ogsm, member, member_client: Client) -> None:  # type: ignore[no-untyped-def]
    sandbox, connector = ogsm
    good = ogsm_secret(sandbox)
    credential = CredentialFactory(
        connector=connector, owner=member, secret={"username": good["username"], "password": "stale-password-0000"}
    )
    url = reverse("integrations:replace_secret", args=[credential.pk])
    bad = {"username": good["username"], "password": "Still-Wrong-Password-1"}
    body = member_client.post(url, bad, **HX).content.decode()
    assert "Wrong user name or password" in body and "The stored secret was kept" in body and bad["password"] not in body
    credential.refresh_from_db()
    assert credential.get_secret()["password"] == "stale-password-0000"
    body = member_client.post(url, good, **HX).content.decode()
    assert "Secret replaced" in body and good["password"] not in body
    credential.refresh_from_db()
    assert credential.get_secret() == good
    assert credential.secret_hint == good["password"][-4:]


def test_disconnect_removes_the_data_from_the_members_views_at_once(member, member_client: Client) -> None:  # type: ignore[no-untyped-def]
    credential = CredentialFactory(owner=member)
    goal = GoalFactory(connector=credential.connector)
    see(credential, goal)
    assert list(selectors.visible_goals(member)) == [goal]
    confirm = member_client.get(reverse("integrations:disconnect", args=[credential.pk])).content.decode()
    assert "leave your views at once" in confirm
    response = member_client.post(reverse("integrations:disconnect", args=[credential.pk]), follow=True)
    assert "Disconnected from" in response.content.decode()
    assert not Credential.objects.filter(pk=credential.pk).exists()
    member = type(member).objects.get(pk=member.pk)  # a fresh user: no cached credential ids
    assert list(selectors.visible_goals(member)) == []


@pytest.mark.parametrize("name", ["test_connection", "replace_secret", "disconnect"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_other_members_and_shared_credential_ids_give_404(member_client: Client, name: str, method: str) -> None:
    others = CredentialFactory(owner=UserFactory(username="otto"), secret={"token": "otto-token-abcdef123"})
    shared = Credential(connector=others.connector, is_shared=True, share_with_everyone=True)
    shared.set_secret({"token": "shared-token-zyx987"})
    shared.save()
    for credential_id in (others.pk, shared.pk, 999_999):
        response = getattr(member_client, method)(reverse(f"integrations:{name}", args=[credential_id]), {"token": "attacker-token-1234"})
        assert response.status_code in (404, 405), (name, method, credential_id)
        if method == "post" or name != "test_connection":
            assert response.status_code == 404
    assert Credential.objects.get(pk=others.pk).get_secret() == {"token": "otto-token-abcdef123"}
    assert Credential.objects.filter(pk__in=[others.pk, shared.pk]).count() == 2


def test_admin_pages_are_404_for_members(member_client: Client) -> None:
    connector = ConnectorFactory()
    for url in (
        reverse("integrations:connector_list"),
        reverse("integrations:connector_add"),
        reverse("integrations:connector_detail", args=[connector.pk]),
        reverse("integrations:connector_delete", args=[connector.pk]),
        reverse("integrations:shared_add", args=[connector.pk]),
    ):
        assert member_client.get(url).status_code == 404
        assert member_client.post(url).status_code == 404
    assert Connector.objects.filter(pk=connector.pk).exists()


def test_shared_credentials_granted_to_the_member_are_listed_without_secrets(member, member_client: Client) -> None:  # type: ignore[no-untyped-def]
    connector = ConnectorFactory(vendor="ogsm", name="OGSM tenant")
    shared = Credential(connector=connector, is_shared=True, share_with_everyone=True, label="OGSM service account")
    shared.set_secret({"username": "svc", "password": "service-Password-9911"})
    shared.save()
    body = member_client.get(reverse("integrations:connections")).content.decode()
    assert "Also visible to you through 1 shared credential: OGSM service account" in " ".join(body.split())
    assert "service-Password-9911" not in body


def test_error_reports_and_logs_do_not_show_posted_secrets(ogsm, member, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """A crash while connecting: the 500 page, the log line and the error report an admin gets by
    e-mail (Django's ExceptionReporter, as AdminEmailHandler builds it) mask the password, both
    the POST parameter and the service's local variables."""
    sandbox, connector = ogsm
    secret = ogsm_secret(sandbox)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom while connecting")

    monkeypatch.setattr(service, "run_check", crash)
    client = Client(raise_request_exception=False)
    client.force_login(member)
    with override_settings(DEBUG=False), caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.post(reverse("integrations:connect", args=[connector.pk]), secret)
        assert response.status_code == 500
        assert secret["password"] not in response.content.decode()
        [record] = [r for r in caplog.records if r.name == "django.request"]
        assert secret["password"] not in record.getMessage()
        report = ExceptionReporter(record.request, *record.exc_info, is_email=True)
        html, text = report.get_traceback_html(), report.get_traceback_text()
    assert "boom while connecting" in text
    assert "cleaned" in html and "secret" in html  # the service frame is there, its values masked
    assert secret["password"] not in html
    assert secret["password"] not in text
    assert "********************" in html


def test_connections_page_query_count_does_not_grow_with_connectors(member, member_client: Client, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    def add_connector(i: int) -> None:
        connector = ConnectorFactory(vendor=("north", "operately", "ogsm")[i % 3], name=f"Vendor {i}")
        CredentialFactory(connector=connector, owner=member)
        shared = Credential(connector=connector, is_shared=True, share_with_everyone=True, label=f"Shared {i}")
        shared.set_secret({"token": f"shared-token-{i}-abcdef"})
        shared.save()

    add_connector(0)
    with CaptureQueriesContext(connection) as one:
        member_client.get(reverse("integrations:connections"))
    for i in range(1, 6):
        add_connector(i)
    with django_assert_max_num_queries(len(one.captured_queries)):
        body = member_client.get(reverse("integrations:connections")).content.decode()
    assert "Vendor 5" in body and "Shared 5" in body
