"""manage.py rotate_credentials_key: re-encrypt with the newest key, count old-key rows, mark
undecryptable rows for re-entry (never blank them)."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.test import override_settings

from dashboard.core import crypto
from dashboard.integrations.models import Credential
from tests.factories import CredentialFactory

pytestmark = pytest.mark.django_db

OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))


def test_rotation_reports_old_key_rows_and_marks_undecryptable_ones() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        old_rows = [CredentialFactory(secret={"token": f"old-token-{i}-abcdefgh"}) for i in range(2)]
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        new_row = CredentialFactory(secret={"token": "new-token-abcdefgh"})
    with override_settings(FIELD_ENCRYPTION_KEYS=[LOST]):
        lost_row = CredentialFactory(secret={"token": "lost-token-abcdefgh"})
    lost_ciphertext = lost_row.secret_encrypted

    out, err = io.StringIO(), io.StringIO()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        call_command("rotate_credentials_key", stdout=out, stderr=err)
    assert "Re-encrypted 3 of 4 credential(s) with the newest key; 2 were on old keys." in out.getvalue()
    assert f"1 credential(s) could not be decrypted and were marked for re-entry: {lost_row.pk}" in err.getvalue()
    assert "token" not in out.getvalue() + err.getvalue()

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):  # the old key can now be removed
        for i, row in enumerate(old_rows):
            row.refresh_from_db()
            assert crypto.is_on_newest_key(row.secret_encrypted)
            assert row.get_secret() == {"token": f"old-token-{i}-abcdefgh"}
        new_row.refresh_from_db()
        assert new_row.get_secret() == {"token": "new-token-abcdefgh"}
    lost_row.refresh_from_db()
    assert lost_row.status == Credential.Status.NEEDS_REENTRY
    assert lost_row.secret_encrypted == lost_ciphertext  # never blanked

    # A second run finds nothing left on old keys.
    out = io.StringIO()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        call_command("rotate_credentials_key", stdout=out, stderr=io.StringIO())
    assert "; 0 were on old keys." in out.getvalue()


def test_no_credentials() -> None:
    out = io.StringIO()
    call_command("rotate_credentials_key", stdout=out)
    assert "Re-encrypted 0 of 0 credential(s)" in out.getvalue()
