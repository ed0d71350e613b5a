"""Every page and partial runs a fixed number of SQL queries (<= 15), whatever the data size:
roll-ups are SQL aggregates and lists prefetch, never one query per row (issue #8, "Speed")."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.integrations.models import SyncRun
from tests.factories import CredentialFactory, UserFactory, build_org

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15


def page_urls(org: dict, run_id: int) -> list[str]:
    root, child = org["teams"][0], org["teams"][1]
    goal = org["goals"][0]
    return [
        "/",
        "/teams/",
        "/teams/?health=off_track&owner=grace&stale=1",
        f"/teams/?team={child.pk}",
        f"/teams/{root.pk}/children/?level=1",
        "/goals/",
        f"/goals/?team={root.pk}&health=off_track&health=needs_attention&sort=progress",
        f"/goals/{goal.pk}/",
        "/actions/",
        "/actions/?view=board",
        f"/actions/?team={root.pk}&due=overdue&state=active",
        "/review/",
        "/search/?q=goal",
        f"/sync/status/?run={run_id}",
        "/goals/export.csv",
        "/teams/export.csv",
        "/actions/export.csv",
        "/review/export.csv",
        "/search/export.csv?q=goal",
    ]


def count_queries(client, url: str, htmx: bool) -> int:
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
        if response.streaming:
            b"".join(response.streaming_content)  # an export runs its queries while streaming
    assert response.status_code in (200, 286), url  # 286: a finished sync stops the polling
    return len(ctx.captured_queries)


def test_query_count_is_bounded_and_the_same_at_two_sizes(client):
    user = UserFactory(username="mia")
    client.force_login(user)
    credential = CredentialFactory(owner=user)
    run = SyncRun.objects.create(credential=credential, status="succeeded")
    small = build_org(credential, teams=4, goals_per_team=2, krs_per_goal=1, work_items_per_team=1, prefix="s")
    small_counts = {(url, htmx): count_queries(client, url, htmx) for url in page_urls(small, run.pk) for htmx in (False, True)}

    # Grow the same account about 15x: more teams, deeper trees, more goals per team.
    build_org(credential, teams=60, goals_per_team=6, krs_per_goal=3, work_items_per_team=4, prefix="L")
    large_counts = {(url, htmx): count_queries(client, url, htmx) for url in page_urls(small, run.pk) for htmx in (False, True)}

    for key, small_n in small_counts.items():
        assert small_n <= MAX_QUERIES, f"{key}: {small_n} queries"
        assert large_counts[key] == small_n, f"{key}: {small_n} queries small, {large_counts[key]} large"
