"""Write-back in Chromium against the live server and the OGSM sandbox over HTTP: edit an
action's progress, see it on the board and in the sandbox; then meet a conflict. Screenshots
(desktop and phone) land in tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dashboard.okrs.models import WorkItem
from tests.e2e.test_dashboard import DESKTOP, shoot
from tests.writes.conftest import connect  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Secret-123"  # tests.factories.UserFactory
ACTION_ID = 1013


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def test_edit_an_ogsm_action_progress_and_see_it_on_the_board_and_in_the_sandbox(page: Page, live_server, connect, artifacts_dir: Path):  # noqa: F811
    ogsm = connect("ogsm")
    item = WorkItem.objects.get(vendor="ogsm", kind="action", external_id=str(ACTION_ID))
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, ogsm.user.username)

    page.goto(f"{live_server.url}/actions/{item.pk}/edit/")
    expect(page.get_by_role("heading", name="Edit action")).to_be_visible()
    expect(page.get_by_label("Progress")).to_have_value("8")
    shoot(page, artifacts_dir, "writeback-edit-form")

    page.get_by_label("Progress").fill("60")
    page.get_by_role("button", name="Save to OGSM").click()
    expect(page.get_by_role("status").filter(has_text="OGSM accepted the change")).to_be_visible()
    assert page.url.endswith(f"/actions/{item.pk}/edit/")  # htmx swapped the region, no page load
    shoot(page, artifacts_dir, "writeback-saved")
    assert ogsm.sandbox.state.action(ACTION_ID)["progress"] == 60

    page.goto(f"{live_server.url}/actions/?view=board")
    card = page.locator(f'li.card-item[data-item="{item.pk}"]')
    expect(card).to_contain_text("Train the partner programme")
    expect(card.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "60")
    expect(card).to_contain_text("60%")
    shoot(page, artifacts_dir, "writeback-board")

    # someone changes the action in OGSM while the form is open: both versions, no overwrite
    page.goto(f"{live_server.url}/actions/{item.pk}/edit/")
    with ogsm.sandbox.state.lock:
        ogsm.sandbox.state.actions[ACTION_ID]["progress"] = 75
    page.get_by_label("Progress").fill("65")
    page.get_by_role("button", name="Save to OGSM").click()
    conflict = page.locator("section.conflict")
    expect(conflict).to_contain_text("Someone changed this at OGSM")
    expect(conflict.locator("tr.changed-there")).to_contain_text("75")
    shoot(page, artifacts_dir, "writeback-conflict")
    assert ogsm.sandbox.state.action(ACTION_ID)["progress"] == 75
    page.get_by_role("button", name="Overwrite with mine").click()
    expect(page.get_by_role("status").filter(has_text="OGSM accepted the change")).to_be_visible()
    assert ogsm.sandbox.state.action(ACTION_ID)["progress"] == 65
