"""Test-connection outcomes against the vendor sandboxes over real HTTP: ok, wrong token,
missing scope (North), read-only (Operately), unreachable host, refused URL."""

from __future__ import annotations

import socket

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from dashboard.integrations.models import Credential
from dashboard.integrations.services.connections import connect, test_connection
from tests.factories import ConnectorFactory, CredentialFactory, UserFactory

pytestmark = pytest.mark.django_db


def served_credential(sandbox_factory, vendor: str, label: str | None = None, secret: dict[str, str] | None = None) -> Credential:  # type: ignore[no-untyped-def]
    sandbox, server = sandbox_factory(vendor, seed=1, size="small")
    sandbox_credential = sandbox.credential(label) if label else sandbox.credentials[0]
    connector = ConnectorFactory(vendor=vendor, name=f"{vendor} sandbox", base_url=server.url)
    return CredentialFactory(connector=connector, secret=secret or dict(sandbox_credential.secret))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("vendor", ["north", "operately", "ogsm"])
def test_main_account_works_and_is_stored(sandbox_factory, vendor: str) -> None:  # type: ignore[no-untyped-def]
    credential = served_credential(sandbox_factory, vendor)
    outcome = test_connection(credential)
    assert outcome.kind == "ok", outcome.message
    assert outcome.account is not None and outcome.account.account_name
    assert outcome.message.startswith(f"Connected as {outcome.account.account_name}")
    credential.refresh_from_db()
    assert credential.account_name == outcome.account.account_name
    assert credential.can_write is True
    assert credential.status == Credential.Status.ACTIVE


@pytest.mark.parametrize(
    ("vendor", "secret"),
    [
        ("north", {"token": "not-a-real-token-0001"}),
        ("operately", {"token": "opk_wrongwrongwrong0001"}),
        ("ogsm", {"username": "api-acme", "password": "not-the-password"}),
    ],
)
def test_wrong_secret_says_so_and_marks_reentry(sandbox_factory, vendor: str, secret: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    credential = served_credential(sandbox_factory, vendor, secret=secret)
    outcome = test_connection(credential)
    assert outcome.kind == "auth"
    assert ("Wrong user name or password" if vendor == "ogsm" else "Wrong token:") in outcome.message
    assert all(value not in outcome.message for value in secret.values() if len(value) > 8)
    credential.refresh_from_db()
    assert credential.status == Credential.Status.NEEDS_REENTRY
    assert credential.get_secret() == secret  # kept, never blanked


def test_north_token_without_a_scope_is_named(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    credential = served_credential(sandbox_factory, "north", "alyssa (no OKRs and initiatives)")
    outcome = test_connection(credential)
    assert outcome.kind == "missing_scope", outcome.message
    assert outcome.missing_scopes and "missing the scope" in outcome.message
    credential.refresh_from_db()
    assert credential.missing_scopes == list(outcome.missing_scopes)


def test_operately_read_only_token_is_reported(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    credential = served_credential(sandbox_factory, "operately", "ada (read-only)")
    outcome = test_connection(credential)
    assert outcome.kind == "read_only", outcome.message
    assert "Read-only token" in outcome.message
    credential.refresh_from_db()
    assert credential.can_write is False and credential.write_disabled_reason


def test_unreachable_host(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    connector = ConnectorFactory(vendor="north", base_url=f"http://127.0.0.1:{closed_port()}")
    credential = CredentialFactory(connector=connector, secret={"token": "any-token-12345678"})
    outcome = test_connection(credential)
    assert outcome.kind == "unreachable"
    assert "Unreachable host" in outcome.message
    credential.refresh_from_db()
    assert credential.status == Credential.Status.ACTIVE  # a network problem is not the member's fault


def test_url_refused_at_connect_time(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    """The sandbox answers on plain http on loopback; once that host is no longer allowed, the
    connector is refused before any request carries the secret."""
    sandbox, server = sandbox_factory("north", seed=1, size="small")
    connector = ConnectorFactory(vendor="north", base_url=server.url)
    credential = CredentialFactory(connector=connector, secret=dict(sandbox.credentials[0].secret))
    with override_settings(CONNECTOR_ALLOWED_HOSTS=[]):
        outcome = test_connection(credential)
    assert outcome.kind == "url_refused"
    assert "base URL is refused" in outcome.message and "must use https://" in outcome.message
    assert sandbox.app.requests_seen == 0
    # A name that resolves to loopback is refused the same way, after DNS resolution.
    connector.base_url = server.url.replace("http://127.0.0.1", "https://localhost")
    connector.save()
    credential.refresh_from_db()
    with override_settings(CONNECTOR_ALLOWED_HOSTS=[]):
        outcome = test_connection(credential)
    assert outcome.kind == "url_refused" and "loopback" in outcome.message
    assert sandbox.app.requests_seen == 0


def test_unresolvable_host_is_unreachable_not_refused() -> None:
    connector = ConnectorFactory(vendor="north", base_url="https://no-such-host.invalid")
    credential = CredentialFactory(connector=connector, secret={"token": "any-token-12345678"})
    with override_settings(CONNECTOR_ALLOWED_HOSTS=[]):
        outcome = test_connection(credential)
    assert outcome.kind == "unreachable"


def test_connect_service_refuses_a_missing_scope_on_check_but_keeps_read_only(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox, server = sandbox_factory("operately", seed=1, size="small")
    connector = ConnectorFactory(vendor="operately", name="Operately", base_url=server.url)
    user = UserFactory()
    result = connect(user, connector, dict(sandbox.credential("ada (read-only)").secret))
    assert result.credential is not None and result.outcome.kind == "read_only"
    assert result.credential.can_write is False


def test_member_sees_each_outcome_in_the_htmx_partial(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox, server = sandbox_factory("north", seed=1, size="small")
    connector = ConnectorFactory(vendor="north", name="North", base_url=server.url)
    member = UserFactory()
    client = Client()
    client.force_login(member)
    cases = {
        "alyssa (full access)": ("test-ok", "Works"),
        "alyssa (no OKRs and initiatives)": ("test-missing_scope", "Missing scope"),
    }
    for label, (css, word) in cases.items():
        credential = CredentialFactory(connector=connector, owner=member, secret=dict(sandbox.credential(label).secret))
        body = client.post(reverse("integrations:test_connection", args=[credential.pk]), HTTP_HX_REQUEST="true").content.decode()
        assert css in body and word in body
        assert sandbox.credential(label).secret["token"] not in body
        credential.delete()
