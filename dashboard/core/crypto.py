"""The credential keyring: MultiFernet from FIELD_ENCRYPTION_KEYS (newest first).

Never derived from SECRET_KEY. A value that cannot be decrypted raises ``DecryptionFailed``;
callers mark the credential for re-entry instead of treating it as an empty secret.
"""

from __future__ import annotations

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionFailed(Exception):
    """The stored secret cannot be decrypted with any key of the keyring."""


def _keys() -> tuple[str, ...]:
    keys = tuple(k.strip() for k in settings.FIELD_ENCRYPTION_KEYS if k and k.strip())
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    return keys


@lru_cache(maxsize=8)
def _keyring_for(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    try:
        fernets = [Fernet(k.encode()) for k in keys]
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS holds a key that is not a valid Fernet key: {exc}") from None
    return MultiFernet(fernets), fernets[0]


def keyring() -> MultiFernet:
    return _keyring_for(_keys())[0]


def encrypt(value: str) -> str:
    return keyring().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return keyring().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError, TypeError):
        raise DecryptionFailed("The stored secret cannot be decrypted with the configured keys.") from None


def encrypt_json(value: dict[str, str]) -> str:
    return encrypt(json.dumps(value, sort_keys=True))


def decrypt_json(token: str) -> dict[str, str]:
    data = json.loads(decrypt(token))
    if not isinstance(data, dict):
        raise DecryptionFailed("The stored secret has an unexpected shape.")
    return {str(k): str(v) for k, v in data.items()}


def is_on_newest_key(token: str) -> bool:
    """True when ``token`` decrypts with the newest key alone."""
    newest = _keyring_for(_keys())[1]
    try:
        newest.decrypt(token.encode())
    except (InvalidToken, ValueError, TypeError):
        return False
    return True


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the newest key."""
    try:
        return keyring().rotate(token.encode()).decode()
    except (InvalidToken, ValueError, TypeError):
        raise DecryptionFailed("The stored secret cannot be decrypted with the configured keys.") from None
