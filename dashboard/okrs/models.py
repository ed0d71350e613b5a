"""The unified OKR model: one row per vendor item, one status vocabulary.

Visibility: each item row has ``seen_by`` (the credentials whose latest complete sync returned
it). A user sees an item when one of their visible credentials is in ``seen_by``; see
``dashboard.okrs.selectors``. Check-ins and snapshots follow their subject.
"""

from __future__ import annotations

from django.db import models

from connectors.base import Health, Kind, Outcome, State, WorkItemKind
from connectors.registry import VENDOR_CHOICES

HEALTH_CHOICES = [(h.value, h.value) for h in Health]
STATE_CHOICES = [(s.value, s.value) for s in State]
OUTCOME_CHOICES = [(o.value, o.value) for o in Outcome]
WORK_KIND_CHOICES = [(k.value, k.value) for k in WorkItemKind]


class VendorItem(models.Model):
    connector = models.ForeignKey("integrations.Connector", on_delete=models.CASCADE, related_name="+")
    vendor = models.CharField(max_length=20, choices=VENDOR_CHOICES, db_index=True)
    external_id = models.CharField(max_length=255)
    vendor_status = models.CharField(max_length=100, blank=True, default="")
    url = models.CharField(max_length=1000, blank=True, default="")
    raw = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True, help_text="The vendor's last update.")
    fingerprint = models.CharField(max_length=64, blank=True, default="", help_text="Hash of the stored values.")
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Team(VendorItem):
    name = models.CharField(max_length=500)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    parent_external_id = models.CharField(max_length=255, blank=True, default="")
    archived = models.BooleanField(default=False)
    private = models.BooleanField(default=False)
    # Materialised path of ids ("/1/4/9/") so subtree roll-ups are one SQL query.
    path = models.CharField(max_length=2000, blank=True, default="", db_index=True)
    depth = models.PositiveSmallIntegerField(default=0)
    seen_by = models.ManyToManyField("integrations.Credential", related_name="seen_teams", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connector", "external_id"], name="team_unique_item")]
        indexes = [models.Index(fields=["connector", "parent"])]

    def __str__(self) -> str:
        return self.name


class Person(VendorItem):
    name = models.CharField(max_length=300)
    email = models.EmailField(blank=True, default="", db_index=True)
    seen_by = models.ManyToManyField("integrations.Credential", related_name="seen_people", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connector", "external_id"], name="person_unique_item")]

    def __str__(self) -> str:
        return self.name


class TrackedItem(VendorItem):
    """Fields shared by goals, key results and work items."""

    title = models.CharField(max_length=1000)
    owners = models.JSONField(default=list, blank=True, help_text="Display names, primary owner first.")
    owner_external_ids = models.JSONField(default=list, blank=True)
    owners_text = models.CharField(max_length=2000, blank=True, default="", help_text="Lowercased '|a|b|' for search.")
    health = models.CharField(max_length=20, choices=HEALTH_CHOICES, default=Health.UNKNOWN, db_index=True)
    state = models.CharField(max_length=20, choices=STATE_CHOICES, default=State.ACTIVE, db_index=True)
    progress = models.FloatField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True, db_index=True)

    class Meta:
        abstract = True

    @staticmethod
    def owners_text_for(owners: list[str] | tuple[str, ...]) -> str:
        return ("|" + "|".join(o.lower() for o in owners) + "|") if owners else ""


class Goal(TrackedItem):
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="goals")
    team_external_id = models.CharField(max_length=255, blank=True, default="")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    parent_external_id = models.CharField(max_length=255, blank=True, default="")
    outcome = models.CharField(max_length=20, choices=OUTCOME_CHOICES, null=True, blank=True)  # noqa: DJ001 - null = "not closed"
    description = models.TextField(blank=True, default="", help_text="Safe text or sanitised HTML.")
    last_check_in_at = models.DateTimeField(null=True, blank=True)
    # is_stale == stale_at <= now. Set at sync time: vendor-decided staleness gives a date in the
    # past (or null); otherwise last check-in (or epoch) + STALE_AFTER_DAYS for active goals.
    stale_at = models.DateTimeField(null=True, blank=True, db_index=True)
    seen_by = models.ManyToManyField("integrations.Credential", related_name="seen_goals", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connector", "external_id"], name="goal_unique_item")]
        indexes = [models.Index(fields=["team", "health"])]

    def __str__(self) -> str:
        return self.title


class KeyResult(TrackedItem):
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.CASCADE, related_name="key_results")
    goal_external_id = models.CharField(max_length=255, blank=True, default="")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="key_results")
    team_external_id = models.CharField(max_length=255, blank=True, default="")
    start = models.FloatField(null=True, blank=True)
    target = models.FloatField(null=True, blank=True)
    current = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=100, blank=True, default="")
    last_check_in_at = models.DateTimeField(null=True, blank=True)
    seen_by = models.ManyToManyField("integrations.Credential", related_name="seen_key_results", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connector", "external_id"], name="kr_unique_item")]

    def __str__(self) -> str:
        return self.title


class WorkItem(TrackedItem):
    kind = models.CharField(max_length=20, choices=WORK_KIND_CHOICES, db_index=True)
    teams = models.ManyToManyField(Team, blank=True, related_name="work_items")
    team_external_ids = models.JSONField(default=list, blank=True)
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_items")
    goal_external_id = models.CharField(max_length=255, blank=True, default="")
    key_result_external_id = models.CharField(max_length=255, blank=True, default="")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    parent_external_id = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="", help_text="Safe text or sanitised HTML.")
    labels = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=20, choices=OUTCOME_CHOICES, null=True, blank=True)  # noqa: DJ001 - null = "not closed"
    involved = models.JSONField(default=list, blank=True, help_text="Display names of people involved who are not owners.")
    strategy_external_ids = models.JSONField(default=list, blank=True, help_text="The strategies an action serves (OGSM).")
    last_check_in_at = models.DateTimeField(null=True, blank=True)
    # Like Goal.stale_at: set only for kinds whose vendor has check-ins (connectors' check_in_kinds).
    stale_at = models.DateTimeField(null=True, blank=True, db_index=True)
    seen_by = models.ManyToManyField("integrations.Credential", related_name="seen_work_items", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connector", "kind", "external_id"], name="workitem_unique_item")]
        indexes = [models.Index(fields=["state", "due_date"])]

    def __str__(self) -> str:
        return self.title


class CheckIn(models.Model):
    connector = models.ForeignKey("integrations.Connector", on_delete=models.CASCADE, related_name="+")
    vendor = models.CharField(max_length=20, choices=VENDOR_CHOICES)
    external_id = models.CharField(max_length=255)
    subject_kind = models.CharField(max_length=20, choices=[(k.value, k.value) for k in (Kind.GOAL, Kind.KEY_RESULT, Kind.WORK_ITEM)])
    subject_external_id = models.CharField(max_length=255)
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.CASCADE, related_name="check_ins")
    key_result = models.ForeignKey(KeyResult, null=True, blank=True, on_delete=models.CASCADE, related_name="check_ins")
    work_item = models.ForeignKey(WorkItem, null=True, blank=True, on_delete=models.CASCADE, related_name="check_ins")
    created_at = models.DateTimeField(db_index=True)
    author = models.CharField(max_length=300, blank=True, default="")
    author_external_id = models.CharField(max_length=255, blank=True, default="")
    value = models.FloatField(null=True, blank=True)
    progress = models.FloatField(null=True, blank=True)
    health = models.CharField(max_length=20, choices=HEALTH_CHOICES, default=Health.UNKNOWN)
    vendor_status = models.CharField(max_length=100, blank=True, default="")
    comment = models.TextField(blank=True, default="")
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connector", "external_id"], name="checkin_unique_item")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"check-in {self.external_id} ({self.created_at:%Y-%m-%d})"


class ProgressSnapshot(models.Model):
    """Recorded by a sync whenever an item's progress or health changes."""

    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.CASCADE, related_name="snapshots")
    key_result = models.ForeignKey(KeyResult, null=True, blank=True, on_delete=models.CASCADE, related_name="snapshots")
    work_item = models.ForeignKey(WorkItem, null=True, blank=True, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(db_index=True)
    progress = models.FloatField(null=True, blank=True)
    health = models.CharField(max_length=20, choices=HEALTH_CHOICES, default=Health.UNKNOWN)

    class Meta:
        ordering = ["taken_at"]
        indexes = [models.Index(fields=["goal", "taken_at"]), models.Index(fields=["key_result", "taken_at"])]

    def __str__(self) -> str:
        return f"snapshot {self.taken_at:%Y-%m-%d %H:%M} {self.progress}"
