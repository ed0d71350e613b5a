"""python manage.py demo_setup --stdin: users, connectors and credentials for ``make demo``.

Reads ``{"north": {"url": ..., "credentials": [...]}, ...}`` (what ``sandbox --json`` prints) and
creates, or reuses, the demo users, one connector per vendor and their credentials:
alice holds each vendor's main account; bob holds a second person's account who sees less; the
OGSM tenant is also added as a shared service account visible to everyone.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from dashboard.integrations.models import Connector, Credential

NAMES = {"north": "North (demo)", "operately": "Operately (demo)", "ogsm": "OGSM (demo)"}
PASSWORDS = {"admin": "admin-demo-pass", "alice": "alice-demo-pass", "bob": "bob-demo-pass"}
RESTRICTED_HINTS = ("second", "limited", "restricted", "member", "bob", "sees less", "private")
UNSUITABLE_HINTS = ("read-only", "readonly", "read only", "scope", "view-only", "view only", "wrong", "invalid", "revoked", "suspended")


def pick_restricted(credentials: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A second person's full account that sees less than the main one."""
    others = credentials[1:]
    text: Callable[[dict[str, Any]], str] = lambda c: f"{c.get('label', '')} {c.get('note', '')}".lower()  # noqa: E731
    usable = [c for c in others if not any(h in text(c) for h in UNSUITABLE_HINTS)]
    for cred in usable:
        if any(h in text(cred) for h in RESTRICTED_HINTS):
            return cred
    return usable[0] if usable else None


def secret_of(cred: dict[str, Any]) -> dict[str, str]:
    return {k: str(cred[k]) for k in ("token", "username", "password") if k in cred}


class Command(BaseCommand):
    help = "Create or reuse the demo users, connectors and credentials (used by make demo)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stdin", action="store_true", required=True, help="Read the sandbox description from stdin.")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            spec = json.loads(sys.stdin.read())
        except json.JSONDecodeError as exc:
            raise CommandError(f"stdin is not the JSON that 'sandbox --json' prints: {exc}") from None
        with transaction.atomic():
            users = self.users()
            for vendor, info in spec.items():
                self.vendor(vendor, info, users)
        self.stdout.write(self.style.SUCCESS("demo data ready"))

    def users(self) -> dict[str, Any]:
        user_model = get_user_model()
        users = {}
        for name, password in PASSWORDS.items():
            user, created = user_model.objects.get_or_create(username=name, defaults={"email": f"{name}@example.com"})
            if created:
                user.set_password(password)
            if name == "admin":
                user.is_staff = user.is_superuser = True
            user.save()
            users[name] = user
        return users

    def vendor(self, vendor: str, info: dict[str, Any], users: dict[str, Any]) -> None:
        connector, _ = Connector.objects.update_or_create(
            name=NAMES.get(vendor, vendor), defaults={"vendor": vendor, "base_url": info["url"], "enabled": True, "interval_minutes": 15}
        )
        creds = info.get("credentials") or []
        if not creds:
            raise CommandError(f"the {vendor} sandbox offered no credentials")
        self.credential(connector, users["alice"], creds[0])
        # The admin reviews alignment suggestions, and sees a link only where it sees both ends
        # (issue #18): its own account at every vendor, as alice's.
        self.credential(connector, users["admin"], creds[0])
        restricted = pick_restricted(creds)
        if restricted:
            self.credential(connector, users["bob"], restricted)
        if vendor == "ogsm":
            shared = Credential.objects.filter(connector=connector, is_shared=True).first() or Credential(
                connector=connector, is_shared=True, share_with_everyone=True, label="OGSM tenant (shared service account)"
            )
            shared.set_secret(secret_of(creds[0]))
            shared.save()

    def credential(self, connector: Connector, user: Any, cred: dict[str, Any]) -> None:
        credential = Credential.objects.filter(connector=connector, owner=user).first() or Credential(connector=connector, owner=user)
        credential.set_secret(secret_of(cred))
        credential.account_name = str(cred.get("person") or "")
        credential.save()
