"""Person pages, the people index and the admins' name matches, over synced sandbox data."""

from __future__ import annotations

from html import escape

import pytest

from dashboard.okrs.models import Goal, KeyResult, WorkItem
from dashboard.okrs.pace import behind_pace, pace_of
from dashboard.people.models import Identity, IdentityMember, NameMatchProposal
from dashboard.people.selectors import identity_q
from tests.factories import UserFactory
from tests.people.conftest import OGSM_NAME, add_credential

pytestmark = pytest.mark.django_db


def shared_identity(world) -> Identity:
    return Identity.objects.get(members__person__email__iexact=world.shared_email, members__person__vendor="north")


def owned_titles(identity: Identity, model) -> set[str]:
    return set(model.objects.filter(identity_q(identity.pk)).values_list("title", flat=True))


def test_a_person_page_shows_what_they_own_at_two_vendors(client, world):
    identity = shared_identity(world)
    goals = Goal.objects.filter(identity_q(identity.pk))
    assert set(goals.values_list("vendor", flat=True)) == {"north", "operately"}, "the sandboxes give both people goals"
    client.force_login(world.user)
    response = client.get(f"/people/{identity.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert identity.name in html and world.shared_email in html
    assert "Same e-mail" in html and "OKR Hub link" in html
    for title in list(goals.values_list("title", flat=True))[:50]:
        assert escape(title) in html
    assert 'class="vendor vendor-north"' in html and 'class="vendor vendor-operately"' in html
    counts = response.context["counts"]
    assert counts["goals"]["total"] == goals.count()
    assert counts["key_results"]["total"] == KeyResult.objects.filter(identity_q(identity.pk)).count()
    assert counts["work_items"]["total"] == WorkItem.objects.filter(identity_q(identity.pk)).count()
    # behind pace: what dashboard.okrs.pace says, counted and listed most behind first
    behind = [*behind_pace(goals), *behind_pace(KeyResult.objects.filter(identity_q(identity.pk)))]
    behind += list(behind_pace(WorkItem.objects.filter(identity_q(identity.pk))))
    assert sum(c["behind_pace"] for c in counts.values()) == response.context["attention"]["behind_pace"] == len(behind)
    shown = response.context["behind"]
    assert behind and len(shown) == min(10, len(behind))
    gaps = [b["pace"].gap for b in shown]
    assert gaps == sorted(gaps, reverse=True) and all(b["pace"].is_behind for b in shown)
    assert max(pace_of(row).gap for row in behind) == gaps[0]


def test_a_member_sees_only_what_their_credentials_see(client, world, sandbox_factory):
    identity = shared_identity(world)
    north_titles = owned_titles(identity, Goal) & set(Goal.objects.filter(vendor="north").values_list("title", flat=True))
    operately_titles = set(Goal.objects.filter(identity_q(identity.pk), vendor="operately").values_list("title", flat=True))
    assert north_titles and operately_titles
    bob = UserFactory(username="bob")
    add_credential(world.connectors["operately"], world.sandboxes["operately"].credentials[0].secret, bob)
    world.sync("operately", bob.credentials.get())
    client.force_login(bob)
    response = client.get(f"/people/{identity.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert all(escape(t) in html for t in operately_titles)
    assert not any(escape(t) in html for t in north_titles - operately_titles)
    assert 'class="vendor vendor-north"' not in html
    assert response.context["counts"]["goals"]["total"] == Goal.objects.filter(identity_q(identity.pk), seen_by__owner=bob).count()
    # a North-only person is not visible to bob at all
    north_only = Identity.objects.filter(members__person__vendor="north").exclude(members__person__vendor="operately").first()
    assert client.get(f"/people/{north_only.pk}/").status_code == 404
    # someone without credentials sees no person
    client.force_login(UserFactory(username="nobody"))
    assert client.get(f"/people/{identity.pk}/").status_code == 404
    assert "Connect an account to see people" in client.get("/people/").content.decode()


def test_the_index_lists_and_searches_people(client, world):
    client.force_login(world.user)
    identity = shared_identity(world)
    html = client.get("/people/").content.decode()
    assert f'href="/people/{identity.pk}/"' in html
    found = client.get("/people/", {"q": world.shared_email.upper()}).content.decode()
    assert f'href="/people/{identity.pk}/"' in found and found.count('href="/people/') - found.count("/people/matches") <= 3
    none = client.get("/people/", {"q": "zz-nobody-zz"}).content.decode()
    assert "Nobody matches" in none


def test_admins_confirm_and_reject_name_matches_members_cannot(client, world):
    proposal = NameMatchProposal.objects.get(member__owner_name=OGSM_NAME)
    client.force_login(world.user)
    assert client.get("/people/matches/").status_code == 404
    assert client.post(f"/people/matches/{proposal.pk}/confirm/").status_code == 404
    admin = UserFactory(username="root", is_staff=True)
    client.force_login(admin)
    page = client.get("/people/matches/").content.decode()
    assert OGSM_NAME in page and f"/people/matches/{proposal.pk}/confirm/" in page
    response = client.post(f"/people/matches/{proposal.pk}/confirm/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Confirmed" in response.content.decode()
    member = IdentityMember.objects.get(pk=proposal.member_id)
    assert member.identity_id == proposal.identity_id and member.how == "name-confirmed"
    # twice: a clear message, as plain POST too
    again = client.post(f"/people/matches/{proposal.pk}/confirm/", follow=True)
    assert "already confirmed" in again.content.decode()
    # the person page now shows the OGSM items owned by that name
    ogsm_titles = set(
        WorkItem.objects.filter(vendor="ogsm", owners_text__contains=f"|{OGSM_NAME.lower()}|").values_list("title", flat=True)
    )
    assert ogsm_titles
    assert client.get(f"/people/{proposal.identity_id}/").status_code == 404, "the admin has no credential: sees nobody"
    assert "No name match to check" in client.get("/people/matches/").content.decode()
    client.force_login(world.user)
    html = client.get(f"/people/{proposal.identity_id}/").content.decode()
    assert "Name match confirmed by admin" in html
    assert any(escape(t) in html for t in ogsm_titles)


def test_admins_merge_and_split_on_the_person_page(client, world):
    admin = UserFactory(username="root", is_staff=True)
    add_credential(world.connectors["north"], world.sandboxes["north"].credentials[0].secret, admin)
    world.sync("north", admin.credentials.get())
    client.force_login(admin)
    identity = shared_identity(world)
    other = Identity.objects.filter(members__person__vendor="north").exclude(pk=identity.pk).first()
    bad = client.post(f"/people/{identity.pk}/merge/", {"other": "twelve"}, follow=True).content.decode()
    assert "Enter the number of the person" in bad
    itself = client.post(f"/people/{identity.pk}/merge/", {"other": str(identity.pk)}, follow=True).content.decode()
    assert "cannot be merged into itself" in itself
    other_row = f'data-member="{other.members.get().pk}"'
    assert other_row not in client.get(f"/people/{identity.pk}/").content.decode()  # cached page data now
    done = client.post(f"/people/{identity.pk}/merge/", {"other": f"/people/{other.pk}/"}, follow=True)
    assert "was merged into this one" in done.content.decode()
    assert other_row in done.content.decode() and "Merged by admin" in done.content.decode()  # not stale
    assert not Identity.objects.filter(pk=other.pk).exists()
    member = identity.members.get(how="manual")
    split = client.post(f"/people/{identity.pk}/split/", {"member": str(member.pk)}, follow=True).content.decode()
    assert "Split out into their own person" in split
    member.refresh_from_db()
    assert member.identity_id != identity.pk and member.how == "split"
    wrong = client.post(f"/people/{identity.pk}/split/", {"member": str(member.pk)}, follow=True).content.decode()
    assert "Choose one of this person" in wrong
    # members get no admin forms and cannot post them
    client.force_login(world.user)
    assert "Merge another person" not in client.get(f"/people/{identity.pk}/").content.decode()
    assert client.post(f"/people/{identity.pk}/merge/", {"other": "1"}).status_code == 404


def test_owner_names_on_goal_and_work_item_pages_link_to_the_person(client, world):
    identity = shared_identity(world)
    client.force_login(world.user)
    goal = Goal.objects.filter(identity_q(identity.pk), vendor="operately").first()
    html = client.get(f"/goals/{goal.pk}/").content.decode()
    assert f'href="/people/{identity.pk}/" class="owner-link"' in html
    item = WorkItem.objects.filter(identity_q(identity.pk)).first()
    html = client.get(f"/work-items/{item.pk}/").content.decode()
    assert f'href="/people/{identity.pk}/" class="owner-link"' in html
    # an owner OKR Hub knows no person for stays plain text
    unowned = Goal.objects.exclude(owners=[]).exclude(identity_q(identity.pk)).filter(vendor="north").first()
    assert client.get(f"/goals/{unowned.pk}/").status_code == 200


def test_the_index_pages_through_people(client, world, monkeypatch):
    from dashboard.people import views

    monkeypatch.setattr(views, "PER_PAGE", 5)
    client.force_login(world.user)
    total = Identity.objects.count()
    pages = -(-total // 5)
    first = client.get("/people/").content.decode()
    assert f"Page 1 of {pages}" in first and 'href="?page=2">Next' in first
    last = client.get("/people/", {"page": "999"}).content.decode()
    assert f"Page {pages} of {pages}" in last and "Previous" in last and ">Next<" not in last
