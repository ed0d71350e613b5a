"""OpenID Connect sign-in against a real OpenID provider on loopback (tests/oidc_provider.py, Authlib):
the authorization-code flow with PKCE over real HTTP, state, nonce, issuer, expiry and e-mail
checks, roles and groups from the groups claim at every sign-in, and the break-glass mode."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
from django.contrib.auth.models import Group, User
from django.test import Client

from dashboard.accounts import oidc
from dashboard.integrations.visibility import visible_credentials
from tests.factories import AdminFactory, ConnectorFactory, CredentialFactory, UserFactory
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, RunningProvider, serve

pytestmark = pytest.mark.django_db
PASSWORD = "pw-Secret-123"  # tests.factories.UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def running_provider() -> Iterator[RunningProvider]:
    running = serve()
    yield running
    running.stop()


@pytest.fixture
def provider(settings: Any, running_provider: RunningProvider) -> Provider:
    oidc._discovered.clear()
    settings.OIDC_ISSUER = running_provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ADMIN_GROUP = "okrhub-admins"
    settings.OIDC_BUTTON_LABEL = "Sign in with Acme"
    return running_provider.provider


def start(client: Client) -> str:
    """Our /oidc/authenticate/: the provider's /authorize URL it redirects to."""
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302, response
    return str(response["Location"])


def at_provider(authorize_url: str, username: str) -> tuple[str, dict[str, str]]:
    """The user signs in at the provider (its form, over HTTP): where it sends the browser back."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200 and "Sign in as" in page.text, page.text
    answer = requests.post(authorize_url, data={"username": username}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return back.path, dict(parse_qsl(back.query))


def sign_in(client: Client, username: str) -> Any:
    path, query = at_provider(start(client), username)
    assert path == "/oidc/callback/"
    return client.get(path, query, follow=True)


def signed_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def page_text(response: Any) -> str:
    return response.content.decode()


# -- the flow -------------------------------------------------------------------------------------
def test_the_full_code_flow_with_pkce_creates_the_user_by_email_with_roles_and_groups(provider: Provider) -> None:
    engineering = Group.objects.create(name="Engineering")
    Group.objects.create(name="Finance")  # exists, but not claimed
    client = Client()
    response = sign_in(client, "ada")

    assert response.redirect_chain[-1][0] == "/"
    assert "Overview" in page_text(response)
    user = signed_in_user(client)
    assert user is not None
    assert (user.username, user.email, user.first_name, user.last_name) == ("ada", "ada@example.com", "Ada", "Lovelace")
    assert user.is_staff and not user.is_superuser  # okrhub-admins -> admin; never superuser
    assert not user.has_usable_password()
    assert list(user.groups.all()) == [engineering]  # only groups that exist here are mirrored
    assert not Group.objects.filter(name="okrhub-admins").exists()

    # What went over the wire: state, nonce and an S256 code challenge; the verifier at /token.
    authorize = provider.authorize_requests[-1]
    assert authorize["code_challenge_method"] == "S256" and len(authorize["code_challenge"]) >= 43
    assert authorize["state"] and authorize["nonce"] and authorize["scope"] == "openid email profile groups"
    assert authorize["redirect_uri"] == "http://testserver/oidc/callback/"
    assert len(provider.token_requests[-1]["code_verifier"]) >= 43


def test_the_provider_enforces_pkce(provider: Provider) -> None:
    authorize_url = start(Client())
    _path, query = at_provider(authorize_url, "grace")
    # The token request without the verifier (what a thief of the code could send) is refused...
    refused = requests.post(
        f"{provider.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": "http://testserver/oidc/callback/",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        timeout=10,
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
    assert "code_verifier" in refused.json()["error_description"]
    # ...and so is an authorization request without a code challenge.
    parts = urlsplit(start(Client()))  # a fresh request (the provider refuses a nonce seen before)
    params = {k: v[0] for k, v in parse_qs(parts.query).items() if not k.startswith("code_challenge")}
    no_pkce = requests.get(f"{provider.issuer}/authorize", params=params, timeout=10)
    assert no_pkce.status_code == 400 and "PKCE is required" in no_pkce.text


def test_a_callback_with_a_state_this_browser_was_not_given_is_refused(provider: Provider) -> None:
    client = Client()
    path, query = at_provider(start(client), "ada")
    response = client.get(path, {**query, "state": "forged-state"}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "was not started from this browser" in page_text(response)
    assert signed_in_user(client) is None
    # Another browser replaying the real code and state gets nowhere either.
    other = Client()
    response = other.get(path, query, follow=True)
    assert signed_in_user(other) is None and "Single sign-on did not complete" in page_text(response)
    assert not User.objects.filter(email="ada@example.com").exists()


@pytest.mark.parametrize(
    ("knob", "shown", "logged"),
    [
        ("wrong_nonce", "Single sign-on did not complete", "Nonce verification failed"),
        ("wrong_issuer", "Single sign-on did not complete", "is not OIDC_ISSUER"),
        ("wrong_audience", "Single sign-on did not complete", "is not our client id"),
        ("expired", "The sign-in had expired", "id_token expired"),
        ("omit_email", "did not share your e-mail address", "no email claim"),
    ],
)
def test_a_refused_id_token_or_claim_lands_on_the_sign_in_page_with_a_message(
    provider: Provider, caplog: pytest.LogCaptureFixture, knob: str, shown: str, logged: str
) -> None:
    setattr(provider, knob, True)
    client = Client()
    with caplog.at_level(logging.WARNING, logger="dashboard.accounts.oidc"):
        response = sign_in(client, "ada")
    assert response.status_code == 200 and response.redirect_chain[-1][0] == "/accounts/login/"
    assert shown in page_text(response)
    assert logged in caplog.text
    assert signed_in_user(client) is None
    assert not User.objects.filter(email="ada@example.com").exists()


def test_removal_from_the_admin_group_demotes_at_the_next_sign_in(provider: Provider) -> None:
    Group.objects.create(name="Engineering")
    client = Client()
    sign_in(client, "ada")
    ada = User.objects.get(email="ada@example.com")
    assert ada.is_staff and [g.name for g in ada.groups.all()] == ["Engineering"]
    assert client.get("/connectors/").status_code == 200  # an admin page

    provider.users["ada"]["groups"] = []
    client = Client()
    sign_in(client, "ada")
    ada.refresh_from_db()
    assert not ada.is_staff and not ada.groups.exists()
    assert client.get("/connectors/").status_code == 404  # members get 404 for admin pages
    assert User.objects.filter(email="ada@example.com").count() == 1

    provider.users["ada"]["groups"] = ["okrhub-admins"]
    sign_in(Client(), "ada")
    ada.refresh_from_db()
    assert ada.is_staff


def test_shared_credential_grants_follow_the_providers_groups(provider: Provider) -> None:
    engineering = Group.objects.create(name="Engineering")
    shared = CredentialFactory(connector=ConnectorFactory(vendor="north"), owner=None, is_shared=True)
    shared.groups.add(engineering)
    sign_in(Client(), "grace")
    grace = User.objects.get(email="grace@example.com")
    assert shared in visible_credentials(grace)

    provider.users["grace"]["groups"] = ["Marketing"]
    sign_in(Client(), "grace")
    grace = User.objects.get(pk=grace.pk)
    assert shared not in visible_credentials(grace)


def test_an_existing_local_user_with_the_same_email_is_matched_not_duplicated(provider: Provider) -> None:
    local = UserFactory(username="grace.h", email="Grace@Example.com")
    client = Client()
    sign_in(client, "grace")
    assert signed_in_user(client) == local
    assert User.objects.filter(email__iexact="grace@example.com").count() == 1
    local.refresh_from_db()
    assert local.username == "grace.h" and local.check_password(PASSWORD)  # the password still works


def test_a_new_users_username_does_not_take_an_existing_one(provider: Provider) -> None:
    UserFactory(username="ada", email="someone-else@example.com")
    sign_in(Client(), "ada")
    assert User.objects.get(email="ada@example.com").username == "ada2"


def test_a_local_superuser_is_never_made_one_by_sso_and_sso_never_grants_it(provider: Provider) -> None:
    provider.users["linus"]["groups"] = ["okrhub-admins", "superusers", "admin"]
    sign_in(Client(), "linus")
    linus = User.objects.get(email="linus@example.com")
    assert linus.is_staff and not linus.is_superuser


def test_the_sign_in_page_offers_the_sso_button(provider: Provider) -> None:
    html = page_text(Client().get("/accounts/login/?next=/goals/"))
    assert "Sign in with Acme" in html and 'href="/oidc/authenticate/?next=/goals/"' in html
    client = Client()
    client.get("/accounts/login/")
    path, query = at_provider(start_with_next(client, "/goals/"), "grace")
    assert client.get(path, query)["Location"] == "/goals/"


def start_with_next(client: Client, next_url: str) -> str:
    response = client.get("/oidc/authenticate/", {"next": next_url})
    return str(response["Location"])


def test_without_oidc_issuer_sso_is_off(db: None) -> None:
    client = Client()
    html = page_text(client.get("/accounts/login/"))
    assert "/oidc/authenticate/" not in html and "single sign-on" not in html.lower()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/", {"code": "x", "state": "y"}).status_code == 404


def test_an_unreachable_provider_is_a_message_not_a_500(settings: Any) -> None:
    oidc._discovered.clear()
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    response = Client().get("/oidc/authenticate/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "could not be reached" in page_text(response)


def test_a_discovery_document_for_another_issuer_is_refused(provider: Provider, settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings.OIDC_ISSUER = provider.issuer + "/"  # same document URL, but not the issuer it names
    with caplog.at_level(logging.WARNING, logger="dashboard.accounts.oidc"):
        response = Client().get("/oidc/authenticate/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/" and "Single sign-on did not complete" in page_text(response)
    assert "names issuer" in caplog.text


# -- passwords: on, or break-glass only --------------------------------------------------------------
@pytest.fixture
def break_glass(settings: Any, provider: Provider) -> None:
    settings.LOCAL_LOGIN = "break-glass"
    settings.BREAK_GLASS_USERS = ["root"]


def test_break_glass_refuses_other_passwords_with_the_message_and_lets_the_listed_admin_in(break_glass: None) -> None:
    UserFactory(username="grace")
    AdminFactory(username="root")
    client = Client()
    refused = client.post("/accounts/login/", {"username": "grace", "password": PASSWORD})
    assert refused.status_code == 200
    assert "Password sign-in is turned off; use Sign in with Acme." in page_text(refused)
    assert signed_in_user(client) is None
    # The Django admin's own login page is closed to her too (the backend refuses, not only the form).
    admin_login = client.post("/admin/login/", {"username": "grace", "password": PASSWORD})
    assert admin_login.status_code == 200 and signed_in_user(client) is None

    page = page_text(client.get("/accounts/login/"))
    assert "Sign in with Acme" in page and "break-glass administrators only" in page
    allowed = client.post("/accounts/login/", {"username": "root", "password": PASSWORD})
    assert allowed.status_code == 302
    user = signed_in_user(client)
    assert user is not None and user.username == "root"


def test_turning_break_glass_on_ends_the_password_sessions_of_everyone_else(settings: Any, provider: Provider) -> None:
    UserFactory(username="grace")
    AdminFactory(username="root")
    grace, root, sso = Client(), Client(), Client()
    assert grace.post("/accounts/login/", {"username": "grace", "password": PASSWORD}).status_code == 302
    assert root.post("/accounts/login/", {"username": "root", "password": PASSWORD}).status_code == 302
    sign_in(sso, "linus")
    settings.LOCAL_LOGIN, settings.BREAK_GLASS_USERS = "break-glass", ["root"]
    assert grace.get("/")["Location"].startswith("/accounts/login/")
    assert root.get("/").status_code == 200 and sso.get("/").status_code == 200


def test_break_glass_sso_still_signs_people_in(break_glass: None) -> None:
    client = Client()
    sign_in(client, "grace")
    user = signed_in_user(client)
    assert user is not None and user.email == "grace@example.com"


def test_the_login_rate_limit_still_applies_in_break_glass_mode(break_glass: None, settings: Any) -> None:
    settings.LOGIN_ATTEMPTS_PER_15_MINUTES = 3
    AdminFactory(username="root")
    client = Client()
    for _ in range(3):
        assert client.post("/accounts/login/", {"username": "grace", "password": PASSWORD}).status_code == 200
    blocked = client.post("/accounts/login/", {"username": "root", "password": PASSWORD})  # same address
    assert blocked.status_code == 429 and "Too many failed sign-in attempts" in page_text(blocked)
    assert signed_in_user(client) is None
