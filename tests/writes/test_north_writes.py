"""North membership writes: change a type, remove a member (the root-team warning), a token
without the Org management scope, conflicts and downtime."""

from __future__ import annotations

import re

import pytest

from dashboard.okrs.models import Team
from dashboard.writeback.models import AuditLog
from tests.factories import UserFactory
from tests.writes.conftest import client_for, version_of
from tests.writes.test_ogsm_writes import HTMX

pytestmark = pytest.mark.django_db

BEN = "3"  # Ben Bitdiddle, a regular member of the root team ACME and of Engineering


def row_version(html: str, user_id: str) -> str:
    row = re.search(rf'<tr data-user="{user_id}".*?</tr>', html, re.S)
    assert row, f"no row for user {user_id}"
    return version_of(row.group(0))


def test_members_are_listed_and_a_type_change_reaches_north(connect):
    north = connect("north")
    team = Team.objects.get(vendor="north", name="Engineering")
    page = north.client.get(f"/teams/{team.pk}/members/")
    html = page.content.decode()
    assert page.status_code == 200 and "Ben Bitdiddle" in html and "every team" not in html
    before = north.sandbox.state.memberships[int(team.external_id)][int(BEN)]

    new_type = "guest" if before != "guest" else "regular"
    response = north.client.post(
        f"/teams/{team.pk}/members/", {"user_id": BEN, "type": new_type, "name": "Ben Bitdiddle", "version": row_version(html, BEN)}, **HTMX
    )

    assert response.status_code == 200 and "North accepted the change" in response.content.decode()
    assert north.sandbox.state.memberships[int(team.external_id)][int(BEN)] == new_type
    entry = AuditLog.objects.get()
    assert (entry.operation, entry.outcome, entry.vendor_status) == ("update_membership", "succeeded", 200)
    assert entry.sent == {"team_id": team.external_id, "user_id": BEN, "type": new_type}


def test_removing_from_a_team_asks_first_and_the_root_team_warns_about_every_team(connect):
    north = connect("north")
    root = Team.objects.get(vendor="north", parent__isnull=True)
    root_page = north.client.get(f"/teams/{root.pk}/members/{BEN}/remove/").content.decode()
    assert "root team" in root_page and "every team" in root_page
    members = north.client.get(f"/teams/{root.pk}/members/").content.decode()
    assert "every team" in members

    team = Team.objects.get(vendor="north", name="Engineering")
    page = north.client.get(f"/teams/{team.pk}/members/{BEN}/remove/")
    html = page.content.decode()
    assert page.status_code == 200 and "Other teams are not affected" in html
    assert int(BEN) in north.sandbox.state.memberships[int(team.external_id)]

    response = north.client.post(f"/teams/{team.pk}/members/{BEN}/remove/", {"version": version_of(html), "name": "Ben Bitdiddle"})

    assert response.status_code == 302 and response["Location"] == f"/teams/{team.pk}/members/"
    assert int(BEN) not in north.sandbox.state.memberships[int(team.external_id)]
    assert int(BEN) in north.sandbox.state.memberships[int(root.external_id)]  # still in the org
    assert AuditLog.objects.get().operation == "remove_membership"


def test_a_token_without_org_management_disables_the_controls_and_the_server_refuses(connect):
    north = connect("north")
    team = Team.objects.get(vendor="north", name="Engineering")
    alyssa = UserFactory(username="alyssa-limited")
    credential = north.add_credential(alyssa, 2, check=True, synced=False)
    assert "Org management" in credential.missing_scopes
    client = client_for(alyssa)
    # she sees the team through the main credential being shared with everyone
    north.credential.owner, north.credential.is_shared, north.credential.share_with_everyone = None, True, True
    north.credential.save()

    page = client.get(f"/teams/{team.pk}/members/").content.decode()
    assert "Changes are disabled." in page and "Org management" in page

    refused = client.post(f"/teams/{team.pk}/members/", {"user_id": BEN, "type": "guest", "version": ""})
    assert refused.status_code == 403 and "Org management" in refused.content.decode()
    assert north.sandbox.state.memberships[int(team.external_id)][int(BEN)] != "guest"
    assert AuditLog.objects.get().outcome == "refused"


def test_a_membership_changed_meanwhile_is_a_conflict_and_mine_can_overwrite(connect):
    north = connect("north")
    team = Team.objects.get(vendor="north", name="Engineering")
    html = north.client.get(f"/teams/{team.pk}/members/").content.decode()
    version = row_version(html, BEN)
    with north.sandbox.state.lock:  # an org owner changes Ben in North meanwhile
        north.sandbox.state.memberships[int(team.external_id)][int(BEN)] = "owner"

    response = north.client.post(
        f"/teams/{team.pk}/members/", {"user_id": BEN, "type": "guest", "name": "Ben Bitdiddle", "version": version}
    )

    body = response.content.decode()
    assert response.status_code == 409 and "North now says <strong>owner</strong>" in body
    assert north.sandbox.state.memberships[int(team.external_id)][int(BEN)] == "owner"
    token = re.search(r'<section class="conflict".*?name="version" value="([^"]+)"', body, re.S)
    assert token
    overwrite = north.client.post(
        f"/teams/{team.pk}/members/", {"user_id": BEN, "type": "guest", "name": "Ben Bitdiddle", "version": token.group(1)}
    )
    assert overwrite.status_code == 302
    assert north.sandbox.state.memberships[int(team.external_id)][int(BEN)] == "guest"


def test_north_downtime_keeps_the_page_with_a_message(connect):
    north = connect("north")
    team = Team.objects.get(vendor="north", name="Engineering")
    html = north.client.get(f"/teams/{team.pk}/members/").content.decode()
    north.sandbox.faults = "503=1.0,match=/memberships"

    response = north.client.post(f"/teams/{team.pk}/members/", {"user_id": BEN, "type": "guest", "version": row_version(html, BEN)})

    assert response.status_code == 503 and "North is not answering right now" in response.content.decode()
    assert AuditLog.objects.get().outcome == "failed"


def test_entry_point_on_the_team_tree(connect):
    north = connect("north")
    root = Team.objects.get(vendor="north", parent__isnull=True)
    assert f'href="/teams/{root.pk}/members/"' in north.client.get("/teams/").content.decode()
