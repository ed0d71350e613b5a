"""In Debian's Chromium against the live server: the API tokens page (empty state, create and
copy, use the token, revoke with confirmation) and the browsable API docs rendering from our
own static files. Screenshots at desktop and phone widths land in tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dashboard.accounts.models import ApiToken
from dashboard.accounts.tokens import create_token
from tests.factories import AdminFactory, ConnectorFactory, CredentialFactory, GoalFactory, TeamFactory, UserFactory, see

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Secret-123"  # tests.factories.UserFactory
SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 375, "height": 812}}


def shoot(page: Page, artifacts_dir: Path, name: str) -> None:
    for label, size in SIZES.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(artifacts_dir / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(SIZES["desktop"])


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def test_tokens_page_create_use_and_revoke(page: Page, live_server: Any, artifacts_dir: Path) -> None:
    user = UserFactory(username="tess")
    credential = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="north", name="North"))
    team = TeamFactory(connector=credential.connector, name="Sales")
    see(credential, team, GoalFactory(connector=credential.connector, team=team, title="Close 40 deals"))

    sign_in(page, live_server.url, "tess")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="No API tokens yet")).to_be_visible()
    shoot(page, artifacts_dir, "api-tokens-empty")

    page.get_by_label("Name").fill("weekly report")
    page.locator('input[name="scopes"][value="sync"]').check()
    page.get_by_label("Expires after").select_option(label="30 days")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_be_visible()
    raw = page.locator("#new-token-value").input_value()
    assert raw.startswith("okh_")
    page.get_by_role("button", name="Copy").click()
    # Headless Chromium may deny clipboard access; then the page says how to copy by hand.
    expect(page.locator(".copy-status")).to_have_text(re.compile(r"^(Copied\.|Press Ctrl\+C to copy\.)$"))
    shoot(page, artifacts_dir, "api-tokens-created")

    # The token works from outside the browser session.
    response = page.request.get(f"{live_server.url}/api/v1/goals", headers={"Authorization": f"Bearer {raw}"})
    assert response.status == 200 and response.json()["results"][0]["title"] == "Close 40 deals"

    page.goto(f"{live_server.url}/api-tokens/")
    assert raw not in page.content()  # shown once
    token = ApiToken.objects.get()
    assert token.scopes == ["read", "sync"] and token.expires_at is not None
    row = page.get_by_role("row", name=re.compile("weekly report"))
    expect(row).to_contain_text("read")
    expect(row).to_contain_text("sync")
    expect(row).to_contain_text(f"{token.expires_at:%Y-%m-%d}")
    page.get_by_role("link", name="Revoke weekly report").click()
    expect(page.get_by_text("Scripts using it stop working at once")).to_be_visible()
    shoot(page, artifacts_dir, "api-tokens-revoke-confirm")
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_text("Revoked “weekly report”")).to_be_visible()
    shoot(page, artifacts_dir, "api-tokens-revoked")
    assert ApiToken.objects.get().revoked_at is not None
    denied = page.request.get(f"{live_server.url}/api/v1/goals", headers={"Authorization": f"Bearer {raw}"})
    assert denied.status == 401


def test_docs_render_from_local_assets(page: Page, live_server: Any, artifacts_dir: Path) -> None:
    external: list[str] = []
    page.on("request", lambda request: external.append(request.url) if not request.url.startswith(live_server.url) else None)
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_text("/api/v1/goals/{goal_id}")).to_be_visible()
    expect(page.locator(".swagger-ui .title")).to_contain_text("OKR Hub API")
    shoot(page, artifacts_dir, "api-docs")
    assert external == []


def test_admins_see_every_users_tokens(page: Page, live_server: Any, artifacts_dir: Path) -> None:
    AdminFactory(username="root")
    create_token(UserFactory(username="uma"), "nightly export")
    create_token(UserFactory(username="vic"), "deploy hook", scopes=["sync"], expires_in_days=0)
    sign_in(page, live_server.url, "root")
    page.goto(f"{live_server.url}/api-tokens/")
    page.get_by_role("link", name="see every user's tokens").click()
    expect(page.get_by_role("heading", name="All API tokens")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("uma nightly export"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("vic deploy hook"))).to_contain_text("Never")
    shoot(page, artifacts_dir, "api-tokens-all")
