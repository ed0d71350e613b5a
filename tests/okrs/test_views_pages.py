"""Each dashboard page and partial: the full page without HX-Request, only its region with it;
filters as GET parameters with chips; empty states that teach; vendor text escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.integrations.models import SyncRun
from tests.factories import (
    CheckInFactory,
    ConnectorFactory,
    CredentialFactory,
    GoalFactory,
    KeyResultFactory,
    SnapshotFactory,
    TeamFactory,
    UserFactory,
    WorkItemFactory,
    see,
)

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def is_full_page(html: str) -> bool:
    return html.lstrip().lower().startswith("<!doctype html>") and 'aria-label="Main"' in html


@pytest.fixture
def member(client):
    user = UserFactory(username="mia")
    client.force_login(user)
    return user


@pytest.fixture
def north(member):
    return CredentialFactory(owner=member, connector__vendor="north", connector__name="North (sandbox)")


@pytest.fixture
def tree(north):
    """root -> A -> A1 (one off-track goal, stale, overdue); root -> B (on-track goals only)."""
    c = north.connector
    root = TeamFactory(connector=c, name="Company")
    a = TeamFactory(connector=c, name="Alpha", parent=root)
    a1 = TeamFactory(connector=c, name="Alpha One", parent=a)
    b = TeamFactory(connector=c, name="Bravo", parent=root)
    now = timezone.now()
    bad = GoalFactory(
        connector=c,
        team=a1,
        title="Ship the <b>bad</b> thing",
        health="off_track",
        vendor_status="off-track",
        progress=20.0,
        owners=["Grace Hopper"],
        owners_text="|grace hopper|",
        due_date=timezone.localdate() - timedelta(days=3),
        last_check_in_at=now - timedelta(days=19),
        stale_at=now - timedelta(days=9),
        url="https://north.example/goals/1",
        description="<p>Why <script>alert(1)</script>it matters</p>",
    )
    good = GoalFactory(
        connector=c,
        team=b,
        title="Keep the lights on",
        health="on_track",
        vendor_status="on-track",
        progress=80.0,
        owners=["Ada Lovelace"],
        owners_text="|ada lovelace|",
    )
    good2 = GoalFactory(connector=c, team=b, title="Hire two engineers", health="on_track", progress=None)
    kr = KeyResultFactory(
        connector=c, goal=bad, title="Reduce churn to 2%", progress=35.0, current=3.5, target=2.0, health="needs_attention"
    )
    for weeks, value in ((3, 5.0), (2, 10.0), (1, 15.0)):
        SnapshotFactory(goal=bad, taken_at=now - timedelta(weeks=weeks), progress=value)
    CheckInFactory(goal=bad, author="Grace Hopper", value=3.5, progress=20.0, comment="Churn is stubborn", health="off_track")
    late = WorkItemFactory(
        connector=c,
        title="Migrate billing",
        state="active",
        health="off_track",
        due_date=timezone.localdate() - timedelta(days=3),
        owners=["Grace Hopper"],
        owners_text="|grace hopper|",
        goal=bad,
    )
    late.teams.add(a1)
    soon = WorkItemFactory(
        connector=c, title="Write the FAQ", state="not_started", health="on_track", due_date=timezone.localdate() + timedelta(days=5)
    )
    soon.teams.add(b)
    done = WorkItemFactory(
        connector=c, title="Old launch", state="done", health="on_track", due_date=timezone.localdate() - timedelta(days=40)
    )
    see(north, root, a, a1, b, bad, good, good2, kr, late, soon, done)
    north.last_success_at = north.last_sync_at = now
    north.save()
    return {"root": root, "a": a, "a1": a1, "b": b, "bad": bad, "good": good, "kr": kr, "late": late, "soon": soon, "done": done}


# -- overview ------------------------------------------------------------------------------------


def test_overview_counts_attention_and_connections(client, tree, north):
    response = client.get("/")
    html = response.content.decode()
    assert is_full_page(html)
    assert 'href="/goals/?health=off_track"' in html
    assert "Needs attention" in html and "Ship the &lt;b&gt;bad&lt;/b&gt; thing" in html
    assert "Keep the lights on" not in html  # on track: not in the attention list
    assert "North (sandbox)" in html and "Sync now" in html
    assert "<b>bad</b>" not in html  # titles are escaped
    partial = client.get("/", **HX).content.decode()
    assert not is_full_page(partial) and 'id="overview-summary"' in partial


def test_overview_without_connection_teaches_to_connect(client, member):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-empty="no_connection"' in html and 'href="/connections/"' in html
    assert "Sync now" not in html


def test_overview_while_first_sync_runs(client, north):
    run = SyncRun.objects.create(credential=north, status="running", streams_total=6, streams_done=2, current_stream="goals")
    html = client.get("/").content.decode()
    assert 'data-empty="first_sync"' in html
    assert f'data-run="{run.pk}"' in html and 'hx-trigger="every 1s"' in html and "Syncing goals" in html


# -- team tree -----------------------------------------------------------------------------------


def test_team_tree_roots_rollups_and_lazy_children(client, tree):
    response = client.get("/teams/")
    html = response.content.decode()
    assert is_full_page(html) and 'role="tree"' in html
    assert "Company" in html and "3 goals" in html  # the root rolls up its whole subtree
    assert "Alpha" not in html  # children load lazily
    assert f'data-children-url="/teams/{tree["root"].pk}/children/?level=1"' in html
    # mean of 20 and 80 (unknown progress is not counted as 0)
    assert 'aria-valuenow="50"' in html
    children = client.get(f"/teams/{tree['root'].pk}/children/?level=1", **HX).content.decode()
    assert not is_full_page(children)
    assert "Alpha" in children and "Bravo" in children and "Alpha One" not in children
    assert 'aria-level="2"' in children and "1 off track" in children and "2 on track" in children


def test_team_tree_filter_keeps_the_path_to_the_root(client, tree):
    html = client.get("/teams/?health=off_track").content.decode()
    assert "Company" in html and "1 goal" in html and "1 off track" in html
    assert "Health: Off track" in html  # the chip
    children = client.get(f"/teams/{tree['root'].pk}/children/?health=off_track&level=1").content.decode()
    assert "Alpha" in children and "Bravo" not in children  # no matching goal under Bravo
    focus = client.get(f"/teams/?team={tree['a1'].pk}&health=off_track").content.decode()
    crumbs = focus.split('aria-label="Path to the root"')[1].split("</nav>")[0]
    assert "Company" in crumbs and "Alpha" in crumbs and "Alpha One" in crumbs
    assert "Team: Alpha One" in focus


def test_team_tree_htmx_swaps_only_the_listing(client, tree):
    html = client.get("/teams/?vendor=north", **HX).content.decode()
    assert html.lstrip().startswith('<div id="listing"') and not is_full_page(html)
    nothing = client.get("/teams/?vendor=ogsm").content.decode()
    assert 'data-empty="no_match"' in nothing and "Clear filters" in nothing


# -- goals -----------------------------------------------------------------------------------------


def test_goal_list_shows_krs_health_side_by_side_staleness_and_sparkline(client, tree):
    html = client.get("/goals/").content.decode()
    assert is_full_page(html)
    assert "Reduce churn to 2%" in html  # key results under their goal
    assert "North: off-track" in html  # vendor wording beside our chip
    assert 'class="chip chip-off_track">Off track' in html
    assert "No check-in for 19 days" in html and "Due 3 days ago" in html
    assert '<svg class="sparkline"' in html
    assert "Grace Hopper" in html and 'href="https://north.example/goals/1"' in html
    # null progress is a dash, not 0 %
    row = html.split("Hire two engineers")[1].split("</tr>")[0]
    assert "progress-unknown" in row and "0%" not in row


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("health=off_track", ["Ship the"], ["Keep the lights on"]),
        ("owner=ada", ["Keep the lights on"], ["Ship the"]),
        ("stale=1", ["Ship the"], ["Keep the lights on"]),
        ("overdue=1", ["Ship the"], ["Hire two"]),
        ("q=lights", ["Keep the lights on"], ["Ship the"]),
        ("vendor=ogsm", ['data-empty="no_match"'], ["Ship the", "Keep the lights on"]),
    ],
)
def test_goal_filters(client, tree, query, present, absent):
    response = client.get(f"/goals/?{query}", **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert not is_full_page(html)
    for text in present:
        assert text in html
    for text in absent:
        assert text not in html


def test_goal_team_filter_takes_the_subtree_and_chips_remove_one_filter(client, tree):
    html = client.get(f"/goals/?team={tree['a'].pk}&health=off_track&health=on_track").content.decode()
    assert "Ship the" in html and "Keep the lights on" not in html  # Alpha's subtree only
    assert "Team: Alpha" in html
    # removing the health=on_track chip keeps the other filters
    assert f'href="/goals/?team={tree["a"].pk}&amp;health=off_track"' in html
    assert 'href="/goals/"' in html  # clear all


def test_goal_filters_reject_bad_input_with_a_clear_message(client, tree):
    html = client.get("/goals/?health=green&team=999999&stale=maybe&sort=random&page=zz").content.decode()
    assert "Unknown health “green”" in html and "On track, Needs attention" in html
    assert "No team with id “999999” is visible to you" in html
    assert "Stale takes 1 or 0" in html and "Unknown sort “random”" in html
    assert "Keep the lights on" in html  # bad filters are dropped, the page still works


def test_goal_detail_history_vendor_link_and_sanitised_description(client, tree):
    bad = tree["bad"]
    html = client.get(f"/goals/{bad.pk}/").content.decode()
    assert is_full_page(html)
    assert "Churn is stubborn" in html and "Grace Hopper" in html and "Check-in history" in html
    assert 'href="https://north.example/goals/1"' in html and "Open in North" in html
    assert "<p>Why it matters</p>" in html and "<script>alert(1)" not in html
    assert "Ship the &lt;b&gt;bad&lt;/b&gt; thing" in html
    assert "Reduce churn to 2%" in html and "Migrate billing" in html


def test_goal_detail_of_an_invisible_goal_is_404(client, tree):
    other = CredentialFactory(owner=UserFactory(username="otto"))
    hidden = GoalFactory(connector=other.connector, title="Secret plan")
    see(other, hidden)
    assert client.get(f"/goals/{hidden.pk}/").status_code == 404
    listing = client.get("/goals/")
    assert listing.status_code == 200 and "Keep the lights on" in listing.content.decode()  # mia's own goals are listed
    assert "Secret plan" not in listing.content.decode()


def test_vendor_urls_that_are_not_http_are_not_links(client, tree):
    tree["good"].url = "javascript:alert(1)"
    tree["good"].save()
    response = client.get("/goals/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Keep the lights on" in html and 'href="https://north.example/goals/1"' in html  # the goal shows; http links stay
    assert "javascript:alert(1)" not in html


# -- actions ------------------------------------------------------------------------------------


def test_actions_table_grouped_by_state_with_overdue_highlight(client, tree):
    html = client.get("/actions/").content.decode()
    assert is_full_page(html)
    table = html.split("<table")[1]
    assert table.index('colgroup">Active<') < table.index('colgroup">Not started<') < table.index('colgroup">Done<')
    late_row = html.split("Migrate billing")[0].rsplit("<tr", 1)[1]
    assert "is-overdue" in late_row
    assert "Due 3 days ago" in html
    old = html.split("Old launch")[1].split("</tr>")[0]
    assert "Due 3 days ago" not in old and "flag-overdue" not in old  # done items are never overdue


def test_actions_board_and_filters(client, tree):
    board = client.get("/actions/?view=board", **HX).content.decode()
    assert not is_full_page(board) and 'class="board"' in board and "Migrate billing" in board
    assert '<input type="hidden" name="view" value="board">' in board
    overdue = client.get("/actions/?due=overdue").content.decode()
    assert "Migrate billing" in overdue and "Write the FAQ" not in overdue and "Old launch" not in overdue
    week = client.get("/actions/?due=week").content.decode()
    assert "Write the FAQ" in week and "Migrate billing" not in week
    by_team = client.get(f"/actions/?team={tree['a'].pk}").content.decode()
    assert "Migrate billing" in by_team and "Write the FAQ" not in by_team
    by_state = client.get("/actions/?state=done&owner=").content.decode()
    assert "Old launch" in by_state and "Migrate billing" not in by_state


# -- review and search -----------------------------------------------------------------------------


def test_review_lists_only_what_needs_attention(client, tree):
    html = client.get("/review/").content.decode()
    assert is_full_page(html)
    assert "Ship the" in html and "Migrate billing" in html
    assert "Keep the lights on" not in html and "Old launch" not in html
    assert not is_full_page(client.get("/review/?vendor=north", **HX).content.decode())


def test_search_across_vendors_by_title_and_owner(client, tree, member):
    ogsm = CredentialFactory(owner=member, connector__vendor="ogsm", connector__name="OGSM")
    canvas_goal = GoalFactory(connector=ogsm.connector, title="Grow OGSM revenue", owners=["Grace Hopper"], owners_text="|grace hopper|")
    see(ogsm, canvas_goal)
    html = client.get("/search/?q=grace").content.decode()
    assert is_full_page(html)
    assert "Ship the" in html and "Grow OGSM revenue" in html and "Migrate billing" in html
    assert "Keep the lights on" not in html
    only_ogsm = client.get("/search/?q=grace&vendor=ogsm", **HX).content.decode()
    assert not is_full_page(only_ogsm) and "Grow OGSM revenue" in only_ogsm and "Ship the" not in only_ogsm
    by_title = client.get("/search/?q=churn").content.decode()
    assert "Reduce churn to 2%" in by_title
    nothing = client.get("/search/?q=zzzz").content.decode()
    assert 'data-empty="no_match"' in nothing


def test_every_page_requires_sign_in(client):
    for url in ["/", "/teams/", "/goals/", "/actions/", "/review/", "/search/?q=a", "/goals/export.csv", "/sync/status/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_other_users_data_never_shows(client, tree):
    otto = UserFactory(username="otto")
    otto_cred = CredentialFactory(owner=otto, connector=ConnectorFactory(vendor="operately", name="Operately"))
    team = TeamFactory(connector=otto_cred.connector, name="Otto's space")
    goal = GoalFactory(connector=otto_cred.connector, team=team, title="Otto's private goal", health="off_track")
    see(otto_cred, team, goal)
    # Each page shows mia's own data (the control), never Otto's.
    own = {
        "/": b"Ship the",
        "/teams/": b"Company",
        "/goals/": b"Keep the lights on",
        "/review/": b"Ship the",
        "/search/?q=otto": b'data-empty="no_match"',
        "/goals/export.csv": b"Keep the lights on",
        "/teams/export.csv": b"Company",
    }
    for url, mine in own.items():
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert mine in body, url
        assert b"Otto" not in body, url
