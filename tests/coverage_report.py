"""Combine the coverage data of a test run (the test process and every subprocess it started),
print coverage per package and fail below the floors in pyproject.toml
(``[tool.okrhub.coverage-floors]``, set from the figures in the README).

    python -m tests.coverage_report            # table; floors checked under CI=true
    python -m tests.coverage_report --check    # table + floors, also outside CI
    python -m tests.coverage_report --markdown # the README's table

The floors are set from a CI run (PostgreSQL, Redis, Chromium: every test runs). On the embedded
default some tests skip for a missing service, so there the figures are lower and the floors are
only reported, not enforced; under ``CI=true`` nothing skips and a figure below its floor fails.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parents[1]
DATA_FILE = os.environ.get("COVERAGE_FILE") or str(ROOT / "var" / "coverage" / ".coverage")  # as `make test` writes it


def package_of(path: str) -> str:
    """connectors/north/mapping.py -> connectors/north; dashboard/settings.py -> dashboard."""
    parts = Path(path).resolve().relative_to(ROOT).parts
    if parts[0] in ("connectors", "dashboard") and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0]


def per_package(cov: coverage.Coverage) -> dict[str, tuple[int, int]]:
    """(statements, missed) per package."""
    data = cov.get_data()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for filename in sorted(data.measured_files()):
        try:
            _, statements, _, missing, _ = cov.analysis2(filename)
        except coverage.CoverageException:
            continue
        if not Path(filename).resolve().is_relative_to(ROOT):
            continue
        totals[package_of(filename)][0] += len(statements)
        totals[package_of(filename)][1] += len(missing)
    return {name: (s, m) for name, (s, m) in sorted(totals.items()) if s}


def percent(statements: int, missed: int) -> float:
    return 100.0 * (statements - missed) / statements if statements else 100.0


def main(argv: list[str]) -> int:
    cov = coverage.Coverage(data_file=DATA_FILE, config_file=str(ROOT / "pyproject.toml"))
    cov.combine(keep=False, strict=False)
    cov.save()
    cov.load()
    packages = per_package(cov)
    if not packages:
        print("coverage: no data was collected (was the run made with `make test`?)")
        return 1
    floors: dict[str, float] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["okrhub"]["coverage-floors"]
    statements = sum(s for s, _ in packages.values())
    missed = sum(m for _, m in packages.values())
    rows = [*((name, s, m) for name, (s, m) in packages.items()), ("total", statements, missed)]
    below = []
    if "--markdown" in argv:
        print("| package | statements | covered |\n|---|---:|---:|")
    for name, s, m in rows:
        figure = percent(s, m)
        floor = floors.get(name)
        if floor is not None and figure < floor:
            below.append(f"{name}: {figure:.1f} % is below its floor of {floor:.1f} %")
        if "--markdown" in argv:
            print(f"| {name} | {s} | {figure:.1f} % |")
        else:
            print(f"{name:28} {s:6} statements  {figure:5.1f} %" + (f"  (floor {floor:.0f} %)" if floor is not None else ""))
    enforce = os.environ.get("CI", "").lower() == "true" or "--check" in argv
    for line in below:
        print(f"coverage: {line}" + ("" if enforce else " (not enforced outside CI=true)"))
    return 1 if below and enforce else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
