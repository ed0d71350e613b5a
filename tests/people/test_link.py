"""Linking vendor people into identities, over data synced from the sandboxes (issue #18)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from dashboard.okrs.models import Person
from dashboard.people import services
from dashboard.people.models import Identity, IdentityMember, NameMatchProposal
from tests.factories import UserFactory
from tests.people.conftest import OGSM_NAME, build_world

SHARED_EMAIL = "alyssa@example.com"  # North's Alyssa, given to Operately's Ada by the world fixture

pytestmark = pytest.mark.django_db
How = IdentityMember.How


def lonely_north_person() -> Person:
    """A North person with an e-mail nobody else has: alone in its identity."""
    alone = Identity.objects.annotate(n=Count("members")).filter(n=1).values("id")
    north = Person.objects.filter(vendor="north", identity_member__identity_id__in=alone).exclude(email="")
    return north.exclude(email__iexact=SHARED_EMAIL).order_by("id").first()


def identity_of_email(email: str) -> Identity:
    return Identity.objects.get(members__person__email__iexact=email, members__person__vendor="north")


def test_the_sync_links_every_vendor_person_and_groups_the_same_email(world):
    assert IdentityMember.objects.filter(person__isnull=False).count() == Person.objects.count() > 0
    identity = identity_of_email(world.shared_email)
    vendors = sorted(identity.members.values_list("person__vendor", flat=True))
    assert vendors == ["north", "operately"]
    assert set(identity.members.values_list("how", flat=True)) == {How.OWN, How.EMAIL}
    assert identity.email == world.shared_email
    # a person with an e-mail nobody else has is alone in its own identity
    lonely = lonely_north_person()
    assert lonely is not None and lonely.identity_member.identity.members.count() == 1


def test_ogsm_owner_names_become_name_only_members_and_exact_names_are_proposed(world):
    ogsm = world.connectors["ogsm"]
    named = IdentityMember.objects.filter(connector=ogsm, person__isnull=True)
    assert named.exists()
    femke = named.get(owner_name=OGSM_NAME)
    (proposal,) = NameMatchProposal.objects.filter(member=femke)
    assert proposal.status == "pending"
    target_emails = set(proposal.identity.members.values_list("person__email", flat=True))
    assert world.operately_named in target_emails


def test_confirm_moves_the_name_and_survives_a_resync(world):
    admin = UserFactory(username="root", is_staff=True)
    femke = IdentityMember.objects.get(connector=world.connectors["ogsm"], owner_name=OGSM_NAME)
    old_identity = femke.identity_id
    proposal = NameMatchProposal.objects.get(member=femke)
    services.confirm_proposal(proposal.pk, admin)
    femke.refresh_from_db()
    assert femke.identity_id == proposal.identity_id and femke.how == How.NAME_CONFIRMED and femke.linked_by == admin
    assert not Identity.objects.filter(pk=old_identity).exists()
    world.sync("ogsm")
    world.sync("operately")
    femke.refresh_from_db()
    assert femke.identity_id == proposal.identity_id and femke.how == How.NAME_CONFIRMED
    assert NameMatchProposal.objects.filter(member=femke, status="pending").count() == 0
    with pytest.raises(services.PeopleError, match="already confirmed"):
        services.confirm_proposal(proposal.pk, admin)


def test_a_rejected_match_stays_rejected(world):
    admin = UserFactory(username="root", is_staff=True)
    proposal = NameMatchProposal.objects.get(member__owner_name=OGSM_NAME)
    services.reject_proposal(proposal.pk, admin)
    result = services.link_people()
    assert result.proposed == 0
    proposal.refresh_from_db()
    assert proposal.status == "rejected" and proposal.decided_by == admin
    assert NameMatchProposal.objects.filter(member=proposal.member).count() == 1


def test_split_and_merge_are_kept_across_resyncs(world):
    admin = UserFactory(username="root", is_staff=True)
    shared = identity_of_email(world.shared_email)
    operately_member = shared.members.get(person__vendor="operately")
    new_identity = services.split_member(operately_member.pk, admin)
    world.sync("north")
    world.sync("operately")
    operately_member.refresh_from_db()
    assert operately_member.identity_id == new_identity.pk and operately_member.how == How.SPLIT
    assert shared.members.count() == 1

    # merge the split-out one back by hand, and another lonely North person in too
    lonely = lonely_north_person()
    services.merge_identities(new_identity.pk, shared.pk, admin)
    services.merge_identities(lonely.identity_member.identity_id, shared.pk, admin)
    world.sync("north")
    world.sync("operately")
    assert sorted(shared.members.values_list("how", flat=True)) == sorted([How.OWN, How.MANUAL, How.MANUAL])
    assert not Identity.objects.filter(pk=new_identity.pk).exists()


def test_bad_manual_decisions_say_why(world):
    admin = UserFactory(username="root", is_staff=True)
    shared = identity_of_email(world.shared_email)
    with pytest.raises(services.PeopleError, match="into itself"):
        services.merge_identities(shared.pk, shared.pk, admin)
    with pytest.raises(services.PeopleError, match="No person with id"):
        services.merge_identities(shared.pk, 10**9, admin)
    lonely = lonely_north_person()
    with pytest.raises(services.PeopleError, match="only vendor person"):
        services.split_member(lonely.identity_member.pk, admin)


def test_link_is_idempotent_and_its_queries_do_not_grow_with_people(world, capsys):
    first = services.link_people()
    assert not first.changed
    with CaptureQueriesContext(connection) as small:
        services.link_people()
    # more people at one vendor: a second North sync of a larger org adds persons
    Person.objects.bulk_create(
        Person(connector=world.connectors["north"], vendor="north", external_id=f"extra-{n}", name=f"Extra {n}", email=f"x{n}@example.com")
        for n in range(40)
    )
    grown = services.link_people()
    assert grown.new_members == 40 and grown.created_identities == 40
    with CaptureQueriesContext(connection) as large:
        services.link_people()
    assert len(large.captured_queries) == len(small.captured_queries)
    call_command("people", "link")
    assert "0 new members" in capsys.readouterr().out


def test_a_failing_link_step_never_fails_the_sync(world, monkeypatch, caplog):
    def broken() -> None:
        raise RuntimeError("linking broke")

    monkeypatch.setattr(services, "link_people", broken)
    run = world.sync("ogsm")
    assert run.status == "succeeded"
    assert "after-sync step" in caplog.text and "linking broke" in caplog.text


def test_the_demo_sandboxes_as_seeded_share_a_person_across_three_vendors(sandbox_factory, db):
    """North's Ben Bitdiddle and Operately's Bob Builder share an e-mail in the seeds; OGSM has
    a "Bob Builder" owner: the demo shows one e-mail link and one name match to confirm."""
    build_world(sandbox_factory, tweak=False)
    ben = Identity.objects.get(members__person__vendor="north", members__person__name="Ben Bitdiddle")
    assert sorted(ben.members.values_list("person__vendor", "person__name")) == [("north", "Ben Bitdiddle"), ("operately", "Bob Builder")]
    (proposal,) = NameMatchProposal.objects.filter(member__owner_name="Bob Builder", member__connector__vendor="ogsm")
    assert proposal.identity_id == ben.pk and proposal.status == "pending"
