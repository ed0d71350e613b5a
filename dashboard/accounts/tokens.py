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

from dashboard.accounts.models import ApiToken

TOKEN_PREFIX = "okh_"  # noqa: S105 - a public marker, not a secret
PREFIX_CHARS = 12  # "okh_" + 8 random characters, shown in lists
# last_used_at is informative; writing it at most once a minute keeps reads read-only.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw: str  # shown to the user once, never stored


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(user: Any, name: str) -> NewToken:
    name = (name or "").strip()
    if not name:
        raise ValueError("A token needs a name, e.g. 'weekly report script'.")
    if len(name) > 100:
        raise ValueError("A token name can be at most 100 characters.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:PREFIX_CHARS], token_hash=hash_token(raw))
    return NewToken(token=token, raw=raw)


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token for ``raw`` whose user is active, or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.active().select_related("user").filter(token_hash=hash_token(raw)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def revoke_token(user: Any, token_id: int) -> ApiToken | None:
    """Revoke one of ``user``'s tokens; None when it is not theirs (or does not exist)."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is not None:
        token.revoke()
    return token
