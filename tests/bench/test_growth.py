"""Issue #20's growth benchmark for real, at two small fractions of 1x: sync per record, worker
memory, pages warm and cold with their query counts, database size, and the plot."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.growth import BASE, north_options, org_at, plot
from tests.bench.test_bench_smoke import bench, bench_env  # noqa: F401 - bench_env is a fixture


def test_sizes_scale_the_issue_shape() -> None:
    ten = org_at(10)
    assert (ten.goals, ten.key_results, ten.work_items) == (20_000, 60_000, 20_000)  # the issue's 10x
    assert org_at(1) == BASE and org_at(3).goals == 6_000
    assert north_options(org_at(3)) == {"size": 600, "goals": 6_000, "key_results": 18_000, "initiatives": 6_000}


@pytest.mark.slow
@pytest.mark.timeout(280)
def test_growth_benchmark_measures_every_size(bench_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    code, section, _ = bench(bench_env, tmp_path, "growth", "--factors", "0.02,0.04", "--runs", "3")
    small, bigger = section["data"]
    assert (small["factor"], bigger["factor"]) == (0.02, 0.04)
    for point in (small, bigger):
        sync = point["sync"]
        assert sync["items"] > 0 and len(sync["seconds"]) == 3 and all(s > 0 for s in sync["seconds_per_1000"])
        assert 50 < sync["peak_rss_mb"] < 2000
        assert point["pages"]["okrs_bytes"] > 0 and point["pages"]["database_bytes"] >= point["pages"]["okrs_bytes"]
        for name, page in point["pages"]["pages"].items():
            assert page["status"] == 200, name
            assert 0 < page["cold_min_ms"] <= page["cold_ms"] <= page["cold_max_ms"], name
            assert page["cold_queries"] >= page["queries"] >= 3, name
    assert bigger["sync"]["items"] > small["sync"]["items"]  # twice the data, more records fetched
    names = {c["name"]: c["passed"] for c in section["checks"]}
    assert names["goals: same queries (warm / cold) at every size"] and names["0.04x: sync worker peak memory"]
    assert code == 0
    svg = (tmp_path / "growth.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "seconds per 1,000 records" in svg
    # The same data draws the same file (no timestamp, stable ids): the committed copy only changes with the data.
    again = plot(section["data"], tmp_path / "again.svg").read_text()
    assert again == svg
