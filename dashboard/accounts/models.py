"""Personal API tokens for the read API (issue #9).

A token is shown once, at creation; only its SHA-256 hash is stored (plus a short prefix so the
owner can tell tokens apart). SHA-256 without a salt is enough here: the token is 256 bits of
randomness, so there is nothing to brute-force, and a plain hash allows an indexed lookup.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'weekly report script'.")
    prefix = models.CharField(max_length=16, help_text="The first characters of the token, to tell tokens apart.")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 (hex) of the token; the token itself is never stored.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
