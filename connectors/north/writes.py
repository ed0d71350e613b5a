"""Writes the dashboard offers on North (membership type, removal), as a mixin of the connector.

This module owns North's write JSON: the request bodies, the membership list a form is drawn
from, and the declarations the dashboard builds its forms from (issue #19)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from connectors.base import FieldType, PermanentError, Precondition, VendorValidationError, WriteField, WriteOperation

from .client import SCOPE_ORG, NorthClient
from .mapping import MembershipRecord, map_membership

MEMBERSHIP_TYPES = ("owner", "regular", "guest", "guest-no-access")
MEMBERSHIP_CHOICES = (("owner", "Owner"), ("regular", "Regular"), ("guest", "Guest"), ("guest-no-access", "Guest without access"))
_MEMBERSHIP = frozenset({"team"})  # a membership is changed on its team
_NEEDS_ORG_SCOPE = frozenset({Precondition.CAN_WRITE, Precondition.SCOPE})

WRITE_OPERATIONS: Sequence[WriteOperation] = (
    WriteOperation(
        name="update_membership",
        label="Change a membership",
        item_kinds=_MEMBERSHIP,
        fields=(
            WriteField("user_id", "Person", FieldType.HIDDEN),
            WriteField("type", "Membership", FieldType.CHOICE, choices=MEMBERSHIP_CHOICES),
        ),
        preconditions=_NEEDS_ORG_SCOPE,
        scope=SCOPE_ORG,
    ),
    WriteOperation(
        name="remove_membership",
        label="Remove a membership",
        item_kinds=_MEMBERSHIP,
        preconditions=_NEEDS_ORG_SCOPE,
        scope=SCOPE_ORG,
    ),
)


class NorthWrites:
    api: NorthClient

    if TYPE_CHECKING:  # provided by NorthConnector

        def org_id(self) -> str: ...

    def members(self, team_id: str) -> list[MembershipRecord]:
        """The team's memberships as North has them now, by name (what the members form shows)."""
        raw = self.api.memberships(self.org_id(), team_id)
        found = [m for item in raw if isinstance(item, Mapping) and (m := map_membership(item, team_id))]
        return sorted(found, key=lambda m: (m.person.name.lower(), m.person.external_id))

    def update_membership(self, org_id: str | int, team_id: str | int, user_id: str | int, type: str) -> MembershipRecord:  # noqa: A002
        """Change a membership's type (PATCH); returns the membership as North answers it."""
        if type not in MEMBERSHIP_TYPES:
            raise VendorValidationError(
                f"Membership type must be one of {', '.join(MEMBERSHIP_TYPES)}",
                field_errors={"type": [f'"{type}" is not a valid choice.']},
                status=None,
            )
        path = self.api.membership_path(str(org_id), str(team_id), str(user_id))
        body = self.api.write("PATCH", path, {"type": type})
        record = map_membership(body, str(team_id)) if isinstance(body, Mapping) else None
        if record is None:
            raise PermanentError("North answered the membership change without a membership", endpoint=f"PATCH /{path}")
        return record

    def remove_membership(self, org_id: str | int, team_id: str | int, user_id: str | int) -> None:
        """Remove a membership (DELETE, 204). From the root team, North removes the person from every team."""
        self.api.write("DELETE", self.api.membership_path(str(org_id), str(team_id), str(user_id)))
