"""Operately writes through the dashboard: goal and project check-ins, target values, task
status; read-only and view-only credentials; conflicts; vendor validation."""

from __future__ import annotations

import pytest

from dashboard.okrs.models import CheckIn, Goal, ProgressSnapshot, WorkItem
from dashboard.writeback.models import AuditLog
from tests.factories import UserFactory
from tests.writes.conftest import client_for
from tests.writes.test_ogsm_writes import HTMX, field_block, open_form

pytestmark = pytest.mark.django_db


def goal_with_targets() -> Goal:
    for goal in Goal.objects.filter(vendor="operately", state="active").order_by("title"):
        if goal.key_results.exists():
            return goal
    raise AssertionError("no Operately goal with targets")


def test_goal_check_in_posts_status_message_and_target_values_and_updates_the_local_copy(connect):
    op = connect("operately")
    goal = goal_with_targets()
    kr = goal.key_results.order_by("title").first()
    data = open_form(op.client, f"/goals/{goal.pk}/check-in/")
    updates_before = len(op.sandbox.state.goal_updates)

    response = op.client.post(
        f"/goals/{goal.pk}/check-in/",
        {**data, "status": "caution", "message": "Hiring slipped a week.", f"target_{kr.external_id}": "1007"},
        **HTMX,
    )

    assert response.status_code == 200 and "Operately accepted the change" in response.content.decode()
    state = op.sandbox.state
    assert len(state.goal_updates) == updates_before + 1
    sandbox_goal = state.goal_named(goal.title)
    update = state.goal_updates[sandbox_goal.last_update]
    assert update.status == "caution"
    assert {t.name: t.value for t in sandbox_goal.targets}[kr.title] == 1007
    goal.refresh_from_db()
    kr.refresh_from_db()
    assert goal.health == "needs_attention" and kr.current == 1007
    assert CheckIn.objects.filter(goal=goal, comment__contains="Hiring slipped").exists()
    entry = AuditLog.objects.get()
    assert entry.operation == "goal_check_in" and entry.outcome == "succeeded" and entry.sent["new_target_values"] == {kr.external_id: 1007}


def test_project_check_in(connect):
    op = connect("operately")
    project = WorkItem.objects.filter(vendor="operately", kind="project", state="active").order_by("title").first()
    data = open_form(op.client, f"/projects/{project.pk}/check-in/")
    before = len(op.sandbox.state.project_check_ins)

    response = op.client.post(f"/projects/{project.pk}/check-in/", {**data, "status": "off_track", "message": "Vendor blocked us."})

    assert response.status_code == 302
    assert len(op.sandbox.state.project_check_ins) == before + 1
    assert CheckIn.objects.filter(work_item=project, comment__contains="Vendor blocked").exists()
    project.refresh_from_db()
    assert project.health == "off_track"


def test_update_a_target_value_records_a_snapshot(connect):
    op = connect("operately")
    kr = goal_with_targets().key_results.order_by("title").first()
    snapshots = ProgressSnapshot.objects.filter(key_result=kr).count()
    data = open_form(op.client, f"/key-results/{kr.pk}/value/")

    response = op.client.post(f"/key-results/{kr.pk}/value/", {**data, "value": "1009"}, **HTMX)

    assert "Operately accepted the change" in response.content.decode()
    sandbox_goal = op.sandbox.state.goal_named(kr.goal.title)
    assert {t.name: t.value for t in sandbox_goal.targets}[kr.title] == 1009
    kr.refresh_from_db()
    assert kr.current == 1009 and ProgressSnapshot.objects.filter(key_result=kr).count() == snapshots + 1


def sandbox_task(op, task: WorkItem):
    return next(t for t in op.sandbox.state.tasks.values() if t.name == task.title)


def test_move_a_task_to_another_status_offers_the_projects_statuses(connect):
    op = connect("operately")
    task = WorkItem.objects.filter(vendor="operately", kind="task", vendor_status="pending").order_by("title").first()
    page = op.client.get(f"/tasks/{task.pk}/status/").content.decode()
    for label in ("Not started", "In progress", "Done", "Canceled"):
        assert f">{label}</option>" in page

    data = open_form(op.client, f"/tasks/{task.pk}/status/")
    response = op.client.post(f"/tasks/{task.pk}/status/", {**data, "status": "in_progress"})

    assert response.status_code == 302
    assert sandbox_task(op, task).status["value"] == "in_progress"
    task.refresh_from_db()
    assert task.vendor_status == "in_progress" and task.state == "active"


def test_a_status_the_project_no_longer_has_is_shown_next_to_the_field(connect):
    op = connect("operately")
    task = WorkItem.objects.filter(vendor="operately", kind="task", vendor_status="pending").order_by("title").first()
    data = open_form(op.client, f"/tasks/{task.pk}/status/")
    project = op.sandbox.state.projects[sandbox_task(op, task).project]
    with op.sandbox.state.lock:  # the project's owner drops the "Canceled" column meanwhile
        project.task_statuses = [s for s in project.task_statuses if s["value"] != "canceled"]

    response = op.client.post(f"/tasks/{task.pk}/status/", {**data, "status": "canceled"})

    html = response.content.decode()
    assert response.status_code == 422 and "choose one of" in field_block(html, "status")
    assert sandbox_task(op, task).status["value"] == "pending"
    assert AuditLog.objects.get().outcome == "rejected"


def test_a_read_only_token_disables_the_form_with_the_reason_and_the_server_refuses(connect):
    op = connect("operately")
    goal = goal_with_targets()
    ada = UserFactory(username="ada-readonly")
    credential = op.add_credential(ada, 1, check=True)  # "Test connection" learns it is read-only
    assert credential.can_write is False
    client = client_for(ada)

    page = client.get(f"/goals/{goal.pk}/check-in/").content.decode()
    assert "Changes are disabled." in page and "read-only token" in page
    assert '<fieldset class="write-fields" disabled' in page
    refused = client.post(f"/goals/{goal.pk}/check-in/", {"status": "on_track", "message": "hi", "version": ""})
    assert refused.status_code == 403 and "read-only token" in refused.content.decode()
    assert AuditLog.objects.get().outcome == "refused"


def test_an_unflagged_read_only_token_is_refused_by_the_vendor_and_flagged_for_next_time(connect):
    op = connect("operately")
    goal = goal_with_targets()
    ada = UserFactory(username="ada-readonly")
    credential = op.add_credential(ada, 1)  # never tested: can_write still True
    client = client_for(ada)
    data = open_form(client, f"/goals/{goal.pk}/check-in/")

    response = client.post(f"/goals/{goal.pk}/check-in/", {**data, "status": "on_track", "message": "hi"})

    assert response.status_code == 403 and "read-only" in response.content.decode()
    entry = AuditLog.objects.get()
    assert (entry.outcome, entry.vendor_status) == ("refused", 403)
    credential.refresh_from_db()
    assert credential.can_write is False
    assert "Changes are disabled." in client.get(f"/goals/{goal.pk}/check-in/").content.decode()


def test_a_view_only_person_is_told_and_the_token_stays_writable(connect):
    op = connect("operately")
    goal = goal_with_targets()
    carol = UserFactory(username="carol")
    credential = op.add_credential(carol, 3)
    client = client_for(carol)
    data = open_form(client, f"/goals/{goal.pk}/check-in/")

    response = client.post(f"/goals/{goal.pk}/check-in/", {**data, "status": "on_track", "message": "hi"})

    assert response.status_code == 403 and "not edit it" in response.content.decode()
    credential.refresh_from_db()
    assert credential.can_write is True


def test_a_check_in_by_someone_else_meanwhile_is_a_conflict(connect):
    op = connect("operately")
    goal = goal_with_targets()
    data = open_form(op.client, f"/goals/{goal.pk}/check-in/")
    with op.sandbox.state.lock:  # a colleague moves a target in Operately
        op.sandbox.state.goal_named(goal.title).targets[0].value += 3

    response = op.client.post(f"/goals/{goal.pk}/check-in/", {**data, "status": "on_track", "message": "All good."})

    html = response.content.decode()
    assert response.status_code == 409 and "Someone changed this at Operately" in html and "changed-there" in html
    assert AuditLog.objects.get().outcome == "conflict"


def test_vendor_downtime_on_a_task_move(connect):
    op = connect("operately")
    task = WorkItem.objects.filter(vendor="operately", kind="task", vendor_status="pending").order_by("title").first()
    data = open_form(op.client, f"/tasks/{task.pk}/status/")
    op.sandbox.faults = "500=1.0"

    response = op.client.post(f"/tasks/{task.pk}/status/", {**data, "status": "done"})

    html = response.content.decode()
    assert response.status_code == 503 and "not answering right now" in html and ">Retry</button>" in html
    assert sandbox_task(op, task).status["value"] == "pending"


def test_entry_points_on_the_goal_page(connect):
    op = connect("operately")
    goal = goal_with_targets()
    html = op.client.get(f"/goals/{goal.pk}/").content.decode()
    kr = goal.key_results.order_by("title").first()
    assert f'href="/goals/{goal.pk}/check-in/"' in html and f'href="/key-results/{kr.pk}/value/"' in html
