"""python manage.py sync [--connector NAME] [--user USERNAME] [--wait] [--json]

Without ``--wait`` the syncs are enqueued for the workers. With ``--wait`` every selected
credential is synced to the end: a run already queued for it (e.g. the first sync that
``credential add`` queued) is taken over and run here, under the same lock and claim a worker
uses, so the worker that later receives its task leaves it alone; a run a worker is running is
waited for (progress on stderr). Nothing is skipped that could have run.

One line per run: credential, run, status, what happened, counts, duration and the reason (or
one JSON document with ``--json``). Exit status with ``--wait``: 0 when every run succeeded, 1
when any failed or could not run (e.g. the credential needs re-entry), 2 when any was partial
(and none failed).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Max

from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.sync import create_runs, enqueue_sync, take_over

POLL_SECONDS = 0.5  # how often a run held by a worker is looked at while waiting
PROGRESS_EVERY = 5.0  # seconds between progress lines on stderr within one stream
EXIT_SUCCEEDED, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 2
EXIT_MEANING = {
    EXIT_SUCCEEDED: "every run succeeded",
    EXIT_FAILED: "at least one run failed or could not run",
    EXIT_PARTIAL: "at least one run was partial (some streams failed), none failed",
}
# What happened to each run, as printed and as the JSON "handled" field.
RAN_HERE = "ran here"
TOOK_OVER = "took over the queued run and ran it here"
WAITED = "waited for the worker running it"
NOT_RUN = "not run"
QUEUED_FOR_WORKERS = "queued for the workers"


def describe(run: SyncRun, handled: str) -> dict[str, Any]:
    return {
        "run": run.pk,
        "credential": str(run.credential),
        "credential_id": run.credential_id,
        "status": run.status,
        "handled": handled,
        "counts": run.counts(),
        "requests": run.requests_made,
        "duration_seconds": round(run.duration_seconds or 0.0, 3),
        "error": run.error,
    }


def exit_status(statuses: list[str]) -> int:
    """Failed (or skipped: the credential could not sync) wins over partial."""
    if any(s in (SyncRun.Status.FAILED, SyncRun.Status.SKIPPED) for s in statuses):
        return EXIT_FAILED
    if any(s == SyncRun.Status.PARTIAL for s in statuses):
        return EXIT_PARTIAL
    return EXIT_SUCCEEDED


def progress_line(run: SyncRun) -> str:
    where = f"stream {run.current_stream} ({run.streams_done}/{run.streams_total})" if run.current_stream else "starting"
    return f"{run.credential}: run {run.pk} {run.status} on a worker, {where}, {run.items_done} items so far"


class Command(BaseCommand):
    help = "Sync credentials now: enqueue for the workers, or run to the end with --wait (exit 0 ok, 1 failed, 2 partial)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connector", metavar="NAME", help="Only credentials of this connector (its name).")
        parser.add_argument("--user", metavar="USERNAME", help="Only credentials owned by this user.")
        parser.add_argument(
            "--wait",
            action="store_true",
            help="Run every sync to the end (taking over a queued run, waiting for a running one) and report it.",
        )
        parser.add_argument("--json", action="store_true", help="Print the runs as JSON.")

    def handle(self, *args: Any, **opts: Any) -> None:
        selected = self.select(opts)
        if opts["wait"]:
            # Runs up to this id existed before: they are taken over or waited for, not new.
            existing = SyncRun.objects.aggregate(last=Max("pk"))["last"] or 0
            runs = create_runs(selected, trigger="cli", adopt_active=True)
            rows = [self.run_to_end(run, adopted=run.pk <= existing) for run in runs]
        else:
            runs = enqueue_sync(selected, trigger="cli")
            rows = [describe(run, QUEUED_FOR_WORKERS if run.status == SyncRun.Status.QUEUED else NOT_RUN) for run in runs]
        code = exit_status([row["status"] for row in rows]) if opts["wait"] else EXIT_SUCCEEDED
        if opts["json"]:
            document = {"runs": rows, "exit_status": code, "exit_status_meaning": EXIT_MEANING[code] if opts["wait"] else "enqueued"}
            self.stdout.write(json.dumps(document, indent=2))
        else:
            for row in rows:
                self.stdout.write(self.line(row))
        if opts["wait"]:
            failed = sum(row["status"] in (SyncRun.Status.FAILED, SyncRun.Status.SKIPPED) for row in rows)
            partial = sum(row["status"] == SyncRun.Status.PARTIAL for row in rows)
            if code != EXIT_SUCCEEDED:
                self.stderr.write(f"{failed} of {len(rows)} syncs failed, {partial} partial: exit {code} ({EXIT_MEANING[code]})")
                sys.exit(code)

    def select(self, opts: dict[str, Any]) -> list[Credential]:
        credentials = Credential.objects.select_related("connector", "owner").order_by("pk")
        if opts["connector"]:
            if not Connector.objects.filter(name=opts["connector"]).exists():
                known = ", ".join(Connector.objects.values_list("name", flat=True)) or "none configured"
                raise CommandError(f"No connector named {opts['connector']!r}; known: {known}")
            credentials = credentials.filter(connector__name=opts["connector"])
        if opts["user"]:
            if not get_user_model().objects.filter(username=opts["user"]).exists():
                raise CommandError(f"No user named {opts['user']!r}")
            credentials = credentials.filter(owner__username=opts["user"])
        selected = list(credentials)
        if not selected:
            raise CommandError("No credentials match; add one on the Connections page first.")
        return selected

    def run_to_end(self, run: SyncRun, *, adopted: bool) -> dict[str, Any]:
        """Take ``run`` over, or wait for whoever holds it, until it is finished."""
        if run.is_finished:  # create_runs refused it: the credential cannot sync (paused...)
            return describe(run, NOT_RUN)
        waited, last_line, last_stream, last_time = False, "", None, 0.0
        while (outcome := take_over(run.pk)) is None:
            waited = True
            current = SyncRun.objects.select_related("credential__connector", "credential__owner").get(pk=run.pk)
            line = progress_line(current)
            # A line when the stream changes, else at most every PROGRESS_EVERY seconds.
            moved_on = (current.status, current.current_stream) != last_stream
            if line != last_line and (moved_on or time.monotonic() - last_time >= PROGRESS_EVERY):
                self.stderr.write(line)
                last_line, last_stream, last_time = line, (current.status, current.current_stream), time.monotonic()
            time.sleep(POLL_SECONDS)
        finished, ran_here = outcome
        if finished.status == SyncRun.Status.SKIPPED:
            handled = NOT_RUN
        elif ran_here:
            handled = TOOK_OVER if adopted or waited else RAN_HERE
        else:
            handled = WAITED
        return describe(finished, handled)

    @staticmethod
    def line(row: dict[str, Any]) -> str:
        counts = " ".join(f"{k}={v}" for k, v in row["counts"].items())
        line = (
            f"{row['credential']}  run {row['run']}  {row['status']}  ({row['handled']})  "
            f"{counts} requests={row['requests']}  {row['duration_seconds']:.1f}s"
        )
        if row["error"]:
            label = "reason" if row["status"] in (SyncRun.Status.SKIPPED, SyncRun.Status.PARTIAL) else "error"
            line += f"  {label}: {row['error']}"
        return line
