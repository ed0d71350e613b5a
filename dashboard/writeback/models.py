"""The write-back audit log (issue #10): one row per write attempt made from the dashboard.

It lives in the write-back app (issue #19); its table keeps the name it had when it was part of
``integrations`` (``integrations_auditlog``), so moving it changed no data. Kept apart from the
sync models because it answers a different question ("who changed what at
the vendor, and what did the vendor say"). ``sent`` holds the fields we sent, never secrets;
``vendor_summary`` is the vendor's answer in one scrubbed line.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        REJECTED = "rejected", "Rejected by the vendor"  # validation errors (400/422)
        FAILED = "failed", "Failed"  # downtime, timeouts, unexpected answers
        REFUSED = "refused", "Refused"  # no write access (read-only, missing scope, 403)
        CONFLICT = "conflict", "Conflict"  # the item changed at the vendor; nothing was sent

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150, help_text="Kept when the user is deleted.")
    connector = models.ForeignKey("integrations.Connector", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    connector_name = models.CharField(max_length=100)
    vendor = models.CharField(max_length=20)
    credential = models.ForeignKey("integrations.Credential", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    operation = models.CharField(max_length=40, db_index=True)
    item_kind = models.CharField(max_length=30)
    item_external_id = models.CharField(max_length=255, blank=True, default="")
    item_title = models.CharField(max_length=500, blank=True, default="")
    sent = models.JSONField(default=dict, blank=True, help_text="The fields sent to the vendor (never secrets).")
    outcome = models.CharField(max_length=20, choices=Outcome.choices, db_index=True)
    vendor_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The vendor's HTTP status, when known.")
    vendor_summary = models.TextField(blank=True, default="")

    class Meta:
        db_table = "integrations_auditlog"  # the table of integrations.AuditLog, moved without copying
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connector", "-created_at"], name="integration_connect_896688_idx")]

    def __str__(self) -> str:
        return f"{self.username} {self.operation} {self.vendor}:{self.item_external_id} {self.outcome}"

    @property
    def succeeded(self) -> bool:
        return self.outcome == self.Outcome.SUCCEEDED
