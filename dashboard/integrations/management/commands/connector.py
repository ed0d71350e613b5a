"""python manage.py connector add --vendor north|operately|ogsm --name NAME --base-url URL [--interval MINUTES]
python manage.py connector list [--json]
python manage.py connector remove NAME
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from connectors.registry import VENDOR_CHOICES
from dashboard.audit.context import acting_as
from dashboard.core.urlsafety import URLRefused, validate_base_url
from dashboard.integrations.forms import MAX_INTERVAL_MINUTES
from dashboard.integrations.models import Connector

VENDORS = tuple(v for v, _label in VENDOR_CHOICES)
MIN_INTERVAL_MINUTES = 5


def interval(value: str) -> int:
    import argparse

    try:
        minutes = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--interval takes whole minutes, got {value!r}") from None
    if not MIN_INTERVAL_MINUTES <= minutes <= MAX_INTERVAL_MINUTES:
        raise argparse.ArgumentTypeError(f"--interval must be between {MIN_INTERVAL_MINUTES} and {MAX_INTERVAL_MINUTES} minutes")
    return minutes


class Command(BaseCommand):
    help = "Add, list or remove vendor connectors."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{add,list,remove}")
        add = sub.add_parser("add", help="Add a connector.")
        add.add_argument("--vendor", required=True, choices=VENDORS)
        add.add_argument("--name", required=True, help="Display name, unique; other commands refer to it.")
        add.add_argument("--base-url", required=True, dest="base_url", help="The vendor's base URL (https).")
        add.add_argument("--interval", type=interval, default=60, help="Sync interval in minutes (default 60).")
        listing = sub.add_parser("list", help="List connectors.")
        listing.add_argument("--json", action="store_true", help="One JSON array, for scripts.")
        remove = sub.add_parser("remove", help="Remove a connector with its credentials and synced data.")
        remove.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        with acting_as(source="cli"):  # the audit trail names "command line (<login>)"
            getattr(self, f"handle_{options['action']}")(options)

    def handle_add(self, options: dict[str, Any]) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("--name must not be empty")
        if len(name) > 100:
            raise CommandError("--name is longer than 100 characters")
        try:
            base_url = validate_base_url(options["base_url"])
        except URLRefused as exc:
            raise CommandError(f"--base-url refused: {exc.message}") from None
        with transaction.atomic():
            if Connector.objects.filter(name=name).exists():
                raise CommandError(f"A connector named {name!r} already exists (see: manage.py connector list)")
            connector = Connector.objects.create(
                vendor=options["vendor"], name=name, base_url=base_url, interval_minutes=options["interval"]
            )
        where = f"{connector.vendor}, {connector.base_url}, every {connector.interval_minutes} min"
        self.stdout.write(f"Added connector {connector.name!r} ({where}), id {connector.pk}")

    def handle_list(self, options: dict[str, Any]) -> None:
        from django.db.models import Count

        rows = [
            {
                "id": c.pk,
                "name": c.name,
                "vendor": c.vendor,
                "base_url": c.base_url,
                "interval_minutes": c.interval_minutes,
                "enabled": c.enabled,
                "allow_shared_writes": c.allow_shared_writes,
                "credentials": c.credential_count,
            }
            for c in Connector.objects.annotate(credential_count=Count("credentials")).order_by("name")
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("No connectors. Add one: manage.py connector add --vendor north --name North --base-url https://...")
            return
        self.stdout.write(f"{'NAME':<24} {'VENDOR':<10} {'EVERY':>6} {'CREDS':>5} {'STATE':<8} BASE URL")
        for r in rows:
            state = "enabled" if r["enabled"] else "disabled"
            self.stdout.write(
                f"{r['name']:<24} {r['vendor']:<10} {r['interval_minutes']:>4}m {r['credentials']:>5} {state:<8} {r['base_url']}"
            )

    def handle_remove(self, options: dict[str, Any]) -> None:
        name = options["name"]
        connector = Connector.objects.filter(name=name).first()
        if connector is None:
            known = ", ".join(Connector.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No connector named {name!r} (known: {known})")
        count = connector.credentials.count()
        connector.delete()
        self.stdout.write(f"Removed connector {name!r} with {count} credential(s) and their synced data")
