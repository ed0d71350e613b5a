"""Pace in the browser (issue #18): the Overview's "Behind pace" counter filters its "Needs
attention" list in place (bookmarkable URL, removable chip), rows say "Behind pace by N points"
beside the vendor's health; screenshots at desktop and phone widths."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from playwright.sync_api import Page, expect

from dashboard.okrs.models import Goal
from tests.e2e.test_dashboard import DESKTOP, shoot, sign_in
from tests.factories import ConnectorFactory, CredentialFactory, UserFactory, build_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paced_user(db):
    user = UserFactory(username="mia")
    credential = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="north", name="North"))
    build_org(credential, teams=13, goals_per_team=3, krs_per_goal=2, work_items_per_team=3)
    # Quarter-long timeframes ending on each goal's due date, so some goals run behind pace.
    Goal.objects.update(start_date=F("due_date") - timedelta(days=90))
    credential.last_success_at = credential.last_sync_at = timezone.now()
    credential.save()
    return user


def test_overview_filtered_to_behind_pace(page: Page, live_server, paced_user, artifacts_dir):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "mia")
    stat = page.locator('a.stat[href="/?pace=behind"]')
    expect(stat).to_be_visible()
    count = int(stat.locator("strong").inner_text())
    assert count > 0
    stat.click()
    expect(page).to_have_url(re.compile(r"/\?pace=behind$"))
    expect(page.locator(".filter-chip", has_text="Pace: Behind pace")).to_be_visible()
    rows = page.locator("#h-attention ~ table tbody tr")
    expect(rows.first).to_be_visible()
    texts = rows.all_inner_texts()
    assert 0 < len(texts) <= count and all("Behind pace by" in t for t in texts), texts
    shoot(page, artifacts_dir, "overview-behind-pace")

    page.goto(f"{live_server.url}/review/?pace=behind")
    expect(page.locator(".filter-chip", has_text="Pace: Behind pace")).to_be_visible()
    expect(page.locator("td.why .flag-pace").first).to_be_visible()
    shoot(page, artifacts_dir, "review-behind-pace")

    page.locator(".filter-chip", has_text="Pace").click()  # one click clears it
    expect(page).not_to_have_url(re.compile(r"pace="))
