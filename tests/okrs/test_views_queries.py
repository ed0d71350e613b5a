"""Every page and partial runs a fixed number of SQL queries (<= 15), whatever the data size:
roll-ups are SQL aggregates and lists prefetch, never one query per row (issue #8, "Speed")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.integrations.models import SyncRun
from dashboard.okrs.models import CheckIn, ProgressSnapshot, WorkItem
from tests.factories import CredentialFactory, UserFactory, build_org, see
from tests.querycount import page_queries

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15


def page_urls(org: dict, run_id: int) -> list[str]:
    root, child = org["teams"][0], org["teams"][1]
    goal = org["goals"][0]
    item = org["work_items"][0]
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
        "/actions/?stale=1&view=board",
        f"/work-items/{item.pk}/",
        "/review/",
        "/search/?q=goal",
        f"/sync/status/?run={run_id}",
        "/goals/export.csv",
        "/teams/export.csv",
        "/actions/export.csv",
        "/review/export.csv",
        "/search/export.csv?q=goal",
    ]


def stale_work_items(credential, prefix: str) -> None:
    """Every other work item of the org built with ``prefix`` has gone 19 days without a check-in."""
    now = timezone.now()
    items = WorkItem.objects.filter(connector=credential.connector, external_id__startswith=prefix).order_by("id")
    stale = [pk for n, pk in enumerate(items.values_list("pk", flat=True)) if n % 2 == 0]
    WorkItem.objects.filter(pk__in=stale).update(last_check_in_at=now - timedelta(days=19), stale_at=now - timedelta(days=5))
    see(credential)  # bumps the data version, as a sync does


def grow_work_item_history(item, credential) -> None:
    """The work-item detail's check-ins, snapshots and sub-items, 20 of each."""
    now = timezone.now()
    CheckIn.objects.bulk_create(
        CheckIn(connector=item.connector, vendor=item.vendor, external_id=f"wc{n}", subject_kind="work_item",
                subject_external_id=item.external_id, work_item=item, created_at=now - timedelta(days=n), comment=f"Event {n}")
        for n in range(20)
    )  # fmt: skip
    ProgressSnapshot.objects.bulk_create(ProgressSnapshot(work_item=item, taken_at=now - timedelta(days=n), progress=n) for n in range(20))
    children = WorkItem.objects.bulk_create(
        WorkItem(connector=item.connector, vendor=item.vendor, kind="milestone", external_id=f"wm{n}", title=f"Milestone {n}", parent=item)
        for n in range(20)
    )
    see(credential, *children)


def count_queries(client, url: str, htmx: bool) -> int:
    return page_queries(client, url, htmx=htmx, ok=(200, 286))[0]  # 286: a finished sync stops the polling


def test_query_count_is_bounded_and_the_same_at_two_sizes(client):
    user = UserFactory(username="mia")
    client.force_login(user)
    credential = CredentialFactory(owner=user)
    run = SyncRun.objects.create(credential=credential, status="succeeded")
    small = build_org(credential, teams=4, goals_per_team=2, krs_per_goal=1, work_items_per_team=1, prefix="s")
    stale_work_items(credential, "sw")
    small_counts = {(url, htmx): count_queries(client, url, htmx) for url in page_urls(small, run.pk) for htmx in (False, True)}

    # Grow the same account about 15x: more teams, deeper trees, more goals per team.
    build_org(credential, teams=60, goals_per_team=6, krs_per_goal=3, work_items_per_team=4, prefix="L")
    stale_work_items(credential, "Lw")
    grow_work_item_history(small["work_items"][0], credential)
    large_counts = {(url, htmx): count_queries(client, url, htmx) for url in page_urls(small, run.pk) for htmx in (False, True)}

    for key, small_n in small_counts.items():
        assert small_n <= MAX_QUERIES, f"{key}: {small_n} queries"
        assert large_counts[key] == small_n, f"{key}: {small_n} queries small, {large_counts[key]} large"
