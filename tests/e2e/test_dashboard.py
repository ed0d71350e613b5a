"""The dashboard in Debian's Chromium against the live server: sign in, expand the tree (mouse
and keyboard), filter, open a goal, run "sync now" against a vendor sandbox over HTTP and watch
the bar finish. Screenshots at desktop and phone widths land in tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from django.db import connection as db_connection
from playwright.sync_api import Page, expect

from dashboard.integrations import sync as sync_service
from dashboard.integrations.models import SyncRun
from dashboard.integrations.sync import enqueue as sync_enqueue
from tests.factories import ConnectorFactory, CredentialFactory, UserFactory, build_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Secret-123"  # tests.factories.UserFactory
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 812}


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def shoot(page: Page, artifacts_dir: Path, name: str) -> None:
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(artifacts_dir / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


@pytest.fixture
def org_user(db):
    user = UserFactory(username="mia")
    credential = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="north", name="North"))
    build_org(credential, teams=13, goals_per_team=3, krs_per_goal=2, work_items_per_team=3)
    ogsm = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="ogsm", name="OGSM"))
    build_org(ogsm, teams=4, branching=9, goals_per_team=2, krs_per_goal=0, work_items_per_team=2, prefix="Canvas ")
    from django.utils import timezone

    for c in (credential, ogsm):
        c.last_success_at = c.last_sync_at = timezone.now()
        c.save()
    return user


def test_tree_filter_and_goal(page: Page, live_server, org_user, artifacts_dir):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "mia")
    shoot(page, artifacts_dir, "overview")

    page.get_by_role("link", name="Teams", exact=True).click()
    tree = page.get_by_role("tree", name="North")
    root = tree.get_by_role("treeitem").first
    expect(root).to_have_attribute("aria-expanded", "false")
    root.locator(".toggle").first.click()  # mouse: lazy-load the children
    expect(root).to_have_attribute("aria-expanded", "true")
    expect(root.locator('[role="group"] .team-link', has_text=re.compile(r"^Team 1$"))).to_be_visible()
    # keyboard: Down to the first child, Right expands it (its children load lazily too)
    root.focus()
    page.keyboard.press("ArrowDown")
    child = tree.locator('[role="treeitem"][data-team]:focus')
    expect(child).to_have_attribute("aria-level", "2")
    page.keyboard.press("ArrowRight")
    expect(child).to_have_attribute("aria-expanded", "true")
    expect(child.get_by_role("treeitem").first).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(child).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(child).to_have_attribute("aria-expanded", "true")
    shoot(page, artifacts_dir, "teams-expanded")

    # filter the tree: only teams with off-track goals, chip shown, URL bookmarkable
    page.get_by_label("Health").select_option("off_track")
    expect(page).to_have_url(re.compile(r"/teams/\?health=off_track"))
    expect(page.locator(".filter-chip", has_text="Health: Off track")).to_be_visible()

    # goals: filter by health and owner, then remove one chip
    page.goto(f"{live_server.url}/goals/")
    page.get_by_label("Health").select_option("off_track")
    expect(page).to_have_url(re.compile(r"health=off_track"))
    expect(page.locator("tr.goal-row").first).to_be_visible()
    healths = page.locator("tr.goal-row .chip").all_inner_texts()
    assert healths and set(healths) == {"Off track"}, healths
    page.get_by_label("Owner").fill("alan")
    page.get_by_label("Owner").press("Enter")
    expect(page).to_have_url(re.compile(r"owner=alan"))
    expect(page.locator("tr.goal-row").first).to_be_visible()
    metas = page.locator("tr.goal-row .meta").all_inner_texts()
    assert metas and all("Alan Turing" in t for t in metas), metas
    shoot(page, artifacts_dir, "goals-filtered")
    page.locator(".filter-chip", has_text="Owner").click()
    expect(page).not_to_have_url(re.compile(r"owner="))
    expect(page.locator(".filter-chip", has_text="Health: Off track")).to_be_visible()

    # open a goal
    page.locator("a.goal-link").first.click()
    expect(page.get_by_role("heading", name="Check-in history")).to_be_visible()
    expect(page.locator(".checkins tbody tr").first).to_contain_text("Update on")
    shoot(page, artifacts_dir, "goal-detail")

    for name, url in (
        ("actions-table", "/actions/"),
        ("actions-board", "/actions/?view=board"),
        ("review", "/review/"),
        ("search", "/search/?q=goal+1"),
        ("teams", "/teams/"),
    ):
        page.goto(live_server.url + url)
        shoot(page, artifacts_dir, name)


def test_empty_account(page: Page, live_server, db, artifacts_dir):
    UserFactory(username="newbie")
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "newbie")
    expect(page.get_by_role("heading", name="Connect an account to see your goals")).to_be_visible()
    expect(page.get_by_role("link", name="Connect an account").first).to_have_attribute("href", "/connections/")
    shoot(page, artifacts_dir, "empty-overview")
    for name, url in (("empty-teams", "/teams/"), ("empty-goals", "/goals/"), ("empty-actions", "/actions/")):
        page.goto(live_server.url + url)
        expect(page.locator("[data-empty=no_connection]")).to_be_visible()
        shoot(page, artifacts_dir, name)


@pytest.fixture
def threaded_sync(monkeypatch):
    """The Celery task's ``delay`` runs the sync in a thread of this process, as a worker would,
    so the bar moves while the live server answers the polls (no broker needed)."""
    threads: list[threading.Thread] = []

    def delay(run_id: int) -> None:
        def work() -> None:
            try:
                sync_service.run_sync(run_id)
            finally:
                db_connection.close()

        thread = threading.Thread(target=work, name=f"sync-{run_id}", daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(sync_enqueue, "send_run", delay)
    yield threads
    for thread in threads:
        thread.join(timeout=60)


def test_sync_now_bar_progresses_and_finishes(page: Page, live_server, sandbox_factory, threaded_sync, artifacts_dir):
    # North reads six streams in a few hundred requests: with 60 ms each the sync lasts several
    # 1 s polls, so the bar has to show progress between 0 and 100.
    sandbox, server = sandbox_factory("north", seed=5, size="small", faults="latency=60ms")
    user = UserFactory(username="sam")
    connector = ConnectorFactory(vendor="north", name="North sandbox", base_url=server.url)
    CredentialFactory(owner=user, connector=connector, secret=dict(sandbox.credentials[0].secret))
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "sam")
    expect(page.locator("[data-empty=no_data], [data-empty=first_sync]")).to_be_visible()

    page.get_by_role("button", name="Sync now").click()
    bar = page.locator(".sync-bar").first
    expect(bar).to_be_visible()
    seen: list[int] = []
    shot_mid = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        percent = int(bar.get_attribute("data-percent") or 0)
        if not seen or seen[-1] != percent:
            seen.append(percent)
        if 0 < percent < 100 and not shot_mid:
            page.screenshot(path=str(artifacts_dir / "sync-running-desktop.png"))
            shot_mid = True
        if page.locator("#sync-panel[data-finished=true]").count():
            break
        page.wait_for_timeout(150)
    expect(page.locator(".sync-done")).to_contain_text("Sync finished")
    final = int(bar.get_attribute("data-percent") or 0)  # the swap may land between two reads
    if seen[-1] != final:
        seen.append(final)
    assert seen[-1] == 100 and seen == sorted(seen), seen
    assert any(0 < p < 100 for p in seen), f"the bar never showed progress between 0 and 100: {seen}"
    run = SyncRun.objects.get(credential__owner=user)
    assert run.status == "succeeded", run.error
    # the summary refreshed by itself once the sync finished: counts, no empty state
    expect(page.get_by_role("heading", name=re.compile("Goals by health"))).to_be_visible()
    polls_before = len(page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/sync/status/'))"))
    page.wait_for_timeout(2500)
    polls_after = len(page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/sync/status/'))"))
    assert polls_after == polls_before, "polling must stop once every run is finished (HTTP 286)"
    shoot(page, artifacts_dir, "sync-finished")
