"""Many workers (issue #20): N real Celery worker processes on Redis syncing many credentials at once.

Six sandbox orgs over real HTTP on loopback (North, Operately and OGSM, seeds 1 and 2, 20 ms
latency per request) and ``credentials`` credentials spread over them, several per org with the
sandboxes' reading accounts (North's alyssa and ben, Operately's ada, bob, carol, OGSM's admin
and member), so several workers upsert the same rows at the same time. All are enqueued at once
(``enqueue_sync``, as "sync now" does) for one worker process, then, on an emptied database, for
``processes`` worker processes (each ``--concurrency=1``, so a process is one sync at a time).

Checks: every run succeeded and no worker logged an error (a lock conflict would show as a skipped
run or a logged error); no duplicate rows (each (connector, external id) once per OKR table) and
the same row counts per org and table as the single-worker run; and the wall time of both
(enqueue to the last run finished), with their ratio.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import ROOT, BenchError, Section, django_env, python_executable
from bench.orgs import VENDORS

SANDBOX_FAULTS = "latency=20ms"
SEEDS = (1, 2)
RUN_TIMEOUT = 900.0  # seconds for all runs of one phase
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS_URL


class Orgs:
    """The sandbox orgs, served over HTTP for the whole benchmark (both phases read the same data)."""

    def __init__(self, size: int) -> None:
        from connectors.sandbox_kit import serve

        self.orgs: list[tuple[str, int, Any, Any]] = []  # vendor, seed, sandbox, server
        for seed in SEEDS:
            for vendor in VENDORS:
                sandbox = importlib.import_module(f"connectors.{vendor}.sandbox").build(seed=seed, size=size, faults=SANDBOX_FAULTS)
                self.orgs.append((vendor, seed, sandbox, serve(sandbox.app)))

    def stop(self) -> None:
        for *_, server in self.orgs:
            server.stop()

    def credentials(self, count: int) -> list[Any]:
        """``count`` credentials, round-robin over the orgs, each org's reading accounts in turn."""
        from bench.fixtures import bench_user, wipe
        from dashboard.integrations.models import Connector, Credential

        wipe()
        user = bench_user()
        connectors = [
            Connector.objects.create(vendor=vendor, name=f"{vendor} seed {seed} (bench workers)", base_url=server.url)
            for vendor, seed, _, server in self.orgs
        ]
        made = []
        for i in range(count):
            _, _, sandbox, _ = self.orgs[i % len(self.orgs)]
            readers = [c for c in sandbox.credentials if "(no " not in c.label]  # a missing scope makes a partial run
            reader = readers[(i // len(self.orgs)) % len(readers)]
            credential = Credential(connector=connectors[i % len(self.orgs)], owner=user, label=f"{reader.label} #{i}")
            credential.set_secret(dict(reader.secret))
            credential.save()
            made.append(credential)
        return made


class WorkerProcess:
    """``celery -A dashboard worker`` in its own process group, as tests/integrations/test_sync_celery.py starts one."""

    def __init__(self, env: dict[str, str], queue: str, log: Path) -> None:
        log.write_text("")
        self.log_path = log
        cmd = [
            str(Path(python_executable()).with_name("celery")),
            "-A",
            "dashboard",
            "worker",
            "-Q",
            queue,
            "-n",
            f"bench-{uuid.uuid4().hex[:6]}@%h",
            "--concurrency=1",
        ]
        cmd += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if "ready." in self.log():
                return
            if self.process.poll() is not None:
                raise BenchError(f"a Celery worker exited at start:\n{self.log()[-3000:]}")
            time.sleep(0.2)
        raise BenchError(f"a Celery worker did not become ready:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """A warm shutdown: SIGTERM to the worker's main process only, so Celery lets a running
        task end (a run is marked finished before its task returns); SIGTERM to the whole group
        would kill the pool process mid-task (WorkerLostError). SIGKILL to the group after 20 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def _point_celery_at(broker: str, queue: str) -> None:
    """This process enqueues: its Celery app talks to the bench broker and queue."""
    from kombu import pools

    from dashboard.celery import app

    app.conf.update(broker_url=broker, task_default_queue=queue, task_always_eager=False)
    pools.reset()  # drop pooled connections to an earlier broker or queue
    app._pool = None
    app.__dict__.pop("amqp", None)


def okr_rows() -> dict[str, dict[str, int]]:
    """Per org (connector name) and OKR table: rows, distinct external ids, seen-by rows."""
    from django.db.models import Count

    from dashboard.okrs.models import CheckIn, Goal, KeyResult, Person, Team, WorkItem

    found: dict[str, dict[str, int]] = {}
    for model in (Team, Person, Goal, KeyResult, WorkItem, CheckIn):
        name = model._meta.model_name
        rows = model.objects.values("connector__name").annotate(n=Count("id"), ids=Count("external_id", distinct=True))
        for row in rows:
            org = found.setdefault(row["connector__name"], {})
            org[f"{name} rows"] = row["n"]
            org[f"{name} duplicates"] = row["n"] - row["ids"]
        if hasattr(model, "seen_by"):
            seen = model.seen_by.through.objects.values(f"{name}__connector__name").annotate(n=Count("id"))
            for row in seen:
                found.setdefault(row[f"{name}__connector__name"], {})[f"{name} seen_by"] = row["n"]
    return found


def phase(url: str, orgs: Orgs, processes: int, count: int, results_dir: Path) -> dict[str, Any]:
    """Enqueue ``count`` syncs at once for ``processes`` worker processes; wait; measure."""
    from django.utils import timezone

    from dashboard.integrations.models import SyncRun
    from dashboard.integrations.sync import enqueue_sync

    credentials = orgs.credentials(count)
    broker, queue = redis_url(), f"okrhub-bench-workers-{uuid.uuid4().hex[:8]}"
    lock_dir = results_dir / "var" / "locks" / f"workers-{os.getpid()}-{processes}"
    env = django_env(
        url, CELERY_BROKER_URL=broker, CELERY_TASK_DEFAULT_QUEUE=queue, REDIS_URL=broker, LOG_LEVEL="INFO", SYNC_LOCK_DIR=str(lock_dir)
    )
    workers = [WorkerProcess(env, queue, results_dir / f"worker-{processes}-{n}.log") for n in range(processes)]
    try:
        deadline = time.monotonic() + 120
        for worker in workers:
            worker.wait_ready(deadline)
        _point_celery_at(broker, queue)
        started = timezone.now()
        enqueue_sync(credentials, trigger=SyncRun.Trigger.MANUAL)
        deadline = time.monotonic() + RUN_TIMEOUT
        runs = SyncRun.objects.filter(credential__in=credentials)
        while runs.exclude(status__in=SyncRun.FINISHED).exists():
            if time.monotonic() > deadline:
                raise BenchError(f"{processes} worker(s): the syncs did not finish within {RUN_TIMEOUT:.0f} s")
            if any(w.process.poll() is not None for w in workers):
                raise BenchError(f"a Celery worker died during the run:\n{workers[0].log()[-3000:]}")
            time.sleep(0.2)
        finished = max(r.finished_at for r in runs)
    finally:
        for worker in workers:
            worker.stop()
    logged = [line for w in workers for line in w.log().splitlines() if _is_error(line)]
    done = list(runs.values("status", "error", "credential__label"))
    return {
        "processes": processes,
        "credentials": count,
        "seconds": (finished - started).total_seconds(),
        "statuses": dict(Counter(r["status"] for r in done)),
        "run_errors": [f"{r['credential__label']}: {r['error'][:200]}" for r in done if r["error"]],
        "logged_errors": logged[:20],
        "rows": okr_rows(),
    }


def _is_error(line: str) -> bool:
    return any(mark in line for mark in ("ERROR/", "CRITICAL/", "Traceback", "WARNING/")) or "lock" in line.lower()


def run(url: str, *, processes: int, credentials: int, results_dir: Path, size: int = 3) -> Section:
    if processes < 1 or credentials < 1:
        raise BenchError("--workers and --credentials must be at least 1")
    results_dir.mkdir(parents=True, exist_ok=True)
    orgs = Orgs(size)
    try:
        single = phase(url, orgs, 1, credentials, results_dir)
        many = phase(url, orgs, processes, credentials, results_dir)
    finally:
        orgs.stop()
    ratio = single["seconds"] / many["seconds"] if many["seconds"] else float("inf")
    section = Section(
        title=f"Many workers (issue #20): {credentials} credentials synced at once by 1 and by {processes} Celery worker processes on Redis",
        headers=["worker processes", "credentials", "wall s", "runs", "OKR rows", "duplicate rows", "errors logged"],
    )
    for result in (single, many):
        section.rows.append(
            [
                str(result["processes"]),
                str(result["credentials"]),
                f"{result['seconds']:.1f}",
                ", ".join(f"{n} {s}" for s, n in sorted(result["statuses"].items())),
                f"{_total(result, 'rows'):,}",
                str(_total(result, "duplicates")),
                str(len(result["logged_errors"]) + len(result["run_errors"])),
            ]
        )
    section.notes.append(
        f"{len(orgs.orgs)} sandbox orgs ({', '.join(VENDORS)}; seeds {', '.join(map(str, SEEDS))}; {size} teams each; {SANDBOX_FAULTS}) "
        f"served over HTTP by the benchmark process; {credentials} credentials round-robin over them (several per org), all enqueued "
        "at once with enqueue_sync; each worker: celery -A dashboard worker --concurrency=1 on Redis (locks in Redis too). "
        "Wall time: from the enqueue to the last run's finished_at; the database is emptied between the two runs."
    )
    section.notes.append(
        f"Wall time with 1 / {processes} worker processes: {single['seconds']:.1f} s / {many['seconds']:.1f} s = {ratio:.2f}x "
        "(reported, not gated: the cores are shared with the sandboxes, PostgreSQL and other work)."
    )
    for result in (single, many):
        for line in result["run_errors"] + result["logged_errors"]:
            section.notes.append(f"{result['processes']} worker(s): {line[:300]}")
    section.data += [single, many]
    for result in (single, many):
        where = f"{result['processes']} worker(s)"
        ok = result["statuses"] == {"succeeded": credentials}
        section.check("#20", f"{where}: every run succeeded", str(result["statuses"]), f"{credentials} succeeded", ok)
        errors = len(result["run_errors"]) + len(result["logged_errors"])
        section.check("#20", f"{where}: no error or lock conflict logged", str(errors), "0", errors == 0)
        dup = _total(result, "duplicates")
        section.check("#20", f"{where}: no duplicate rows", str(dup), "0", dup == 0)
    differ = sorted(
        f"{org} {key}: {value} vs {single['rows'].get(org, {}).get(key)}"
        for org, counts in many["rows"].items()
        for key, value in counts.items()
        if single["rows"].get(org, {}).get(key) != value
    ) + sorted(f"{org}: missing with {processes} workers" for org in single["rows"] if org not in many["rows"])
    section.check(
        "#20",
        f"{processes} workers write the same rows as 1 (per org and table)",
        "; ".join(differ[:5]) or f"equal ({_total(many, 'rows'):,} rows, {_total(many, 'seen_by'):,} seen-by)",
        "equal",
        not differ,
    )
    return section


def _total(result: dict[str, Any], suffix: str) -> int:
    return sum(n for counts in result["rows"].values() for key, n in counts.items() if key.endswith(suffix))


def markdown_section(payload: dict[str, Any]) -> str:
    """A result as the markdown section docs/benchmarks.md carries (bench.report's tables and layout)."""
    from bench.report import markdown_table

    section = payload["section"]
    out = [
        f"## {section['title']}",
        "",
        f"- Date: {payload['date']}",
        f"- Command: `{payload['command']}`",
        f"- Duration of the benchmark: {payload['seconds']:.0f} s",
        "- Machine: " + "; ".join(f"{k}: {v}" for k, v in payload.get("machine", {}).items()),
        "",
        markdown_table(section["headers"], section["rows"]),
        "",
        *[f"- {note}" for note in section["notes"]],
        "",
        "Targets:",
        "",
        markdown_table(
            ["result", "issue", "target", "measured", "limit"],
            [["ok" if c["passed"] else "**MISSED**", c["issue"], c["name"], c["measured"], c["target"]] for c in section["checks"]],
        ),
    ]
    return "\n".join(out)
