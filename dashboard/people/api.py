"""Read API of people across vendors: ``/api/v1/identities`` (issue #18).

``/api/v1/people`` stays what it was (one row per vendor person); an identity groups those rows
(and OGSM owner names) into one person. Each member says how OKR Hub linked it: these links are
OKR Hub's own data, never the vendor's. Only members the caller may see are listed, and an
identity without any is a 404, as on the pages. Items of one person: ``?person=<id>`` on
``/api/v1/goals``, ``/key-results`` and ``/work-items``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.params import functions as param

from dashboard.okrs.api.errors import not_found
from dashboard.okrs.api.params import MAX_ID, PageParams, paginate
from dashboard.okrs.api.schemas import ErrorOut
from dashboard.people import selectors as people
from dashboard.people.models import Identity, IdentityMember

router = Router(tags=["People"])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 429: ErrorOut}


class IdentityMemberOut(Schema):
    id: int
    vendor: str
    connector: str
    person_id: int | None = Field(description="The vendor person (/api/v1/people); null for an owner name only (OGSM).")
    name: str
    email: str
    how: str = Field(description="own, email (same e-mail), name-confirmed, manual (merged) or split: OKR Hub's link.")
    linked_by_okr_hub: bool = True
    linked_at: datetime


class IdentityOut(Schema):
    id: int
    name: str
    email: str
    vendors: list[str]
    members: list[IdentityMemberOut]


class IdentityPage(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[IdentityOut]


class IdentityFilters(PageParams):
    q: str | None = Field(None, max_length=200, description="Name or e-mail contains (case-insensitive), at any vendor.")


def _serialize(identities: Iterable[Identity]) -> list[dict[str, Any]]:
    out = []
    for identity in identities:
        members = [people.member_label(m) for m in identity.visible_members]  # type: ignore[attr-defined]
        out.append(
            {
                "id": identity.pk,
                "name": identity.name,
                "email": identity.email,
                "vendors": sorted({m["vendor"] for m in members}),
                "members": [
                    {
                        "id": m["id"],
                        "vendor": m["vendor"],
                        "connector": m["connector"],
                        "person_id": m["person_id"],
                        "name": m["name"],
                        "email": m["email"],
                        "how": m["how"],
                        "linked_at": m["linked_at"],
                    }
                    for m in members
                ],
            }
        )
    return out


def _identities(request: HttpRequest) -> Any:
    members = IdentityMember.objects.filter(people.visible_member_q(request.user)).select_related(
        "person__connector", "connector", "linked_by"
    )
    return people.visible_identities(request.user).prefetch_related(
        Prefetch("members", queryset=members.order_by("id"), to_attr="visible_members")
    )


@router.get("/identities", response={200: IdentityPage, **ERRORS}, summary="People across vendors")
def list_identities(request: HttpRequest, filters: Query[IdentityFilters]) -> dict[str, Any]:
    qs = _identities(request).order_by("name", "id")
    if filters.q and filters.q.strip():
        text = filters.q.strip()
        matching = IdentityMember.objects.filter(
            Q(person__name__icontains=text) | Q(person__email__icontains=text) | Q(owner_name__icontains=text)
        ).values("identity_id")
        qs = qs.filter(Q(name__icontains=text) | Q(email__icontains=text) | Q(pk__in=matching))
    return paginate(request, qs, filters, _serialize)


@router.get("/identities/{identity_id}", response={200: IdentityOut, **ERRORS}, summary="One person across vendors")
def get_identity(request: HttpRequest, identity_id: int = param.Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    identity = _identities(request).filter(pk=identity_id).first()
    if identity is None:
        raise not_found("Person", identity_id)
    return _serialize([identity])[0]
