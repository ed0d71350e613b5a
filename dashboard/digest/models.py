"""The weekly digest (issue #18): who wants it and when, and one delivery row per user and week.

A delivery is keyed by (user, week_start) so a week's digest can be claimed once: see
``docs/digest.md`` for the never-twice rule the sender follows.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"), (5, "Saturday"), (6, "Sunday")]


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name this system knows (zoneinfo), sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError("“%(value)s” is not a time zone name such as Europe/Berlin.", params={"value": value[:60]})


def week_start_in(zone: str, moment: datetime) -> date:
    """The Monday of ``moment``'s week, in ``zone``."""
    local = moment.astimezone(zoneinfo.ZoneInfo(zone))
    return local.date() - timedelta(days=local.weekday())


def _default_time_zone() -> str:
    return str(settings.TIME_ZONE)


class DigestSubscription(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscription")
    enabled = models.BooleanField(default=False)
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, default=0, validators=[MaxValueValidator(6)])
    hour = models.PositiveSmallIntegerField(default=8, validators=[MinValueValidator(0), MaxValueValidator(23)])
    timezone = models.CharField(max_length=64, default=_default_time_zone, validators=[validate_time_zone])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="digest_weekday_0_6"),
            models.CheckConstraint(condition=models.Q(hour__lte=23), name="digest_hour_0_23"),
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"digest of {self.user_id}: {state}, {self.get_weekday_display()} {self.hour:02d}:00 {self.timezone}"

    def week_start(self, moment: datetime) -> date:
        return week_start_in(self.timezone, moment)


class DigestDelivery(models.Model):
    """One user's digest of one week (``week_start``: the Monday, in the user's zone)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"  # claimed by a worker; the SMTP transaction is under way
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"  # the SMTP server refused or was unreachable; retried
        FAILED_UNKNOWN = "failed_unknown", "Unknown (worker lost mid-send)"  # never resent automatically
        SKIPPED_EMPTY = "skipped_empty", "Skipped: nothing to report"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_deliveries")
    week_start = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="", help_text="Scrubbed of secrets.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "week_start"], name="digest_one_delivery_per_week")]
        ordering = ["-week_start", "user_id"]

    def __str__(self) -> str:
        return f"digest of {self.user_id} for the week of {self.week_start}: {self.status}"
