"""Cross-vendor alignment (issue #18): links OKR Hub stores itself, because no vendor can hold a
link to another vendor's goal. Always OKR Hub's own data, never written back to a vendor.

Both ends are vendor rows: deleting a goal or team (a sync that finds it gone) deletes its links
and suggestions (CASCADE).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from dashboard.okrs.models import Goal, Team

ONE_PARENT = Q(parent_goal__isnull=False, parent_team__isnull=True) | Q(parent_goal__isnull=True, parent_team__isnull=False)


class Alignment(models.Model):
    """``child_goal`` is aligned under ``parent_goal`` or ``parent_team`` (exactly one), of
    another connector. One aligned parent per goal."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        SUGGESTION = "suggestion", "Accepted suggestion"

    child_goal = models.OneToOneField(Goal, on_delete=models.CASCADE, related_name="alignment")
    parent_goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.CASCADE, related_name="alignments_under")
    parent_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="alignments_under")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        constraints = [models.CheckConstraint(condition=ONE_PARENT, name="alignment_exactly_one_parent")]

    def __str__(self) -> str:
        return f"alignment of goal {self.child_goal_id}"

    @property
    def parent(self) -> Goal | Team:
        return self.parent_goal if self.parent_goal_id else self.parent_team  # type: ignore[return-value]


class AlignmentSuggestion(models.Model):
    """A likely link found by :mod:`dashboard.alignment.suggestions`; unique per (child, parent)
    so a dismissed one stays dismissed when suggestions are computed again."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    child_goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="alignment_suggestions")
    parent_goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    parent_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list, blank=True, help_text="Why, in words: 'similar title (87 %)', ...")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=ONE_PARENT, name="suggestion_exactly_one_parent"),
            models.UniqueConstraint(
                fields=["child_goal", "parent_goal"], condition=Q(parent_goal__isnull=False), name="suggestion_unique_goal"
            ),
            models.UniqueConstraint(
                fields=["child_goal", "parent_team"], condition=Q(parent_team__isnull=False), name="suggestion_unique_team"
            ),
        ]

    def __str__(self) -> str:
        return f"suggestion for goal {self.child_goal_id} ({self.status})"

    @property
    def parent(self) -> Goal | Team:
        return self.parent_goal if self.parent_goal_id else self.parent_team  # type: ignore[return-value]
