"""The digest preview in the browser (issue #18): settings saved from the user menu, then this
week's digest rendered in the page; screenshots at desktop and phone widths."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from playwright.sync_api import Page, expect

from dashboard.okrs.models import Goal, ProgressSnapshot
from tests.e2e.test_dashboard import DESKTOP, shoot, sign_in
from tests.factories import ConnectorFactory, CredentialFactory, UserFactory, build_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def digest_user(db):
    user = UserFactory(username="mia", email="mia@example.com")
    credential = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="north", name="North"))
    build_org(credential, teams=6, goals_per_team=3, krs_per_goal=1, work_items_per_team=2)
    Goal.objects.update(start_date=F("due_date") - timedelta(days=90))
    two_days_ago = timezone.now() - timedelta(days=2)
    moved = Goal.objects.exclude(progress=None).order_by("id")[:4]
    ProgressSnapshot.objects.bulk_create(
        ProgressSnapshot(
            goal=g, taken_at=two_days_ago, progress=min(100.0, (g.progress or 0) + 8), health="off_track" if n == 0 else g.health
        )
        for n, g in enumerate(moved)
    )
    credential.last_success_at = credential.last_sync_at = timezone.now()
    credential.save()
    return user


def test_digest_settings_and_preview(page: Page, live_server, digest_user, artifacts_dir):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "mia")
    page.get_by_role("link", name="Digest", exact=True).click()
    expect(page.get_by_role("heading", name="Weekly digest")).to_be_visible()
    page.get_by_label("Send me the weekly digest").check()
    page.get_by_label("Day").select_option("0")
    page.get_by_label("Hour").select_option("8")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".msg-success")).to_contain_text("set for Mondays at 08:00 (Europe/Berlin)")
    shoot(page, artifacts_dir, "digest-settings")

    page.get_by_role("link", name="Preview this week's digest").click()
    expect(page.get_by_role("heading", name="This week's digest")).to_be_visible()
    mail = page.locator(".digest-mail")
    expect(mail.get_by_role("heading", name="Needs attention")).to_be_visible()
    expect(mail.get_by_role("heading", name="Changed since last week")).to_be_visible()
    expect(mail.locator("a", has_text="Goal").first).to_be_visible()
    shoot(page, artifacts_dir, "digest-preview")
