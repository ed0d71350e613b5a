"""Staleness of work items on the pages (issue #16): an item is stale when ``stale_at <= now``,
which the sync sets only for kinds whose vendor checks in (North initiatives, Operately
projects). Stale items match the actions' stale filter, are in Review's "needs attention", say
"No check-in for N days" on their rows, and are exported as stale. OGSM actions never are.

Factories for the page logic; a real sync of the North and OGSM sandboxes for what they serve."""

# ruff: noqa: F811 - the ``connect`` fixture, imported from tests/writes, is redefined as an argument
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from dashboard.okrs.models import WorkItem
from tests.factories import CredentialFactory, GoalFactory, UserFactory, WorkItemFactory, see
from tests.writes.conftest import connect  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # page data is cached per user and credential id; SQLite reuses ids between tests


@pytest.fixture
def items(client):
    """A stale North initiative (on track, not overdue: only stale), a fresh one, an OGSM action
    as old as the stale one but without check-ins at its vendor (no stale_at), and a stale
    initiative that is done (closed items never need attention)."""
    user = UserFactory(username="mia")
    client.force_login(user)
    north = CredentialFactory(owner=user, connector__vendor="north", connector__name="North")
    ogsm = CredentialFactory(owner=user, connector__vendor="ogsm", connector__name="OGSM")
    now = timezone.now()
    common = {"health": "on_track", "state": "active", "due_date": timezone.localdate() + timedelta(days=20)}
    stale = WorkItemFactory(
        connector=north.connector,
        title="Migrate billing",
        last_check_in_at=now - timedelta(days=19),
        stale_at=now - timedelta(days=5),
        owners=["Ada Lovelace"],
        owners_text="|ada lovelace|",
        **common,
    )
    fresh = WorkItemFactory(
        connector=north.connector,
        title="Run interviews",
        last_check_in_at=now - timedelta(days=2),
        stale_at=now + timedelta(days=12),
        **common,
    )
    action = WorkItemFactory(
        connector=ogsm.connector,
        kind="action",
        title="Audit suppliers",
        stale_at=None,
        involved=["Jan Jansen", "Sales team"],
        strategy_external_ids=["10000", "10003"],
        **common,
    )
    closed = WorkItemFactory(
        connector=north.connector,
        title="Old launch",
        state="done",
        outcome="achieved",
        health="on_track",
        last_check_in_at=now - timedelta(days=40),
        stale_at=now - timedelta(days=26),
    )
    see(north, stale, fresh, closed)
    see(ogsm, action)
    return {"stale": stale, "fresh": fresh, "action": action, "closed": closed}


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def row_ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-item="(\d+)"', html)}


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_actions_stale_filter_keeps_stale_items_only(client, items):
    html = page(client, "/actions/?stale=1")
    assert row_ids(html) == {items["stale"].pk, items["closed"].pk}
    assert re.search(r'class="filter-chip" href="/actions/"[^>]*>Stale <span', html)  # the removable chip
    assert 'id="f-stale"' in html and "checked" in html.split('id="f-stale"')[1].split(">")[0]
    assert row_ids(page(client, "/actions/")) == {item.pk for item in items.values()}


def test_stale_rows_say_how_long_since_the_last_check_in(client, items):
    html = page(client, "/actions/")
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r'<tr[^>]*data-item="(\d+)".*?</tr>', html, re.S)}
    assert "No check-in for 19 days" in rows[items["stale"].pk] and 'class="is-stale"' in rows[items["stale"].pk]
    for quiet in ("fresh", "action"):
        assert "No check-in" not in rows[items[quiet].pk] and "is-stale" not in rows[items[quiet].pk]
    assert "2 stale" in html  # the counts above the list: the open and the closed stale initiative
    board = page(client, "/actions/?view=board")
    assert board.count("No check-in for 19 days") == 1


def test_review_lists_stale_work_items_as_needing_attention_never_ogsm_actions(client, items):
    html = page(client, "/review/")
    work = html.split("<h2>Work items")[1]
    assert row_ids(work) == {items["stale"].pk}  # not the fresh one, the closed one or the OGSM action
    assert "No check-in for 19 days" in work
    assert row_ids(page(client, "/review/?stale=1").split("<h2>Work items")[1]) == {items["stale"].pk}


def test_review_export_gives_stale_as_the_reason(client, items):
    rows = read_csv(client.get("/review/export.csv"))
    work = [r for r in rows if r["type"] != "goal"]
    assert [(r["title"], r["reasons"]) for r in work] == [("Migrate billing", "stale")]


def test_actions_export_adds_involved_strategies_outcome_and_stale_at_the_end(client, items):
    response = client.get("/actions/export.csv")
    rows = read_csv(response)
    header = list(rows[0])
    assert header[:13] == [
        "vendor", "kind", "external_id", "title", "teams", "owners", "state", "health", "vendor_status", "progress",
        "due_date", "overdue", "url",
    ]  # fmt: skip
    assert header[13:] == ["involved", "strategies", "outcome", "stale"]
    by_title = {r["title"]: r for r in rows}
    assert by_title["Audit suppliers"]["involved"] == "Jan Jansen, Sales team"
    assert by_title["Audit suppliers"]["strategies"] == "10000; 10003"
    assert by_title["Audit suppliers"]["owners"] == ""  # involved people are not owners
    assert [by_title[t]["stale"] for t in ("Migrate billing", "Run interviews", "Audit suppliers")] == ["yes", "no", "no"]
    assert by_title["Old launch"]["outcome"] == "achieved" and by_title["Migrate billing"]["outcome"] == ""
    stale_only = read_csv(client.get("/actions/export.csv?stale=1"))
    assert {r["title"] for r in stale_only} == {"Migrate billing", "Old launch"}


def test_an_item_turns_stale_when_its_stale_at_passes(client, items, time_machine):
    fresh = items["fresh"]
    assert fresh.pk not in row_ids(page(client, "/actions/?stale=1"))
    time_machine.move_to(fresh.stale_at + timedelta(days=1))
    cache.clear()
    html = page(client, "/actions/?stale=1")
    assert fresh.pk in row_ids(html)
    assert "No check-in for 15 days" in html  # two days old at stale time, plus the 12 + 1 days


# -- what the sandboxes serve ----------------------------------------------------------------


def test_north_sandbox_initiatives_past_their_cadence_are_stale_on_the_pages(connect):
    vendor = connect("north")
    now = timezone.now()
    stale = set(
        WorkItem.objects.filter(connector=vendor.connector, stale_at__lte=now)
        .exclude(state__in=["done", "archived"])
        .values_list("pk", flat=True)
    )
    assert stale, "the North sandbox has initiatives without a recent check-in"
    html = page(vendor.client, "/actions/?stale=1&state=active&state=not_started&state=paused")
    assert row_ids(html) == stale
    assert html.count("No check-in for") + html.count("No check-in yet") == len(stale)
    work = page(vendor.client, "/review/").split("<h2>Work items")[1]
    assert stale <= row_ids(work)


def test_ogsm_sandbox_actions_are_never_stale(connect):
    vendor = connect("ogsm")
    assert WorkItem.objects.filter(connector=vendor.connector).count() > 0
    html = page(vendor.client, "/actions/?stale=1")
    assert row_ids(html) == set() and 'data-empty="no_match"' in html
    assert "No check-in" not in page(vendor.client, "/actions/")
    rows = read_csv(vendor.client.get("/actions/export.csv"))
    assert rows and {r["stale"] for r in rows} == {"no"}


def test_overview_counts_stale_work_items_with_a_link_to_them(client, items):
    credential = items["stale"].seen_by.get()
    see(credential, GoalFactory(connector=credential.connector, title="Grow revenue"))  # the overview needs a goal
    html = page(client, "/")
    assert '<a href="/actions/?stale=1" class="warn-text">2 work items without a recent check-in</a>' in html
