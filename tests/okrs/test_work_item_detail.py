"""The work-item detail page (issue #16, "Check-in history where people look for it"): check-in
history, owners, involved people, the action's strategies, outcome, health, dates and flags;
actions rows link to it; key results without a status show their goal's, labelled as the goal's.

Page logic runs on factory data; the check-ins each vendor really serves come from a real sync
of its sandbox over HTTP (bottom of the file)."""

# ruff: noqa: F811 - the ``connect`` fixture, imported from tests/writes, is redefined as an argument
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.utils import dateformat, timezone
from django.utils.html import escape

from dashboard.okrs.models import CheckIn, WorkItem
from tests.factories import (
    CheckInFactory,
    CredentialFactory,
    GoalFactory,
    KeyResultFactory,
    SnapshotFactory,
    TeamFactory,
    UserFactory,
    WorkItemFactory,
    see,
)
from tests.writes.conftest import connect  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # page data is cached per user and credential id; SQLite reuses ids between tests


@pytest.fixture
def member(client):
    user = UserFactory(username="mia")
    client.force_login(user)
    return user


@pytest.fixture
def ogsm(member):
    return CredentialFactory(owner=member, connector__vendor="ogsm", connector__name="OGSM")


@pytest.fixture
def north(member):
    return CredentialFactory(owner=member, connector__vendor="north", connector__name="North")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def fact(html: str, label: str) -> str:
    """The text of the summary's ``<dd>`` under the ``<dt>`` reading ``label``."""
    match = re.search(rf"<dt>{re.escape(label)}</dt>\s*<dd>(.*?)</dd>", html, re.S)
    assert match, f"no fact {label!r} on the page"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", match.group(1)))).strip()


def ogsm_action(credential, **fields):
    today = timezone.localdate()
    values = {
        "kind": "action",
        "title": "Kick off the supplier audit",
        "owners": ["Femke de Vries"],
        "owners_text": WorkItem.owners_text_for(["Femke de Vries"]),
        "involved": ["Jan Jansen", "Sales team"],
        "strategy_external_ids": ["10000", "10003"],
        "state": "not_started",
        "health": "off_track",
        "vendor_status": "red",
        "start_date": today - timedelta(days=4),
        "due_date": today + timedelta(days=40),
        "url": "https://ogsm.example/actions/2",
        **fields,
    }
    item = WorkItemFactory(connector=credential.connector, **values)
    see(credential, item)
    return item


def test_detail_of_an_ogsm_action_lists_involved_apart_from_owners_and_its_strategies(client, ogsm):
    team = TeamFactory(connector=ogsm.connector, name="Operations")
    see(ogsm, team)
    item = ogsm_action(ogsm)
    item.teams.add(team)

    html = page(client, f"/work-items/{item.pk}/")

    assert "<h1>" in html and "Kick off the supplier audit" in html
    assert fact(html, "Owners") == "Femke de Vries"
    assert fact(html, "Involved") == "Jan Jansen, Sales team"
    assert fact(html, "Strategies of this action") == "Strategy 10000, Strategy 10003"
    assert fact(html, "Health") == "Off track OGSM: red"
    assert fact(html, "State") == "Not started"
    assert fact(html, "Team") == "Operations"
    start, due = item.start_date, item.due_date
    assert fact(html, "Dates") == f"{start:%b} {start.day}, {start.year} → {due:%b} {due.day}, {due.year}"
    # OGSM's own rule: past its start date and not started
    assert '<span class="flag flag-late">Not started, 4 days past start</span>' in html
    assert 'href="https://ogsm.example/actions/2"' in html
    # OGSM does not check in on actions: no "last check-in", never stale, and the page says why
    assert "<dt>Last check-in</dt>" not in html and "flag-stale" not in html
    assert "OGSM has no check-ins for actions" in html
    assert f'href="/actions/{item.pk}/edit/"' in html  # the write-back entry of an OGSM action


def test_detail_of_a_north_initiative_shows_its_check_in_history_newest_first(client, north):
    now = timezone.now()
    goal = GoalFactory(connector=north.connector, title="Grow revenue")
    item = WorkItemFactory(
        connector=north.connector,
        title="Migrate billing to v2",
        owners=["Ada Lovelace"],
        health="needs_attention",
        vendor_status="at-risk",
        state="active",
        progress=40.0,
        goal=goal,
        last_check_in_at=now - timedelta(days=19),
        stale_at=now - timedelta(days=5),
    )
    see(north, goal, item)
    for days, comment, health in ((19, "Blocked on the payment provider", "needs_attention"), (30, "Kick-off done", "on_track")):
        CheckInFactory(
            goal=None,
            work_item=item,
            connector=north.connector,
            vendor="north",
            subject_kind="work_item",
            subject_external_id=item.external_id,
            created_at=now - timedelta(days=days),
            author="Ada Lovelace",
            progress=40.0 if days == 19 else 10.0,
            health=health,
            vendor_status="at-risk" if days == 19 else "on-track",
            comment=comment,
        )
    SnapshotFactory(work_item=item, taken_at=now - timedelta(days=20), progress=10.0)
    SnapshotFactory(work_item=item, taken_at=now - timedelta(days=2), progress=40.0)

    html = page(client, f"/work-items/{item.pk}/")

    assert 'Check-in history <span class="muted">· 2</span>' in html
    assert html.index("Blocked on the payment provider") < html.index("Kick-off done")
    assert fact(html, "Last check-in") == "19 days ago"
    assert '<span class="flag flag-stale">No check-in for 19 days</span>' in html
    assert fact(html, "Goal") == "Grow revenue" and f'href="/goals/{goal.pk}/"' in html
    assert "<svg" in html  # the trend line from the snapshots
    assert "Not enough history yet" not in html


def test_detail_of_a_missed_project_shows_its_outcome_and_no_check_ins_yet(client, member):
    ops = CredentialFactory(owner=member, connector__vendor="operately")
    item = WorkItemFactory(connector=ops.connector, kind="project", title="Rebuild the lab", state="done", outcome="missed")
    see(ops, item)
    html = page(client, f"/work-items/{item.pk}/")
    assert fact(html, "State") == "Done · Missed"
    assert "No check-ins yet." in html and fact(html, "Last check-in") == "none yet"
    assert "<dt>Involved</dt>" not in html and "Strateg" not in html  # neither shown when empty
    row = re.search(rf'<tr[^>]*data-item="{item.pk}".*?</tr>', page(client, "/actions/"), re.S)
    assert row and "No owner · Missed" in row.group(0)  # the row says how the closed project ended


def test_detail_of_an_item_the_user_may_not_see_is_404(client, north):
    other = CredentialFactory(connector=north.connector)  # another user's credential
    hidden = WorkItemFactory(connector=north.connector, title="Secret initiative")
    see(other, hidden)
    mine = WorkItemFactory(connector=north.connector, title="My initiative")
    see(north, mine)
    assert client.get(f"/work-items/{hidden.pk}/").status_code == 404
    assert client.get(f"/work-items/{hidden.pk + 1000}/").status_code == 404
    assert "My initiative" in page(client, f"/work-items/{mine.pk}/")


def test_a_link_to_a_goal_or_parent_the_user_may_not_see_is_not_shown(client, north):
    other = CredentialFactory(connector=north.connector)
    hidden_goal = GoalFactory(connector=north.connector, title="Hidden goal")
    hidden_parent = WorkItemFactory(connector=north.connector, title="Hidden parent")
    see(other, hidden_goal, hidden_parent)
    item = WorkItemFactory(connector=north.connector, title="Visible child", goal=hidden_goal, parent=hidden_parent)
    see(north, item)
    html = page(client, f"/work-items/{item.pk}/")
    assert "Visible child" in html
    assert "Hidden goal" not in html and "Hidden parent" not in html


def test_sub_items_are_listed_and_link_to_their_own_detail(client, member):
    ops = CredentialFactory(owner=member, connector__vendor="operately")
    project = WorkItemFactory(connector=ops.connector, kind="project", title="Launch the portal")
    milestone = WorkItemFactory(connector=ops.connector, kind="milestone", title="Beta ready", parent=project)
    see(ops, project, milestone)
    html = page(client, f"/work-items/{project.pk}/")
    assert "Part of this project" in html and f'<a href="/work-items/{milestone.pk}/">Beta ready</a>' in html
    child_html = page(client, f"/work-items/{milestone.pk}/")
    assert fact(child_html, "Part of") == "Launch the portal"


def test_action_rows_and_cards_link_to_the_detail(client, ogsm):
    item = ogsm_action(ogsm, state="active")
    link = f'<a class="item-link" href="/work-items/{item.pk}/">Kick off the supplier audit</a>'
    assert link in page(client, "/actions/")
    assert link in page(client, "/actions/?view=board")
    search = page(client, "/search/?q=supplier")
    assert f'<a href="/work-items/{item.pk}/">Kick off the supplier audit</a>' in search


def test_late_start_flag_only_for_not_started_items_past_their_start(client, ogsm):
    today = timezone.localdate()
    late = ogsm_action(ogsm, title="Late to start")
    ogsm_action(ogsm, title="Starts next week", start_date=today + timedelta(days=7))
    ogsm_action(ogsm, title="Already running", state="active")
    ogsm_action(ogsm, title="Starts today", start_date=today)

    html = page(client, "/actions/")

    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr[^>]*data-item="(\d+)".*?</tr>', html, re.S)}
    assert len(rows) == 4
    flagged = {pk for pk, row in rows.items() if "Not started, 4 days past start" in row}
    assert flagged == {str(late.pk)}
    assert "past start" not in "".join(row for pk, row in rows.items() if pk != str(late.pk))
    board = page(client, "/actions/?view=board")
    assert board.count("Not started, 4 days past start") == 1


def test_owner_filter_matches_owners_never_involved_people(client, ogsm):
    owned = ogsm_action(ogsm, title="Owned by Jan", owners=["Jan Jansen"], owners_text="|jan jansen|", involved=[])
    involved = ogsm_action(ogsm, title="Jan only involved", involved=["Jan Jansen"])

    html = page(client, "/actions/?owner=jan")

    assert f'data-item="{owned.pk}"' in html
    assert f'data-item="{involved.pk}"' not in html
    assert "Owner: “jan”" in html  # the filter chip


def test_key_results_without_a_status_show_the_goals_labelled_as_the_goals(client, member):
    ops = CredentialFactory(owner=member, connector__vendor="operately")
    goal = GoalFactory(connector=ops.connector, title="Reduce churn", health="off_track", vendor_status="off_track")
    no_status = KeyResultFactory(connector=ops.connector, goal=goal, title="Churn below 3 %", health="unknown")
    own_status = KeyResultFactory(connector=ops.connector, goal=goal, title="NPS above 40", health="on_track")
    see(ops, goal, no_status, own_status)
    note = '<span class="chip chip-off_track chip-sm chip-goal">Goal: Off track</span>'

    detail = page(client, f"/goals/{goal.pk}/")
    rows = re.findall(r"<tr>\s*<td data-label=\"Key result\">(.*?)</tr>", detail, re.S)
    by_title = {("Churn" if "Churn" in r else "NPS"): r for r in rows}
    assert note in by_title["Churn"] and "No status" in by_title["Churn"]
    assert "Goal:" not in by_title["NPS"] and "On track" in by_title["NPS"]

    listing = page(client, "/goals/")
    kr_rows = re.findall(r'<tr class="kr-row">(.*?)</tr>', listing, re.S)
    assert len(kr_rows) == 2
    assert [note in r for r in kr_rows] == ["Churn" in r for r in kr_rows]

    search = page(client, "/search/?q=churn")
    assert note in search


def test_a_key_result_and_goal_both_without_status_show_no_goal_note(client, member):
    ops = CredentialFactory(owner=member, connector__vendor="operately")
    goal = GoalFactory(connector=ops.connector, health="unknown")
    kr = KeyResultFactory(connector=ops.connector, goal=goal, title="Unmeasured", health="unknown")
    see(ops, goal, kr)
    html = page(client, f"/goals/{goal.pk}/")
    assert "Unmeasured" in html and "chip-goal" not in html


def test_the_detail_follows_a_change_of_the_item(client, north):
    """Cached like the goal page: a sync (a data-version bump) shows at once."""
    item = WorkItemFactory(connector=north.connector, title="Before")
    see(north, item)
    assert "Before" in page(client, f"/work-items/{item.pk}/")
    WorkItem.objects.filter(pk=item.pk).update(title="After")
    see(north)  # bumps the data version, as a sync does
    html = page(client, f"/work-items/{item.pk}/")
    assert "After" in html and "Before" not in html


def test_goal_detail_links_its_work_to_the_work_item_detail(client, north):
    goal = GoalFactory(connector=north.connector, title="Grow revenue")
    item = WorkItemFactory(connector=north.connector, title="Partner portal", goal=goal)
    see(north, goal, item)
    assert f'<a href="/work-items/{item.pk}/">Partner portal</a>' in page(client, f"/goals/{goal.pk}/")


# -- what the vendors serve: a real sync of each sandbox over HTTP ---------------------------


def test_north_initiative_events_show_on_the_initiatives_detail(connect):
    vendor = connect("north")
    check_in = (
        CheckIn.objects.filter(connector=vendor.connector, work_item__isnull=False).exclude(comment="").order_by("-created_at").first()
    )
    assert check_in is not None, "the North sandbox serves initiative events"
    item = check_in.work_item
    events = CheckIn.objects.filter(work_item=item).count()

    html = page(vendor.client, f"/work-items/{item.pk}/")

    assert f'Check-in history <span class="muted">· {events}</span>' in html
    assert escape(check_in.comment.splitlines()[0]) in html
    assert "<dt>Last check-in</dt>" in html
    # the initiative's row links here
    actions = page(vendor.client, f"/actions/?q={item.title[:12]}")
    assert f'href="/work-items/{item.pk}/"' in actions


def test_operately_project_check_ins_show_on_the_projects_detail(connect):
    vendor = connect("operately")
    project = WorkItem.objects.filter(connector=vendor.connector, kind="project", check_ins__isnull=False).distinct().order_by("id").first()
    assert project is not None, "the Operately sandbox serves project check-ins"
    check_ins = list(CheckIn.objects.filter(work_item=project).order_by("-created_at", "-id"))

    html = page(vendor.client, f"/work-items/{project.pk}/")

    assert f'Check-in history <span class="muted">· {len(check_ins)}</span>' in html
    rows = re.findall(r'<time datetime="([^"]+)"', html)
    assert rows == [dateformat.format(c.created_at, "c") for c in check_ins]  # every check-in, newest first
    for c in check_ins:
        if c.comment:
            assert escape(c.comment.splitlines()[0]) in html
    assert fact(html, "Owners") == ", ".join(project.owners)


def test_ogsm_sandbox_actions_show_involved_and_strategies_never_as_owners(connect):
    """Depends on the OGSM connector keeping ``involved`` apart from owners (issue #16)."""
    vendor = connect("ogsm")
    action = (
        WorkItem.objects.filter(connector=vendor.connector, kind="action").exclude(involved=[]).exclude(owners=[]).order_by("id").first()
    )
    assert action is not None, "the OGSM sandbox serves actions with people involved"
    assert not set(action.involved) & set(action.owners)

    html = page(vendor.client, f"/work-items/{action.pk}/")

    assert fact(html, "Involved") == ", ".join(action.involved)
    assert fact(html, "Owners") == ", ".join(action.owners)
    label = "Strategy of this action" if len(action.strategy_external_ids) == 1 else "Strategies of this action"
    assert fact(html, label) == ", ".join(f"Strategy {s}" for s in action.strategy_external_ids)
    # the owner filter finds the action by its owner, never by someone merely involved
    assert f'data-item="{action.pk}"' in page(vendor.client, f"/actions/?owner={action.owners[0]}")
    assert f'data-item="{action.pk}"' not in page(vendor.client, f"/actions/?owner={action.involved[0]}")
