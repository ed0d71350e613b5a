"""API tokens: the page (create shown once, revoke with confirmation, empty state), hashed
storage, the ``apitoken`` command, and the admin."""

from __future__ import annotations

import hashlib
import re
from io import StringIO
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client

from dashboard.accounts.models import ApiToken
from dashboard.accounts.tokens import authenticate_token, create_token
from tests.factories import AdminFactory, UserFactory

TOKEN_RE = re.compile(r"okh_[A-Za-z0-9_\-]{40,}")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice_client(db: None) -> Client:
    client = Client()
    client.force_login(UserFactory(username="alice"))
    return client


def _api_status(raw: str) -> int:
    return Client().get("/api/v1/teams", headers={"Authorization": f"Bearer {raw}"}).status_code


def test_the_page_requires_sign_in(db: None) -> None:
    response = Client().get("/api-tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_empty_state_teaches(alice_client: Client) -> None:
    response = alice_client.get("/api-tokens/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No API tokens yet" in html and "Authorization: Bearer" in html and "css/api_tokens.css" in html
    assert 'href="/api/v1/docs"' in html


def test_creating_a_token_shows_it_once_and_stores_only_its_hash(alice_client: Client) -> None:
    response = alice_client.post("/api-tokens/", {"name": "weekly report"})
    assert response.status_code == 201
    html = response.content.decode()
    [raw] = set(TOKEN_RE.findall(html))
    assert "Copy it now: it is not shown again." in html and "data-copy-target" in html

    token = ApiToken.objects.get()
    assert token.name == "weekly report" and token.user.username == "alice"
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest() and token.prefix == raw[:12]
    # The raw token is nowhere in the database: not in the token row, not in any session.
    stored = [str(v) for v in ApiToken.objects.values_list(*[f.attname for f in ApiToken._meta.concrete_fields]).get()]
    assert all(raw not in value for value in stored)
    assert all(raw not in str(s.get_decoded()) and raw not in s.session_data for s in Session.objects.all())

    # Shown once: the next visit lists it by prefix only.
    again = alice_client.get("/api-tokens/").content.decode()
    assert raw not in again and f"{raw[:12]}…" in again and "weekly report" in again
    # And it works against the API.
    assert _api_status(raw) == 200


def test_a_token_needs_a_name(alice_client: Client) -> None:
    response = alice_client.post("/api-tokens/", {"name": "  "})
    assert response.status_code == 400
    assert "A token needs a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_asks_for_confirmation_then_the_token_stops_working(alice_client: Client) -> None:
    alice_client.post("/api-tokens/", {"name": "old script"})
    token = ApiToken.objects.get()
    raw_html = alice_client.post("/api-tokens/", {"name": "other"}).content.decode()
    [other_raw] = set(TOKEN_RE.findall(raw_html))

    listing = alice_client.get("/api-tokens/").content.decode()
    assert f'href="/api-tokens/{token.pk}/revoke/"' in listing

    confirm = alice_client.get(f"/api-tokens/{token.pk}/revoke/")
    assert confirm.status_code == 200 and "Revoke" in confirm.content.decode() and "old script" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None  # looking at the confirmation changes nothing

    done = alice_client.post(f"/api-tokens/{token.pk}/revoke/", follow=True)
    assert done.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    html = done.content.decode()
    assert "Revoked “old script”" in html and "Revoked " in html
    assert authenticate_token(other_raw) is not None  # the other token is untouched


def test_someone_elses_token_cannot_be_revoked(alice_client: Client) -> None:
    bobs = create_token(UserFactory(username="bob"), "bob's").token
    assert alice_client.get(f"/api-tokens/{bobs.pk}/revoke/").status_code == 404
    assert alice_client.post(f"/api-tokens/{bobs.pk}/revoke/").status_code == 404
    bobs.refresh_from_db()
    assert bobs.revoked_at is None
    assert "bob&#x27;s" not in alice_client.get("/api-tokens/").content.decode()


# -- the apitoken command ------------------------------------------------------------------------


def test_apitoken_create_prints_one_working_token(db: None) -> None:
    UserFactory(username="carol")
    out, err = StringIO(), StringIO()
    call_command("apitoken", "create", "--user", "carol", "--name", "nightly export", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert TOKEN_RE.fullmatch(raw)
    assert "not shown again" in err.getvalue()
    token = ApiToken.objects.get()
    assert token.name == "nightly export" and token.user.username == "carol"
    assert _api_status(raw) == 200


def test_apitoken_list_and_revoke(db: None) -> None:
    new = create_token(UserFactory(username="dave"), "cli")
    out = StringIO()
    call_command("apitoken", "list", "--user", "dave", stdout=out)
    assert f"{new.token.pk}\tdave\t{new.raw[:12]}…\tcli\tread\tactive until {new.token.expires_at:%Y-%m-%d}" in out.getvalue()
    assert new.raw not in out.getvalue()

    out = StringIO()
    call_command("apitoken", "revoke", str(new.token.pk), stdout=out)
    assert f"Revoked token {new.token.pk}" in out.getvalue()
    assert _api_status(new.raw) == 401
    out = StringIO()
    call_command("apitoken", "list", stdout=out)
    assert "revoked" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--user", "nobody"], "No user named 'nobody'."),
        (["revoke", "424242"], "No API token with id 424242."),
        (["create", "--user", "erin", "--name", " "], "A token needs a name"),
    ],
)
def test_apitoken_errors_are_clear(db: None, args: list[str], message: str) -> None:
    UserFactory(username="erin")
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("apitoken", *args)


def test_admin_lists_tokens_without_the_hash_and_can_revoke(db: None) -> None:
    new = create_token(UserFactory(username="frank"), "frank's script")
    client = Client()
    client.force_login(AdminFactory(username="boss"))
    page = client.get("/admin/accounts/apitoken/").content.decode()
    assert "frank" in page and new.token.token_hash not in page
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403
    detail = client.get(f"/admin/accounts/apitoken/{new.token.pk}/change/").content.decode()
    assert new.token.token_hash not in detail
    client.post("/admin/accounts/apitoken/", {"action": "revoke_tokens", "_selected_action": [new.token.pk]})
    assert _api_status(new.raw) == 401
