"""The audit log page: admins see every write with what was sent and what the vendor said;
members get a 404; no secret is ever shown."""

from __future__ import annotations

import pytest

from dashboard.okrs.models import WorkItem
from dashboard.writeback.models import AuditLog
from tests.factories import AdminFactory
from tests.writes.conftest import client_for
from tests.writes.test_ogsm_writes import ACTION_ID, open_form

pytestmark = pytest.mark.django_db


def test_admins_see_each_write_and_members_get_404(connect):
    ogsm = connect("ogsm")
    item = WorkItem.objects.get(vendor="ogsm", external_id=str(ACTION_ID))
    data = open_form(ogsm.client, f"/actions/{item.pk}/edit/")
    ogsm.client.post(f"/actions/{item.pk}/edit/", {**data, "progress": "61"})  # succeeds
    data = open_form(ogsm.client, f"/actions/{item.pk}/edit/")
    ogsm.client.post(f"/actions/{item.pk}/edit/", {**data, "due_date": "2020-01-01"})  # rejected (422)
    assert list(AuditLog.objects.order_by("id").values_list("outcome", flat=True)) == ["succeeded", "rejected"]

    assert ogsm.client.get("/audit/").status_code == 404  # a member

    admin = client_for(AdminFactory(username="boss"))
    page = admin.get("/audit/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("ogsm-writer") >= 2 and "update_action" in html and "Succeeded" in html and "Rejected by the vendor" in html
    assert "HTTP 200" in html and "HTTP 422" in html and "61" in html
    for secret in ogsm.sandbox.credentials[0].secret.values():
        if len(secret) > 8:
            assert secret not in html  # the password never appears
    only_rejected = admin.get("/audit/?outcome=rejected").content.decode()
    assert "Rejected by the vendor" in only_rejected and "audit-succeeded" not in only_rejected
    # The vendor filter offers every registered vendor and keeps the chosen one selected.
    only_north = admin.get("/audit/?vendor=north").content.decode()
    assert '<option value="north" selected>North</option>' in only_north and '<option value="ogsm">OGSM</option>' in only_north
    assert "update_action" not in only_north and "update_action" in admin.get("/audit/?vendor=ogsm").content.decode()
