"""The audit trail (issue #21): who changed connectors, credentials, shared grants, alignments
and write-backs, and when.

One row per change, written by ``dashboard.audit.signals`` whatever the path (pages, Django
admin, the command line). ``changes`` holds ``{field: [old, new]}`` for configuration fields
only; secrets never appear: a replaced secret is recorded as ``{"secret": ["…", "replaced"]}``.
Rows keep the actor's name and the target's label, so they read the same after either is
deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    class Area(models.TextChoices):
        CONNECTOR = "connector", "Connectors"
        CREDENTIAL = "credential", "Credentials"
        GRANT = "grant", "Shared grants"
        ALIGNMENT = "alignment", "Alignments"
        WRITEBACK = "writeback", "Write-backs"

    class Source(models.TextChoices):
        WEB = "web", "Web page"
        ADMIN = "admin", "Django admin"
        API = "api", "API"
        CLI = "cli", "Command line"
        SYSTEM = "system", "System"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, help_text="Kept when the user is deleted.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SYSTEM)
    area = models.CharField(max_length=20, choices=Area.choices, db_index=True)
    action = models.CharField(max_length=40, help_text="e.g. connector.created, credential.secret_replaced")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_label = models.CharField(max_length=300, blank=True, default="")
    summary = models.CharField(max_length=500, blank=True, default="")
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [old, new]}; never secrets.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["area", "-created_at"]), models.Index(fields=["actor_name", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_label}"
