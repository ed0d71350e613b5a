"""One sync in its own process, so its peak memory is the worker's alone.

``python -m bench.sync_worker --credential-id N`` (environment from ``bench.common.django_env``)
creates a SyncRun for the credential, calls ``run_sync(run_id)`` as a Celery worker would, and
prints one JSON line: wall time of ``run_sync``, the run's status and counts, SQL statements and
rows written per table (counted on every database connection the sync opens, in any thread),
and the peak resident memory of this process.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import re
import resource
import sys
import threading
import time
import traceback
from collections import Counter
from typing import Any

_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)"?', re.IGNORECASE)


class SqlCounter:
    """An execute wrapper: statements by kind, rows written by table."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statements: Counter[str] = Counter()
        self.rows_written: Counter[str] = Counter()

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        result = execute(sql, params, many, context)
        kind = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        match = _WRITE.match(sql)
        rows = 0
        if match:
            rowcount = getattr(context.get("cursor"), "rowcount", -1)
            rows = rowcount if isinstance(rowcount, int) and rowcount > 0 else 0
        with self.lock:
            self.statements[kind] += 1
            if match:
                self.rows_written[match.group(1)] += rows
        return result

    def install(self) -> None:
        """On every connection, including those that sync threads open later."""
        from django.db import connections
        from django.db.backends.signals import connection_created

        def attach(sender: Any, connection: Any, **kwargs: Any) -> None:
            if self not in connection.execute_wrappers:
                connection.execute_wrappers.append(self)

        connection_created.connect(attach, weak=False)
        for alias in connections:
            attach(None, connections[alias])


def peak_rss_mb() -> float:
    """Peak resident memory of this process. VmHWM belongs to this address space alone, whereas
    ru_maxrss survives fork+exec and would report the parent's (the sandbox's) size."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: KiB, maybe inherited


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_worker")
    parser.add_argument("--credential-id", type=int, required=True)
    parser.add_argument("--profile", help="write cProfile statistics of run_sync (main thread) to this file")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from dashboard.integrations.models import StreamResult, SyncRun
    from dashboard.integrations.sync import run_sync

    run = SyncRun.objects.create(credential_id=args.credential_id, trigger=SyncRun.Trigger.CLI)
    counter = SqlCounter()
    counter.install()
    rss_before = peak_rss_mb()
    profiler = cProfile.Profile() if args.profile else None
    error = ""
    started_monotonic = time.monotonic()
    started = time.perf_counter()
    try:
        if profiler:
            profiler.enable()
        run_sync(run.id)
    except Exception:
        error = traceback.format_exc(limit=8)
    finally:
        if profiler:
            profiler.disable()
    seconds = time.perf_counter() - started
    finished_monotonic = time.monotonic()
    if profiler:
        profiler.dump_stats(args.profile)
    written = dict(counter.rows_written)
    statements = dict(counter.statements)
    run.refresh_from_db()
    streams = [
        {k: getattr(r, k) for k in ("stream", "status", "fetched", "created", "updated", "unchanged", "removed")}
        for r in StreamResult.objects.filter(run=run).order_by("id")
    ]
    print(
        json.dumps(
            {
                "run_id": run.id,
                "seconds": seconds,
                "started_monotonic": started_monotonic,
                "finished_monotonic": finished_monotonic,
                "status": run.status,
                "error": error or run.error,
                "requests_made": run.requests_made,
                "streams": streams,
                "rows_written": written,
                "statements": statements,
                "peak_rss_mb": peak_rss_mb(),
                "rss_after_setup_mb": rss_before,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
