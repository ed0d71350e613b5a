"""Pages with alignments run the same number of queries at two data sizes (issue #18; the
tests/okrs/test_views_queries.py pattern)."""

from __future__ import annotations

import pytest

from dashboard.alignment import services, suggestions
from dashboard.alignment.models import Alignment
from tests.factories import AdminFactory, ConnectorFactory, CredentialFactory, build_org
from tests.querycount import page_queries

pytestmark = pytest.mark.django_db
MAX_QUERIES = 15


def count(client, url: str, htmx: bool) -> int:
    return page_queries(client, url, htmx=htmx)[0]


def link_many(admin, north: dict, operately: dict) -> None:
    """Every other Operately goal under a North goal, the rest under a North team (skip loops)."""
    for n, goal in enumerate(operately["goals"]):
        if Alignment.objects.filter(child_goal=goal).exists():
            continue
        if n % 2:
            services.align(admin, goal, "goal", north["goals"][n % len(north["goals"])].pk)
        else:
            services.align(admin, goal, "team", north["teams"][n % len(north["teams"])].pk)


def test_alignment_pages_do_not_grow_with_the_data(client):
    admin = AdminFactory(username="ada")
    client.force_login(admin)
    north_cred = CredentialFactory(owner=admin, connector=ConnectorFactory(vendor="north", name="North"))
    operately_cred = CredentialFactory(owner=admin, connector=ConnectorFactory(vendor="operately", name="Operately"))
    north = build_org(north_cred, teams=4, goals_per_team=2, krs_per_goal=1, work_items_per_team=1, prefix="s")
    operately = build_org(operately_cred, teams=3, goals_per_team=2, krs_per_goal=1, work_items_per_team=1, prefix="s")
    link_many(admin, north, operately)
    suggestions.recompute()
    root, goal, child_goal = north["teams"][0], north["goals"][0], operately["goals"][1]
    urls = [
        "/teams/",
        f"/teams/?team={root.pk}",
        f"/teams/{root.pk}/children/?level=1",
        f"/goals/{goal.pk}/",
        f"/goals/{child_goal.pk}/",
        f"/goals/{operately['goals'][2].pk}/?align_q=Goal",
        "/goals/export.csv",
        "/teams/export.csv",
        "/alignment/suggestions/",
        "/api/v1/goals?limit=100",
        "/api/v1/alignments?limit=100",
        "/api/v1/teams?limit=100",
    ]
    small = {(u, h): count(client, u, h) for u in urls for h in (False, True)}

    big_north = build_org(north_cred, teams=40, goals_per_team=5, krs_per_goal=2, work_items_per_team=2, prefix="L")
    big_operately = build_org(operately_cred, teams=30, goals_per_team=5, krs_per_goal=2, work_items_per_team=2, prefix="L")
    link_many(admin, {"goals": [goal, *big_north["goals"]], "teams": [root, *big_north["teams"]]}, big_operately)
    suggestions.recompute()
    assert Alignment.objects.count() > 100
    large = {(u, h): count(client, u, h) for u in urls for h in (False, True)}
    for key, n in small.items():
        assert n <= MAX_QUERIES, f"{key}: {n} queries"
        assert large[key] == n, f"{key}: {n} queries small, {large[key]} large"
