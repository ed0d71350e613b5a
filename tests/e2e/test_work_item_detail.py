"""The work-item detail in Chromium against the live server (issue #16): from the actions table
to a North initiative's check-in history, then an OGSM action (involved people, strategies, "not
started" flag) and an Operately goal whose key result shows the goal's status. Screenshots at
desktop and 375 px land in tests/artifacts/ (git-ignored)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from dashboard.okrs.models import WorkItem
from tests.e2e.test_dashboard import DESKTOP, PHONE, shoot, sign_in
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
    build_org,
    see,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    user = UserFactory(username="mia")
    now, today = timezone.now(), timezone.localdate()
    north = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="north", name="North"))
    build_org(north, teams=4, goals_per_team=2, krs_per_goal=1, work_items_per_team=2)
    team = TeamFactory(connector=north.connector, name="Payments")
    goal = GoalFactory(connector=north.connector, team=team, title="Grow revenue")
    initiative = WorkItemFactory(
        connector=north.connector,
        title="Migrate billing to v2",
        owners=["Ada Lovelace", "Grace Hopper"],
        owners_text=WorkItem.owners_text_for(["Ada Lovelace", "Grace Hopper"]),
        health="needs_attention",
        vendor_status="at-risk",
        progress=45.0,
        goal=goal,
        start_date=today - timedelta(days=40),
        due_date=today + timedelta(days=25),
        last_check_in_at=now - timedelta(days=19),
        stale_at=now - timedelta(days=5),
        url="https://north.example/initiatives/2",
        description="<p>Move every invoice to the <strong>v2</strong> ledger.</p>",
    )
    initiative.teams.add(team)
    see(north, team, goal, initiative)
    events = [
        (19, "Blocked on the payment provider's sandbox; escalated to their account manager.", "needs_attention", "at-risk", 45.0),
        (33, "Invoices for EU customers migrated.", "on_track", "on-track", 30.0),
        (47, "Kick-off done.", "on_track", "on-track", 5.0),
    ]
    for days, comment, health, status, progress in events:
        CheckInFactory(
            goal=None,
            work_item=initiative,
            connector=north.connector,
            vendor="north",
            subject_kind="work_item",
            subject_external_id=initiative.external_id,
            created_at=now - timedelta(days=days),
            author="Ada Lovelace",
            progress=progress,
            health=health,
            vendor_status=status,
            comment=comment,
        )
        SnapshotFactory(work_item=initiative, taken_at=now - timedelta(days=days), progress=progress, health=health)

    ogsm = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="ogsm", name="OGSM"))
    action = WorkItemFactory(
        connector=ogsm.connector,
        kind="action",
        title="Kick off the supplier audit",
        owners=["Femke de Vries"],
        owners_text="|femke de vries|",
        involved=["Jan Jansen", "Sales team"],
        strategy_external_ids=["10000", "10003"],
        state="not_started",
        health="off_track",
        vendor_status="red",
        start_date=today - timedelta(days=4),
        due_date=today + timedelta(days=40),
        url="https://ogsm.example/actions/2",
    )
    see(ogsm, action)

    ops = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="operately", name="Operately"))
    ops_goal = GoalFactory(connector=ops.connector, title="Reduce churn", health="off_track", vendor_status="off_track")
    kr = KeyResultFactory(connector=ops.connector, goal=ops_goal, title="Churn below 3 %", health="unknown")
    see(ops, ops_goal, kr)
    for credential in (north, ogsm, ops):
        credential.last_success_at = credential.last_sync_at = now
        credential.save()
    return {"initiative": initiative, "action": action, "ops_goal": ops_goal}


def test_work_item_detail_pages(page: Page, live_server, world, artifacts_dir):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "mia")

    # from the actions table to the initiative's detail
    page.goto(f"{live_server.url}/actions/?q=billing")
    page.get_by_role("link", name="Migrate billing to v2", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/work-items/{world['initiative'].pk}/")
    expect(page.get_by_role("heading", name="Check-in history")).to_be_visible()
    rows = page.locator(".checkins tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Blocked on the payment provider")
    expect(page.locator(".item-flags .flag-stale")).to_have_text("No check-in for 19 days")
    shoot(page, artifacts_dir, "work-item-initiative")

    # the phone layout stacks the check-ins: each cell carries its label, nothing overflows
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)

    # an OGSM action from the board
    page.goto(f"{live_server.url}/actions/?view=board&vendor=ogsm")
    page.get_by_role("link", name="Kick off the supplier audit", exact=True).click()
    expect(page.locator(".facts")).to_contain_text("Involved")
    expect(page.locator(".facts")).to_contain_text("Jan Jansen, Sales team")
    expect(page.locator(".facts")).to_contain_text("Strategy 10000")
    expect(page.locator(".item-flags .flag-late")).to_have_text("Not started, 4 days past start")
    expect(page.get_by_text("OGSM has no check-ins for actions")).to_be_visible()
    shoot(page, artifacts_dir, "work-item-action")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)

    # an Operately key result without a status shows the goal's, labelled as the goal's
    page.goto(f"{live_server.url}/goals/{world['ops_goal'].pk}/")
    expect(page.locator(".chip-goal")).to_have_text("Goal: Off track")
    shoot(page, artifacts_dir, "goal-detail-kr-goal-status")

    page.goto(f"{live_server.url}/actions/")
    shoot(page, artifacts_dir, "actions-table-linked")
