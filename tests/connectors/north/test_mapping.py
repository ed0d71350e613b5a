"""North mapping on scenario fixtures (pure functions, no HTTP)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Health, Kind, Outcome, State, WorkItemKind
from connectors.north import event_mapping, mapping

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "north" / "fixtures"
NAMES = {"2": "Alyssa P Hacker", "4": "Cy D Fect", "5": "Eva Lu Ator"}
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_closed_goal_maps_outcome_state_progress_owners_and_sanitises_description() -> None:
    goal = mapping.map_goal(fixture("goal_closed_completed_with_co_owners"), NAMES, mapping.WebLinks("https://to.thenorth.io/", "1"))
    assert goal is not None
    assert goal.external_id == "12" and goal.team_external_id == "3" and goal.parent_external_id == "7"
    assert goal.state == State.DONE and goal.outcome == Outcome.ACHIEVED
    assert goal.health == Health.ON_TRACK and goal.vendor_status == "on-track"
    assert goal.progress == 42.0
    assert goal.owners == ("Alyssa P Hacker", "Cy D Fect", "Eva Lu Ator")  # primary first, then by name
    assert goal.owner_external_ids == ("2", "4", "5")
    assert goal.start_date == date(2026, 1, 1) and goal.due_date == date(2026, 3, 31)
    assert "<script" not in goal.description and "javascript:" not in goal.description and "onclick" not in goal.description
    assert "<strong>customers</strong>" in goal.description and 'rel="noopener"' in goal.description
    assert goal.url == "https://to.thenorth.io/orgs/1/goals/12/"
    assert goal.is_stale is None  # events unknown: the sync decides


def test_goal_with_string_ids_no_owners_and_unknown_fields_is_tolerated() -> None:
    raw = fixture("goal_without_owners_string_ids_unknown_fields")
    goal = mapping.map_goal(raw, NAMES, check_ins_known=True, last_check_in_at=None, now=NOW)
    assert goal is not None
    assert goal.external_id == "13" and goal.team_external_id == "4" and goal.parent_external_id is None
    assert goal.owners == () and goal.owner_external_ids == ()
    assert goal.health == Health.UNKNOWN and goal.vendor_status is None
    assert goal.progress is None and goal.start_date is None and goal.due_date is None
    assert goal.title == "Réduire le churn — 🚀 <b>Q3</b>"  # titles stay plain strings; templates escape
    assert goal.raw["custom_fields"] == {"theme": "retention"}
    assert goal.updated_at == datetime(2026, 2, 20, 10, 31, 0, 123456, tzinfo=UTC)
    assert goal.is_stale is True  # active and never checked in


@pytest.mark.parametrize(
    ("days_ago", "stale"),
    [(1, False), (9.9, False), (10.5, True), (40, True)],
)
def test_active_goal_staleness_follows_newest_check_in(days_ago: float, stale: bool) -> None:
    raw = fixture("goal_without_owners_string_ids_unknown_fields")
    goal = mapping.map_goal(raw, NAMES, check_ins_known=True, last_check_in_at=NOW - timedelta(days=days_ago), now=NOW, stale_after_days=10)
    assert goal is not None and goal.is_stale is stale


def test_archived_goal_is_never_stale_and_progress_is_clamped() -> None:
    goal = mapping.map_goal(fixture("goal_archived_behind"), NAMES, check_ins_known=True, last_check_in_at=None, now=NOW)
    assert goal is not None
    assert goal.state == State.ARCHIVED and goal.is_stale is False
    assert goal.health == Health.NEEDS_ATTENTION
    assert goal.progress == 100.0
    assert goal.start_date is None  # "not a date" degrades that field only
    assert goal.owners == ("User 99",)  # an unknown person keeps their id


def test_decreasing_key_result_progress_from_values() -> None:
    kr = mapping.map_key_result(fixture("key_result_decreasing"), NAMES)
    assert kr is not None
    assert kr.progress == pytest.approx(25.0)  # (65 - 80) / (20 - 80)
    assert (kr.start, kr.target, kr.current) == (80.0, 20.0, 65.0)
    assert kr.health == Health.OFF_TRACK and kr.goal_external_id == "12" and kr.unit == "incidents"


def test_key_result_whose_start_equals_target_has_zero_progress() -> None:
    kr = mapping.map_key_result(fixture("key_result_start_equals_target"), NAMES)
    assert kr is not None and kr.progress == 0.0 and kr.external_id == "102" and kr.goal_external_id == "12"


def test_key_result_progress_field_wins_and_closed_kr_is_done() -> None:
    kr = mapping.map_key_result(fixture("key_result_with_progress_overshoot"), NAMES)
    assert kr is not None
    assert kr.progress == 35.0 and kr.state == State.DONE
    assert kr.owners == ("Cy D Fect", "Eva Lu Ator") and kr.health == Health.NEEDS_ATTENTION


def test_initiatives_health_and_state_for_every_status() -> None:
    records = {r.external_id: r for r in (mapping.map_initiative(raw, NAMES) for raw in fixture("initiatives_every_status")) if r}
    expected = {
        "501": (Health.UNKNOWN, State.NOT_STARTED, 0.0),
        "502": (Health.ON_TRACK, State.ACTIVE, 50.0),
        "503": (Health.NEEDS_ATTENTION, State.ACTIVE, 25.0),
        "504": (Health.OFF_TRACK, State.ACTIVE, None),
        "505": (Health.UNKNOWN, State.DONE, 100.0),
        "506": (Health.ON_TRACK, State.DONE, 80.0),
        "507": (Health.UNKNOWN, State.ARCHIVED, 100.0),
        "508": (Health.UNKNOWN, State.ACTIVE, 10.0),
    }
    assert {k: (r.health, r.state, r.progress) for k, r in records.items()} == expected
    first = records["501"]
    assert first.work_kind == WorkItemKind.INITIATIVE and first.team_external_ids == ("3",) and first.goal_external_id == "12"
    assert first.labels == ("priority:High",) and first.owners == ("Eva Lu Ator",)
    assert "onerror" not in first.description and "<em>it</em>" in first.description
    assert records["502"].key_result_external_id == "101" and records["508"].vendor_status == "paused-by-vendor"


def test_only_check_in_events_become_check_ins() -> None:
    events = fixture("events_mixed_kinds_newest_first")
    records = [r for r in (event_mapping.map_check_in(e, Kind.KEY_RESULT, "103", NAMES) for e in events) if r]
    assert [r.external_id for r in records] == ["key_result-103-9003", "key_result-103-9001"]  # the garbage date is dropped
    newest = records[0]
    assert newest.value == 14.0 and newest.progress == 35.0 and newest.health == Health.NEEDS_ATTENTION
    assert newest.author == "Cy D Fect" and newest.author_external_id == "4"
    assert newest.comment == "Two deals slipped & one moved"  # plain text: tags and script dropped
    assert records[1].created_at == datetime(2026, 2, 13, 9, tzinfo=UTC)  # offsets normalised to UTC
    assert event_mapping.newest_check_in(events) == datetime(2026, 2, 20, 10, 31, tzinfo=UTC)


def test_team_tree_flags_and_string_ids() -> None:
    teams = [mapping.map_team(t) for t in fixture("teams_tree_archived_private")]
    tree = {t.external_id: (t.parent_external_id, t.archived, t.private) for t in teams if t}
    assert tree == {"1": (None, False, False), "3": ("1", False, False), "8": ("3", False, True), "9": ("8", True, False)}


def test_memberships_give_people_with_emails() -> None:
    records = [mapping.map_membership(m, "3") for m in fixture("memberships_with_emails")]
    people = [(r.person.external_id, r.person.name, r.person.email, r.type) for r in records if r]
    assert people == [("5", "Eva lu Ator", "eva@example.com", "owner"), ("6", "User 6", None, "guest"), ("7", "User 7", None, "regular")]


@pytest.mark.parametrize(("value", "expected"), [(12, "12"), ("12", "12"), (12.0, "12"), (" 7 ", "7"), (None, None), (True, None)])
def test_ids_as_numbers_or_strings(value: Any, expected: str | None) -> None:
    assert mapping.as_id(value) == expected


@pytest.mark.parametrize(
    ("value", "evidence", "expected"),
    [
        (0.42, {}, 42.0),  # a fraction (NOTES.md)
        (42, {}, 42.0),  # above 1: a percentage
        (140, {}, 100.0),  # clamped
        (-0.2, {}, 0.0),
        ("0.25", {}, 25.0),  # numbers as strings
        (None, {}, None),
        ("n/a", {}, None),
        (True, {}, None),
        (1, {}, 100.0),  # a lone 1: the documented fraction, a finished item
        (1, {"peers": [0.8, 0.6]}, 100.0),  # other check-ins on the fraction scale
        (1, {"peers": [35, 20]}, 1.0),  # other check-ins above 1: the percentage scale
        (0.5, {"peers": [35]}, 0.5),
        (1, {"expected": 1.2}, 1.0),  # a KR whose values say 1.2 %
        (1, {"expected": 100.0}, 100.0),
        (0.58, {"expected": 0.58}, 0.58),  # 0.58 % by the values, not 58 %
        (0.35, {"expected": 35.0}, 35.0),
        (1, {"percent_scale": True}, 1.0),  # the item's body was on the percentage scale
        (1, {"percent_scale": False, "peers": [35]}, 100.0),  # the body's scale beats the peers
        (1, {"expected": 100.0, "percent_scale": True}, 100.0),  # the values beat everything
    ],
)
def test_progress_is_a_fraction_or_a_percentage(value: Any, evidence: dict[str, Any], expected: float | None) -> None:
    assert mapping.progress_percent(value, **evidence) == expected


def test_the_scale_of_an_item_body() -> None:
    assert mapping.percent_scale_of({"progress": 42}) is True
    assert mapping.percent_scale_of({"progress": 0.35, "start_value": 0, "target_value": 40, "current_value": 14}) is False
    assert mapping.percent_scale_of({"progress": 0.35, "start_value": 0, "target_value": 4000, "current_value": 14}) is True
    assert mapping.percent_scale_of({"progress": 1, "start_value": 5, "target_value": 5, "current_value": 5}) is None  # values say nothing
    assert mapping.percent_scale_of({"progress": 0.5}) is None and mapping.percent_scale_of({"progress": 0}) is None


@pytest.mark.parametrize(
    ("kind", "normalised"),
    [("check_in", "check_in"), ("check-in", "check_in"), ("checkin", "check_in"), ("Check-In", "check_in"), ("kudos", "kudos"), ("", None)],
)
def test_event_kinds_in_every_spelling_and_unknown_ones_kept(kind: str, normalised: str | None) -> None:
    assert event_mapping.event_kind({"kind": kind}) == normalised


def test_name_or_title() -> None:
    raw = {"id": 5, "otype": "initiative", "title": "  Launch partner portal  ", "team_id": 3}
    initiative = mapping.map_initiative(raw, NAMES)
    assert initiative is not None and initiative.title == "Launch partner portal"
    assert mapping.title_of({"name": "", "title": "From title"}, "x") == "From title"
    assert mapping.title_of({"name": "Named", "title": "Titled"}, "x") == "Named"
    assert mapping.title_of({}, "Goal 7") == "Goal 7"
