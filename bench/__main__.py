"""``python -m bench all|sync|pages|load|workers|growth [--size ...] [--vendor ...] [--runs N] [--quick]``, or
``python -m bench --quick`` (also ``python -m bench quick``): the CI gate on sync ratios.

Exit status: 0 when every target was met, 1 when a target was missed, 2 when the benchmark
could not measure (bad arguments, PostgreSQL unreachable, a crashed sync worker).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, BenchError, Section, bench_database_url, machine_info, setup_django
from bench.orgs import SIZES, VENDORS


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="OKR Hub benchmarks (issue #12). Writes docs/benchmarks.md; exits 1 when a target is missed.",
    )
    parser.add_argument(
        "benchmark",
        nargs="?",
        choices=["all", "sync", "pages", "load", "workers", "growth", "quick"],
        help="omitted with --quick: the quick ratio gate",
    )
    parser.add_argument("--size", default="large", choices=SIZES, help="org size (default large: the issues' target orgs)")
    parser.add_argument("--vendor", action="append", help="sync only these vendors (repeat or comma-separate; default all three)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="alone: the CI gate (sync ratios at size small against bench/baseline.json); with a benchmark: only the chosen size, "
        "fewer page runs, 10 s of load",
    )
    parser.add_argument("--page", action="append", help="pages: only this case (exact name, or names containing the text; repeatable)")
    parser.add_argument(
        "--runs",
        type=int,
        help="sync: runs per org, figures are their median (default 3); pages: timed requests per page (default 12, quick 5)",
    )
    parser.add_argument("--clients", "--users", type=int, default=50, help="distinct signed-in users for the load test (default 50)")
    parser.add_argument("--duration", type=float, help="seconds of load (default 60, quick 10)")
    parser.add_argument(
        "--think", type=float, default=1.0, help="load: mean seconds a user pauses between pages (default 1; 0: closed loop)"
    )
    parser.add_argument("--workers", type=int, default=3, help="workers: Celery worker processes of the many-workers run (default 3)")
    parser.add_argument("--credentials", type=int, default=30, help="workers: credentials synced at once (default 30)")
    parser.add_argument("--factors", default="1,3,10", help="growth: data sizes as multiples of 2,000 goals (default 1,3,10)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where JSON results and the chart go (default bench/results)")
    parser.add_argument("--profile", action="store_true", help="sync: cProfile each sync worker (files under the results dir)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.benchmark is None:
        if not args.quick:
            parser.error("name a benchmark (all, sync, pages, load, workers, growth) or pass --quick")
        args.benchmark = "quick"
    if args.benchmark == "quick":
        args.quick, args.no_docs = True, True  # the gate never rewrites docs/benchmarks.md
    vendors: list[str] = []
    for value in args.vendor or list(VENDORS):
        for vendor in value.split(","):
            vendor = vendor.strip()
            if vendor not in VENDORS:
                parser.error(f"--vendor must be one of {', '.join(VENDORS)}, got {vendor!r}")
            if vendor not in vendors:
                vendors.append(vendor)
    args.vendors = vendors
    try:
        args.growth_factors = [float(f) for f in args.factors.split(",") if f.strip()]
    except ValueError:
        parser.error(f"--factors takes numbers separated by commas, got {args.factors!r}")
    if not args.growth_factors or any(f <= 0 for f in args.growth_factors):
        parser.error("--factors must be positive numbers")
    if args.runs is not None and args.runs < 3:
        parser.error("--runs must be at least 3 (median and p95 need a few samples)")
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    if args.duration is not None and args.duration <= 0:
        parser.error("--duration must be a positive number of seconds")
    return args


def sync_sizes(size: str, quick: bool) -> list[str]:
    if quick or size == "tiny":
        return [size]
    return list(SIZES[1 : SIZES.index(size) + 1])


def run_benchmark(name: str, args: argparse.Namespace, url: str) -> Section:
    from django.conf import settings

    if name == "sync":
        from bench import sync

        profile_dir = args.results_dir if args.profile else None
        if profile_dir:
            profile_dir.mkdir(parents=True, exist_ok=True)
        return sync.run(
            url,
            args.vendors,
            sync_sizes(args.size, args.quick),
            settings.SYNC_CONCURRENCY,
            profile_dir,
            runs=args.runs or sync.DEFAULT_RUNS,
        )
    if name == "quick":
        from bench import quick

        return quick.run(url, args.vendors, settings.SYNC_CONCURRENCY, runs=args.runs or quick.QUICK_RUNS)
    if name == "pages":
        from bench import pages

        return pages.run(args.size, runs=args.runs or (5 if args.quick else 12), only=args.page)
    if name == "growth":
        from bench import growth

        return growth.run(url, args.growth_factors, runs=args.runs or 3, page_runs=5 if args.quick else 12, results_dir=args.results_dir)
    if name == "workers":
        from bench import workers

        return workers.run(url, processes=args.workers, credentials=args.credentials, results_dir=args.results_dir)
    from bench import load

    return load.run(
        url,
        args.size,
        clients=args.clients,
        duration=args.duration or (10.0 if args.quick else 60.0),
        results_dir=args.results_dir,
        think=args.think,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = "python -m bench " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    names = ["sync", "pages", "load"] if args.benchmark == "all" else [args.benchmark]
    size = "small" if args.benchmark == "quick" else args.size
    from bench import report

    try:
        url = bench_database_url()
        setup_django(url)
        machine = machine_info()
        missed = 0
        for name in names:
            started = time.perf_counter()
            what = f"sizes {args.factors}x" if name == "growth" else f"size {size}"
            print(f"\n>> {name} benchmark ({what}) ...", flush=True)
            section = run_benchmark(name, args, url)
            payload: dict[str, Any] = {
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "command": command,
                "seconds": time.perf_counter() - started,
                "machine": machine,
                "section": section.as_dict(),
            }
            report.save_result(args.results_dir, name, payload)
            if name == "sync":
                report.chart(args.results_dir, payload)
            report.print_section(name, payload["section"])
            if name in ("load", "workers"):
                from bench.workers import markdown_section

                print("\n" + markdown_section(payload))
            missed += sum(1 for c in section.checks if not c.passed)
        if not args.no_docs:
            docs = report.write_docs(args.results_dir)
            print(f"\nwrote {os.path.relpath(docs)}")
    except BenchError as exc:
        print(f"\nbench: could not measure: {exc}", file=sys.stderr)
        return 2
    if missed:
        print(f"\nbench: {missed} target(s) missed", file=sys.stderr)
        return 1
    print("\nbench: every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
