"""Every page but login requires a signed-in user; the home page loads htmx from our static files."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_and_sign_in(client: Client) -> None:
    UserFactory(username="maria")
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "maria", "password": "pw-Secret-123"})
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/django_htmx/htmx" in html, "htmx must come from our static files"
    assert "unpkg.com" not in html and "cdn" not in html.lower()
    assert 'hx-headers=\'{"X-CSRFToken"' in html


def test_static_htmx_file_is_served(client: Client) -> None:
    from django.contrib.staticfiles import finders

    page_html = ""
    UserFactory(username="lee")
    client.login(username="lee", password="pw-Secret-123")
    page_html = client.get("/").content.decode()
    import re

    match = re.search(r'src="/static/(django_htmx/htmx[^"]+)"', page_html)
    assert match, page_html[:500]
    assert finders.find(match.group(1)), "the htmx script must exist among our static files"


def test_login_is_rate_limited(client: Client) -> None:
    from django.core.cache import cache

    cache.clear()
    UserFactory(username="target")
    statuses = [client.post("/accounts/login/", {"username": "target", "password": "wrong"}).status_code for _ in range(12)]
    assert statuses[0] == 200
    assert statuses[-1] == 429
    # Even the right password is refused while the limit holds.
    ok = client.post("/accounts/login/", {"username": "target", "password": "pw-Secret-123"})
    assert ok.status_code == 429
    cache.clear()


def test_logout_and_password_change_pages(client: Client) -> None:
    UserFactory(username="kim")
    client.login(username="kim", password="pw-Secret-123")
    assert client.get("/accounts/password/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_healthz_is_public(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
