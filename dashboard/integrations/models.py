"""Connectors (admin-configured vendors), credentials (per user or shared), sync runs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

from connectors.registry import VENDOR_CHOICES
from dashboard.core import crypto


class Connector(models.Model):
    vendor = models.CharField(max_length=20, choices=VENDOR_CHOICES)
    name = models.CharField(max_length=100, unique=True, help_text="Display name, also used by the CLI.")
    base_url = models.URLField(max_length=500)
    interval_minutes = models.PositiveIntegerField(default=60, help_text="How often credentials are synced.")
    enabled = models.BooleanField(default=True)
    allow_shared_writes = models.BooleanField(default=False, help_text="Allow writes through shared credentials.")
    options = models.JSONField(default=dict, blank=True, help_text="Vendor options, e.g. an Operately API profile.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped whenever data seen through this connector may have changed (sync, write-back,
    # disconnect, sharing): part of the dashboard's cache keys, so a cached summary never
    # outlives a change. One row per connector: a bump is a single-row UPDATE, so concurrent
    # runs never deadlock on it.
    data_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def bump_data_version(cls, connector_id: int) -> None:
        """Invalidate cached dashboard data of every credential of this connector (one UPDATE
        of its row).

        Items belong to a connector and may be seen by several of its credentials, so a change
        written through one credential is a change for all of them."""
        cls.objects.filter(pk=connector_id).update(data_version=models.F("data_version") + 1)


class Credential(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        NEEDS_REENTRY = "needs_reentry", "Needs re-entry"
        PAUSED = "paused", "Paused after repeated failures"

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="credentials")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="credentials")
    # Shared credentials have no owner; they are granted to everyone or to chosen groups.
    is_shared = models.BooleanField(default=False)
    share_with_everyone = models.BooleanField(default=False)
    groups = models.ManyToManyField(Group, blank=True, related_name="shared_credentials")
    label = models.CharField(max_length=100, blank=True, default="")

    secret_encrypted = models.TextField(blank=True, default="", editable=False)
    secret_hint = models.CharField(max_length=8, blank=True, default="", help_text="Last 4 characters only.")
    secret_set_at = models.DateTimeField(null=True, blank=True)

    account_name = models.CharField(max_length=200, blank=True, default="")
    account_detail = models.CharField(max_length=300, blank=True, default="")
    can_write = models.BooleanField(default=True)
    write_disabled_reason = models.CharField(max_length=300, blank=True, default="")
    missing_scopes = models.JSONField(default=list, blank=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=500, blank=True, default="")
    # When the sync engine paused the credential or asked for re-entry (a secret entered after
    # this lets the owner's "sync now" run again).
    status_changed_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_shared=True, owner__isnull=True) | models.Q(is_shared=False, owner__isnull=False),
                name="credential_owner_xor_shared",
            )
        ]

    def __str__(self) -> str:
        who = "shared" if self.is_shared else str(self.owner)
        return f"{self.connector} / {who}"

    # -- secrets: never rendered back; only the hint leaves this model --------------------------
    def set_secret(self, secret: dict[str, str]) -> None:
        self.secret_encrypted = crypto.encrypt_json(secret)
        main = secret.get("token") or secret.get("password") or ""
        self.secret_hint = main[-4:] if len(main) >= 8 else ""
        self.secret_set_at = timezone.now()
        if self.status == self.Status.NEEDS_REENTRY:
            self.status = self.Status.ACTIVE
            self.status_reason = ""
        self.consecutive_failures = 0

    def get_secret(self) -> dict[str, str]:
        """Decrypt; raises ``crypto.DecryptionFailed`` (callers mark the credential for re-entry)."""
        if not self.secret_encrypted:
            raise crypto.DecryptionFailed("No secret is stored for this credential.")
        return crypto.decrypt_json(self.secret_encrypted)

    def mark_needs_reentry(self, reason: str) -> None:
        self.status = self.Status.NEEDS_REENTRY
        self.status_reason = reason[:500]
        self.save(update_fields=["status", "status_reason"])

    @property
    def display_label(self) -> str:
        if self.label:
            return self.label
        if self.account_name:
            return f"{self.connector.name}: {self.account_name}"
        return self.connector.name


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        MANUAL = "manual"
        CLI = "cli"
        API = "api"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        PARTIAL = "partial"
        FAILED = "failed"
        SKIPPED = "skipped"

    FINISHED = (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED, Status.SKIPPED)

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="runs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    task_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    requests_made = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="", help_text="Scrubbed; names the endpoint.")
    # Why the scheduler queued this run (its interval passed, or an early retry of a partial run);
    # kept apart from ``error``, which the run's outcome overwrites.
    reason = models.CharField(max_length=300, blank=True, default="", help_text="Why the scheduler queued this run.")
    # progress, for the live progress bar
    current_stream = models.CharField(max_length=50, blank=True, default="")
    streams_done = models.PositiveSmallIntegerField(default=0)
    streams_total = models.PositiveSmallIntegerField(default=0)
    items_done = models.PositiveIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=0)
    # Touched with every progress update: a run whose heartbeat stopped is an abandoned run.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["credential", "-created_at"])]

    def __str__(self) -> str:
        return f"run {self.pk} {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.streams_total:
            return 0
        return min(99, int(self.streams_done * 100 / self.streams_total))

    def counts(self) -> dict[str, Any]:
        totals = {"fetched": 0, "created": 0, "updated": 0, "unchanged": 0, "removed": 0}
        for result in self.stream_results.all():
            for key in totals:
                totals[key] += getattr(result, key)
        return totals


class StreamResult(models.Model):
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="stream_results")
    stream = models.CharField(max_length=50)
    status = models.CharField(max_length=20, default="running")  # running, succeeded, failed, skipped
    complete = models.BooleanField(default=False)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    # A complete read that would have removed (nearly) everything: nothing was removed, the stream
    # is failed, and the next complete read that agrees confirms the removal (``sync.links``).
    held_back = models.BooleanField(default=False)

    class Meta:
        unique_together = [("run", "stream")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.stream}: {self.status}"


class SyncCursor(models.Model):
    """Per credential and stream: where an incremental stream left off."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=50)
    value = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        unique_together = [("credential", "stream")]

    def __str__(self) -> str:
        return f"cursor {self.stream} of credential {self.credential_id}"
