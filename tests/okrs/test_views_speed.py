"""What the pages do to stay fast (issue #8, "Speed") must not change what they show: paging
from one narrow query, rows built in Python with other apps' entry points, indexed search."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from dashboard.okrs import selectors
from dashboard.okrs.filters import search_q
from dashboard.okrs.models import Goal
from tests.conftest import require
from tests.factories import ConnectorFactory, CredentialFactory, GoalFactory, UserFactory, WorkItemFactory, build_org, see

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def member(client):
    user = UserFactory(username="pia")
    client.force_login(user)
    return user


def goal_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-goal="(\d+)"', html)]


def test_goal_pages_split_the_full_sorted_list_and_odd_page_numbers_land_on_a_real_page(client, member):
    credential = CredentialFactory(owner=member)
    build_org(credential, teams=6, goals_per_team=10, krs_per_goal=1, work_items_per_team=0, prefix="p")  # 60 goals: 3 pages
    expected = list(selectors.with_health_rank(selectors.visible_goals(member)).order_by("title", "id").values_list("id", flat=True))

    pages = [client.get(f"/goals/?sort=title&page={n}").content.decode() for n in (1, 2, 3)]
    assert [pk for html in pages for pk in goal_ids(html)] == expected  # same rows, same order, no gap or repeat
    assert "Page 2 of 3 · 60 in all" in pages[1]

    last = goal_ids(pages[2])
    assert goal_ids(client.get("/goals/?sort=title&page=99").content.decode()) == last  # past the end: the last page
    assert goal_ids(client.get("/goals/?sort=title&page=0").content.decode()) == last  # below 1: as Paginator.get_page
    assert goal_ids(client.get("/goals/?sort=title&page=abc").content.decode()) == expected[:25]  # junk: the first page


def test_empty_filtered_page_still_counts_nothing(client, member):
    credential = CredentialFactory(owner=member)
    build_org(credential, teams=2, goals_per_team=2, krs_per_goal=0, work_items_per_team=0, prefix="e")
    html = client.get("/goals/?q=no-such-goal&page=3", **HX).content.decode()
    assert 'data-empty="no_match"' in html and "data-goal=" not in html


def test_rows_keep_the_write_entry_points_of_other_apps(client, member):
    credential = CredentialFactory(owner=member, connector=ConnectorFactory(vendor="ogsm", name="OGSM"))
    action = WorkItemFactory(connector=credential.connector, kind="action", title="Fix <the> onboarding", health="off_track")
    see(credential, action)
    edit = f'href="/actions/{action.pk}/edit/"'
    for url in ("/actions/", "/actions/?view=board", "/review/"):
        html = client.get(url).content.decode()
        assert edit in html, url
        assert "Fix &lt;the&gt; onboarding" in html and "<the>" not in html, url  # escaped in the row and in the entry


def test_title_and_owner_search_uses_the_trigram_indexes_on_postgresql(member):
    require(connection.vendor == "postgresql", "PostgreSQL")
    credential = CredentialFactory(owner=member)
    see(credential, *[GoalFactory(connector=credential.connector, title=f"Goal {n} revenue") for n in range(3)])
    assert selectors.visible_goals(member).filter(search_q("revenue")).count() == 3
    with connection.cursor() as cursor:  # tiny tables: make the planner show that it *can* use the indexes
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = Goal.objects.filter(search_q("revenue")).explain()
    assert "okrs_goal_title_upper_trgm" in plan and "okrs_goal_owners_text_upper_trgm" in plan, plan
