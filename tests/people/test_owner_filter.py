"""The owner filter across vendors, on pages and in the API, and the identities API (issue #18)."""

from __future__ import annotations

from html import escape

import pytest

from dashboard.okrs.models import Goal, WorkItem
from dashboard.people.models import Identity
from dashboard.people.selectors import identity_q
from tests.factories import UserFactory
from tests.people.conftest import OGSM_NAME, add_credential

pytestmark = pytest.mark.django_db


def shared_identity(world) -> Identity:
    return Identity.objects.get(members__person__email__iexact=world.shared_email, members__person__vendor="north")


def names_of(identity: Identity) -> dict[str, str]:
    return {m.person.vendor: m.person.name for m in identity.members.select_related("person")}


def test_owner_filter_on_pages_matches_the_person_at_every_vendor(client, world):
    identity = shared_identity(world)
    names = names_of(identity)
    assert names["north"] != names["operately"], "the two vendors spell the person differently"
    client.force_login(world.user)
    operately_goal = Goal.objects.filter(identity_q(identity.pk), vendor="operately").order_by("title").first()
    north_goal = Goal.objects.filter(identity_q(identity.pk), vendor="north").order_by("title").first()
    # filtering by the North name finds the Operately goal (owned under another name) too
    html = client.get("/goals/", {"owner": names["north"], "vendor": "operately"}).content.decode()
    assert escape(operately_goal.title) in html
    html = client.get("/goals/", {"owner": names["operately"], "vendor": "north"}).content.decode()
    assert escape(north_goal.title) in html
    # a name without an identity keeps its old substring behaviour
    other = Goal.objects.filter(vendor="north").exclude(owners=[]).exclude(identity_q(identity.pk)).first()
    part = other.owners[0].split()[0][:4]
    html = client.get("/goals/", {"owner": part}).content.decode()
    assert escape(other.title) in html


def test_owner_filter_and_person_parameter_in_the_api(client, world):
    identity = shared_identity(world)
    names = names_of(identity)
    client.force_login(world.user)
    expected = set(Goal.objects.filter(identity_q(identity.pk)).values_list("id", flat=True))
    by_person = client.get("/api/v1/goals", {"person": identity.pk, "limit": 500}).json()
    assert {g["id"] for g in by_person["results"]} == expected and by_person["count"] == len(expected)
    by_name = client.get("/api/v1/goals", {"owner": names["north"].upper(), "limit": 500}).json()
    assert expected <= {g["id"] for g in by_name["results"]}
    assert {g["vendor"] for g in by_name["results"]} >= {"north", "operately"}
    items = client.get("/api/v1/work-items", {"person": identity.pk, "limit": 500}).json()
    assert {w["id"] for w in items["results"]} == set(WorkItem.objects.filter(identity_q(identity.pk)).values_list("id", flat=True))


def test_identities_api_lists_members_with_how_they_were_linked(client, world):
    identity = shared_identity(world)
    client.force_login(world.user)
    page = client.get("/api/v1/identities", {"q": world.shared_email}).json()
    assert [i["id"] for i in page["results"]] == [identity.pk]
    one = client.get(f"/api/v1/identities/{identity.pk}").json()
    assert one["vendors"] == ["north", "operately"] and one["email"] == world.shared_email
    assert {m["how"] for m in one["members"]} == {"own", "email"} and all(m["linked_by_okr_hub"] for m in one["members"])
    ogsm = client.get("/api/v1/identities", {"q": OGSM_NAME, "limit": 50}).json()
    assert any(m["vendor"] == "ogsm" and m["person_id"] is None for i in ogsm["results"] for m in i["members"])
    # someone who sees only Operately sees only the Operately member; nobody sees nothing
    bob = UserFactory(username="bob")
    add_credential(world.connectors["operately"], world.sandboxes["operately"].credentials[0].secret, bob)
    world.sync("operately", bob.credentials.get())
    client.force_login(bob)
    seen = client.get(f"/api/v1/identities/{identity.pk}").json()
    assert [m["vendor"] for m in seen["members"]] == ["operately"]
    client.force_login(UserFactory(username="nobody"))
    assert client.get(f"/api/v1/identities/{identity.pk}").status_code == 404
    assert client.get("/api/v1/identities").json()["count"] == 0
