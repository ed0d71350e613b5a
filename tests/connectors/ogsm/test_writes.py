"""Action writes over real HTTP: create, update (only the changed fields), delete, 422, 403."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from connectors.base import Health, NotFound, ScopeError, State, TransientError, VendorValidationError, WorkItemRecord
from connectors.ogsm.payload import PayloadError
from connectors.ogsm.sandbox.data import MEMBER_NAME

from .conftest import Served


def test_create_action_returns_the_new_action_and_the_vendor_has_it(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    due = date.today() + timedelta(days=30)
    record = served.connector().create_action(
        {
            "title": "Open the Rotterdam office",
            "description": "<p>Lease signed</p><script>alert(1)</script>",
            "progress": 10,
            "status": State.ACTIVE,
            "traffic_light": Health.ON_TRACK,
            "due_date": due,
            "assignee": "Jan Jansen",
            "team_external_ids": ["701", "702"],
        }
    )
    assert isinstance(record, WorkItemRecord)
    stored = served.state.actions[int(record.external_id)]
    assert stored["title"] == record.title == "Open the Rotterdam office"
    assert stored["status"] == {"name": "doing"} and record.state == State.ACTIVE
    assert stored["traffic_light"] == "green" and record.health == Health.ON_TRACK
    assert stored["due"] == due.isoformat() and record.due_date == due
    assert stored["progress"] == 10 and record.progress == 10.0
    assert [c["id"] for c in stored["ogsm_canvases"]] == [701, 702] and record.team_external_ids == ("701", "702")
    assert stored["description"] == "<p>Lease signed</p>"  # we never write unsafe HTML to the vendor
    sent = served.state.writes()[-1]
    assert (sent.method, sent.path, sent.content_type, sent.status) == ("POST", "/api/v2/actions.json", "application/json", 201)
    assert "id" not in sent.body


def test_update_action_sends_only_the_changed_fields(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    before = dict(served.state.actions[1003])
    record = served.connector().update_action("1003", {"progress": 85, "traffic_light": "orange"})
    sent = served.state.writes()[-1]
    assert (sent.method, sent.path) == ("PATCH", "/api/v2/actions/1003.json")
    assert sent.body == {"progress": 85, "traffic_light": "orange"}  # nothing else on the wire
    after = served.state.actions[1003]
    assert after["progress"] == 85 and after["traffic_light"] == "orange"
    assert {k: v for k, v in after.items() if k not in ("progress", "traffic_light")} == {
        k: v for k, v in before.items() if k not in ("progress", "traffic_light")
    }
    # The answer is the whole action, mapped, so the dashboard can update its copy at once.
    assert record.progress == 85.0 and record.health == Health.NEEDS_ATTENTION and record.title == before["title"]


@pytest.mark.parametrize(
    ("fields", "wire", "check"),
    [
        ({"title": "Renamed ✨"}, {"title": "Renamed ✨"}, lambda r: r.title == "Renamed ✨"),
        (
            {"description": "<p>New <em>text</em></p>"},
            {"description": "<p>New <em>text</em></p>"},
            lambda r: "<em>text</em>" in r.description,
        ),
        ({"status": "done"}, {"status": {"name": "done"}}, lambda r: r.state == State.DONE),
        ({"status": State.NOT_STARTED}, {"status": {"name": "todo"}}, lambda r: r.state == State.NOT_STARTED),
        ({"health": Health.UNKNOWN}, {"traffic_light": None}, lambda r: r.health == Health.UNKNOWN),
    ],
)
def test_each_editable_field_round_trips(
    ogsm: Callable[..., Served], fields: dict[str, object], wire: dict[str, object], check: Callable[[WorkItemRecord], bool]
) -> None:
    served = ogsm()
    record = served.connector().update_action("1003", fields)
    assert served.state.writes()[-1].body == wire
    assert check(record)
    assert check(served.connector().fetch_item("work_item", "1003"))  # type: ignore[arg-type]


def test_due_date_round_trips_relative_to_the_actions_own_start(ogsm: Callable[..., Served]) -> None:
    # The sandbox seeds dates around today, so the new due date is derived from the action's own
    # start (the vendor refuses a due date before it) rather than written as a calendar date.
    served = ogsm()
    start = served.state.actions[1003].get("start")
    due = (date.fromisoformat(start) if start else date.today()) + timedelta(days=45)
    record = served.connector().update_action("1003", {"due_date": due.isoformat()})
    assert served.state.writes()[-1].body == {"due": due.isoformat()}
    assert record.due_date == due
    assert served.connector().fetch_item("work_item", "1003").due_date == due  # type: ignore[arg-type]


def test_delete_action_returns_the_deleted_action_and_it_is_gone(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    title = served.state.actions[1005]["title"]
    connector = served.connector()
    record = connector.delete_action("1005")
    assert record.external_id == "1005" and record.title == title
    assert 1005 not in served.state.actions
    sent = served.state.writes()[-1]
    assert (sent.method, sent.path, sent.body) == ("DELETE", "/api/v2/actions/1005.json", None)
    with pytest.raises(NotFound):
        connector.delete_action("1005")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "  "}, "title", "can't be blank"),
        ({"due_date": "31-12-2026"}, "due_date", "is not a valid date"),
        ({"progress": 140}, "progress", "must be between 0 and 100"),
        ({"progress": "lots"}, "progress", "is not a number"),
        ({"traffic_light": "blue"}, "traffic_light", "is not included in the list"),
        ({"status": "sleeping"}, "status", "is not included in the list"),
    ],
)
def test_invalid_updates_are_422_with_field_messages_under_our_names(
    ogsm: Callable[..., Served], fields: dict[str, object], field: str, message: str
) -> None:
    served = ogsm()
    before = dict(served.state.actions[1003])
    with pytest.raises(VendorValidationError) as excinfo:
        served.connector().update_action("1003", fields)
    error = excinfo.value
    assert error.status == 422
    assert list(error.field_errors) == [field]
    assert message in error.field_errors[field][0]
    assert message in str(error)
    assert served.state.actions[1003] == before  # nothing changed at the vendor


def test_create_without_title_or_canvas_is_refused_with_both_messages(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    count = len(served.state.actions)
    with pytest.raises(VendorValidationError) as excinfo:
        served.connector().create_action({"progress": 5})
    assert excinfo.value.field_errors == {"title": ["can't be blank"], "ogsm_canvases": ["can't be blank"]}
    assert len(served.state.actions) == count


def test_due_before_start_is_refused(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    start = served.state.actions[1003]["start"]
    earlier = (date.fromisoformat(start) - timedelta(days=1)).isoformat()
    with pytest.raises(VendorValidationError) as excinfo:
        served.connector().update_action("1003", {"due_date": earlier})
    assert excinfo.value.field_errors == {"due_date": ["must be on or after the start date"]}


def test_the_member_may_edit_only_their_own_actions(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    member = served.connector(1)
    own = served.state.actions[1002]
    assert own["assignee"] == {"name": MEMBER_NAME}
    assert member.update_action("1002", {"progress": 15}).progress == 15.0
    other = next(i for i, a in served.state.actions.items() if (a.get("assignee") or {}).get("name") != MEMBER_NAME)
    before = dict(served.state.actions[other])
    with pytest.raises(ScopeError, match="team admin or the action owner"):
        member.update_action(str(other), {"progress": 99})
    with pytest.raises(ScopeError):
        member.delete_action(str(other))
    assert served.state.actions[other] == before


def test_writes_to_a_missing_action_are_not_found(ogsm: Callable[..., Served]) -> None:
    with pytest.raises(NotFound):
        ogsm().connector().update_action("424242", {"progress": 1})


def test_writes_are_not_retried_on_a_server_error(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    served.sandbox.faults = "script=500"
    connector = served.connector()
    with pytest.raises(TransientError):
        connector.update_action("1003", {"progress": 11})
    assert connector.requests_made == 1  # a retried write could act twice
    assert served.state.actions[1003]["progress"] != 11


def test_bad_write_input_is_refused_before_any_request(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    connector = served.connector()
    with pytest.raises(PayloadError, match="colour"):
        connector.update_action("1003", {"colour": "red"})
    with pytest.raises(ValueError, match="at least one changed field"):
        connector.update_action("1003", {})
    assert connector.requests_made == 0
