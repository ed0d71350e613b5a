"""The benchmark instrument works end to end: the smallest case of each benchmark, for real.

Each runs ``python -m bench`` in a subprocess against its own PostgreSQL database (the
DATABASE_URL server, database ``<name>_benchsmoke``), writes JSON into a temporary folder and
never touches docs/benchmarks.md. The assertions are about the instrument (it measured, the floor
replayed the sync's own requests, queries were counted, the load reached the server signed in),
not about the targets, which only mean something at the target sizes (``make bench``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import port_open, require

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench_env() -> dict[str, str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/okrhub"
    parts = urlsplit(url)
    require(port_open(parts.hostname or "127.0.0.1", parts.port or 5432), f"PostgreSQL at {parts.hostname}:{parts.port}")
    smoke = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_benchsmoke"))
    return {**os.environ, "BENCH_DATABASE_URL": smoke}


def bench(env: dict[str, str], results: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    cmd = [sys.executable, "-m", "bench", *args, "--no-docs", "--results-dir", str(results)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    output = done.stdout + done.stderr
    assert done.returncode in (0, 1), f"the instrument failed (exit {done.returncode}):\n{output[-4000:]}"
    payload = json.loads((results / f"{args[0]}.json").read_text())
    section = payload["section"]
    missed = [c for c in section["checks"] if not c["passed"]]
    # The exit code is the gate: 1 exactly when a target was missed, and the table says which.
    assert done.returncode == (1 if missed else 0), output[-4000:]
    for check in missed:
        assert f"[MISSED] {check['issue']} {check['name']}" in done.stdout
    assert payload["command"].startswith(f"python -m bench {args[0]}")
    assert payload["machine"]["cpus"] and payload["machine"]["postgresql"] != "unknown"
    return done.returncode, section, done.stdout


def test_sync_benchmark_measures_a_sync_and_its_floor(bench_env: dict[str, str], tmp_path: Path) -> None:
    _, section, stdout = bench(bench_env, tmp_path, "sync", "--size", "tiny", "--vendor", "north")
    full, again = section["data"]
    assert (full["run"], again["run"]) == ("full", "re-sync")
    assert full["status"] == "succeeded", full["error"]
    # The floor replayed exactly the requests the sandbox saw, and they all succeeded again.
    assert full["requests"] > 10 and full["requests"] == full["requests_made_by_run"]
    assert full["floor_statuses"] == {"200": full["requests"]}
    assert full["floor_seconds"] > 0 and full["seconds"] > 0
    # 20 ms per request, at most 8 at once: the floor cannot beat the latency.
    assert full["floor_seconds"] >= 0.02 * full["requests"] / 8
    # A full sync into an empty database writes rows; the worker's memory was measured.
    assert full["okr_rows_written"] > 0 and full["rows_written"].get("okrs_goal", 0) > 0
    assert 50 < full["peak_rss_mb"] < 2000
    assert "north" in stdout and "re-sync" in stdout
    assert (tmp_path / "sync_vs_org_size.png").stat().st_size > 1000
    names = {c["name"] for c in section["checks"]}
    assert "north tiny: no-change re-sync writes no rows" in names and "north tiny: peak worker memory" in names


def test_pages_benchmark_counts_queries_at_two_sizes(bench_env: dict[str, str], tmp_path: Path) -> None:
    _, section, _ = bench(bench_env, tmp_path, "pages", "--size", "small", "--runs", "3", "--page", "overview", "--page", "goal detail")
    rows = section["data"]
    assert {(r["size"], r["page"]) for r in rows} == {(s, p) for s in ("tiny", "small") for p in ("overview", "goal detail")}
    for row in rows:
        assert row["status"] == 200
        assert row["queries"] >= 3  # at least the session, the user and the page's own query
        assert 0 < row["median_ms"] <= row["p95_ms"]
        assert 0 < row["sql_ms"] < row["p95_ms"]  # time in the database was measured too
        assert row["trivial_median_ms"] > 0
        # the first request with an empty page-data cache is measured too, and runs the scans the warm ones skip
        assert row["cold_ms"] > 0 and row["cold_queries"] >= row["queries"]
        # cold is a median of several requests, each after emptying the cache, with its spread
        assert 0 < row["cold_min_ms"] <= row["cold_ms"] <= row["cold_max_ms"]
        assert row["cold_ratio"] == row["cold_ms"] / row["trivial_median_ms"]
    assert any(c["name"] == "overview: same query count at both sizes (warm / cold cache)" for c in section["checks"])
    assert any(c["name"] == "overview: at most 15 queries (warm / cold cache)" for c in section["checks"])


def test_load_benchmark_drives_gunicorn_signed_in(bench_env: dict[str, str], tmp_path: Path) -> None:
    _, section, _ = bench(bench_env, tmp_path, "load", "--size", "tiny", "--clients", "4", "--duration", "3")
    (data,) = section["data"]
    assert data["requests"] > 4
    # Signed in: pages answered 200, not a redirect to the login page.
    assert data["statuses"].get("200", 0) > 0 and "302" not in data["statuses"]
    assert 0 < data["p50_ms"] <= data["p99_ms"]
    assert "gunicorn" in (tmp_path / "gunicorn.log").read_text().lower()
