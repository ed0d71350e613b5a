"""Growth benchmark (issue #20): the same measures at 1x, 3x and 10x the data.

1x is 200 teams, 2,000 goals, 6,000 key results and 2,000 work items; 10x is 2,000 teams,
20,000 goals, 60,000 key results and 20,000 work items. At each factor:

- **sync**: a North org of that shape (initiatives as its work items) in its sandbox over real
  HTTP with ``LATENCY`` per request (small, so the curve shows our own cost per item rather
  than the wait), a full sync in a worker process of its own (``bench.sync_worker``), ``runs``
  times from an empty database: seconds per 1,000 records fetched (median, min-max) and the
  worker's peak resident memory (the largest of the runs; target < 300 MB at every factor);
- **pages**: the unified tables filled directly (``bench.populate``) at that size, ANALYZE, the
  main pages with the page-data cache warm (median of ``page_runs``) and cold (median of
  ``pages.COLD_RUNS``, that cache emptied before each), and their query counts, which must be the
  same at every factor;
- **database size**: ``pg_database_size`` and the okrs_* tables with their indexes, after the
  pages' fill.

The curves are drawn into one SVG (``growth.svg`` in the results folder; matplotlib, no
timestamps in it); the copy that ``docs/benchmarks.md`` shows is ``docs/img/growth.svg``.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any

from bench import pages
from bench.common import BenchError, Section, median
from bench.orgs import PageOrg

FACTORS = (1, 3, 10)
LATENCY = "latency=2ms"
RSS_TARGET_MB = 300.0
PLOT_NAME = "growth.svg"
BASE = PageOrg(teams=200, goals=2000, key_results=6000, work_items=2000)
PAGE_CASES = (
    pages.PageCase("overview", "/"),
    pages.PageCase("teams", "/teams/"),
    pages.PageCase("goals", "/goals/"),
    pages.PageCase("goal detail", "/goals/{goal}/"),
    pages.PageCase("actions", "/actions/"),
    pages.PageCase("review", "/review/"),
    pages.PageCase("search", "/search/?q={q}"),
)


def org_at(factor: float, base: PageOrg = BASE) -> PageOrg:
    return PageOrg(
        teams=max(1, round(base.teams * factor)),
        goals=max(1, round(base.goals * factor)),
        key_results=max(1, round(base.key_results * factor)),
        work_items=max(1, round(base.work_items * factor)),
    )


def north_options(org: PageOrg) -> dict[str, Any]:
    """The North sandbox's options for an org of this shape (initiatives are its work items)."""
    return {"size": org.teams, "goals": org.goals, "key_results": org.key_results, "initiatives": org.work_items}


def sync_at(url: str, org: PageOrg, runs: int) -> dict[str, Any]:
    from bench.fixtures import bench_user, connect, wipe
    from bench.sync import run_worker
    from connectors.sandbox_kit import serve

    module = importlib.import_module("connectors.north.sandbox")
    built = time.perf_counter()
    sandbox = module.build(seed=1, faults=LATENCY, **north_options(org))
    build_seconds = time.perf_counter() - built
    server = serve(sandbox.app)
    results = []
    try:
        user = bench_user()
        for _ in range(runs):
            wipe()
            credential = connect("north", server.url, sandbox.credentials[0].secret, user)
            worker = run_worker(url, credential.id)
            if worker["status"] != "succeeded":
                raise BenchError(f"the North sync at {org.label} ended {worker['status']}: {worker.get('error', '')}")
            results.append(worker)
    finally:
        server.stop()
    items = sum(int(s.get("fetched") or 0) for s in results[0].get("streams", []))
    per_k = [1000 * float(w["seconds"]) / items for w in results] if items else [0.0]
    return {
        "items": items,
        "seconds": [float(w["seconds"]) for w in results],
        "seconds_per_1000": per_k,
        "peak_rss_mb": max(float(w["peak_rss_mb"]) for w in results),
        "requests": results[0].get("requests_made"),
        "sandbox_build_seconds": round(build_seconds, 1),
    }


def database_size() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        total = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
            "AND c.relkind = 'r' AND c.relname LIKE 'okrs\\_%%'"
        )
        okrs = int(cursor.fetchone()[0])
    return {"database_bytes": total, "okrs_bytes": okrs}


def pages_at(org: PageOrg, page_runs: int) -> dict[str, Any]:
    from django.test import Client

    from bench.fixtures import bench_user, wipe
    from bench.populate import populate

    wipe()
    user = bench_user()
    started = time.perf_counter()
    ids = populate(org, user)
    fill_seconds = time.perf_counter() - started
    pages._analyze()
    size = database_size()
    client = Client(raise_request_exception=False)
    client.force_login(user)
    cases = [("trivial signed-in page", pages.TRIVIAL, False, False)]
    for case in PAGE_CASES:
        path = case.path.format(team=ids["team_with_children"], goal=ids["goal"], q=ids["search"], person=ids["person"])
        cases.append((case.name, path, case.htmx, case.export))
    trivial, *timings = pages.measure_all(client, cases, page_runs)
    return {
        "fill_seconds": round(fill_seconds, 1),
        **size,
        "trivial_ms": trivial.median_ms,
        "pages": {
            t.name: {
                "status": t.status,
                "warm_ms": t.median_ms,
                "cold_ms": t.cold_ms,
                "cold_min_ms": t.cold_min_ms,
                "cold_max_ms": t.cold_max_ms,
                "queries": t.queries,
                "cold_queries": t.cold_queries,
            }
            for t in timings
        },
    }


def plot(points: list[dict[str, Any]], path: Path) -> Path:
    """Three panels against the factor: sync s per 1,000 records, page times, memory and size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "okrhub-growth"  # stable ids: the same data draws the same file
    factors = [p["factor"] for p in points]
    fig, (sync_ax, page_ax, size_ax) = plt.subplots(1, 3, figsize=(13, 4.2), dpi=100)
    per_k = [median(p["sync"]["seconds_per_1000"]) for p in points]
    sync_ax.plot(factors, per_k, marker="o", color="#2563eb")
    sync_ax.set_title("North full sync: seconds per 1,000 records")
    sync_ax.set_xlabel("data size (x)")
    sync_ax.set_ylim(bottom=0)
    for name in pages_names(points):
        page_ax.plot(factors, [p["pages"]["pages"][name]["cold_ms"] for p in points], marker="o", label=f"{name} (cold)")
    page_ax.plot(factors, [p["pages"]["trivial_ms"] for p in points], linestyle="--", color="#555555", label="trivial page")
    page_ax.set_title("Page server time, cache cold (ms)")
    page_ax.set_xlabel("data size (x)")
    page_ax.set_ylim(bottom=0)
    page_ax.legend(fontsize=7)
    size_ax.plot(factors, [p["sync"]["peak_rss_mb"] for p in points], marker="o", color="#d97706", label="sync worker peak RSS (MB)")
    size_ax.plot(factors, [p["pages"]["okrs_bytes"] / 2**20 for p in points], marker="s", color="#16a34a", label="okrs_* tables (MB)")
    size_ax.axhline(RSS_TARGET_MB, color="#d97706", linestyle=":", linewidth=1, label=f"{RSS_TARGET_MB:.0f} MB memory target")
    size_ax.set_title("Memory and database size (MB)")
    size_ax.set_xlabel("data size (x)")
    size_ax.set_ylim(bottom=0)
    size_ax.legend(fontsize=7)
    for ax in (sync_ax, page_ax, size_ax):
        ax.set_xticks(factors)
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)
    return path


def pages_names(points: list[dict[str, Any]]) -> list[str]:
    return list(points[0]["pages"]["pages"]) if points else []


def run(url: str, factors: list[float], runs: int, page_runs: int, results_dir: Path, base: PageOrg = BASE) -> Section:
    section = Section(
        title="Growth (issue #20): sync, pages, memory and database size at 1x, 3x and 10x the data",
        headers=[
            "size",
            "org",
            "sync s / 1,000 records",
            "sync s",
            "worker peak MB",
            "DB MB (okrs_*)",
            "trivial ms",
            "pages cold ms",
            "queries",
        ],
    )
    points = []
    for factor in factors:
        org = org_at(factor, base)
        print(f"   {factor:g}x: {org.label}", flush=True)
        sync = sync_at(url, org, runs)
        page_data = pages_at(org, page_runs)
        points.append({"factor": factor, "org": org.label, "sync": sync, "pages": page_data})
        cold = ", ".join(f"{name} {v['cold_ms']:.0f}" for name, v in page_data["pages"].items())
        queries = ", ".join(f"{name} {v['queries']}/{v['cold_queries']}" for name, v in page_data["pages"].items())
        per_k = sync["seconds_per_1000"]
        section.rows.append(
            [
                f"{factor:g}x",
                org.label,
                f"{median(per_k):.2f} ({min(per_k):.2f}-{max(per_k):.2f})",
                f"{median(sync['seconds']):.1f} ({min(sync['seconds']):.1f}-{max(sync['seconds']):.1f})",
                f"{sync['peak_rss_mb']:.0f}",
                f"{page_data['database_bytes'] / 2**20:.0f} ({page_data['okrs_bytes'] / 2**20:.0f})",
                f"{page_data['trivial_ms']:.1f}",
                cold,
                queries,
            ]
        )
        section.data.append(points[-1])
        section.check(
            "#20", f"{factor:g}x: sync worker peak memory", f"{sync['peak_rss_mb']:.0f} MB", f"< {RSS_TARGET_MB:.0f} MB",
            sync["peak_rss_mb"] < RSS_TARGET_MB,
        )  # fmt: skip
        bad = [name for name, v in page_data["pages"].items() if v["status"] != 200]
        section.check("#20", f"{factor:g}x: every page answers 200", ", ".join(bad) or "all 200", "all 200", not bad)
    first = points[0]["pages"]["pages"] if points else {}
    for name in first:
        counts = [(p["pages"]["pages"][name]["queries"], p["pages"]["pages"][name]["cold_queries"]) for p in points]
        section.check(
            "#20", f"{name}: same queries (warm / cold) at every size", "; ".join(f"{w}/{c}" for w, c in counts), "equal",
            len(set(counts)) == 1,
        )  # fmt: skip
    section.notes.append(
        f"Sync: a North org in its sandbox ({LATENCY} per request, real HTTP on loopback), full sync in its own worker process, "
        f"{runs} runs per size from an empty database: median (min-max); peak MB is the largest VmHWM of the runs."
    )
    section.notes.append(
        f"Pages: the tables filled directly at each size, ANALYZE, then {page_runs} warm requests per page (median) and "
        f"{pages.COLD_RUNS} cold ones (page-data cache emptied before each; median shown, 'queries' is warm/cold)."
    )
    if points:
        section.notes.append(f"Plot: {plot(points, results_dir / PLOT_NAME)} (the committed copy: docs/img/growth.svg)")
    return section
