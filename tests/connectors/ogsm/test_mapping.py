"""OGSM mapping on scenario fixtures: pure functions, no HTTP."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Health, State, WorkItemKind
from connectors.ogsm import mapping
from connectors.ogsm.payload import PayloadError, action_body, caller_field_errors

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "ogsm" / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_the_published_action_maps_to_one_work_item_on_each_of_its_canvases() -> None:
    record = mapping.map_action(fixture("action_on_two_canvases.json"))
    assert record.external_id == "123"
    assert record.work_kind == WorkItemKind.ACTION
    assert record.title == "Action title"
    assert record.team_external_ids == ("789", "790")  # the repeated canvas once, vendor order
    assert record.owners == ("Firstname Lastname",)  # the assignee is the owner, the only one
    assert record.involved == ("Another name", "Sales team")  # vendor order, without the owner listed again
    assert record.owner_external_ids == ()  # OGSM people are names only
    assert record.health == Health.ON_TRACK
    assert record.vendor_status == "doing"
    assert record.state == State.ACTIVE
    assert record.progress == 50.0
    assert record.start_date == date(2024, 1, 1)
    assert record.due_date == date(2024, 12, 31)
    assert record.labels == ("label 1", "Label 2")
    assert record.description == "<p>Description</p>"
    assert record.raw["strategies"] == [{"id": 456}, {"id": 457}]
    assert record.strategy_external_ids == ("456", "457")


@pytest.mark.parametrize(
    ("action_id", "state", "health", "vendor_status"),
    [
        ("1", State.NOT_STARTED, Health.ON_TRACK, "icebox"),
        ("2", State.NOT_STARTED, Health.NEEDS_ATTENTION, "todo"),
        ("3", State.ACTIVE, Health.NEEDS_ATTENTION, "doing"),  # amber
        ("4", State.DONE, Health.NEEDS_ATTENTION, "done"),  # yellow
        ("5", State.ACTIVE, Health.OFF_TRACK, "Waiting for budget"),  # unknown status: active, raw kept
        ("6", State.ACTIVE, Health.UNKNOWN, "doing"),  # null traffic light
        ("7", State.ARCHIVED, Health.ON_TRACK, "doing"),  # archived wins
        ("8", State.ACTIVE, Health.UNKNOWN, "DOING"),  # an unknown light degrades to unknown
    ],
)
def test_status_and_traffic_light_vocabulary(action_id: str, state: State, health: Health, vendor_status: str) -> None:
    actions = {str(a["id"]): a for a in fixture("action_statuses_and_lights.json")}
    record = mapping.map_action(actions[action_id])
    assert (record.state, record.health, record.vendor_status) == (state, health, vendor_status)


def test_progress_is_taken_as_given() -> None:
    progress = {a["id"]: mapping.map_action(a).progress for a in fixture("action_statuses_and_lights.json")}
    assert progress == {1: 0.0, 2: 0.0, 3: 35.0, 4: 100.0, 5: 10.0, 6: 70.0, 7: 80.0, 8: 20.0}


def test_malicious_description_is_sanitised_and_raw_html_only_in_raw() -> None:
    action = fixture("action_malicious_html.json")
    record = mapping.map_action(action)
    html = record.description.lower()
    for dangerous in (
        "<script",
        "document.cookie",
        "onerror",
        "onclick",
        "onmouseover",
        "onload",
        "javascript:",
        "<iframe",
        "<style",
        "<svg",
        "<img",
        "style=",
    ):
        assert dangerous not in html, dangerous
    # The harmless parts survive: formatting, the text, and a safe link made rel=noopener.
    assert "<p>Quarterly <strong>plan</strong></p>" in record.description
    assert '<a href="https://wiki.example.com/plan" rel="noopener noreferrer">the wiki</a>' in record.description
    assert "target=" not in html
    # The title is plain text (templates escape it), kept as the vendor wrote it.
    assert record.title == "<b>Plan</b> the Q3 campaign"
    assert record.raw["description"] == action["description"]


def test_sanitiser_handles_empty_and_non_text() -> None:
    assert mapping.sanitize_html(None) == ""
    assert mapping.sanitize_html("   ") == ""
    assert mapping.sanitize_html(42) == ""
    assert mapping.sanitize_html("a < b & c") == "a &lt; b &amp; c"


def test_a_degraded_action_degrades_fields_not_the_record() -> None:
    record = mapping.map_action(fixture("action_degraded_fields.json"))
    assert record.external_id == "4711"
    assert record.title == "Action 4711"  # blank title: a readable fallback
    assert record.vendor_status == "doing"  # a bare string status is tolerated
    assert record.state == State.ACTIVE
    assert record.start_date is None  # not ISO
    assert record.due_date is None  # not a real day
    assert record.progress == 100.0  # clamped to 0..100
    assert record.owners == () and record.involved == ()  # "involved": "nobody" is not a list
    assert record.strategy_external_ids == ()  # no strategies at all
    assert record.labels == ("kept",)
    assert record.team_external_ids == ("789", "790")
    assert record.description == ""
    assert record.raw["future_field"] == {"anything": True}


def test_an_action_without_id_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="without an id"):
        mapping.map_action({"title": "x"})


def test_objectives_and_goals_are_prefixed_and_linked() -> None:
    data = fixture("objectives_and_goals.json")
    objectives = [mapping.map_objective(o) for o in data["objectives"]]
    parents = mapping.objective_ids_by_canvas(data["objectives"])
    goals = [mapping.map_goal(g, parents) for g in data["goals"]]
    assert [o.external_id for o in objectives] == ["objective-1", "objective-2"]
    assert [g.external_id for g in goals] == ["goal-1", "goal-2"]  # same vendor ids, no collision
    live, archived = objectives
    assert live.team_external_id == "789" and live.health == Health.ON_TRACK and live.owners == ("Femke de Vries",)
    assert "<script" not in live.description and "<em>2027</em>" in live.description
    assert archived.state == State.ARCHIVED and archived.owners == ()
    nps, revenue = goals
    assert nps.parent_external_id == "objective-1"  # the live objective of canvas 789 wins
    assert nps.health == Health.NEEDS_ATTENTION and nps.team_external_id == "789"
    assert revenue.parent_external_id is None  # canvas 790 has no objective
    assert revenue.state == State.ARCHIVED and revenue.health == Health.UNKNOWN
    assert revenue.raw["target_unit"] == "EUR"


def test_canvas_teams_are_named_by_their_objective_else_by_id() -> None:
    names = mapping.canvas_names(fixture("objectives_and_goals.json")["objectives"])
    assert names == {"789": "Become the most trusted supplier", "791": "Old ambition"}
    assert mapping.canvas_team("789", names).name == "Become the most trusted supplier"
    assert mapping.canvas_team("790", names).name == "Canvas 790"


def test_write_fields_translate_to_the_vendor_body() -> None:
    body = action_body(
        {
            "title": "New",
            "progress": 40.0,
            "status": State.DONE,
            "traffic_light": Health.NEEDS_ATTENTION,
            "due_date": date(2026, 3, 1),
            "description": '<p>ok</p><img src=x onerror="alert(1)">',
            "assignee": "Jan Jansen",
            "team_external_ids": ["701", "702"],
        }
    )
    assert body == {
        "title": "New",
        "progress": 40,
        "status": {"name": "done"},
        "traffic_light": "orange",
        "due": "2026-03-01",
        "description": "<p>ok</p>",
        "assignee": {"name": "Jan Jansen"},
        "ogsm_canvases": [{"id": 701}, {"id": 702}],
    }
    assert action_body({"status": "waiting"}) == {"status": {"name": "waiting"}}  # a vendor name passes through
    assert action_body({"health": Health.UNKNOWN}) == {"traffic_light": None}


def test_write_fields_refuse_unknown_names_clearly() -> None:
    with pytest.raises(PayloadError, match=r"unknown OGSM action field.*colour"):
        action_body({"colour": "red"})
    with pytest.raises(PayloadError, match="repeats"):
        action_body({"due": "2026-01-01", "due_date": "2026-01-02"})


def test_vendor_field_errors_come_back_under_the_callers_names() -> None:
    errors = caller_field_errors({"due": ["is not a valid date"], "base": ["x"]}, {"due_date": "nope"})
    assert errors == {"due_date": ["is not a valid date"], "base": ["x"]}
