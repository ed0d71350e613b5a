"""The credential keyring: round trip, rotation (newest key first), a wrong key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from connectors.base import AuthError
from dashboard.core import crypto
from dashboard.integrations.models import Credential
from dashboard.integrations.services.connectors import open_connector
from tests.factories import CredentialFactory

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
OTHER = Fernet.generate_key().decode()
SECRET = {"token": "tok-round-trip-9f8e7d6c5b4a"}


def test_round_trip_and_ciphertext_hides_the_secret() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        token = crypto.encrypt_json(SECRET)
        assert SECRET["token"] not in token
        assert crypto.decrypt_json(token) == SECRET
        # Fernet tokens carry a random IV: the same secret never encrypts to the same text twice.
        assert crypto.encrypt_json(SECRET) != token


def test_rotation_newest_key_first() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        token = crypto.encrypt_json(SECRET)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        assert crypto.decrypt_json(token) == SECRET  # old rows still readable during the rotation
        assert not crypto.is_on_newest_key(token)
        rotated = crypto.rotate(token)
        assert crypto.is_on_newest_key(rotated)
        fresh = crypto.encrypt_json(SECRET)
        assert crypto.is_on_newest_key(fresh)  # new writes use the first (newest) key
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        assert crypto.decrypt_json(rotated) == SECRET  # the old key can now be dropped
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt_json(token)


def test_a_wrong_key_raises_instead_of_returning_an_empty_secret() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        token = crypto.encrypt_json(SECRET)
    with override_settings(FIELD_ENCRYPTION_KEYS=[OTHER]):
        with pytest.raises(crypto.DecryptionFailed) as info:
            crypto.decrypt_json(token)
        assert SECRET["token"] not in str(info.value)
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt("not a fernet token")


def test_keyring_is_not_derived_from_secret_key() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW], SECRET_KEY="a" * 50):
        token = crypto.encrypt_json(SECRET)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW], SECRET_KEY="b" * 50):
        assert crypto.decrypt_json(token) == SECRET


@pytest.mark.parametrize("keys", [[], ["  "], ["not-a-fernet-key"]])
def test_bad_keyring_configuration_is_refused(keys: list[str]) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=keys), pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


@pytest.mark.django_db
def test_credential_stores_only_ciphertext_and_a_hint() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        credential = CredentialFactory(secret=SECRET)
        row = Credential.objects.get(pk=credential.pk)
        assert SECRET["token"] not in row.secret_encrypted
        assert row.secret_hint == SECRET["token"][-4:]
        assert row.secret_set_at is not None
        assert row.get_secret() == SECRET


@pytest.mark.django_db
def test_wrong_key_marks_the_credential_for_reentry_and_keeps_the_ciphertext() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        credential = CredentialFactory(secret=SECRET)
    stored = credential.secret_encrypted
    with override_settings(FIELD_ENCRYPTION_KEYS=[OTHER]):
        with pytest.raises(AuthError) as info, open_connector(credential):
            pass
        assert SECRET["token"] not in str(info.value)
    row = Credential.objects.get(pk=credential.pk)
    assert row.status == Credential.Status.NEEDS_REENTRY
    assert "cannot be decrypted" in row.status_reason
    assert row.secret_encrypted == stored  # never blanked: the right key may come back
    # Entering the secret again clears the flag.
    with override_settings(FIELD_ENCRYPTION_KEYS=[OTHER]):
        row.set_secret({"token": "tok-new-secret-11112222"})
        row.save()
        assert Credential.objects.get(pk=row.pk).status == Credential.Status.ACTIVE
