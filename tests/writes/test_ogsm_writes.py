"""OGSM action writes through the dashboard, against the OGSM sandbox over real HTTP."""

from __future__ import annotations

import html as htmllib
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.okrs.models import ProgressSnapshot, WorkItem
from dashboard.writeback.models import AuditLog
from tests.factories import UserFactory
from tests.writes.conftest import Vendor, client_for, version_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ACTION_ID = 1013  # an ordinary action on the second canvas ("waiting", yellow light, progress 8)


def local_action(external_id: int = ACTION_ID) -> WorkItem:
    return WorkItem.objects.get(vendor="ogsm", kind="action", external_id=str(external_id))


def form_values(html: str) -> dict[str, str]:
    """The values a browser would submit: inputs, the selected options and textareas."""
    values: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        values.setdefault(name, value)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        values[name] = selected.group(1) if selected else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        values[name] = body.strip()
    values = {k: htmllib.unescape(v) for k, v in values.items()}  # as a browser submits them
    values["version"] = version_of(html)
    values.pop("csrfmiddlewaretoken", None)
    return values


def open_form(client: Client, url: str) -> dict[str, str]:
    response = client.get(url)
    assert response.status_code == 200, response.content[-2000:]
    return form_values(response.content.decode())


def start_of(vendor: Vendor, action_id: int = ACTION_ID) -> date:
    """The action's start date as the sandbox seeded it (relative to the tests' clock)."""
    return date.fromisoformat(vendor.sandbox.state.action(action_id)["start"])


def writes_sent(vendor: Vendor) -> list[Any]:
    return vendor.sandbox.state.writes()


def field_block(html: str, name: str) -> str:
    """The markup of one field (label, control, its errors)."""
    match = re.search(rf'<div class="field[^"]*">\s*<label for="id_{name}">.*?</div>', html, re.S)
    assert match, f"no field {name}"
    return match.group(0)


def test_edit_progress_with_htmx_patches_only_progress_and_updates_local_copy_snapshot_and_audit(connect):
    ogsm = connect("ogsm")
    item = local_action()
    snapshots_before = ProgressSnapshot.objects.filter(work_item=item).count()
    data = open_form(ogsm.client, f"/actions/{item.pk}/edit/")
    assert data["progress"] == "8" and data["traffic_light"] == "yellow" and data["status"] == "waiting"

    response = ogsm.client.post(f"/actions/{item.pk}/edit/", {**data, "progress": "60"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="write-region"' in html and "<html" not in html  # only the region is swapped
    assert "OGSM accepted the change" in html
    (patch,) = writes_sent(ogsm)
    assert (patch.method, patch.path, patch.body) == ("PATCH", f"/api/v2/actions/{ACTION_ID}.json", {"progress": 60})
    assert ogsm.sandbox.state.action(ACTION_ID)["progress"] == 60
    item.refresh_from_db()
    assert item.progress == 60  # the local copy, at once, from the vendor's answer
    assert ProgressSnapshot.objects.filter(work_item=item).count() == snapshots_before + 1
    entry = AuditLog.objects.get()
    assert (entry.username, entry.operation, entry.outcome, entry.vendor_status) == ("ogsm-writer", "update_action", "succeeded", 200)
    assert entry.item_external_id == str(ACTION_ID) and entry.sent["progress"] == 60 and entry.credential == ogsm.credential


def test_edit_every_field_as_a_plain_post_redirects_and_the_vendor_has_them(connect):
    ogsm = connect("ogsm")
    item = local_action()
    data = open_form(ogsm.client, f"/actions/{item.pk}/edit/")
    due = start_of(ogsm) + timedelta(days=200)
    changed = {
        "title": "Train the partner programme (EMEA)",
        "description": "Plain words <b>bold</b><script>alert(1)</script>",
        "status": "doing",
        "traffic_light": "red",
        "due_date": due.isoformat(),
        "progress": "35",
    }

    response = ogsm.client.post(f"/actions/{item.pk}/edit/", {**data, **changed})

    assert response.status_code == 302 and response["Location"] == f"/actions/{item.pk}/edit/"
    action = ogsm.sandbox.state.action(ACTION_ID)
    assert action["title"] == changed["title"] and action["status"] == {"name": "doing"} and action["traffic_light"] == "red"
    assert action["due"] == due.isoformat() and action["progress"] == 35
    assert "<script>" not in action["description"] and "<b>bold</b>" in action["description"]
    item.refresh_from_db()
    assert (item.title, item.state, item.health, item.due_date) == (changed["title"], "active", "off_track", due)
    follow = ogsm.client.get(response["Location"])
    assert "OGSM accepted the change" in follow.content.decode()


def test_nothing_changed_sends_nothing(connect):
    ogsm = connect("ogsm")
    item = local_action()
    data = open_form(ogsm.client, f"/actions/{item.pk}/edit/")
    response = ogsm.client.post(f"/actions/{item.pk}/edit/", data)
    assert response.status_code == 400 and "Nothing changed" in response.content.decode()
    assert writes_sent(ogsm) == []


def test_create_action_on_a_canvas_stores_it_locally(connect):
    ogsm = connect("ogsm")
    page = ogsm.client.get("/actions/new/")
    html = page.content.decode()
    assert page.status_code == 200 and 'name="canvas"' in html
    canvas = re.search(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html.split('name="canvas"')[1])
    assert canvas

    response = ogsm.client.post(
        "/actions/new/",
        {
            "canvas": canvas.group(1),
            "title": "Write the launch memo",
            "status": "todo",
            "progress": "0",
            "traffic_light": "green",
            "due_date": (timezone.now().date() + timedelta(days=60)).isoformat(),
            "version": version_of(html),
            "connector": str(ogsm.connector.pk),
        },
        **HTMX,
    )

    assert response.status_code == 200 and "OGSM accepted the change" in response.content.decode()
    (post,) = writes_sent(ogsm)
    assert post.method == "POST" and post.body["title"] == "Write the launch memo" and post.body["ogsm_canvases"]
    created = max(ogsm.sandbox.state.actions)
    assert ogsm.sandbox.state.actions[created]["title"] == "Write the launch memo"
    local = local_action(created)
    assert local.title == "Write the launch memo" and local.teams.count() == 1
    assert AuditLog.objects.get().operation == "create_action"


def test_delete_asks_for_confirmation_then_deletes_at_the_vendor_and_here(connect):
    ogsm = connect("ogsm")
    item = local_action()
    page = ogsm.client.get(f"/actions/{item.pk}/delete/")
    html = page.content.decode()
    assert page.status_code == 200 and "cannot be undone" in html and writes_sent(ogsm) == []

    response = ogsm.client.post(f"/actions/{item.pk}/delete/", {"version": version_of(html)}, **HTMX)

    assert response.status_code == 200 and "deleted action" in response.content.decode()
    assert ogsm.sandbox.state.action(ACTION_ID) is None
    assert not WorkItem.objects.filter(pk=item.pk).exists()
    assert AuditLog.objects.get().operation == "delete_action"


def test_a_change_at_the_vendor_after_the_form_was_drawn_shows_both_versions_and_sends_nothing(connect):
    ogsm = connect("ogsm")
    item = local_action()
    data = open_form(ogsm.client, f"/actions/{item.pk}/edit/")
    with ogsm.sandbox.state.lock:  # someone else edits the action in OGSM meanwhile
        ogsm.sandbox.state.actions[ACTION_ID]["progress"] = 44
        ogsm.sandbox.state.actions[ACTION_ID]["title"] = "Renamed by a colleague"

    response = ogsm.client.post(f"/actions/{item.pk}/edit/", {**data, "progress": "60"})

    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone changed this at OGSM" in html and "Renamed by a colleague" in html and "44" in html
    assert "Overwrite with mine" in html and "Take theirs" in html
    assert writes_sent(ogsm) == []  # no silent overwrite
    assert AuditLog.objects.get().outcome == "conflict"

    # "Take theirs": the form drawn again from the vendor's version
    theirs = open_form(ogsm.client, f"/actions/{item.pk}/edit/")
    assert theirs["title"] == "Renamed by a colleague" and theirs["progress"] == "44"

    # "Overwrite with mine": the same entries with the token of the version the user has now seen
    mine = form_values(html)
    response = ogsm.client.post(f"/actions/{item.pk}/edit/", mine)
    assert response.status_code == 302
    action = ogsm.sandbox.state.action(ACTION_ID)
    assert action["progress"] == 60 and action["title"] == "Train the partner programme"


def test_vendor_validation_error_appears_next_to_its_field(connect):
    ogsm = connect("ogsm")
    item = local_action()
    data = open_form(ogsm.client, f"/actions/{item.pk}/edit/")

    due_before = ogsm.sandbox.state.action(ACTION_ID)["due"]
    too_early = (start_of(ogsm) - timedelta(days=1)).isoformat()
    # OGSM refuses a due date before the action's start (422)
    response = ogsm.client.post(f"/actions/{item.pk}/edit/", {**data, "due_date": too_early}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps 200s only
    assert "must be on or after the start date" in field_block(html, "due_date")
    assert f'value="{too_early}"' in html  # the entry is kept
    assert due_before and ogsm.sandbox.state.action(ACTION_ID)["due"] == due_before
    entry = AuditLog.objects.get()
    assert (entry.outcome, entry.vendor_status) == ("rejected", 422)
    plain = ogsm.client.post(f"/actions/{item.pk}/edit/", {**data, "due_date": too_early})
    assert plain.status_code == 422


def test_vendor_downtime_keeps_the_form_filled_in_with_a_retry(connect):
    ogsm = connect("ogsm")
    item = local_action()
    data = open_form(ogsm.client, f"/actions/{item.pk}/edit/")
    ogsm.sandbox.faults = "script=ok|500"  # the re-read succeeds, the PATCH meets a 500

    response = ogsm.client.post(f"/actions/{item.pk}/edit/", {**data, "progress": "71"})

    html = response.content.decode()
    assert response.status_code == 503
    assert "OGSM is not answering right now" in html and ">Retry</button>" in html
    assert 'value="71"' in html
    # never retried automatically: a retry would have met "ok" and saved 71
    assert ogsm.sandbox.state.action(ACTION_ID)["progress"] == 8 and writes_sent(ogsm) == []
    entry = AuditLog.objects.get()
    assert (entry.outcome, entry.vendor_status) == ("failed", 500)
    item.refresh_from_db()
    assert item.progress == 8

    retry = ogsm.client.post(f"/actions/{item.pk}/edit/", form_values(html))
    assert retry.status_code == 302 and ogsm.sandbox.state.action(ACTION_ID)["progress"] == 71


def test_a_timeout_is_reported_as_downtime(connect, settings):
    settings.WRITES_TIMEOUT_SECONDS = 0.5
    ogsm = connect("ogsm")
    item = local_action()
    data = open_form(ogsm.client, f"/actions/{item.pk}/edit/")
    ogsm.sandbox.faults = "script=ok|timeout,hang=2"

    response = ogsm.client.post(f"/actions/{item.pk}/edit/", {**data, "progress": "71"}, **HTMX)

    html = response.content.decode()
    assert "is not answering right now" in html and ">Retry</button>" in html and 'value="71"' in html
    assert AuditLog.objects.get().outcome == "failed"


def test_a_shared_credential_is_read_only_unless_the_admin_allows_writes(connect):
    ogsm = connect("ogsm")
    item = local_action()
    shared = ogsm.credential
    shared.owner, shared.is_shared, shared.share_with_everyone = None, True, True
    shared.save()
    reader = client_for(UserFactory(username="reader"))

    page = reader.get(f"/actions/{item.pk}/edit/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Changes are disabled." in html and "the shared connection is read-only" in html
    assert re.search(r"<button[^>]*disabled[^>]*>Save to OGSM", html) and '<fieldset class="write-fields" disabled' in html
    data = form_values(html)
    refused = reader.post(f"/actions/{item.pk}/edit/", {**data, "progress": "90"})
    assert refused.status_code == 403 and "the shared connection is read-only" in refused.content.decode()
    assert writes_sent(ogsm) == []
    assert AuditLog.objects.get().outcome == "refused"

    ogsm.connector.allow_shared_writes = True
    ogsm.connector.save()
    data = open_form(reader, f"/actions/{item.pk}/edit/")
    assert reader.post(f"/actions/{item.pk}/edit/", {**data, "progress": "90"}).status_code == 302
    assert ogsm.sandbox.state.action(ACTION_ID)["progress"] == 90
    assert AuditLog.objects.order_by("id").last().credential == shared


def test_a_per_item_refusal_is_shown_and_does_not_mark_the_credential_read_only(connect):
    ogsm = connect("ogsm")
    member = UserFactory(username="femke")
    credential = ogsm.add_credential(member, 1)  # may edit only actions assigned to Femke de Vries
    client = client_for(member)
    item = local_action()
    data = open_form(client, f"/actions/{item.pk}/edit/")

    response = client.post(f"/actions/{item.pk}/edit/", {**data, "progress": "50"})

    assert response.status_code == 403 and "does not allow this change" in response.content.decode()
    credential.refresh_from_db()
    assert credential.can_write is True
    assert AuditLog.objects.get().outcome == "refused"


def test_items_the_user_cannot_see_are_404_and_csrf_is_enforced(connect):
    ogsm = connect("ogsm")
    item = local_action()
    stranger = client_for(UserFactory(username="stranger"))
    assert stranger.get(f"/actions/{item.pk}/edit/").status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ogsm.user)
    data = open_form(ogsm.client, f"/actions/{item.pk}/edit/")
    assert strict.post(f"/actions/{item.pk}/edit/", {**data, "progress": "1"}).status_code == 403
    assert writes_sent(ogsm) == []
    body = ogsm.client.get(f"/actions/{item.pk}/edit/").content.decode()
    assert "hx-headers" in body and "X-CSRFToken" in body


def test_entry_points_on_the_dashboard_pages(connect):
    ogsm = connect("ogsm")
    item = local_action()
    for url in ("/actions/", "/actions/?view=board"):
        assert f'href="/actions/{item.pk}/edit/"' in ogsm.client.get(url).content.decode()
