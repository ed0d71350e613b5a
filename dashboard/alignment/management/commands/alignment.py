"""``python manage.py alignment suggest``: recompute the alignment suggestions admins review."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dashboard.alignment import suggestions
from dashboard.integrations.models import SyncRun


class Command(BaseCommand):
    help = "Cross-vendor alignment: 'suggest' recomputes the suggestions shown on /alignment/suggestions/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["suggest"])
        parser.add_argument(
            "--after-syncs",
            type=float,
            default=0,
            metavar="SECONDS",
            help="First wait (up to SECONDS) until no sync run is queued or running, e.g. after the demo's first syncs.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        deadline = time.monotonic() + options["after_syncs"]
        unfinished = SyncRun.objects.filter(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING])
        while time.monotonic() < deadline and unfinished.exists():
            time.sleep(1)
        counts = suggestions.recompute()
        self.stdout.write(f"alignment suggestions: {counts['created']} new, {counts['updated']} updated, {counts['dropped']} dropped")
