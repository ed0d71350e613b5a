"""Personal API tokens for the read API (issue #9).

A token is shown once, at creation; only its SHA-256 hash is stored (plus a short prefix so the
owner can tell tokens apart). SHA-256 without a salt is enough here: the token is 256 bits of
randomness, so there is nothing to brute-force, and a plain hash allows an indexed lookup.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

SCOPES = {
    "read": "Read goals, key results, work items, teams, people and sync runs",
    "sync": "Start syncs of your own credentials (and follow their runs)",
}
"""What a token may do. Sessions (the browser) are not scoped: they act as their user."""


def default_scopes() -> list[str]:
    return ["read"]


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        """Neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now()))


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'weekly report script'.")
    prefix = models.CharField(max_length=16, help_text="The first characters of the token, to tell tokens apart.")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 (hex) of the token; the token itself is never stored.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=default_scopes, help_text="What the token may do: 'read' and/or 'sync'.")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="After this the token is refused; empty: never expires.")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def status(self) -> str:
        """ "active", "revoked" or "expired" (revoked wins: it was a decision)."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired else "active"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
