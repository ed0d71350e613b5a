"""Vendor faults over real HTTP (the OGSM and Operately sandboxes on loopback, the real sync
engine, PostgreSQL): after each fault the last good data is still shown to the user, marked
with when it was last synced and why the latest sync failed.

Each test first syncs cleanly, then injects one fault (``sandbox.faults`` or a mutation of
``sandbox.state``), syncs again and reads the product back as the user: pages and the API.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from connectors.http import RetryPolicy
from dashboard.integrations.models import Credential
from dashboard.integrations.sync import SyncRetry
from dashboard.okrs.models import Goal, WorkItem
from tests.reliability.helpers import FRESHNESS_PAGES, WHY_PAGE, Connected, connect, sync, text_of, visible_work_item_titles, work_item_rows

pytestmark = pytest.mark.django_db

# fault spec -> words the recorded error must contain (what the user is told)
FAULTS: dict[str, tuple[str, str]] = {
    "http_500": ("500=1", "Vendor server error"),
    "429_storm": ("429=1,retry_after=1,match=/api/v2/actions.json", "Rate limited"),
    "timeout": ("timeout=1,hang=1.5,match=/api/v2/actions.json", "did not answer in time"),
    "body_not_json": ("badjson=1", "not JSON"),
    "truncated_body": ("truncated=1", "not JSON"),
}


def snapshot_as_user(c: Connected) -> dict[str, Any]:
    """What the user sees: the titles the API lists and the text of the actions page."""
    return {"api_titles": visible_work_item_titles(c.client), "actions_page": text_of(c.client.get("/actions/?per_page=500"))}


def assert_last_good_data_is_shown(c: Connected, before: dict[str, Any], rows_before: dict[str, str], why: str) -> None:
    # nothing lost in the database: same rows, still visible to the credential
    assert work_item_rows(c.connector) == rows_before
    assert WorkItem.objects.filter(connector=c.connector, seen_by=c.credential).count() == len(rows_before)
    # nothing lost for the user: the API lists the same items, the page shows the same titles
    after = snapshot_as_user(c)
    assert after["api_titles"] == before["api_titles"]
    shown_before = [t for t in before["api_titles"] if t in before["actions_page"]]
    assert len(shown_before) >= 5
    assert [t for t in shown_before if t not in after["actions_page"]] == []
    # marked: when it was last synced, that the latest sync failed, and why
    for page in FRESHNESS_PAGES:
        text = text_of(c.client.get(page))
        assert "Data synced" in text and "failing" in text, f"{page} does not say the connection is failing: {text[:400]}"
    why_text = text_of(c.client.get(WHY_PAGE))
    assert "Last error" in why_text and why in why_text, why_text[:1500]
    runs = c.client.get("/api/v1/sync-runs?limit=1").json()["results"]
    assert runs[0]["status"] in ("failed", "partial") and why in runs[0]["error"]


def fault_scenario(c: Connected, inject: Callable[[], None], why: str, **sync_kwargs: Any) -> None:
    first = sync(c.credential)
    assert first.status == "succeeded", first.error
    rows_before = work_item_rows(c.connector)
    before = snapshot_as_user(c)
    good_at = Credential.objects.get(pk=c.credential.pk).last_success_at

    inject()
    run = sync(c.credential, **sync_kwargs)

    assert run.status in ("failed", "partial") and why in run.error, (run.status, run.error)
    credential = Credential.objects.get(pk=c.credential.pk)
    assert credential.last_sync_at > good_at
    if run.status == "failed":  # nothing new arrived: "last good" still points at the earlier sync
        assert credential.last_success_at == good_at
    assert why in credential.last_error
    assert_last_good_data_is_shown(c, before, rows_before, why)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_ogsm_fault_keeps_the_last_good_data_and_says_why(fault, sandbox_factory, fast_vendor_retries, short_client_timeout):
    """Must survive: every action from the last good sync (rows, API, pages), the time of the
    last good sync, and a visible reason naming the fault."""
    sandbox, server = sandbox_factory("ogsm", seed=3, size="small")
    c = connect(sandbox, server)
    spec, why = FAULTS[fault]

    def inject() -> None:
        sandbox.faults = spec

    fault_scenario(c, inject, why)
    assert sandbox.app.faults_served, "the sandbox never injected the fault"


@pytest.mark.parametrize("fault", ["http_500", "truncated_body"])
def test_operately_fault_keeps_the_last_good_goals(fault, sandbox_factory, fast_vendor_retries):
    """Must survive: every Operately goal from the last good sync, visible in the API."""
    sandbox, server = sandbox_factory("operately", seed=2, size=1)
    c = connect(sandbox, server)
    assert sync(c.credential).status == "succeeded"
    goals_before = set(Goal.objects.filter(connector=c.connector, seen_by=c.credential).values_list("external_id", "title"))
    api_before = c.client.get("/api/v1/goals?limit=500").json()["count"]
    spec, why = FAULTS[fault]
    sandbox.faults = spec

    run = sync(c.credential)

    assert run.status in ("failed", "partial") and why in run.error, run.error
    assert set(Goal.objects.filter(connector=c.connector, seen_by=c.credential).values_list("external_id", "title")) == goals_before
    assert c.client.get("/api/v1/goals?limit=500").json()["count"] == api_before > 0
    assert why in text_of(c.client.get(WHY_PAGE))


def test_a_429_storm_is_retried_later_honouring_retry_after(sandbox_factory, settings, fast_vendor_retries):
    """Must survive: the data, and the vendor's Retry-After: the Celery retry waits at least that
    long instead of hammering a vendor that asked us to slow down."""
    settings.SYNC_RETRY_BASE_DELAY, settings.SYNC_RETRY_MAX_DELAY = 0.01, 0.02
    sandbox, server = sandbox_factory("ogsm", seed=3, size="small")
    c = connect(sandbox, server)
    assert sync(c.credential).status == "succeeded"
    rows_before = work_item_rows(c.connector)
    sandbox.faults = "429=1,retry_after=1,match=/api/v2/actions.json"

    with pytest.raises(SyncRetry) as retry:
        sync(c.credential, allow_retry=True)

    assert retry.value.countdown >= 1.0  # Retry-After, although the configured backoff is 0.02 s
    assert "Rate limited" in retry.value.reason
    assert work_item_rows(c.connector) == rows_before
    # one stream asked to slow down: the other streams were not tried in the same storm
    assert sandbox.app.faults_served["429"] <= RetryPolicy().max_attempts  # the teams stream's actions request, then it stopped


def _mutate_actions(sandbox: Any, change: Callable[[dict[int, dict[str, Any]]], None]) -> None:
    with sandbox.state.lock:
        change(sandbox.state.actions)


def test_a_field_of_the_wrong_type_degrades_that_field_not_the_sync(sandbox_factory, fast_vendor_retries):
    """Must survive: every action; the other actions' fresh changes; no duplicate for an id that
    switched from a number to a string; the broken field shows as unknown, not as a crash."""
    sandbox, server = sandbox_factory("ogsm", seed=3, size="small")
    c = connect(sandbox, server)
    assert sync(c.credential).status == "succeeded"
    rows_before = work_item_rows(c.connector)
    ids = sorted(sandbox.state.actions)
    bad_progress, string_id, bad_title, bad_dates, renamed = ids[10:15]

    def change(actions: dict[int, dict[str, Any]]) -> None:
        actions[bad_progress]["progress"] = "abc"
        actions[string_id]["id"] = str(string_id)
        actions[bad_title]["title"] = 12345
        actions[bad_dates].update(due="not a date", start=["2026-01-01"], traffic_light={"colour": "red"}, assignee="Jan")
        actions[renamed]["title"] = "Renamed while the others broke"

    _mutate_actions(sandbox, change)
    run = sync(c.credential)

    assert run.status == "succeeded", run.error
    rows = work_item_rows(c.connector)
    assert set(rows) == set(rows_before), "an item was lost or duplicated"
    assert WorkItem.objects.filter(connector=c.connector).count() == len(rows_before)
    assert rows[str(renamed)] == "Renamed while the others broke"
    assert WorkItem.objects.get(connector=c.connector, external_id=str(bad_progress)).progress is None
    assert rows[str(bad_title)] in ("12345", f"Action {bad_title}")  # kept as text, or a fallback title
    titles = visible_work_item_titles(c.client)
    assert "Renamed while the others broke" in titles
    assert c.client.get("/actions/").status_code == 200


class EmptyListAnswer:
    """Wraps the sandbox app: the actions list answers ``[]`` with ``status``, other paths pass."""

    def __init__(self, app: Any, status: str) -> None:
        self.app, self.status = app, status

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/api/v2/actions.json" and environ.get("REQUEST_METHOD") == "GET":
            start_response(self.status, [("Content-Type", "application/json")])
            return [json.dumps([]).encode()]
        return self.app(environ, start_response)


@pytest.fixture
def five_hundred_actions(sandbox_factory, fast_vendor_retries) -> Connected:
    sandbox, server = sandbox_factory("ogsm", seed=5, size=3, actions_per_canvas=167)
    c = connect(sandbox, server)
    first = sync(c.credential)
    assert first.status == "succeeded", first.error
    assert WorkItem.objects.filter(connector=c.connector, seen_by=c.credential).count() >= 500
    return c


def test_an_empty_list_from_a_failing_request_removes_nothing(five_hundred_actions):
    """Must survive: all 500+ actions, when the request that lists them fails with an empty list
    as its body (HTTP 503 ``[]``): a failed read never removes anything."""
    c = five_hundred_actions
    rows_before = work_item_rows(c.connector)
    before = snapshot_as_user(c)
    c.sandbox.app.app = EmptyListAnswer(c.sandbox.app.app, "503 Service Unavailable")

    run = sync(c.credential)

    assert run.status in ("failed", "partial") and "GET /api/v2/actions.json" in run.error
    assert_last_good_data_is_shown(c, before, rows_before, "Vendor server error")


def test_a_sudden_empty_list_answer_does_not_wipe_500_items(five_hundred_actions):
    """Must survive: all 500+ actions when one answer that looks fine (HTTP 200) suddenly lists
    none of them (a vendor fault, e.g. a failing database behind the API). One such answer must
    not wipe everything the user sees; the run says it held the removal back."""
    c = five_hundred_actions
    rows_before = work_item_rows(c.connector)
    c.sandbox.app.app = EmptyListAnswer(c.sandbox.app.app, "200 OK")

    run = sync(c.credential)

    assert WorkItem.objects.filter(connector=c.connector, seen_by=c.credential).count() == len(rows_before), (
        f"one empty answer removed the user's actions (run {run.status}: {run.error})"
    )
    assert c.client.get("/api/v1/work-items?limit=1").json()["count"] == len(rows_before)
    assert run.status in ("failed", "partial") and "held back" in run.error
    assert "held back" in text_of(c.client.get(WHY_PAGE))
    # A second complete read that agrees is a real mass deletion at the vendor: it is applied.
    confirmed = sync(c.credential)
    assert WorkItem.objects.filter(connector=c.connector, seen_by=c.credential).count() == 0, confirmed.error
