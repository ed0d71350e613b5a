"""Alignments in the audit trail (issue #21): who linked or unlinked which goals, and when;
links removed with a vendor item are recorded as the system's doing."""

from __future__ import annotations

from typing import Any

from django.test import Client

from dashboard.audit.models import AuditEvent


def test_aligning_and_unaligning_are_in_the_trail(client: Client, world: dict[str, Any]) -> None:
    client.force_login(world["member"])
    child, parent = world["o_goal"], world["n_goal"]
    assert client.post(f"/goals/{child.pk}/align/", {"parent": f"goal:{parent.pk}"}).status_code == 303
    assert client.post(f"/goals/{child.pk}/unalign/").status_code == 303

    created, removed = AuditEvent.objects.filter(area="alignment").order_by("id")
    assert (created.action, created.actor_name, created.source) == ("alignment.created", "mia", "web")
    assert created.target_label == "Ship the new billing → Grow revenue" and created.summary == "aligned by hand"
    assert (removed.action, removed.actor_name, removed.target_label) == ("alignment.removed", "mia", "Ship the new billing → Grow revenue")


def test_a_link_removed_with_its_goal_is_recorded(world: dict[str, Any]) -> None:
    from dashboard.alignment.services import align

    align(world["admin"], world["o_goal"], "team", world["n_team"].pk)
    world["n_team"].delete()  # what a sync does when the vendor no longer has it
    removed = AuditEvent.objects.get(action="alignment.removed")
    assert removed.actor_name == "system" and removed.target_id
    assert removed.target_label == "Ship the new billing → Platform"  # read before the team row goes
