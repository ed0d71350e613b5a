"""Align an Operately goal under a North team from the goal page (htmx form), then find it in
place on the North team tree with its "OKR Hub link" badge. Screenshots in tests/artifacts/."""

from __future__ import annotations

import re

import pytest
from django.db.models import Q
from django.utils import timezone
from playwright.sync_api import Page, expect

from dashboard.alignment import suggestions
from dashboard.alignment.models import Alignment, AlignmentSuggestion
from tests.e2e.test_dashboard import DESKTOP, shoot, sign_in
from tests.factories import (
    AdminFactory,
    ConnectorFactory,
    CredentialFactory,
    GoalFactory,
    PersonFactory,
    TeamFactory,
    UserFactory,
    build_org,
    see,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_tools(db):
    user = UserFactory(username="mia", email="mia@example.com")
    north = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="north", name="North"))
    build_org(north, teams=7, goals_per_team=2, krs_per_goal=1, work_items_per_team=1)
    operately = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="operately", name="Operately"))
    space = TeamFactory(connector=operately.connector, name="Billing space")
    PersonFactory(connector=operately.connector, external_id="p-mia", name="Mia Park", email="mia@example.com")
    goal = GoalFactory(connector=operately.connector, team=space, title="Ship the new billing", progress=80.0,
                       owners=["Mia Park"], owner_external_ids=["p-mia"], health="needs_attention")  # fmt: skip
    see(operately, space, goal)
    # A look-alike pair for the admin's suggestions page.
    twin = GoalFactory(connector=operately.connector, team=space, title="Grow ARR to 5M", progress=30.0)
    see(operately, twin)
    original = GoalFactory(connector=north.connector, title="Grow ARR to 5M in Europe", progress=55.0)
    see(north, original)
    admin = AdminFactory(username="root")
    for credential in (north, operately):
        see(CredentialFactory(owner=admin, connector=credential.connector), *credential.seen_goals.all(), *credential.seen_teams.all())
    for c in (north, operately):
        c.last_success_at = c.last_sync_at = timezone.now()
        c.save()
    return goal


def test_align_from_the_goal_page_and_see_it_on_the_tree(page: Page, live_server, two_tools, artifacts_dir):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "mia")
    page.goto(f"{live_server.url}/goals/{two_tools.pk}/")
    section = page.locator("#alignment")
    section.get_by_label("Search").fill("Team 0")
    expect(section.locator("option", has_text="North · Team 0")).to_have_count(1)
    expect(section.locator("option", has_text="North · Team 1")).to_have_count(0)  # the search narrowed it
    section.get_by_label("Align under…").select_option(label="North · Team 0")
    section.get_by_role("button", name="Align").click()
    section = page.locator("#alignment")
    expect(section).to_contain_text("Aligned under")
    expect(section).to_contain_text("Team 0")
    expect(section.locator(".badge-link")).to_have_text("OKR Hub link")
    alignment = Alignment.objects.get(child_goal=two_tools)
    assert alignment.parent_team.name == "Team 0" and alignment.created_by.username == "mia"
    shoot(page, artifacts_dir, "goal-aligned")

    page.get_by_role("link", name="Teams", exact=True).click()
    root = page.locator(".tree-item[data-team]", has=page.locator(".team-link", has_text=re.compile(r"^Team 0$"))).first
    aligned = root.locator(".aligned-goal", has_text="Ship the new billing")
    expect(aligned).to_be_visible()
    expect(aligned.locator(".badge-link")).to_have_text("OKR Hub link")
    assert "Aligned in OKR Hub by mia" in (aligned.locator(".badge-link").get_attribute("title") or "")
    goals_link = root.locator(".tree-goals a").first
    assert "1 aligned via OKR Hub" in (goals_link.get_attribute("title") or "")
    shoot(page, artifacts_dir, "teams-aligned")

    # An admin reviews the suggestions: one click dismisses a row, and it stays dismissed.
    suggestions.recompute()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server.url, "root")
    page.get_by_role("link", name="Alignment", exact=True).click()
    row = page.locator("tr[data-suggestion]", has_text="Grow ARR to 5M")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("similar title")
    shoot(page, artifacts_dir, "alignment-suggestions")
    row.get_by_role("button", name="Dismiss").click()
    expect(row).to_have_count(0)
    pair = Q(child_goal__title="Grow ARR to 5M") | Q(parent_goal__title="Grow ARR to 5M")
    assert AlignmentSuggestion.objects.get(pair).status == "dismissed"
    suggestions.recompute()
    page.reload()
    expect(page.locator("tr[data-suggestion]", has_text="Grow ARR to 5M")).to_have_count(0)
