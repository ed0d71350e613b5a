"""python manage.py credential add --connector NAME (--user USERNAME | --shared)
                                   (--token-stdin | --username USER --password-stdin) [--no-sync]
python manage.py credential list [--json]

Secrets are read from standard input only (never from arguments, which end up in shell history
and process lists) and never printed; ``list`` shows the last 4 characters at most. ``add``
queues a first sync for the workers unless ``--no-sync`` (scripts that run ``sync --wait`` next
do not need it, but ``sync --wait`` takes a queued one over anyway).
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.views.decorators.debug import sensitive_variables

from dashboard.audit.context import acting_as
from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.services.connections import ConnectionProblem, store_credential, uses_password
from dashboard.integrations.sync.enqueue import ACTIVE, blocked_reason
from dashboard.integrations.views_common import audience


class Command(BaseCommand):
    help = "Add or list credentials (secrets come from stdin and are never shown)."
    stealth_options = ("stdin",)  # call_command(..., stdin=io.StringIO(...)) in tests

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{add,list}")
        add = sub.add_parser("add", help="Add a credential for a user, or a shared one.")
        add.add_argument("--connector", required=True, help="Connector name (see: manage.py connector list).")
        who = add.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="The user who owns the credential (username).")
        who.add_argument("--shared", action="store_true", help="A shared credential (visible to everyone, or to --group).")
        add.add_argument("--group", action="append", default=[], help="With --shared: only this group sees its data (repeatable).")
        add.add_argument("--label", default="", help="A name for the credential, e.g. 'OGSM service account'.")
        how = add.add_mutually_exclusive_group(required=True)
        how.add_argument("--token-stdin", action="store_true", help="Read the API token from stdin (North, Operately).")
        how.add_argument("--password-stdin", action="store_true", help="Read the password from stdin (OGSM; with --username).")
        add.add_argument("--username", help="The vendor user name (OGSM, with --password-stdin).")
        add.add_argument("--no-sync", action="store_true", help="Do not queue a first sync (run manage.py sync --wait later).")
        listing = sub.add_parser("list", help="List credentials and their sync health (no secrets).")
        listing.add_argument("--json", action="store_true", help="One JSON array, for scripts.")

    def handle(self, *args: Any, **options: Any) -> None:
        with acting_as(source="cli"):  # the audit trail names "command line (<login>)"
            getattr(self, f"handle_{options['action']}")(options)

    @staticmethod
    def _read_stdin(stream: TextIO, prompt: str, *, strip: bool) -> str:
        if stream.isatty():
            value = getpass.getpass(prompt)
        else:
            value = stream.read()
        # A token never contains whitespace; a password may, so only the line ending goes.
        return value.strip() if strip else value.rstrip("\r\n")

    @sensitive_variables("secret", "value")
    def handle_add(self, options: dict[str, Any]) -> None:
        connector = Connector.objects.filter(name=options["connector"]).first()
        if connector is None:
            known = ", ".join(Connector.objects.values_list("name", flat=True)) or "none; add one with: manage.py connector add"
            raise CommandError(f"No connector named {options['connector']!r} (known: {known})")
        owner = None
        if options["user"]:
            owner = get_user_model().objects.filter(username=options["user"]).first()
            if owner is None:
                raise CommandError(f"No user named {options['user']!r}")
        groups: list[Group] = []
        if options["group"]:
            if not options["shared"]:
                raise CommandError("--group only applies to --shared credentials")
            for name in options["group"]:
                group = Group.objects.filter(name=name).first()
                if group is None:
                    raise CommandError(f"No group named {name!r}")
                groups.append(group)
        password_vendor = uses_password(connector.vendor)
        stream = options.get("stdin") or sys.stdin
        if password_vendor:
            if not options["password_stdin"] or not options["username"]:
                raise CommandError(
                    f"{connector.name} ({connector.vendor}) signs in with a user name and password: use --username USER --password-stdin"
                )
            value = self._read_stdin(stream, "Password: ", strip=False)
            if not value:
                raise CommandError("stdin was empty: pipe the password in, e.g. printf '%s' \"$PASSWORD\" | manage.py credential add ...")
            secret = {"username": options["username"].strip(), "password": value}
        else:
            if not options["token_stdin"]:
                raise CommandError(f"{connector.name} ({connector.vendor}) uses an API token: use --token-stdin")
            if options["username"]:
                raise CommandError(f"--username does not apply to {connector.vendor}: it uses an API token (--token-stdin)")
            value = self._read_stdin(stream, "Token: ", strip=True)
            if not value:
                raise CommandError("stdin was empty: pipe the token in, e.g. printf '%s' \"$TOKEN\" | manage.py credential add ...")
            secret = {"token": value}
        try:
            credential, created = store_credential(
                connector,
                secret,
                owner=owner,
                share_with_everyone=not groups,
                groups=groups,
                label=options["label"],
                queue_first_sync=not options["no_sync"],
            )
        except ConnectionProblem as exc:
            raise CommandError(str(exc)) from None
        verb = "Added" if created else "Replaced the secret of"
        hint = f", secret ending in …{credential.secret_hint}" if credential.secret_hint else ""
        queued = SyncRun.objects.filter(credential=credential, status__in=ACTIVE).order_by("-pk").first()
        if queued is not None:
            sync = f"sync {queued.status} (run {queued.pk})"
        elif options["no_sync"]:
            sync = "no sync queued (--no-sync); run: manage.py sync --wait"
        else:
            sync = "no sync queued: " + (blocked_reason(credential, SyncRun.Trigger.CLI) or "see manage.py credential list")
        self.stdout.write(f"{verb} credential {credential.pk} on {connector.name} ({audience(credential)}{hint}); {sync}")

    def handle_list(self, options: dict[str, Any]) -> None:
        credentials = Credential.objects.select_related("connector", "owner").prefetch_related("groups").order_by("connector__name", "id")
        rows: list[dict[str, Any]] = [
            {
                "id": c.pk,
                "connector": c.connector.name,
                "vendor": c.connector.vendor,
                "owner": c.owner.get_username() if c.owner else None,
                "shared": c.is_shared,
                "share_with_everyone": c.share_with_everyone,
                "groups": sorted(g.name for g in c.groups.all()),
                "label": c.label,
                "account_name": c.account_name,
                "status": c.status,
                "status_reason": c.status_reason,
                "secret_hint": c.secret_hint,
                "secret_set_at": c.secret_set_at.isoformat() if c.secret_set_at else None,
                "last_sync_at": c.last_sync_at.isoformat() if c.last_sync_at else None,
                "last_success_at": c.last_success_at.isoformat() if c.last_success_at else None,
                "last_error": c.last_error,
                "consecutive_failures": c.consecutive_failures,
            }
            for c in credentials
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("No credentials. Add one: ... | manage.py credential add --connector NAME --user USERNAME --token-stdin")
            return
        self.stdout.write(f"{'ID':>4} {'CONNECTOR':<20} {'WHO':<24} {'STATUS':<14} {'LAST SUCCESS':<26} LAST ERROR")
        for r in rows:
            who = r["owner"] or ("shared: everyone" if r["share_with_everyone"] else "shared: " + ",".join(r["groups"]))
            error = (r["last_error"] or "").splitlines()[0][:60] if r["last_error"] else ""
            self.stdout.write(
                f"{r['id']:>4} {r['connector']:<20} {who:<24} {r['status']:<14} {r['last_success_at'] or 'never':<26} {error}"
            )
