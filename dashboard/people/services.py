"""Linking vendor people into identities, and the admins' manual decisions (issue #18).

:func:`link_people` runs after every successful sync (``dashboard.people.hooks``), from
``manage.py people link`` and from the demo. It is idempotent and runs a fixed number of
queries whatever the number of people (bulk creates and updates). Rules, in order:

1. Every vendor person (``okrs.Person``) and every owner name of a vendor without people (OGSM)
   is a member of exactly one identity; a new one gets its own identity (``how="own"``).
2. Automatic members (``own``, ``email``) with the same lower-cased e-mail share the identity of
   the oldest member with that e-mail that an admin did not split out (``how="email"``).
3. Manual members (``name-confirmed``, ``manual``, ``split``) never move: an admin's decision
   wins over e-mail grouping.
4. An e-mail-less member alone in its identity gets a pending :class:`NameMatchProposal` for each
   identity with an e-mail member of exactly the same name (case and spaces aside), unless that
   proposal exists already (a rejected one stays rejected).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from connectors import registry
from connectors.registry import VENDOR_CHOICES
from dashboard.core import locks
from dashboard.integrations.models import Connector
from dashboard.okrs.models import Goal, KeyResult, Person, WorkItem
from dashboard.people.models import Identity, IdentityMember, NameMatchProposal, name_key

logger = logging.getLogger(__name__)
How = IdentityMember.How
LOCK_NAME = "people-link"


class PeopleError(ValueError):
    """A manual decision that cannot be made; the message is for the admin."""


def name_only_vendors() -> list[str]:
    """Vendors whose connector reads no people: their owners are names only (OGSM)."""
    return [vendor for vendor, _label in VENDOR_CHOICES if "people" not in registry.get(vendor).streams]


@dataclass
class LinkResult:
    created_identities: int = 0
    new_members: int = 0
    moved: int = 0
    proposed: int = 0
    removed_identities: int = 0
    skipped: bool = False
    details: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created_identities or self.new_members or self.moved or self.proposed or self.removed_identities)

    def __str__(self) -> str:
        if self.skipped:
            return "people: another link run is in progress; skipped"
        return (
            f"people: {self.new_members} new members, {self.created_identities} new identities, {self.moved} moved by e-mail, "
            f"{self.proposed} name matches proposed, {self.removed_identities} empty identities removed"
        )


def _owner_names(vendors: list[str]) -> dict[tuple[int, str], str]:
    """(connector id, name key) -> display name of every owner at a name-only vendor (3 queries)."""
    found: dict[tuple[int, str], str] = {}
    for model in (Goal, KeyResult, WorkItem):
        rows = (
            model.objects.filter(vendor__in=vendors).exclude(owners_text="").order_by().values_list("connector_id", "owners_text", "owners")
        )
        seen_text: set[tuple[int, str]] = set()
        for connector_id, text, owners in rows:
            if (connector_id, text) in seen_text:  # most items share few owners: skip repeats cheaply
                continue
            seen_text.add((connector_id, text))
            for owner in owners if isinstance(owners, list) else []:
                if isinstance(owner, str) and (key := name_key(owner)):
                    found.setdefault((connector_id, key), " ".join(owner.split()))
    return found


def _bump_all_connectors() -> None:
    """Cached page data (owner filters expand through identities) must not outlive a change."""
    Connector.objects.update(data_version=models.F("data_version") + 1)


def link_people() -> LinkResult:
    """Link every vendor person into identities (see the module docstring); safe to run any time."""
    lock = locks.acquire(LOCK_NAME, extra={"what": "link_people"})
    if lock is None:
        return LinkResult(skipped=True)
    try:
        with transaction.atomic():
            result = _link()
        if result.changed:
            _bump_all_connectors()
        return result
    finally:
        lock.release()


def _new_identities(names: list[tuple[str, str]]) -> list[Identity]:
    return Identity.objects.bulk_create([Identity(name=name[:300] or "(no name)", email=email) for name, email in names])


def _link() -> LinkResult:
    result = LinkResult()
    vendors = name_only_vendors()

    # 1a. name-only members (OGSM owners)
    names = _owner_names(vendors)
    have = set(IdentityMember.objects.filter(person__isnull=True).values_list("connector_id", "owner_key"))
    missing = [(key, display) for key, display in names.items() if key not in have]
    if missing:
        identities = _new_identities([(display, "") for _key, display in missing])
        IdentityMember.objects.bulk_create(
            IdentityMember(identity=identity, connector_id=key[0], owner_key=key[1][:300], owner_name=display[:300], how=How.OWN)
            for (key, display), identity in zip(missing, identities, strict=True)
        )
        result.created_identities += len(identities)
        result.new_members += len(missing)

    # 1b. vendor persons without a member
    persons = list(Person.objects.filter(identity_member__isnull=True).order_by("id").values_list("id", "name", "email"))
    members = list(
        IdentityMember.objects.filter(person__isnull=False).order_by("id").values_list("id", "identity_id", "how", "person__email")
    )
    target: dict[str, int] = {}  # e-mail -> the identity it groups into
    for _member_id, identity_id, how, email in members:
        if email and how != How.SPLIT:
            target.setdefault(email.strip().lower(), identity_id)
    joining: list[IdentityMember] = []
    founders: list[tuple[int, str, str]] = []
    for person_id, name, email in persons:
        email = (email or "").strip().lower()
        if email and email in target:
            joining.append(IdentityMember(identity_id=target[email], person_id=person_id, how=How.EMAIL))
        else:
            founders.append((person_id, name, email))
    identities = _new_identities([(name, email) for _pid, name, email in founders])
    new_members = [
        IdentityMember(identity=identity, person_id=person_id, how=How.OWN)
        for (person_id, _n, _e), identity in zip(founders, identities, strict=True)
    ]
    for (_pid, _n, email), identity in zip(founders, identities, strict=True):
        if email:
            target.setdefault(email, identity.pk)
    # Founders after the first with one e-mail (two new people sharing it) join the first.
    for member, (_pid, _n, email) in zip(new_members, founders, strict=True):
        if email and target[email] != member.identity.pk:
            member.identity_id = target[email]
            member.how = How.EMAIL
    IdentityMember.objects.bulk_create(new_members + joining)
    result.created_identities += len(identities)
    result.new_members += len(new_members) + len(joining)

    # 2. automatic members whose e-mail now groups elsewhere
    moves = []
    for member_id, identity_id, how, email in members:
        key = (email or "").strip().lower()
        if how in IdentityMember.AUTOMATIC and key and target.get(key, identity_id) != identity_id:
            moves.append(IdentityMember(pk=member_id, identity_id=target[key], how=How.EMAIL))
    if moves:
        IdentityMember.objects.bulk_update(moves, ["identity_id", "how"])
        result.moved = len(moves)

    # 3. identities left empty go; the others get a primary e-mail if they have none
    _removed, per_model = Identity.objects.filter(~Exists(IdentityMember.objects.filter(identity_id=OuterRef("pk")))).delete()
    result.removed_identities = per_model.get(Identity._meta.label, 0)
    _fill_primary_emails()

    # 4. name match proposals
    result.proposed = _propose()
    if result.changed:
        logger.info("%s", result)
    return result


def _member_rows() -> list[tuple[int, int, str, str, str]]:
    """(member id, identity id, how, name, e-mail) of every member: one query."""
    rows = IdentityMember.objects.order_by("id").values_list("id", "identity_id", "how", "owner_name", "person__name", "person__email")
    return [
        (pk, identity_id, how, person_name or owner_name, (email or "").strip().lower())
        for pk, identity_id, how, owner_name, person_name, email in rows
    ]


def _fill_primary_emails() -> None:
    first_email: dict[int, str] = {}
    for _pk, identity_id, _how, _name, email in _member_rows():
        if email:
            first_email.setdefault(identity_id, email)
    blank = Identity.objects.filter(email="", pk__in=list(first_email)).only("id", "email")
    changed = []
    for identity in blank:
        identity.email = first_email[identity.pk]
        changed.append(identity)
    if changed:
        Identity.objects.bulk_update(changed, ["email"])


def _propose() -> int:
    rows = _member_rows()
    size: dict[int, int] = defaultdict(int)
    anchored: dict[str, set[int]] = defaultdict(set)  # name key -> identities with an e-mail member of that name
    for _pk, identity_id, _how, _name, _email in rows:
        size[identity_id] += 1
    has_email = {identity_id for _pk, identity_id, _how, _name, email in rows if email}
    for _pk, identity_id, _how, name, _email in rows:
        if identity_id in has_email and name_key(name):
            anchored[name_key(name)].add(identity_id)
    existing = set(NameMatchProposal.objects.values_list("member_id", "identity_id"))
    wanted: set[tuple[int, int]] = set()
    for pk, identity_id, how, name, email in rows:
        if email or how != How.OWN or size[identity_id] != 1:
            continue
        for other in anchored.get(name_key(name), ()):
            if other != identity_id:
                wanted.add((pk, other))
    # Pending proposals that no longer apply (the member moved, merged or got an e-mail) go.
    stale = [pair for pair in existing if pair not in wanted]
    if stale:
        pending = NameMatchProposal.objects.filter(status=NameMatchProposal.Status.PENDING)
        stale_q = models.Q()
        for member_id, identity_id in stale:
            stale_q |= models.Q(member_id=member_id, identity_id=identity_id)
        pending.filter(stale_q).delete()
    new = sorted(wanted - existing)
    NameMatchProposal.objects.bulk_create(NameMatchProposal(member_id=m, identity_id=i) for m, i in new)
    return len(new)


# -- manual decisions ------------------------------------------------------------------------------


def _drop_if_empty(identity_id: int) -> None:
    Identity.objects.filter(pk=identity_id).filter(~Exists(IdentityMember.objects.filter(identity_id=OuterRef("pk")))).delete()


@transaction.atomic
def confirm_proposal(proposal_id: int, user: User) -> NameMatchProposal:
    proposal = NameMatchProposal.objects.select_for_update(of=("self",)).select_related("member").filter(pk=proposal_id).first()
    if proposal is None:
        raise PeopleError("That name match is gone (a newer link run or another admin settled it).")
    if proposal.status != NameMatchProposal.Status.PENDING:
        raise PeopleError(f"That name match was already {proposal.get_status_display().lower()}.")
    member = proposal.member
    old = member.identity_id
    member.identity_id = proposal.identity_id
    member.how = How.NAME_CONFIRMED
    member.linked_by = user
    member.linked_at = timezone.now()
    member.save(update_fields=["identity", "how", "linked_by", "linked_at"])
    proposal.status = NameMatchProposal.Status.CONFIRMED
    proposal.decided_by = user
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    # Other pending proposals of this member are settled by this one.
    NameMatchProposal.objects.filter(member=member, status=NameMatchProposal.Status.PENDING).exclude(pk=proposal.pk).delete()
    _drop_if_empty(old)
    _bump_all_connectors()  # in the same transaction: cached pages never outlive the change
    return proposal


@transaction.atomic
def reject_proposal(proposal_id: int, user: User) -> NameMatchProposal:
    proposal = NameMatchProposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise PeopleError("That name match is gone (a newer link run or another admin settled it).")
    if proposal.status != NameMatchProposal.Status.PENDING:
        raise PeopleError(f"That name match was already {proposal.get_status_display().lower()}.")
    proposal.status = NameMatchProposal.Status.REJECTED
    proposal.decided_by = user
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    return proposal


@transaction.atomic
def merge_identities(source_id: int, target_id: int, user: User) -> Identity:
    """Move every member of ``source`` into ``target`` (marked manual) and remove ``source``."""
    if source_id == target_id:
        raise PeopleError("Choose another person to merge with: a person cannot be merged into itself.")
    found = {i.pk: i for i in Identity.objects.select_for_update().filter(pk__in=[source_id, target_id])}
    if target_id not in found:
        raise PeopleError(f"No person with id {target_id}.")
    if source_id not in found:
        raise PeopleError(f"No person with id {source_id}.")
    target = found[target_id]
    IdentityMember.objects.filter(identity_id=source_id).update(
        identity_id=target_id, how=How.MANUAL, linked_by=user, linked_at=timezone.now()
    )
    # Proposals into the source now mean the target (unless the target has that one already).
    NameMatchProposal.objects.filter(identity_id=source_id).delete()
    if not target.email and found[source_id].email:
        target.email = found[source_id].email
        target.save(update_fields=["email"])
    found[source_id].delete()
    _bump_all_connectors()  # in the same transaction: cached pages never outlive the change
    return target


@transaction.atomic
def split_member(member_id: int, user: User) -> Identity:
    """Take one member out of its identity into a new identity of its own (marked manual)."""
    member = IdentityMember.objects.select_for_update(of=("self",)).select_related("person").filter(pk=member_id).first()
    if member is None:
        raise PeopleError(f"No vendor person with id {member_id} is linked.")
    if IdentityMember.objects.filter(identity_id=member.identity_id).count() < 2:
        raise PeopleError("This is the only vendor person of this identity: there is nothing to split it from.")
    name = member.person.name if member.person else member.owner_name
    email = (member.person.email or "").strip().lower() if member.person else ""
    identity = Identity.objects.create(name=name[:300] or "(no name)", email=email)
    member.identity = identity
    member.how = How.SPLIT
    member.linked_by = user
    member.linked_at = timezone.now()
    member.save(update_fields=["identity", "how", "linked_by", "linked_at"])
    NameMatchProposal.objects.filter(member=member, status=NameMatchProposal.Status.PENDING).delete()
    _bump_all_connectors()  # in the same transaction: cached pages never outlive the change
    return identity
