"""``/api/v1/work-items/{id}`` (issue #16): the list fields plus check-ins and history; the new
fields (involved, strategy_ids, outcome, is_stale, last_check_in_at) on the list too; the
``stale`` filter; 404 for items the token's user may not see."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.conftest import World, api_get, ids
from tests.factories import CheckInFactory, SnapshotFactory, WorkItemFactory, see

NEW_FIELDS = {"outcome", "involved", "strategy_ids", "is_stale", "is_late_start", "last_check_in_at"}


@pytest.fixture
def items(world: World) -> dict[str, object]:
    """Alice's stale North initiative with two events, and her OGSM-like action without check-ins."""
    now = timezone.now()
    world.wi_alice.last_check_in_at = now - timedelta(days=19)
    world.wi_alice.stale_at = now - timedelta(days=5)
    world.wi_alice.save()
    for days, comment in ((19, "Blocked on legal"), (25, "Started")):
        CheckInFactory(
            goal=None,
            work_item=world.wi_alice,
            connector=world.north,
            vendor="north",
            subject_kind="work_item",
            subject_external_id="w-1",
            external_id=f"ev-{days}",
            created_at=now - timedelta(days=days),
            author="Bo Chen",
            progress=20.0,
            health="needs_attention",
            vendor_status="at-risk",
            comment=comment,
        )
    SnapshotFactory(work_item=world.wi_alice, progress=20.0, health="needs_attention", taken_at=now - timedelta(days=19))
    action = WorkItemFactory(
        connector=world.north,
        kind="action",
        title="Audit suppliers",
        external_id="a-1",
        owners=["Femke de Vries"],
        owners_text="|femke de vries|",
        involved=["Bo Chen", "Sales team"],
        strategy_external_ids=["10000", "10003"],
        state="not_started",
        start_date=timezone.localdate() - timedelta(days=3),
        stale_at=None,
        last_check_in_at=None,
    )
    done = WorkItemFactory(connector=world.north, kind="initiative", title="Old launch", external_id="w-9", state="done", outcome="missed")
    see(world.cred_a, action, done)
    return {"stale": world.wi_alice, "action": action, "done": done}


def test_detail_has_the_list_fields_plus_check_ins_and_history(world: World, items) -> None:
    item = items["stale"]
    response = api_get(world.alice_token, f"work-items/{item.pk}")
    assert response.status_code == 200, response.content
    body = response.json()

    listed = next(row for row in api_get(world.alice_token, "work-items").json()["results"] if row["id"] == item.pk)
    assert {k: v for k, v in body.items() if k not in ("check_ins", "history")} == listed
    assert body["title"] == "Referral emails" and body["kind"] == "initiative" and body["owners"] == ["Bo Chen"]
    assert body["is_stale"] is True and body["is_overdue"] is True and body["is_late_start"] is False
    assert datetime.fromisoformat(body["last_check_in_at"]) == item.last_check_in_at.replace(
        microsecond=item.last_check_in_at.microsecond // 1000 * 1000
    )
    assert body["involved"] == [] and body["strategy_ids"] == [] and body["outcome"] is None
    assert [c["comment"] for c in body["check_ins"]] == ["Blocked on legal", "Started"]  # newest first
    first = body["check_ins"][0]
    assert first["subject_kind"] == "work_item" and first["author"] == "Bo Chen" and first["health"] == "needs_attention"
    assert first["vendor_status"] == "at-risk" and first["progress"] == 20.0 and first["key_result_id"] is None
    assert [(h["progress"], h["health"]) for h in body["history"]] == [(20.0, "needs_attention")]


def test_an_action_lists_involved_and_strategies_apart_from_owners(world: World, items) -> None:
    body = api_get(world.alice_token, f"work-items/{items['action'].pk}").json()
    assert body["owners"] == ["Femke de Vries"]
    assert body["involved"] == ["Bo Chen", "Sales team"]
    assert body["strategy_ids"] == ["10000", "10003"]
    assert body["is_stale"] is False and body["last_check_in_at"] is None and body["check_ins"] == []
    assert body["is_late_start"] is True  # not started, and its start date has passed
    assert api_get(world.alice_token, f"work-items/{items['done'].pk}").json()["outcome"] == "missed"


def test_owner_filter_does_not_match_involved_people(world: World, items) -> None:
    # Bo Chen owns the initiative and is only involved in the action
    assert ids(api_get(world.alice_token, "work-items", owner="Bo Chen")) == {items["stale"].pk}
    assert ids(api_get(world.alice_token, "work-items", owner="Femke de Vries")) == {items["action"].pk}


def test_stale_filter_of_the_list(world: World, items) -> None:
    all_ids = ids(api_get(world.alice_token, "work-items"))
    assert all_ids == {items["stale"].pk, items["action"].pk, items["done"].pk}
    assert ids(api_get(world.alice_token, "work-items", stale="true")) == {items["stale"].pk}
    assert ids(api_get(world.alice_token, "work-items", stale="false")) == {items["action"].pk, items["done"].pk}
    bad = api_get(world.alice_token, "work-items", stale="maybe")
    assert bad.status_code == 400 and bad.json()["parameter"] == "stale"


def test_list_items_carry_the_new_fields(world: World, items) -> None:
    rows = {row["id"]: row for row in api_get(world.alice_token, "work-items").json()["results"]}
    assert all(set(row) >= NEW_FIELDS for row in rows.values())
    assert rows[items["action"].pk]["involved"] == ["Bo Chen", "Sales team"]
    assert rows[items["stale"].pk]["is_stale"] is True


def test_detail_is_404_for_an_item_the_token_may_not_see(world: World, items) -> None:
    response = api_get(world.bob_token, f"work-items/{items['stale'].pk}")
    assert response.status_code == 404
    assert response.json() == {"message": f"Work item {items['stale'].pk} not found.", "status": 404}
    assert api_get(world.bob_token, f"work-items/{world.wi_bob.pk}").json()["title"] == "Resize databases"
    assert api_get(world.alice_token, f"work-items/{world.wi_bob.pk}").status_code == 404
    assert api_get(world.alice_token, "work-items/999999999").status_code == 404
    assert api_get(None, f"work-items/{items['stale'].pk}").status_code == 401


def test_detail_query_count_does_not_grow_with_check_ins(world: World, items) -> None:
    item = items["stale"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = api_get(world.alice_token, f"work-items/{item.pk}")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    queries()  # the first request of a token also records its use
    before = queries()
    for n in range(10):
        CheckInFactory(
            goal=None,
            work_item=item,
            connector=world.north,
            vendor="north",
            subject_kind="work_item",
            subject_external_id="w-1",
            external_id=f"more-{n}",
        )
    assert queries() == before
    assert len(api_get(world.alice_token, f"work-items/{item.pk}").json()["check_ins"]) == 12
