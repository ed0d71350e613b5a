"""CSRF on every POST (plain and htmx), clickjacking and content-type headers on every page,
secure session cookies and a clean ``check --deploy`` under production settings, and a rate
limit on sign-in attempts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from tests.security.conftest import World
from tests.security.test_access import ACTING_ROUTES, body_of, param_values
from tests.security.urls import project_routes

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def victor_csrf_client(world: World) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.victor)
    return client


def test_every_post_without_a_csrf_token_is_refused_plain_and_htmx(world: World):
    """Must hold: no route acts on a POST that lacks the CSRF token, whether it comes as a form
    post or as an htmx request, even for the signed-in owner of the object. (API calls with a
    Bearer token need none: browsers never attach that header by themselves.)"""
    client = victor_csrf_client(world)
    client.get("/")  # a CSRF cookie exists, as in a real browser; only the token is missing
    problems = []
    for route in project_routes():
        url = route.url(param_values(route, world))
        for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}):
            response = client.post(url, {"name": "csrf-probe", "title": "csrf-probe"}, **headers)
            if response.status_code == 405 and route.template.startswith("api/v1/"):
                continue  # an API route that takes no POST at all
            if response.status_code != 403:
                problems.append(f"POST {url} {'(htmx) ' if headers else ''}answered {response.status_code}")
    assert problems == []


def test_the_session_api_needs_csrf_but_a_bearer_token_does_not(world: World):
    client = victor_csrf_client(world)
    assert client.post("/api/v1/sync", content_type="application/json", data="{}").status_code == 403
    scripted = Client(enforce_csrf_checks=True)
    response = scripted.get("/api/v1/sync-runs", HTTP_AUTHORIZATION=f"Bearer {world.victor_token}")
    assert response.status_code == 200


def test_a_post_with_the_token_from_the_page_is_accepted_plain_and_htmx(world: World):
    """The control: the same client with the token the page hands out (``hx-headers`` on <body>
    for htmx, the form field otherwise) gets through, so the 403s above are CSRF's doing."""
    client = victor_csrf_client(world)
    page = client.get("/api-tokens/")
    token = str(page.context["csrf_token"])
    assert f'"X-CSRFToken": "{token}"' in body_of(page)  # htmx sends it from <body hx-headers>
    assert client.post("/api-tokens/", {"name": "form", "csrfmiddlewaretoken": token}).status_code == 201
    assert client.post("/api-tokens/", {"name": "htmx"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token).status_code == 201


def test_every_page_and_api_answer_forbids_framing_and_sniffing(world: World):
    client = Client(raise_request_exception=False)  # an error page must carry the headers too
    client.force_login(world.victor)
    checked = 0
    for route in project_routes():
        if route.name in ACTING_ROUTES:
            continue
        url = route.url(param_values(route, world))
        response = client.get(url)
        assert response.get("X-Frame-Options") == "DENY", f"{url}: X-Frame-Options {response.get('X-Frame-Options')}"
        assert response.get("X-Content-Type-Options") == "nosniff", f"{url}: no nosniff"
        checked += 1
    assert checked >= 30
    anonymous = Client().get("/accounts/login/")
    assert anonymous["X-Frame-Options"] == "DENY" and anonymous["X-Content-Type-Options"] == "nosniff"


def test_sign_in_attempts_are_rate_limited_per_user_and_per_address(world: World, settings: Any):
    settings.LOGIN_ATTEMPTS_PER_15_MINUTES = 5
    client = Client()
    for attempt in range(5):
        response = client.post("/accounts/login/", {"username": "victor", "password": f"wrong-{attempt}"})
        assert response.status_code == 200  # the form again, with an error
    blocked = client.post("/accounts/login/", {"username": "victor", "password": "pw-Secret-123"})
    assert blocked.status_code == 429 and "Too many failed sign-in attempts" in body_of(blocked)
    assert "_auth_user_id" not in client.session  # even the right password does not get in now
    # Another user from the same address is limited too (guessing across accounts).
    other = client.post("/accounts/login/", {"username": "mallory", "password": "pw-Secret-123"})
    assert other.status_code == 429
    # ...while the same account from another address is also held back (per user).
    elsewhere = Client(REMOTE_ADDR="10.9.8.7").post("/accounts/login/", {"username": "victor", "password": "pw-Secret-123"})
    assert elsewhere.status_code == 429


PRODUCTION_PROBE = r"""
import json, django
from django.conf import settings
django.setup()
from django.core.management import call_command
from django.test import Client
from django.contrib.auth import get_user_model
from django.test.utils import override_settings
call_command("migrate", verbosity=0)
# Static files are not what this probes: plain storage spares a collectstatic run.
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
get_user_model().objects.create_user("prod", password="a-Long-password-123")
client = Client(HTTP_HOST="okr.example.com")
client.get("/accounts/login/", secure=True)
response = client.post("/accounts/login/", {"username": "prod", "password": "a-Long-password-123",
                       "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
                       secure=True, HTTP_REFERER="https://okr.example.com/accounts/login/")
session, csrf = response.cookies["sessionid"], client.cookies["csrftoken"]
plain = Client().get("/accounts/login/", HTTP_HOST="okr.example.com")
print(json.dumps({
    "login_status": response.status_code,
    "session_secure": bool(session["secure"]), "session_httponly": bool(session["httponly"]),
    "csrf_secure": bool(csrf["secure"]),
    "http_redirects_to": plain.get("Location", ""),
    "debug": settings.DEBUG, "hsts": settings.SECURE_HSTS_SECONDS,
}))
"""


@pytest.fixture
def production_env(tmp_path: Path) -> dict[str, str]:
    # tests/conftest.py allows async-unsafe calls for Playwright; a deployment never does.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **inherited,
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "SECRET_KEY": "x" * 20 + Fernet.generate_key().decode(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "okr.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "OKRHUB_VAR_DIR": str(tmp_path / "var"),
        "OKRHUB_IGNORE_DOTENV": "1",
        "DEBUG": "",
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
    }


def test_session_and_csrf_cookies_are_secure_in_production(production_env: dict[str, str]):
    """A real sign-in under DJANGO_ENV=production: the cookies it sets are Secure (and the
    session cookie HttpOnly), plain http is redirected to https, DEBUG is off, HSTS is on."""
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=production_env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["login_status"] == 302
    assert facts["session_secure"] and facts["session_httponly"] and facts["csrf_secure"]
    assert facts["http_redirects_to"].startswith("https://okr.example.com/")
    assert facts["debug"] is False and facts["hsts"] >= 31536000


def test_check_deploy_is_clean_with_production_settings(production_env: dict[str, str]):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT, env=production_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
