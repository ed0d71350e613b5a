"""Mapping, rich text and id unit tests on scenario fixtures (no server)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Health, Kind, Outcome, State, WorkItemKind
from connectors.operately import mapping, richtext, work_mapping
from connectors.operately.ids import short_of, short_to_uuid, uuid_to_short

FIXTURES = Path(__file__).resolve().parents[3] / "connectors" / "operately" / "fixtures"
LINKS = mapping.Links(base_url="https://app.operately.com", company_path="acme-rocket-works-0baa")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


# ---- ids -----------------------------------------------------------------------------------


def test_short_ids_follow_the_contract_example() -> None:
    assert uuid_to_short("6a1c2f4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b") == "DOOEKG5SKSnwFR6bGxpgVN"
    assert short_to_uuid("grow-arr-DOOEKG5SKSnwFR6bGxpgVN") == uuid.UUID("6a1c2f4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b")
    assert short_of("increase-revenue-by-20-in-DOOEKG5SKSnwFR6bGxpgVN") == "DOOEKG5SKSnwFR6bGxpgVN"
    assert short_of("6a1c2f4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b") == "DOOEKG5SKSnwFR6bGxpgVN"  # raw UUID leak
    assert short_of("acme-0baa") == "0baa"
    assert short_to_uuid("not/valid!") is None


# ---- health / state mapping ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "last", "expected"),
    [
        ("on_track", None, Health.ON_TRACK),
        ("caution", None, Health.NEEDS_ATTENTION),
        ("off_track", None, Health.OFF_TRACK),
        ("pending", None, Health.UNKNOWN),
        ("outdated", "caution", Health.NEEDS_ATTENTION),
        ("outdated", None, Health.UNKNOWN),
        ("achieved", "on_track", Health.ON_TRACK),
        ("missed", "off_track", Health.OFF_TRACK),
        ("missed", None, Health.UNKNOWN),
    ],
)
def test_health_vocabulary(status: str, last: str | None, expected: Health) -> None:
    assert mapping.health_of(status, last) is expected


def test_decreasing_target_goal() -> None:
    goal = fixture("goal_decreasing_target_caution")
    record = mapping.map_goal(goal, LINKS)
    assert record.health is Health.NEEDS_ATTENTION and record.vendor_status == "caution"
    assert record.progress == pytest.approx(goal["progress_percentage"])
    assert record.external_id == goal["id"].rsplit("-", 1)[1]
    assert record.url == f"https://app.operately.com/acme-rocket-works-0baa/goals/{goal['id']}"
    assert record.due_date == date.fromisoformat(goal["timeframe"]["contextual_end_date"]["date"])
    assert record.owners == [goal["champion"]["full_name"]]
    bugs = next(kr for kr in mapping.map_targets(goal, LINKS) if kr.title == "Open bugs")
    expected = (bugs.current - 120.0) / (20.0 - 120.0) * 100  # type: ignore[operator]
    assert bugs.start == 120.0 and bugs.target == 20.0 and bugs.progress == pytest.approx(expected)
    assert 0 < bugs.progress < 100  # type: ignore[operator]
    assert bugs.goal_external_id == record.external_id


def test_from_equals_to_gives_zero_progress() -> None:
    krs = list(mapping.map_targets(fixture("goal_from_equals_to"), LINKS))
    flat = next(kr for kr in krs if kr.start == kr.target)
    assert flat.progress == 0.0


def test_checklist_goal_description_lists_checks() -> None:
    goal = fixture("goal_checklist_only")
    record = mapping.map_goal(goal, LINKS)
    assert "<strong>Checklist</strong>" in record.description
    assert "☑ Step 1" in record.description and "☐ Step 2" in record.description
    assert list(mapping.map_targets(goal, LINKS)) == []


def test_outdated_goal_is_stale_and_takes_last_check_in_health() -> None:
    goal = fixture("goal_outdated")
    record = mapping.map_goal(goal, LINKS)
    assert record.is_stale is True and record.vendor_status == "outdated"
    assert record.health is mapping.HEALTH[goal["last_check_in"]["status"]]


def test_closed_goal_is_done_with_outcome() -> None:
    record = mapping.map_goal(fixture("goal_closed_missed"), LINKS)
    assert record.state is State.DONE and record.outcome is Outcome.MISSED


def test_archived_goal() -> None:
    assert mapping.map_goal(fixture("goal_archived"), LINKS).state is State.ARCHIVED


def test_projects_state_and_progress() -> None:
    active = fixture("project_active_with_milestones")
    record = work_mapping.map_project(active, LINKS)
    done = sum(1 for m in active["milestones"] if m["status"] == "done")
    assert record.progress == pytest.approx(done / len(active["milestones"]) * 100)
    assert record.state is State.ACTIVE and record.work_kind is WorkItemKind.PROJECT
    assert active["success_status"] == "nil"  # the serializer quirk on open projects
    assert work_mapping.map_project(fixture("project_paused"), LINKS).state is State.PAUSED
    closed = work_mapping.map_project(fixture("project_closed"), LINKS)
    assert closed.state is State.DONE and closed.vendor_status in ("achieved", "missed")
    assert work_mapping.map_project({**active, "milestones": []}, LINKS).progress == 0.0
    milestones = [work_mapping.map_milestone(m, record, LINKS) for m in active["milestones"]]
    assert {m.parent_external_id for m in milestones} == {record.external_id}
    assert {m.state for m in milestones} <= {State.DONE, State.ACTIVE}


def test_tasks_have_no_progress_and_map_status() -> None:
    tasks = fixture("tasks_of_project")
    project = work_mapping.map_project(fixture("project_active_with_milestones"), LINKS)
    for task in tasks:
        record = work_mapping.map_task(task, project, LINKS)
        assert record.progress is None and record.work_kind is WorkItemKind.TASK
        assert record.parent_external_id == project.external_id
        assert record.state is (
            State.DONE if task["status"]["closed"] else State.NOT_STARTED if task["status"]["value"] == "pending" else State.ACTIVE
        )


def test_goal_check_ins_map_raw_uuid_target_ids_to_short_ids() -> None:
    updates = fixture("goal_check_ins")
    records = list(mapping.map_goal_check_ins(updates[0], "GOAL"))
    head, targets = records[0], records[1:]
    assert head.subject_kind is Kind.GOAL and head.subject_external_id == "GOAL"
    assert "<script>" in head.comment  # plain text: the template escapes it
    assert "Ada" in head.comment or head.author is not None
    assert len(targets) == len(updates[0]["goal_target_updates"])
    for change, record in zip(updates[0]["goal_target_updates"], targets, strict=True):
        assert record.subject_kind is Kind.KEY_RESULT and record.subject_external_id == uuid_to_short(change["id"])
        assert record.value == change["value"]


def test_flat_work_map_parent_id_is_a_raw_uuid() -> None:
    item = fixture("flat_work_map_item_project")
    assert uuid.UUID(item["parent_id"])  # what Operately leaks
    assert len(short_of(item["parent_id"]) or "") >= 19


# ---- rich text -------------------------------------------------------------------------------


def test_rich_text_xss_is_inert_and_mentions_are_names() -> None:
    goal = fixture("goal_unicode_html_xss")
    html = richtext.to_html(goal["description"])
    assert "<img" not in html and "onerror" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "javascript:" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text, not markup
    assert "Ada Lovelace" in html
    assert '<strong><a href="https://example.com/docs" rel="noopener">docs</a></strong>' in html
    assert '<a rel="noopener">this link</a>' in html  # the javascript: href is dropped, the text stays
    assert "<ul><li><p>first point</p></li></ul>" in html
    text = richtext.to_text(goal["description"])
    assert "Owner: Ada Lovelace" in text and "first point" in text
    record = mapping.map_goal(goal, LINKS)
    assert record.title == goal["name"]  # titles stay plain strings; templates escape them
    assert "<script" not in record.description


@pytest.mark.parametrize(
    "value", ["<script>alert(1)</script>", '{"type": "doc", "content": [{"type": "text", "text": "<b onclick=x()>hi</b>"}]}', "{not json"]
)
def test_rich_text_never_trusts_markup(value: str) -> None:
    out = richtext.to_html(value)
    assert "<script" not in out and "onclick" not in out.replace("onclick=x()", "") and "<b " not in out


def test_document_round_trip() -> None:
    doc = richtext.document("line one\nline <two>")
    assert isinstance(doc, str) and json.loads(doc)["type"] == "doc"
    assert richtext.to_text(doc) == "line one\nline <two>"
    assert richtext.to_text(None) == "" and richtext.to_html(None) == ""


def test_task_state_and_outcome_from_the_status_object() -> None:
    done = {"value": "done", "label": "Done", "closed": True}
    canceled = {"value": "canceled", "label": "Canceled", "closed": True}
    shipped = {"value": "shipped", "label": "Shipped", "closed": True}  # a custom closed status
    assert work_mapping.task_state(done) == (State.DONE, Outcome.ACHIEVED)
    assert work_mapping.task_state(shipped) == (State.DONE, Outcome.ACHIEVED)
    assert work_mapping.task_state(canceled) == (State.DONE, Outcome.DROPPED)
    assert work_mapping.task_state({"value": "pending", "closed": False}) == (State.NOT_STARTED, None)
    assert work_mapping.task_state({"value": "blocked", "closed": False}) == (State.ACTIVE, None)
    # no status at all: not started, unless Operately says it was closed
    assert work_mapping.task_state(None) == (State.NOT_STARTED, None)
    assert work_mapping.task_state(None, "2026-08-01T10:00:00Z") == (State.DONE, Outcome.ACHIEVED)


def test_unpublished_check_ins_and_published_at() -> None:
    assert mapping.is_published({"id": "x"})  # 2026-03: no state, every check-in is published
    assert mapping.is_published({"id": "x", "state": "published"})
    assert not mapping.is_published({"id": "x", "state": "draft"})
    assert not mapping.is_published({"id": "x", "state": "scheduled"})
    later = {"inserted_at": "2026-08-01T10:00:00Z", "published_at": "2026-08-02T09:00:00Z"}
    assert mapping.check_in_time(later) == mapping.parse_datetime("2026-08-02T09:00:00Z")
    assert mapping.check_in_time({"inserted_at": "2026-08-01T10:00:00Z", "published_at": None}) == mapping.parse_datetime(
        "2026-08-01T10:00:00Z"
    )
    goal = {"id": "g-G", "name": "G", "status": "on_track", "last_check_in": {"id": "d", "state": "draft", "status": "off_track"}}
    assert mapping.map_goal(goal, LINKS).last_check_in_at is None
