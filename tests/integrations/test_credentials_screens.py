"""Connections and connector pages in Debian's Chromium against the live server: a member
connects North over HTTP (htmx), tests it, sees a refused token; an admin reads sync health.
Screenshots at desktop and phone widths land in tests/artifacts/ (git-ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from dashboard.integrations.sync import enqueue as sync_enqueue
from tests.factories import AdminFactory, ConnectorFactory, CredentialFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Secret-123"  # tests.factories.UserFactory
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 812}


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def shoot(page: Page, artifacts_dir: Path, name: str) -> None:
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(artifacts_dir / f"{name}-{label}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} scrolls sideways at {label} width ({width}px)"
    page.set_viewport_size(DESKTOP)


def test_member_connects_and_tests_north(page: Page, live_server, sandbox_factory, artifacts_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The first sync is dispatched on commit; record it here instead of sending it to the shared
    # development broker, where a running worker would pick up a run of the test database.
    dispatched: list[int] = []
    monkeypatch.setattr(sync_enqueue, "send_run", dispatched.append)
    sandbox, server = sandbox_factory("north", seed=1, size="small")
    ConnectorFactory(vendor="north", name="North", base_url=server.url)
    _ogsm_sandbox, ogsm_server = sandbox_factory("ogsm", seed=1, size="small")
    ConnectorFactory(vendor="ogsm", name="OGSM (Acme tenant)", base_url=ogsm_server.url)
    UserFactory(username="mia")
    token = sandbox.credentials[0].secret["token"]

    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "mia")
    page.goto(f"{live_server.url}/connections/")
    expect(page.get_by_role("heading", name="Connections")).to_be_visible()
    shoot(page, artifacts_dir, "connections-empty")

    north = page.locator("li.conn", has=page.get_by_role("heading", name="North"))
    north.get_by_text("Connect North").click()
    north.get_by_label("API token").fill("wrong-token-for-the-screenshot")
    north.get_by_role("button", name="Test and connect").click()
    expect(page.locator(".test-result.test-auth")).to_be_visible()
    assert "wrong-token-for-the-screenshot" not in page.content()
    shoot(page, artifacts_dir, "connections-refused")

    north = page.locator("li.conn", has=page.get_by_role("heading", name="North"))
    north.get_by_label("API token").fill(token)
    north.get_by_role("button", name="Test and connect").click()
    expect(page.get_by_text("Connected. The first sync has been queued.")).to_be_visible()
    assert len(dispatched) == 1
    north = page.locator("li.conn", has=page.get_by_role("heading", name="North"))
    north.get_by_role("button", name="Test connection").click()
    expect(north.locator(".test-result.test-ok")).to_be_visible()
    assert token not in page.content()
    shoot(page, artifacts_dir, "connections-connected")


def test_admin_sync_health(page: Page, live_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    AdminFactory(username="root")
    north = ConnectorFactory(vendor="north", name="North", base_url="http://127.0.0.1:8001")
    ogsm = ConnectorFactory(vendor="ogsm", name="OGSM (Acme tenant)", base_url="http://127.0.0.1:8003", interval_minutes=30)
    ConnectorFactory(vendor="operately", name="Operately", base_url="http://127.0.0.1:8002", enabled=False)
    now = timezone.now()
    for i, name in enumerate(["ana", "ben", "cho", "dev", "eli"]):
        credential = CredentialFactory(connector=north, owner=UserFactory(username=name))
        credential.account_name = name.title() + " Example"
        credential.last_sync_at = credential.last_success_at = now - timezone.timedelta(minutes=7 * (i + 1))
        if name == "ben":
            credential.last_error = "Vendor server error: Internal server error (GET /api/orgs/1/goals/) [HTTP 500]"
            credential.consecutive_failures = 2
            credential.last_sync_at = now
        credential.save()
        if name == "cho":
            credential.mark_needs_reentry("The vendor refused the credential: invalid token")
    shared = CredentialFactory(connector=ogsm, owner=None, is_shared=True, share_with_everyone=True, label="OGSM service account")
    shared.account_name = "api-acme"
    shared.save()

    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "root")
    page.goto(f"{live_server.url}/connectors/")
    expect(page.get_by_role("heading", name="Sync health")).to_be_visible()
    shoot(page, artifacts_dir, "connectors-list")
    page.get_by_role("link", name="Needs attention").click()
    expect(page.locator("#sync-health")).not_to_contain_text("ana")
    page.goto(f"{live_server.url}/connectors/{north.pk}/")
    shoot(page, artifacts_dir, "connector-detail")
    page.goto(f"{live_server.url}/connectors/add/")
    page.get_by_label("Display name").fill("Intranet")
    page.get_by_label("Base URL").fill("https://10.0.0.5/")
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_text("private address")).to_be_visible()
    shoot(page, artifacts_dir, "connector-add-error")
    page.goto(f"{live_server.url}/connectors/shared/{shared.pk}/")
    shoot(page, artifacts_dir, "shared-credential")
