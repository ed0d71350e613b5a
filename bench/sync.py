"""Sync benchmark (issue #6 "Speed and memory").

For each vendor and org size: the vendor's sandbox with 20 ms latency per request, served over
real HTTP on loopback; a full sync and then a no-change re-sync, each in a fresh worker process
(``bench.sync_worker``) against the bench PostgreSQL database; then the floor, a plain httpx
replay of exactly the requests each sync made, with the same concurrency.

Targets: full sync <= 1.3x its floor, gated for the North target org (size ``large``) as issue #6
states it, reported for the other vendors and sizes. Gated for every vendor and size: the re-sync
writes no OKR rows and repeats no request (and makes no more requests than the full sync); peak
worker memory < 300 MB (memory must not grow with the org); every sync succeeds.
"""

from __future__ import annotations

import importlib
import json
import logging
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, BenchError, Section, django_env, python_executable
from bench.floor import FloorResult, LoggedRequest, RequestLog, duplicates, in_flight, repeated, replay
from bench.orgs import TARGET_SIZE, sync_sandbox_options

LATENCY = "latency=20ms"
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per sandbox request otherwise
RATIO_TARGET = 1.3
RSS_TARGET_MB = 300.0
RATIO_VENDOR = "north"  # issue #6 sets the ratio for a North org; the others are held to it in the report only
WORKER_TIMEOUT = 1800  # seconds; a sync slower than this is a failure of its own
DATA_PREFIX = "okrs_"  # rows of the unified model; run records (integrations_*) are bookkeeping


@dataclass
class SyncMeasure:
    label: str  # "full" or "re-sync"
    worker: dict[str, Any]
    requests: list[LoggedRequest]
    floor: FloorResult

    @property
    def seconds(self) -> float:
        return float(self.worker["seconds"])

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor.seconds if self.floor.seconds > 0 else float("inf")

    @property
    def data_rows(self) -> int:
        return sum(n for table, n in self.worker["rows_written"].items() if table.startswith(DATA_PREFIX))

    @property
    def other_rows(self) -> int:
        return sum(n for table, n in self.worker["rows_written"].items() if not table.startswith(DATA_PREFIX))

    @property
    def sql_statements(self) -> int:
        return sum(self.worker["statements"].values())


def run_worker(url: str, credential_id: int, profile: Path | None = None) -> dict[str, Any]:
    cmd = [python_executable(), "-m", "bench.sync_worker", "--credential-id", str(credential_id)]
    if profile is not None:
        cmd += ["--profile", str(profile)]
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=django_env(url), capture_output=True, text=True, timeout=WORKER_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BenchError(f"the sync worker did not finish within {WORKER_TIMEOUT} s") from None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise BenchError(f"the sync worker failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def sync_once(
    url: str, credential_id: int, log: RequestLog, base_url: str, concurrency: int, label: str, profile: Path | None
) -> SyncMeasure:
    log.take()
    worker = run_worker(url, credential_id, profile)
    requests = log.take()
    worker["in_flight"] = in_flight(requests, worker["started_monotonic"], worker["finished_monotonic"])
    floor = replay(base_url, requests, concurrency)
    return SyncMeasure(label, worker, requests, floor)


def bench_vendor(
    url: str, vendor: str, size: str, concurrency: int, profile_dir: Path | None = None
) -> tuple[dict[str, Any], SyncMeasure, SyncMeasure]:
    from bench.fixtures import bench_user, connect, wipe
    from connectors.sandbox_kit import serve

    options = sync_sandbox_options(vendor, size)
    module = importlib.import_module(f"connectors.{vendor}.sandbox")
    built_at = time.perf_counter()
    sandbox = module.build(seed=1, faults=LATENCY, **options)
    build_seconds = time.perf_counter() - built_at
    log = RequestLog(sandbox.app)
    server = serve(log)
    try:
        wipe()
        credential = connect(vendor, server.url, sandbox.credentials[0].secret, bench_user())
        profiles = [profile_dir / f"profile-{vendor}-{size}-{label}.prof" if profile_dir else None for label in ("full", "resync")]
        full = sync_once(url, credential.id, log, server.url, concurrency, "full", profiles[0])
        again = sync_once(url, credential.id, log, server.url, concurrency, "re-sync", profiles[1])
    finally:
        server.stop()
    org = {"vendor": vendor, "size": size, "options": options, "sandbox_build_seconds": round(build_seconds, 2), "items": _items(full)}
    return org, full, again


def _items(measure: SyncMeasure) -> int:
    return sum(int(s.get("fetched") or 0) for s in measure.worker.get("streams", []))


def _org_label(org: dict[str, Any]) -> str:
    opts = org["options"]
    if org["vendor"] == "north":
        return f"{opts['size']} teams, {opts['goals']:,} goals, {opts['key_results']:,} KRs, {opts['initiatives']:,} initiatives"
    unit = "spaces" if org["vendor"] == "operately" else "canvases"
    return f"{opts['size']} {unit} ({org['items']:,} items)"


def run(url: str, vendors: list[str], sizes: list[str], concurrency: int, profile_dir: Path | None = None) -> Section:
    section = Section(
        title="Sync (issue #6): full and no-change re-sync against each sandbox, 20 ms latency, beside the floor",
        headers=[
            "vendor",
            "org",
            "run",
            "requests",
            "wall s",
            "floor s",
            "ratio",
            "OKR rows written",
            "run rows",
            "SQL stmts",
            "peak RSS MB",
        ],
    )
    section.notes.append(
        f"Floor: the same requests (method, URL, headers, body) replayed with a plain httpx.Client and a thread pool of "
        f"{concurrency} (SYNC_CONCURRENCY), reading each body and doing nothing else. Latency is injected by the sandbox "
        f"({LATENCY}), so both wait for it. Each sync runs in its own worker process; peak RSS is that process's VmHWM (/proc/self/status)."
    )
    section.notes.append(
        "OKR rows written: INSERT/UPDATE/DELETE row counts on okrs_* tables, counted on every database connection of the worker; "
        "run rows: the run's own records (integrations_*: SyncRun progress, StreamResult, cursors)."
    )
    for size in sizes:
        for vendor in vendors:
            org, full, again = bench_vendor(url, vendor, size, concurrency, profile_dir)
            label = _org_label(org)
            for measure in (full, again):
                section.rows.append(
                    [
                        vendor,
                        label,
                        measure.label,
                        f"{len(measure.requests):,}",
                        f"{measure.seconds:.2f}",
                        f"{measure.floor.seconds:.2f}",
                        f"{measure.ratio:.2f}x",
                        f"{measure.data_rows:,}",
                        f"{measure.other_rows:,}",
                        f"{measure.sql_statements:,}",
                        f"{measure.worker['peak_rss_mb']:.0f}",
                    ]
                )
                section.data.append(
                    {
                        **org,
                        "run": measure.label,
                        "requests": len(measure.requests),
                        "requests_made_by_run": measure.worker.get("requests_made"),
                        "duplicate_requests": duplicates(measure.requests),
                        "seconds": measure.seconds,
                        "floor_seconds": measure.floor.seconds,
                        "floor_statuses": {str(k): v for k, v in measure.floor.statuses.items()},
                        "ratio": measure.ratio,
                        "okr_rows_written": measure.data_rows,
                        "run_rows_written": measure.other_rows,
                        "rows_written": measure.worker["rows_written"],
                        "statements": measure.worker["statements"],
                        "peak_rss_mb": measure.worker["peak_rss_mb"],
                        "status": measure.worker["status"],
                        "error": measure.worker.get("error", ""),
                        "streams": measure.worker.get("streams", []),
                        "in_flight": measure.worker["in_flight"],
                    }
                )
            _checks(section, vendor, size, label, full, again)
    return section


def _checks(section: Section, vendor: str, size: str, label: str, full: SyncMeasure, again: SyncMeasure) -> None:
    where = f"{vendor} {size}"
    for measure in (full, again):
        ok = measure.worker["status"] == "succeeded" and not measure.worker.get("error")
        detail = measure.worker["status"] + (f": {measure.worker['error'][:200]}" if measure.worker.get("error") else "")
        what = "the full sync" if measure.label == "full" else "the no-change re-sync"
        section.check("#6", f"{where}: {what} succeeds", detail, "succeeded", ok)
        bad = {k: v for k, v in measure.floor.statuses.items() if k >= 400}
        if bad:
            section.notes.append(f"{where} {measure.label}: the floor replay got error statuses {bad} (the sync made failing requests)")
    for measure in (full, again):
        flight = measure.worker["in_flight"]
        section.notes.append(
            f"{where} {measure.label}: requests in flight during {flight['busy_seconds']:.1f} s of {measure.seconds:.1f} s "
            f"(mean {flight['mean_in_flight']:.1f} at once); none in flight for {flight['idle_seconds']:.1f} s (the sync's own work)"
        )
    ratio_note = f"{full.seconds:.2f} s / {full.floor.seconds:.2f} s = {full.ratio:.2f}x"
    if size == TARGET_SIZE and vendor == RATIO_VENDOR:
        section.check(
            "#6", f"{where}: full sync within 1.3x of the floor ({label})", ratio_note, f"<= {RATIO_TARGET}x", full.ratio <= RATIO_TARGET
        )
    else:
        section.notes.append(
            f"{where}: full sync {ratio_note} against the same {RATIO_TARGET}x target, reported only "
            f"(issue #6 sets it for the North org of size {TARGET_SIZE})"
        )
    section.check(
        "#6",
        f"{where}: no-change re-sync writes no rows",
        f"{again.data_rows} OKR rows ({again.worker['rows_written']})",
        "0",
        again.data_rows == 0,
    )
    dup = duplicates(again.requests)
    section.check(
        "#6",
        f"{where}: no-change re-sync makes only the requests needed",
        f"{len(again.requests)} requests ({dup} repeated{': ' + repeated(again.requests) if dup else ''}; "
        f"full sync made {len(full.requests)})",
        "no repeated request, no more than the full sync",
        dup == 0 and len(again.requests) <= len(full.requests),
    )
    peak = max(full.worker["peak_rss_mb"], again.worker["peak_rss_mb"])
    section.check("#6", f"{where}: peak worker memory", f"{peak:.0f} MB", f"< {RSS_TARGET_MB:.0f} MB", peak < RSS_TARGET_MB)
