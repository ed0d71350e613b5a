"""python manage.py rotate_credentials_key

Re-encrypts every stored secret with the newest key of FIELD_ENCRYPTION_KEYS (put the new key
first, keep the old ones after it, run this, then drop the old keys). Reports how many rows were
on old keys. A row no key can decrypt is marked for re-entry and reported; it is never blanked.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from dashboard.core import crypto
from dashboard.integrations.models import Credential

BATCH = 200


class Command(BaseCommand):
    help = "Re-encrypt all credential secrets with the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        total = on_old_keys = 0
        failed: list[int] = []
        ids = list(Credential.objects.order_by("id").values_list("id", flat=True))
        for start in range(0, len(ids), BATCH):
            with transaction.atomic():
                rows = Credential.objects.select_for_update().filter(id__in=ids[start : start + BATCH]).order_by("id")
                changed = []
                for credential in rows:
                    total += 1
                    token = credential.secret_encrypted
                    if not token:
                        failed.append(credential.pk)
                        credential.mark_needs_reentry("No secret is stored; enter it again.")
                        continue
                    was_old = not crypto.is_on_newest_key(token)
                    try:
                        credential.secret_encrypted = crypto.rotate(token)
                    except crypto.DecryptionFailed:
                        failed.append(credential.pk)
                        credential.secret_encrypted = token  # keep the ciphertext: an old key may come back
                        credential.mark_needs_reentry("The stored secret cannot be decrypted with the configured keys; enter it again.")
                        continue
                    on_old_keys += int(was_old)
                    changed.append(credential)
                Credential.objects.bulk_update(changed, ["secret_encrypted"])
        self.stdout.write(
            f"Re-encrypted {total - len(failed)} of {total} credential(s) with the newest key; {on_old_keys} were on old keys."
        )
        if failed:
            listed = ", ".join(str(i) for i in failed)
            self.stderr.write(
                self.style.WARNING(f"{len(failed)} credential(s) could not be decrypted and were marked for re-entry: {listed}")
            )
