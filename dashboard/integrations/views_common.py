"""Display helpers shared by the member and admin pages (no secrets pass through here)."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.integrations.models import Credential


@dataclass(frozen=True)
class SyncHealth:
    css: str  # one of the health chip classes of app.css
    label: str


def sync_health(credential: Credential) -> SyncHealth:
    """One word and a colour for a credential's state, as the design asks for status."""
    if credential.status == Credential.Status.NEEDS_REENTRY:
        return SyncHealth("off_track", "Needs re-entry")
    if credential.status == Credential.Status.PAUSED:
        return SyncHealth("off_track", "Paused")
    if credential.last_error and (
        not credential.last_success_at or (credential.last_sync_at or credential.last_success_at) > credential.last_success_at
    ):
        return SyncHealth("needs_attention", "Last sync failed")
    if credential.last_success_at:
        return SyncHealth("on_track", "Healthy")
    return SyncHealth("unknown", "Not synced yet")


def audience(credential: Credential) -> str:
    """Who sees a credential's data, in words."""
    if not credential.is_shared:
        return credential.owner.get_username() if credential.owner else "?"
    if credential.share_with_everyone:
        return "Shared with everyone"
    names = [g.name for g in credential.groups.all()]  # prefetched by the views
    return "Shared with " + (", ".join(names) if names else "nobody yet")
