"""The audit trail in Chromium: an admin edits a connector, then finds the change on the audit
trail, filters it and sees the before/after values. Screenshots at desktop and phone widths."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_dashboard import shoot, sign_in
from tests.factories import AdminFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_finds_a_connector_change_in_the_trail(page: Page, live_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    AdminFactory(username="root")
    sign_in(page, live_server.url, "root")
    page.goto(f"{live_server.url}/connectors/add/")
    page.get_by_label("Vendor").select_option("north")
    page.get_by_label("Display name").fill("North HQ")
    page.get_by_label("Base URL").fill("http://127.0.0.1:8101")
    page.get_by_label("Sync interval (minutes)").fill("60")
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_role("heading", name="North HQ")).to_be_visible()
    page.get_by_label("Sync interval (minutes)").fill("15")
    page.get_by_role("button", name="Save").click()

    page.goto(f"{live_server.url}/connectors/")
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    changed = page.get_by_role("row", name="connector.changed")
    expect(changed).to_contain_text("North HQ")
    expect(changed).to_contain_text("interval_minutes")
    expect(changed.locator("del")).to_have_text("60")
    expect(changed.locator("ins")).to_have_text("15")
    shoot(page, artifacts_dir, "audit-trail")

    page.get_by_label("Area").select_option("grant")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("heading", name="No changes match these filters")).to_be_visible()
