"""Single sign-on in Debian's Chromium: the sign-in page's "Sign in with ..." button, the test
OpenID provider's form (tests/oidc_provider.py, on loopback), and back on Overview signed in as
the user the provider vouched for, an admin by the provider's group. Screenshots of the sign-in
page with the button at desktop and phone widths land in tests/artifacts/ (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from dashboard.accounts import oidc
from tests.e2e.test_dashboard import DESKTOP, shoot
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, RunningProvider, serve

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider(settings: Any) -> Iterator[RunningProvider]:
    running = serve()
    oidc._discovered.clear()
    settings.OIDC_ISSUER = running.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ADMIN_GROUP = "okrhub-admins"
    settings.OIDC_BUTTON_LABEL = "Sign in with Acme"
    settings.LOCAL_LOGIN = "break-glass"
    settings.BREAK_GLASS_USERS = ["root"]
    yield running
    running.stop()


def test_sign_in_through_the_provider(page: Page, live_server: Any, provider: RunningProvider, artifacts_dir: Any) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/accounts/login/")
    button = page.get_by_role("link", name="Sign in with Acme")
    expect(button).to_be_visible()
    expect(page.get_by_text("Password sign-in is for break-glass administrators only.")).to_be_visible()
    shoot(page, artifacts_dir, "login-sso")

    button.click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    assert page.url.startswith(f"{provider.issuer}/authorize?")
    page.get_by_label("Ada Lovelace (ada@example.com)").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert page.url == f"{live_server.url}/"
    ada = User.objects.get(email="ada@example.com")
    assert ada.is_staff and not ada.is_superuser
    expect(page.get_by_role("link", name="Admin", exact=True)).to_be_visible()  # admins see the Admin area


def test_a_refused_sign_in_is_explained_on_the_sign_in_page(
    page: Page, live_server: Any, provider: RunningProvider, artifacts_dir: Any
) -> None:
    provider.provider.omit_email = True
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Sign in with Acme").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("did not share your e-mail address")
    assert page.url == f"{live_server.url}/accounts/login/"
    shoot(page, artifacts_dir, "login-sso-refused")
