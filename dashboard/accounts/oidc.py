"""OpenID Connect sign-in (issue #21) on mozilla-django-oidc: small, maintained by Mozilla, a plain
Django auth backend plus two views, with state, nonce and PKCE built in.

What this module adds to the library:
- endpoints from the provider's discovery document (``{OIDC_ISSUER}/.well-known/openid-configuration``),
  fetched when first needed and cached, unless set explicitly (``OIDC_OP_*_ENDPOINT``);
- checks the library leaves out: the id_token's ``iss`` equals ``OIDC_ISSUER`` exactly, ``aud``
  names our client, and an expired token is refused with a message instead of a 500;
- users matched by e-mail (case-insensitive) or created with a username from it; a missing or
  unverified e-mail is refused with its own message;
- roles from the groups claim at every sign-in: staff exactly when the user is in
  ``OIDC_ADMIN_GROUP``; the user's Django groups become the claimed groups that already exist in
  OKR Hub (so shared-credential grants follow the provider). Never superuser.
- the password backend that honours ``LOCAL_LOGIN=break-glass``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import Group, User
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.decorators import method_decorator
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

logger = logging.getLogger(__name__)

GENERIC_FAILURE = "Single sign-on did not complete. Try again; if it keeps failing, ask your administrator."
_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
DISCOVERY_TTL_SECONDS = 3600
_discovered: dict[str, tuple[float, dict[str, Any]]] = {}
_discovery_lock = threading.Lock()


class SignInRefused(Exception):
    """A sign-in the provider vouched for but OKR Hub refuses: ``message`` is for the user,
    ``reason`` for the log."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason


def sso_enabled() -> bool:
    return bool(getattr(settings, "OIDC_ISSUER", ""))


def password_sign_in_allowed(username: str) -> bool:
    """``LOCAL_LOGIN=on``: everyone; ``break-glass``: only the listed usernames (exact)."""
    if settings.LOCAL_LOGIN != "break-glass":
        return True
    return username in settings.BREAK_GLASS_USERS


def sso_only_message() -> str:
    return f"Password sign-in is turned off; use {settings.OIDC_BUTTON_LABEL}."


def provider_metadata() -> dict[str, Any]:
    """The discovery document of ``OIDC_ISSUER``, cached per issuer for an hour."""
    issuer = settings.OIDC_ISSUER
    now = time.monotonic()
    cached = _discovered.get(issuer)
    if cached and cached[0] > now:
        return cached[1]
    with _discovery_lock:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise SignInRefused(
                "The identity provider could not be reached. Try again in a minute.", f"discovery at {url} failed: {exc}"
            ) from exc
        if document.get("issuer") != issuer:
            # OpenID Connect Discovery 1.0, section 4.3: the issuer must match exactly.
            raise SignInRefused(GENERIC_FAILURE, f"discovery at {url} names issuer {document.get('issuer')!r}, expected {issuer!r}")
        _discovered[issuer] = (now + DISCOVERY_TTL_SECONDS, document)
        return document


def oidc_setting(attr: str, *default: Any) -> Any:
    """mozilla-django-oidc's settings lookup, with the endpoints filled from discovery."""
    if attr in _ENDPOINTS:
        explicit = getattr(settings, attr, "")
        return explicit or provider_metadata()[_ENDPOINTS[attr]]
    return import_from_settings(attr, *default)


def _claimed_groups(claims: dict[str, Any]) -> list[str]:
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [g for g in value if isinstance(g, str)]
    return []


def _username_from_email(email: str) -> str:
    base = re.sub(r"[^\w.@+-]", "", email.split("@", 1)[0].lower())[:140] or "user"
    name, n = base, 1
    while get_user_model().objects.filter(username=name).exists():
        n += 1
        name = f"{base}{n}"
    return name


class PasswordBackend(ModelBackend):
    """Django's password backend, closed to everyone but ``BREAK_GLASS_USERS`` when
    ``LOCAL_LOGIN=break-glass`` (this covers the Django admin's login page too, and sessions
    signed in with a password before the switch)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is not None and not password_sign_in_allowed(username):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id: int) -> User | None:
        user = super().get_user(user_id)
        if user is not None and not password_sign_in_allowed(user.get_username()):
            return None  # a password session from before LOCAL_LOGIN=break-glass ends at its next request
        return user


class OIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc]  # untyped library
    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads the endpoints here; Django builds every backend for every sign-in,
        # password ones included, so discovery waits until an SSO callback really needs it.
        self.UserModel = get_user_model()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if request is None or not sso_enabled() or "nonce" not in kwargs:
            return None  # not our callback (a password sign-in, a token, ...)
        super().__init__()
        return super().authenticate(request, **kwargs)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        try:
            payload: dict[str, Any] = super().verify_token(token, **kwargs)
        except jwt.ExpiredSignatureError as exc:
            raise SignInRefused("The sign-in had expired before it reached OKR Hub. Sign in again.", f"id_token expired: {exc}") from exc
        except (jwt.InvalidTokenError, SuspiciousOperation) as exc:
            raise SignInRefused(GENERIC_FAILURE, f"id_token refused: {exc}") from exc
        if "nonce" not in kwargs:
            return payload  # a signed userinfo answer, not the id_token
        if payload.get("iss") != settings.OIDC_ISSUER:
            raise SignInRefused(GENERIC_FAILURE, f"id_token issuer {payload.get('iss')!r} is not OIDC_ISSUER {settings.OIDC_ISSUER!r}")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if settings.OIDC_RP_CLIENT_ID not in audiences or (len(audiences) > 1 and payload.get("azp") != settings.OIDC_RP_CLIENT_ID):
            raise SignInRefused(GENERIC_FAILURE, f"id_token audience {audience!r} is not our client id")
        return payload

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        if not claims.get("email"):
            raise SignInRefused(
                "Your identity provider did not share your e-mail address, which OKR Hub needs to know who you are. "
                "Ask your administrator to release the e-mail claim to OKR Hub.",
                "no email claim",
            )
        if claims.get("email_verified") is False:
            raise SignInRefused("Your e-mail address is not verified at your identity provider.", "email_verified is false")
        return True

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        users = self.UserModel.objects.filter(email__iexact=claims["email"])
        if users.count() > 1:
            raise SignInRefused(
                "More than one OKR Hub account has your e-mail address; ask your administrator to merge them.",
                f"{users.count()} users share the e-mail of {claims.get('sub')!r}",
            )
        return users

    def create_user(self, claims: dict[str, Any]) -> User:
        user: User = self.UserModel.objects.create_user(_username_from_email(claims["email"]), email=claims["email"])
        logger.info("SSO created user %s", user.username)
        return self.update_user(user, claims)

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        groups = _claimed_groups(claims)
        user.email = claims["email"]
        user.first_name = str(claims.get("given_name") or user.first_name)[:150]
        user.last_name = str(claims.get("family_name") or user.last_name)[:150]
        if settings.OIDC_ADMIN_GROUP:
            user.is_staff = settings.OIDC_ADMIN_GROUP in groups  # re-read at every sign-in
        user.save()
        # Only groups that already exist in OKR Hub are mirrored: the provider cannot make new ones.
        user.groups.set(Group.objects.filter(name__in=groups))
        return user


def _to_login(request: HttpRequest, message: str) -> HttpResponseRedirect:
    messages.error(request, message)
    return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))


@method_decorator(login_not_required, name="dispatch")
class SSOStartView(OIDCAuthenticationRequestView):  # type: ignore[misc]  # untyped library
    """Redirects to the provider with state, nonce and a PKCE code challenge."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the endpoint is read in dispatch, not at every URL load

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sso_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except SignInRefused as exc:
            logger.warning("SSO sign-in could not start: %s", exc.reason)
            return _to_login(request, exc.message)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        response: HttpResponse = super().dispatch(request, *args, **kwargs)
        return response


@method_decorator(login_not_required, name="dispatch")
class SSOCallbackView(OIDCAuthenticationCallbackView):  # type: ignore[misc]  # untyped library
    """The provider's redirect back. Every refusal lands on the sign-in page with a message."""

    get_settings = staticmethod(oidc_setting)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sso_enabled():
            raise Http404
        try:
            response: HttpResponse = super().dispatch(request, *args, **kwargs)
        except SignInRefused as exc:
            logger.warning("SSO sign-in refused: %s", exc.reason)
            return _to_login(request, exc.message)
        except SuspiciousOperation as exc:  # the state is not one this browser was given
            logger.warning("SSO callback refused: %s", exc)
            return _to_login(request, "That sign-in link was not started from this browser (or was used already). Sign in again.")
        except requests.RequestException as exc:
            logger.warning("SSO token exchange failed: %s", exc)
            return _to_login(request, GENERIC_FAILURE)
        return response

    def login_failure(self) -> HttpResponseRedirect:
        error = self.request.GET.get("error")
        logger.warning("SSO sign-in failed (%s)", f"provider answered {error!r}" if error else "no matching sign-in in this session")
        if error == "access_denied":
            return _to_login(self.request, "The identity provider did not let you sign in to OKR Hub.")
        return _to_login(self.request, GENERIC_FAILURE)
