"""Read side of people across vendors: who an identity is at each vendor, and what it owns.

Items point at people through ``owner_external_ids`` (vendor person ids, per connector) or, at a
vendor without people (OGSM), only through ``owners`` (names): :func:`owned_q` turns an
identity's members into one filter over either. What a viewer sees of it is always limited by
the ``visible_*`` selectors of :mod:`dashboard.okrs.selectors`; this module never widens it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from dashboard.integrations.visibility import visible_credentials
from dashboard.okrs.selectors import UserLike, visible_people
from dashboard.people.models import Identity, IdentityMember, NameMatchProposal, name_key


@dataclass(frozen=True)
class MemberRef:
    """What :func:`owned_q` needs of a member: where it lives and how items name it."""

    connector_id: int
    external_id: str  # a vendor person id, or "" for a name-only member
    name: str  # the name items carry in ``owners`` (name-only members)


def member_refs(identity_ids: Iterable[int]) -> dict[int, list[MemberRef]]:
    """identity id -> its members as :class:`MemberRef` (one query)."""
    rows = IdentityMember.objects.filter(identity_id__in=list(identity_ids)).values_list(
        "identity_id", "connector_id", "owner_name", "person__connector_id", "person__external_id"
    )
    refs: dict[int, list[MemberRef]] = {}
    for identity_id, connector_id, owner_name, person_connector_id, external_id in rows:
        if person_connector_id is not None:
            ref = MemberRef(person_connector_id, external_id, "")
        else:
            ref = MemberRef(connector_id, "", owner_name)
        refs.setdefault(identity_id, []).append(ref)
    return refs


def owned_q(refs: Iterable[MemberRef]) -> Q:
    """Items owned by any of ``refs``: by vendor person id where the vendor has people, by exact
    owner name (``owners_text`` holds ``|a|b|``, lower-cased) where it has names only. Matches
    nothing for no refs. Portable: a text match on the JSON list (ids are stored as strings)."""
    q = Q(pk__in=[])
    for ref in refs:
        if ref.external_id:
            q |= Q(connector_id=ref.connector_id, owner_external_ids__icontains=json.dumps(ref.external_id))
        elif ref.name:
            q |= Q(connector_id=ref.connector_id, owners_text__contains=f"|{ref.name.lower()}|")
    return q


def identities_named(text: str) -> list[int]:
    """Identities with a member (or own name) exactly ``text`` (case and spaces aside): one query."""
    key = name_key(text)
    if not key:
        return []
    # Case-insensitive in SQL; the exact key compare (spaces, case folding) in Python, on few rows.
    pattern = " ".join(text.split())
    rows = IdentityMember.objects.filter(
        Q(owner_name__iexact=pattern) | Q(person__name__iexact=pattern) | Q(identity__name__iexact=pattern)
    ).values_list("identity_id", "owner_name", "person__name", "identity__name")
    return sorted({row[0] for row in rows if key in (name_key(row[1] or ""), name_key(row[2] or ""), name_key(row[3] or ""))})


def named_q(text: str) -> Q:
    """Items owned, at any vendor, by the identities named exactly ``text`` (by their vendor ids
    and names); matches nothing when no identity has that name. One query, two when it matches."""
    identity_ids = identities_named(text)
    if not identity_ids:
        return Q(pk__in=[])
    return owned_q(ref for refs in member_refs(identity_ids).values() for ref in refs)


def owner_filter_q(text: str) -> Q:
    """The dashboard's owner filter: the owner name contains ``text`` (as before), or the item is
    owned by the person across vendors named exactly ``text`` (their other names and ids)."""
    return Q(owners_text__icontains=text.lower()) | named_q(text)


def identity_q(identity_id: int) -> Q:
    """Items owned by the identity ``identity_id`` at any vendor (one query)."""
    return owned_q(member_refs([identity_id]).get(identity_id, []))


def visible_member_q(user: UserLike, prefix: str = "") -> Q:
    """Members the viewer may see: a vendor person their credentials returned, or an owner name
    at a connector they have a visible credential of (name-only members)."""
    return Q(**{f"{prefix}person_id__in": visible_people(user).values("id")}) | Q(
        **{f"{prefix}person__isnull": True, f"{prefix}connector_id__in": visible_credentials(user).values("connector_id")}
    )


def visible_identities(user: UserLike) -> QuerySet[Identity]:
    """Identities with at least one member the viewer may see."""
    return Identity.objects.filter(Exists(IdentityMember.objects.filter(visible_member_q(user), identity_id=OuterRef("pk"))))


def identity_for_page(user: UserLike, identity_id: int) -> tuple[Identity, list[IdentityMember], list[MemberRef]] | None:
    """The identity, its members the viewer may see, and every member as :class:`MemberRef` (an
    item the viewer sees may name a vendor person they do not see): one query. ``None`` when the
    viewer sees no member of it, as when it does not exist."""
    rows: list[IdentityMember] = list(
        IdentityMember.objects.filter(identity_id=identity_id)
        .select_related("identity", "person__connector", "connector", "linked_by")
        .annotate(is_visible=ExpressionWrapper(visible_member_q(user), output_field=BooleanField()))
        .order_by("id")
    )
    visible = [m for m in rows if m.is_visible]  # type: ignore[attr-defined]
    if not visible:
        return None
    refs = [
        MemberRef(m.person.connector_id, m.person.external_id, "") if m.person else MemberRef(m.connector_id or 0, "", m.owner_name)
        for m in rows
    ]
    return rows[0].identity, visible, refs


def visible_members(user: UserLike, identity: Identity) -> list[IdentityMember]:
    """The identity's members the viewer may see, for the page header (one query)."""
    return list(
        identity.members.filter(visible_member_q(user)).select_related("person__connector", "connector", "linked_by").order_by("id")
    )


def pending_proposals() -> QuerySet[NameMatchProposal]:
    return (
        NameMatchProposal.objects.filter(status=NameMatchProposal.Status.PENDING)
        .select_related("member__person__connector", "member__connector", "identity")
        .order_by("identity__name", "id")
    )


def member_label(member: IdentityMember) -> dict[str, Any]:
    """What the person page shows of one member: vendor, name, e-mail and how it was linked."""
    connector = member.person.connector if member.person else member.connector
    return {
        "id": member.pk,
        "vendor": connector.vendor if connector else "",
        "connector": connector.name if connector else "",
        "name": member.person.name if member.person else member.owner_name,
        "email": member.person.email if member.person else "",
        "url": member.person.url if member.person else "",
        "how": member.how,
        "how_label": member.get_how_display(),
        "manual": member.is_manual,
        "linked_by": member.linked_by.get_username() if member.linked_by else "",
        "linked_at": member.linked_at,
        "name_only": member.person is None,
        "person_id": member.person_id,
    }


def owner_links(user: UserLike, item: Any) -> list[dict[str, Any]]:
    """Each owner name of a goal or work item with the person page it links to (``identity_id``,
    or None where OKR Hub knows no identity the viewer may open): one query. Names pair with
    ``owner_external_ids`` by position where the vendor gives both; by name at name-only vendors."""
    names = [str(n) for n in (item.owners or []) if n]
    ids = [str(i) for i in (item.owner_external_ids or [])]
    if not names:
        return []
    by_id = len(ids) == len(names)
    where = Q(person__connector_id=item.connector_id, person__external_id__in=ids) if by_id else Q(pk__in=[])
    where |= Q(person__isnull=True, connector_id=item.connector_id, owner_key__in=[name_key(n) for n in names])
    openable = Exists(IdentityMember.objects.filter(visible_member_q(user), identity_id=OuterRef("identity_id")))
    rows = IdentityMember.objects.filter(where).filter(openable).values_list("person__external_id", "owner_key", "identity_id")
    by_external: dict[str, int] = {}
    by_key: dict[str, int] = {}
    for external_id, key, identity_id in rows:
        if external_id:
            by_external[external_id] = identity_id
        else:
            by_key[key] = identity_id
    return [
        {"name": name, "identity_id": (by_external.get(ids[i]) if by_id else None) or by_key.get(name_key(name))}
        for i, name in enumerate(names)
    ]
