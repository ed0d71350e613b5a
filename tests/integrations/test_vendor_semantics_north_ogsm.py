"""Issue #16, North and OGSM, end to end: a real sync over HTTP against each sandbox, then the
stored rows, compared with the sandbox's own data (never with what a connector read)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from connectors.ogsm.sandbox.data import INVOLVED_OWNER, MEMBER_NAME
from dashboard.integrations.models import Connector, Credential
from dashboard.okrs.filters import WorkItemFilters
from dashboard.okrs.models import CheckIn, Goal, WorkItem
from dashboard.okrs.selectors import late_start_q, stale_q, with_work_item_flags
from tests.integrations.test_sync_vendors import credential_for, sync

pytestmark = pytest.mark.django_db

NOT_STARTED_NAMES = ("icebox", "todo")  # the OGSM sandbox's not-started statuses (NOTES.md)


def synced(sandbox_factory: Any, vendor: str, **options: Any) -> tuple[Any, Connector, Credential]:
    sandbox, server = sandbox_factory(vendor, seed=1, size="small", **options)
    connector = Connector.objects.create(vendor=vendor, name=f"{vendor} sandbox", base_url=server.url)
    credential = credential_for(connector, sandbox.credentials[0].secret, f"{vendor}-main")
    run = sync(credential)
    assert run.status == "succeeded", run.error
    return sandbox, connector, credential


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def newest_check_in(state: Any, kind: str, item_id: int) -> datetime | None:
    stamps = [moment(e["created_at"]) for e in state.events_for(kind, item_id) if e["kind"] == "check_in"]
    return max(stamps, default=None)


def test_ogsm_is_never_stale_while_north_items_without_recent_check_ins_are(sandbox_factory: Any) -> None:
    _, ogsm, _ = synced(sandbox_factory, "ogsm")
    north_sandbox, north, _ = synced(sandbox_factory, "north")

    ogsm_goals, ogsm_items = Goal.objects.filter(connector=ogsm), WorkItem.objects.filter(connector=ogsm)
    assert ogsm_goals.filter(state="active").exists() and ogsm_items.filter(state="active").exists()
    assert not ogsm_goals.filter(stale_at__isnull=False).exists() and not ogsm_items.filter(stale_at__isnull=False).exists()
    years_later = timezone.now() + timedelta(days=3650)  # never: not even after ten years without a sync
    assert not ogsm_goals.filter(stale_q(years_later)).exists() and not ogsm_items.filter(stale_q(years_later)).exists()

    # North checks in on goals and initiatives: those without a recent check-in are stale
    state, now = north_sandbox.state, timezone.now()
    cutoff = now - timedelta(days=settings.STALE_AFTER_DAYS)

    def overdue_for_check_in(kind: str, item_id: int) -> bool:
        newest = newest_check_in(state, kind, item_id)
        return newest is None or newest < cutoff

    active_goals = [i for i, g in state.goals.items() if not g["closed_at"] and not g["is_archived"]]
    stale_goals = {str(i) for i in active_goals if overdue_for_check_in("goal", i)}
    assert stale_goals and set(Goal.objects.filter(connector=north).filter(stale_q()).values_list("external_id", flat=True)) == stale_goals

    active_initiatives = [
        i
        for i, w in state.initiatives.items()
        if w["status"] not in ("done", "not-started") and not w["is_closed"] and not w["is_archived"]
    ]
    stale = {str(i) for i in active_initiatives if overdue_for_check_in("initiative", i)}
    fresh = {str(i) for i in active_initiatives} - stale
    assert stale and fresh  # the sandbox seeds both
    initiatives = WorkItem.objects.filter(connector=north, kind="initiative")
    assert set(initiatives.filter(stale_q()).values_list("external_id", flat=True)) == stale
    for row in initiatives:
        assert row.last_check_in_at == newest_check_in(state, "initiative", int(row.external_id)), row.external_id
    assert not initiatives.filter(state="not_started", stale_at__isnull=False).exists()  # not started: nothing to check in yet

    # initiative check-in events are stored as the work item's check-ins
    planned = {f"initiative-{i}-{e['id']}" for i in state.initiatives for e in state.events_for("initiative", i) if e["kind"] == "check_in"}
    stored = CheckIn.objects.filter(connector=north, subject_kind="work_item")
    assert set(stored.values_list("external_id", flat=True)) == planned
    assert not stored.filter(work_item__isnull=True).exists()
    assert all(c.work_item.external_id == c.subject_external_id for c in stored.select_related("work_item"))


def test_ogsm_owner_involved_and_strategies_are_stored_as_the_vendor_has_them(sandbox_factory: Any) -> None:
    sandbox, ogsm, _ = synced(sandbox_factory, "ogsm")
    rows = {w.external_id: w for w in WorkItem.objects.filter(connector=ogsm, kind="action")}
    assert set(rows) == {str(i) for i in sandbox.state.actions}
    for action_id, action in sandbox.state.actions.items():
        row = rows[str(action_id)]
        assignee = (action.get("assignee") or {}).get("name")
        assert row.owners == ([assignee] if assignee else []), action_id
        involved = list(dict.fromkeys(p["name"] for p in action["involved"] if p["name"] != assignee))
        assert row.involved == involved, action_id
        assert row.strategy_external_ids == [str(s["id"]) for s in action["strategies"]], action_id
    assert rows["1003"].owners == [INVOLVED_OWNER] and MEMBER_NAME in rows["1003"].involved

    # the owner filter finds what the member owns, never what they are only involved in
    owned_by_member = WorkItemFilters(QueryDict(f"owner={MEMBER_NAME}"), path="/work-items/").apply(WorkItem.objects.filter(connector=ogsm))
    found = set(owned_by_member.values_list("external_id", flat=True))
    expected = {str(i) for i, a in sandbox.state.actions.items() if (a.get("assignee") or {}).get("name") == MEMBER_NAME}
    assert found == expected and "1002" in found and "1003" not in found


def test_an_ogsm_action_past_its_start_and_not_started_keeps_what_the_flag_needs(sandbox_factory: Any) -> None:
    sandbox, ogsm, _ = synced(sandbox_factory, "ogsm")
    today = timezone.localdate()
    seeded = sandbox.state.actions[1002]  # the sandbox's "past its start date and not started" action
    assert seeded["status"]["name"] in NOT_STARTED_NAMES and date.fromisoformat(seeded["start"]) < today
    row = with_work_item_flags(WorkItem.objects.filter(connector=ogsm)).get(external_id="1002")
    assert (row.state, row.vendor_status, row.start_date) == ("not_started", seeded["status"]["name"], date.fromisoformat(seeded["start"]))
    assert row.is_late_start is True and row.stale_at is None

    late = set(WorkItem.objects.filter(connector=ogsm).filter(late_start_q(today)).values_list("external_id", flat=True))
    expected = {
        str(i)
        for i, a in sandbox.state.actions.items()
        if a["status"]["name"] in NOT_STARTED_NAMES and not a["archived"] and a["start"] and date.fromisoformat(a["start"]) < today
    }
    assert late == expected and "1002" in late
