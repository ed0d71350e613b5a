"""python manage.py sync [--connector NAME] [--user USERNAME] [--wait] [--json]

Without ``--wait`` the syncs are enqueued for the workers. With ``--wait`` they run here, one
after the other, and the command exits non-zero when any failed. One line per run: credential,
status, counts, duration (or one JSON document with ``--json``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.services.sync import create_runs, enqueue_sync, run_sync


def describe(run: SyncRun) -> dict[str, Any]:
    return {
        "run": run.pk,
        "credential": str(run.credential),
        "credential_id": run.credential_id,
        "status": run.status,
        "counts": run.counts(),
        "requests": run.requests_made,
        "duration_seconds": round(run.duration_seconds or 0.0, 3),
        "error": run.error,
    }


class Command(BaseCommand):
    help = "Sync credentials now: enqueue for the workers, or run here with --wait."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connector", metavar="NAME", help="Only credentials of this connector (its name).")
        parser.add_argument("--user", metavar="USERNAME", help="Only credentials owned by this user.")
        parser.add_argument("--wait", action="store_true", help="Run the syncs in this process and wait for them.")
        parser.add_argument("--json", action="store_true", help="Print the runs as JSON.")

    def handle(self, *args: Any, **opts: Any) -> None:
        credentials = Credential.objects.select_related("connector", "owner").order_by("pk")
        if opts["connector"]:
            if not Connector.objects.filter(name=opts["connector"]).exists():
                known = ", ".join(Connector.objects.values_list("name", flat=True)) or "none configured"
                raise CommandError(f"No connector named {opts['connector']!r}; known: {known}")
            credentials = credentials.filter(connector__name=opts["connector"])
        if opts["user"]:
            user_model = get_user_model()
            if not user_model.objects.filter(username=opts["user"]).exists():
                raise CommandError(f"No user named {opts['user']!r}")
            credentials = credentials.filter(owner__username=opts["user"])
        selected = list(credentials)
        if not selected:
            raise CommandError("No credentials match; add one on the Connections page first.")

        if opts["wait"]:
            runs = create_runs(selected, trigger="cli")
            runs = [run_sync(run.pk) if run.status == SyncRun.Status.QUEUED else run for run in runs]
        else:
            runs = enqueue_sync(selected, trigger="cli")

        rows = [describe(run) for run in runs]
        if opts["json"]:
            self.stdout.write(json.dumps({"runs": rows}, indent=2))
        else:
            for row in rows:
                counts = " ".join(f"{k}={v}" for k, v in row["counts"].items())
                line = f"{row['credential']}  {row['status']}  {counts} requests={row['requests']}  {row['duration_seconds']:.1f}s"
                if row["error"]:
                    line += f"  error: {row['error']}"
                self.stdout.write(line)
        if opts["wait"] and any(row["status"] == SyncRun.Status.FAILED for row in rows):
            self.stderr.write(f"{sum(r['status'] == 'failed' for r in rows)} of {len(rows)} syncs failed")
            sys.exit(1)
