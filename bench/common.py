"""What every benchmark shares: the bench database, Django set-up, statistics, targets, machine.

The benchmarks write to their own PostgreSQL database (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/okrhub_bench``), created and migrated on first use, so a
run never touches the development or test databases and its row counts are its own.
"""

from __future__ import annotations

import atexit
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"  # git-ignored: charts, JSON, the load test's var dir
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/okrhub_bench"


class BenchError(Exception):
    """The instrument could not measure (bad input, a missing service, a crashed worker)."""


def bench_database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        raise BenchError(f"BENCH_DATABASE_URL must be a PostgreSQL URL (the targets are about PostgreSQL), got {url.split('@')[-1]!r}")
    return url


def _maintenance_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise BenchError(f"BENCH_DATABASE_URL names no database: {url}")
    return urlunsplit(parts._replace(path="/postgres")), name


def ensure_database(url: str) -> None:
    """Create the bench database when it does not exist yet."""
    import psycopg

    maintenance, name = _maintenance_url(url)
    try:
        with psycopg.connect(maintenance.replace("postgres://", "postgresql://", 1), autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')  # name comes from our own URL
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL is not reachable for the bench database ({maintenance.split('@')[-1]}): {exc}") from None


def _own_lock_dir() -> Path:
    """Sync locks of this benchmark run only: ids restart at 1 in every bench database, so a lock
    directory shared with another run (a smoke test, a second ``make bench``) would collide."""
    path = RESULTS_DIR / "var" / "locks" / f"run-{os.getpid()}"
    atexit.register(shutil.rmtree, path, True)
    return path


LOCK_DIR = _own_lock_dir()


def django_env(url: str, **extra: str) -> dict[str, str]:
    """Environment for Django processes of the benchmark (parent, sync workers, gunicorn)."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "OKRHUB_IGNORE_DOTENV": "1",
        "DEBUG": "false",  # debug mode keeps every query in memory and slows templates
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "OKRHUB_VAR_DIR": str(RESULTS_DIR / "var"),  # own static files and broker folder, apart from the dev server's
        "SYNC_LOCK_DIR": str(LOCK_DIR),
    }
    env.update(extra)
    return env


_DJANGO_READY = False
_RUN_LOCK: Any = None  # a connection holding the bench database's advisory lock while we run
BENCH_LOCK_KEY = 1_201_200_612  # arbitrary, constant: "a benchmark is using this database"


def hold_database(url: str) -> None:
    """One benchmark per bench database at a time: each wipes and refills it."""
    global _RUN_LOCK
    import psycopg

    conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True, connect_timeout=5)
    if not conn.execute("SELECT pg_try_advisory_lock(%s)", (BENCH_LOCK_KEY,)).fetchone()[0]:
        conn.close()
        raise BenchError(f"another benchmark is running against {url.split('@')[-1]}; wait for it or set BENCH_DATABASE_URL")
    _RUN_LOCK = conn


def setup_django(url: str) -> None:
    """Point this process at the bench database, set Django up and migrate."""
    global _DJANGO_READY
    if _DJANGO_READY:
        return
    ensure_database(url)
    hold_database(url)
    for key, value in django_env(url).items():
        if key not in os.environ or os.environ[key] != value:
            os.environ[key] = value
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    _DJANGO_READY = True


# -- statistics ---------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 20 runs is the 19th fastest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


# -- targets ------------------------------------------------------------------------------------


@dataclass
class Check:
    """One target from an issue, measured: passed or missed, and why."""

    issue: str  # "#6" or "#8" or "#12"
    name: str
    measured: str
    target: str
    passed: bool

    @property
    def mark(self) -> str:
        return "ok" if self.passed else "MISSED"


@dataclass
class Section:
    """A benchmark's result: a table (headers + rows) and its checks."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)  # raw figures, for JSON and charts

    def check(self, issue: str, name: str, measured: str, target: str, passed: bool) -> Check:
        found = Check(issue, name, measured, target, bool(passed))
        self.checks.append(found)
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "headers": self.headers,
            "rows": self.rows,
            "checks": [asdict(c) for c in self.checks],
            "notes": self.notes,
            "data": self.data,
        }


# -- the machine --------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _postgres_version() -> str:
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return str(cursor.fetchone()[0])
    except Exception:
        return "unknown"


def machine_info() -> dict[str, str]:
    import django

    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"
    return {
        "cpus": str(os.cpu_count() or "unknown"),
        "cpu": _cpu_model(),
        "memory": _memory(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": _postgres_version(),
        "load average at start": load,
        "git commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def python_executable() -> str:
    return sys.executable
