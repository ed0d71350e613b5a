"""Issue #20's benchmarks for real, small: distinct users under load against gunicorn, and many
Celery workers syncing the same orgs at once (``python -m bench load|workers``), plus the load
users' visibility checked through the selectors the pages use."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load import LOAD_USER_PREFIX, ensure_users, walk_paths
from tests.bench.test_bench_smoke import bench, bench_env  # noqa: F401 - bench_env is a fixture


@pytest.mark.django_db
def test_load_users_each_own_credentials_and_a_different_slice_of_the_org() -> None:
    from django.contrib.auth import get_user_model

    from bench.fixtures import bench_user
    from bench.orgs import page_org
    from bench.populate import populate
    from dashboard.integrations.models import Credential
    from dashboard.okrs import selectors

    populate(page_org("small"), bench_user())
    walks = ensure_users(8)
    users = list(get_user_model().objects.filter(username__startswith=LOAD_USER_PREFIX).order_by("username"))
    assert [u.username for u in users] == [w["username"] for w in walks] == [f"{LOAD_USER_PREFIX}{k:02d}" for k in range(8)]
    everything = set(selectors.visible_goals(bench_user()).values_list("id", flat=True))
    seen = []
    for k, user in enumerate(users):
        credentials = Credential.objects.filter(owner=user)
        assert sorted(c.connector.vendor for c in credentials) == sorted(walks[k]["vendors"])  # its own, one per vendor of its mix
        goals = set(selectors.visible_goals(user).values_list("id", flat=True))
        assert goals and goals < everything
        # Its slice of teams is hidden, with their goals; its detail pages are ones it may open.
        hidden_teams = set(selectors.visible_teams(bench_user()).filter(depth__gt=0).values_list("id", flat=True)) - set(
            selectors.visible_teams(user).values_list("id", flat=True)
        )
        assert not selectors.visible_goals(user).filter(team_id__in=hidden_teams).exists()
        assert walks[k]["goal"] in goals
        assert f"/goals/{walks[k]['goal']}/" in walk_paths(walks[k], "revenue")
        seen.append(frozenset(goals))
    assert len(set(seen)) == 8  # no two users see the same goals
    # A second run replaces the load users instead of piling up credentials.
    ensure_users(8)
    assert Credential.objects.filter(owner__username__startswith=LOAD_USER_PREFIX).count() == sum(len(w["vendors"]) for w in walks)


@pytest.mark.slow
@pytest.mark.timeout(280)
def test_load_benchmark_distinct_users_signed_in_without_errors(bench_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    _, section, stdout = bench(bench_env, tmp_path, "load", "--size", "tiny", "--users", "3", "--duration", "3", "--think", "0.2")
    (data,) = section["data"]
    assert data["clients"] == 3 and data["requests"] > 6
    assert data["errors"] == {} and set(data["statuses"]) == {"200"}  # signed in, every page and API call answered
    # Each user saw other goals through the read API.
    assert data["distinct_views"] == 3
    assert len({(v["goals"], tuple(v["first_ids"])) for v in data["views"]}) == 3
    assert 0 < data["p50_ms"] <= data["p95_ms"] <= data["p99_ms"]
    names = {c["name"]: c for c in section["checks"]}
    assert names["errors under load"]["passed"] and names["every user sees a different subset"]["passed"]
    assert "p95 latency under load" in names
    assert "## Load (issues #12, #20): 3 distinct signed-in users" in stdout and "| p95 ms |" in stdout


@pytest.mark.slow
@pytest.mark.timeout(280)
def test_workers_benchmark_two_workers_write_the_same_rows_as_one(bench_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    code, section, stdout = bench(bench_env, tmp_path, "workers", "--workers", "2", "--credentials", "4")
    single, many = section["data"]
    assert (single["processes"], many["processes"]) == (1, 2)
    for result in (single, many):
        assert result["statuses"] == {"succeeded": 4}, result["run_errors"]
        assert result["logged_errors"] == [] and result["run_errors"] == []
        assert result["seconds"] > 0
        goals = sum(counts.get("goal rows", 0) for counts in result["rows"].values())
        assert goals > 0
        assert all(n == 0 for counts in result["rows"].values() for key, n in counts.items() if key.endswith("duplicates"))
    assert single["rows"] == many["rows"]  # per org and table: rows, distinct ids, seen-by rows
    assert code == 0
    assert "## Many workers (issue #20): 4 credentials synced at once by 1 and by 2 Celery worker processes" in stdout
