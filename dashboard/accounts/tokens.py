"""Create, check and revoke personal API tokens.

Tokens look like ``okh_<43 url-safe characters>``; the ``okh_`` prefix lets the log scrubber
(``dashboard.core.logging``) and secret scanners recognise them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from dashboard.accounts.models import SCOPES, ApiToken

TOKEN_PREFIX = "okh_"  # noqa: S105 - a public marker, not a secret
PREFIX_CHARS = 12  # "okh_" + 8 random characters, shown in lists
# last_used_at is informative; writing it at most once a minute keeps reads read-only.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Lifetimes offered on the page and the command line, in days (0: never expires).
EXPIRY_CHOICES = (7, 30, 90, 365, 0)
DEFAULT_EXPIRY_DAYS = 90


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw: str  # shown to the user once, never stored


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class TokenRefused(Exception):
    """The token cannot be used; the message says why, for the 401 answer."""


def clean_scopes(scopes: Any) -> list[str]:
    chosen = sorted({str(s).strip().lower() for s in (scopes or []) if str(s).strip()})
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise ValueError(f"Unknown scope {unknown[0]!r}: choose from {', '.join(SCOPES)}.")
    if not chosen:
        raise ValueError(f"A token needs at least one scope ({', '.join(SCOPES)}).")
    return chosen


def create_token(user: Any, name: str, *, scopes: Any = ("read",), expires_in_days: int | None = DEFAULT_EXPIRY_DAYS) -> NewToken:
    """A new token for ``user``. ``expires_in_days`` None or 0: the token never expires."""
    name = (name or "").strip()
    if not name:
        raise ValueError("A token needs a name, e.g. 'weekly report script'.")
    if len(name) > 100:
        raise ValueError("A token name can be at most 100 characters.")
    chosen = clean_scopes(scopes)
    if expires_in_days is not None and (expires_in_days < 0 or expires_in_days > 3650):
        raise ValueError("A token's lifetime is 1 to 3650 days, or 0 for a token that never expires.")
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:PREFIX_CHARS], token_hash=hash_token(raw), scopes=chosen, expires_at=expires_at
    )
    return NewToken(token=token, raw=raw)


def check_token(raw: str) -> ApiToken:
    """The usable token for ``raw``; :class:`TokenRefused` says why it cannot be used."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        raise TokenRefused("Invalid or revoked API token.")
    token = ApiToken.objects.select_related("user").filter(token_hash=hash_token(raw)).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        raise TokenRefused("Invalid or revoked API token.")
    if token.is_expired:
        assert token.expires_at is not None
        raise TokenRefused(f"This API token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; create a new one on the API tokens page.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def authenticate_token(raw: str) -> ApiToken | None:
    """The usable token for ``raw`` (active, unexpired, its user active), or None."""
    try:
        return check_token(raw)
    except TokenRefused:
        return None


def revoke_token(user: Any, token_id: int, *, any_user: bool = False) -> ApiToken | None:
    """Revoke one of ``user``'s tokens (any user's with ``any_user``, for admins); None when
    there is no such token."""
    tokens = ApiToken.objects.all() if any_user else ApiToken.objects.filter(user=user)
    token = tokens.filter(pk=token_id).first()
    if token is not None:
        token.revoke()
    return token
