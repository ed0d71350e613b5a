"""Admin connector pages: add, edit, disable, delete; sync health without secrets; shared
credentials; the Django admin never shows a secret."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from dashboard.integrations.models import Connector, Credential
from dashboard.okrs import selectors
from tests.factories import AdminFactory, ConnectorFactory, CredentialFactory, GoalFactory, UserFactory, see

pytestmark = pytest.mark.django_db

MEMBER_TOKEN = "member-token-Abcdefgh1234"


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(AdminFactory(username="root"))
    return client


def test_empty_connector_list_teaches(admin_client: Client) -> None:
    body = admin_client.get(reverse("integrations:connector_list")).content.decode()
    assert "No connectors yet" in body and "manage.py connector add" in body


def test_add_edit_disable_delete(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("integrations:connector_add"),
        {"vendor": "north", "name": "North", "base_url": "http://127.0.0.1:8001/", "interval_minutes": 30, "enabled": "on"},
    )
    connector = Connector.objects.get(name="North")
    assert response.status_code == 302 and response["Location"] == reverse("integrations:connector_detail", args=[connector.pk])
    assert (connector.vendor, connector.base_url, connector.interval_minutes, connector.enabled) == (
        "north",
        "http://127.0.0.1:8001",
        30,
        True,
    )

    url = reverse("integrations:connector_detail", args=[connector.pk])
    response = admin_client.post(
        url,
        {
            "vendor": "north",
            "name": "North EU",
            "base_url": "http://127.0.0.1:8002",
            "interval_minutes": 120,
            "enabled": "on",
            "allow_shared_writes": "on",
        },
    )
    assert response.status_code == 302
    connector.refresh_from_db()
    assert (connector.name, connector.interval_minutes, connector.allow_shared_writes) == ("North EU", 120, True)

    admin_client.post(reverse("integrations:connector_toggle", args=[connector.pk]))
    connector.refresh_from_db()
    assert connector.enabled is False
    assert "Disabled: not synced" in admin_client.get(url).content.decode()

    confirm = admin_client.get(reverse("integrations:connector_delete", args=[connector.pk])).content.decode()
    assert "Delete connector North EU?" in confirm
    response = admin_client.post(reverse("integrations:connector_delete", args=[connector.pk]))
    assert response.status_code == 302 and not Connector.objects.filter(pk=connector.pk).exists()


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://okrs.example.com", "must use https://"),
        ("https://admin:hunter2@okrs.example.com", "must not contain a user name or password"),
        ("https://169.254.169.254/", "link-local"),
        ("https://localhost:9000", "loopback"),
    ],
)
def test_unsafe_base_url_is_refused_in_the_form(admin_client: Client, base_url: str, message: str) -> None:
    with override_settings(CONNECTOR_ALLOWED_HOSTS=[]):
        response = admin_client.post(
            reverse("integrations:connector_add"), {"vendor": "north", "name": "Bad", "base_url": base_url, "interval_minutes": 60}
        )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Connector.objects.filter(name="Bad").exists()


def test_bad_interval_and_duplicate_name_are_explained(admin_client: Client) -> None:
    ConnectorFactory(name="North")
    body = admin_client.post(
        reverse("integrations:connector_add"), {"vendor": "north", "name": "North", "base_url": "http://127.0.0.1:1", "interval_minutes": 1}
    ).content.decode()
    assert "Connector with this Name already exists." in body
    assert "greater than or equal to 5" in body


def test_sync_health_lists_every_credential_without_secrets(admin_client: Client) -> None:
    connector = ConnectorFactory(name="North")
    healthy = CredentialFactory(connector=connector, owner=UserFactory(username="hana"), secret={"token": MEMBER_TOKEN})
    healthy.account_name, healthy.last_success_at, healthy.last_sync_at = "Hana H", timezone.now(), timezone.now()
    healthy.save()
    failing = CredentialFactory(connector=connector, owner=UserFactory(username="finn"), secret={"token": "finn-token-Zyxwvu9876"})
    failing.last_error, failing.consecutive_failures, failing.last_sync_at = (
        "Vendor server error (GET /api/goals) [HTTP 500]",
        3,
        timezone.now(),
    )
    failing.save()
    reentry = CredentialFactory(connector=connector, owner=UserFactory(username="rhea"), secret={"token": "rhea-token-Qwerty5555"})
    reentry.mark_needs_reentry("The vendor refused the credential")

    body = admin_client.get(reverse("integrations:connector_list")).content.decode()
    for word in ("hana", "finn", "rhea", "Healthy", "Last sync failed", "Needs re-entry", "Vendor server error", "2 failing"):
        assert word in body, word
    for secret in (MEMBER_TOKEN, "finn-token-Zyxwvu9876", "rhea-token-Qwerty5555"):
        assert secret not in body
    assert healthy.secret_encrypted not in body

    failing_only = admin_client.get(
        reverse("integrations:connector_list") + "?health=failing", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="sync-health"
    )
    text = failing_only.content.decode()
    assert "<html" not in text and "finn" in text and "rhea" in text and "hana" not in text

    detail = admin_client.get(reverse("integrations:connector_detail", args=[connector.pk])).content.decode()
    assert "finn" in detail and MEMBER_TOKEN not in detail


def test_shared_credential_for_a_group_over_http(admin_client: Client, sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox, server = sandbox_factory("ogsm", seed=1, size="small")
    connector = ConnectorFactory(vendor="ogsm", name="OGSM", base_url=server.url)
    leads = Group.objects.create(name="Team leads")
    secret = dict(sandbox.credentials[0].secret)
    url = reverse("integrations:shared_add", args=[connector.pk])

    # Neither everyone nor a group: refused, and the typed password is not echoed.
    body = admin_client.post(url, {**secret, "label": "Service account"}).content.decode()
    assert "Choose who sees" in body and secret["password"] not in body
    # A wrong password: refused by the vendor, nothing saved, nothing echoed.
    body = admin_client.post(url, {**secret, "password": "wrong-Password-321", "groups": [leads.pk]}).content.decode()
    assert "Wrong user name or password" in body and "wrong-Password-321" not in body
    assert not Credential.objects.filter(connector=connector).exists()

    response = admin_client.post(url, {**secret, "label": "Service account", "groups": [leads.pk]})
    assert response.status_code == 302
    shared = Credential.objects.get(connector=connector, is_shared=True)
    assert shared.owner is None and not shared.share_with_everyone and list(shared.groups.all()) == [leads]
    assert shared.account_name

    lead, other = UserFactory(username="lea"), UserFactory(username="olaf")
    lead.groups.add(leads)
    goal = GoalFactory(connector=connector)
    see(shared, goal)
    assert list(selectors.visible_goals(lead)) == [goal]
    assert list(selectors.visible_goals(other)) == []

    edit_url = reverse("integrations:shared_edit", args=[shared.pk])
    page = admin_client.get(edit_url).content.decode()
    assert "Service account" in page and secret["password"] not in page and f"…{shared.secret_hint}" in page
    admin_client.post(edit_url, {"action": "sharing", "label": "Service account", "share_with_everyone": "on"})
    shared.refresh_from_db()
    assert shared.share_with_everyone
    other = type(other).objects.get(pk=other.pk)
    assert list(selectors.visible_goals(other)) == [goal]

    test_body = admin_client.post(reverse("integrations:shared_test", args=[shared.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "test-ok" in test_body and secret["password"] not in test_body

    admin_client.post(reverse("integrations:shared_delete", args=[shared.pk]))
    assert not Credential.objects.filter(pk=shared.pk).exists()
    lead = type(lead).objects.get(pk=lead.pk)
    assert list(selectors.visible_goals(lead)) == []


def test_django_admin_never_shows_a_secret(admin_client: Client) -> None:
    credential = CredentialFactory(secret={"token": MEMBER_TOKEN})
    pages = [
        reverse("admin:integrations_credential_changelist"),
        reverse("admin:integrations_credential_change", args=[credential.pk]),
        reverse("admin:integrations_connector_change", args=[credential.connector_id]),
    ]
    for url in pages:
        response = admin_client.get(url)
        body = response.content.decode()
        assert response.status_code == 200, url
        assert MEMBER_TOKEN not in body and credential.secret_encrypted not in body
        assert 'name="secret_encrypted"' not in body
    assert admin_client.get(reverse("admin:integrations_credential_add")).status_code == 403
    # Saving the change form must not blank or alter the stored secret.
    admin_client.post(pages[1], {"label": "renamed", "status": "active", "status_reason": ""})
    credential.refresh_from_db()
    assert credential.get_secret() == {"token": MEMBER_TOKEN}
