"""Digest subscriptions and deliveries in the Django admin: deliveries are read-only records
(``failed_unknown`` rows are the ones an admin may have to look at; see docs/digest.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from dashboard.digest.models import DigestDelivery, DigestSubscription

# ModelAdmin is generic only in django-stubs (no runtime __class_getitem__ without django_stubs_ext).
if TYPE_CHECKING:
    _SubscriptionAdminBase = admin.ModelAdmin[DigestSubscription]
    _DeliveryAdminBase = admin.ModelAdmin[DigestDelivery]
else:
    _SubscriptionAdminBase = _DeliveryAdminBase = admin.ModelAdmin


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(_SubscriptionAdminBase):
    list_display = ["user", "enabled", "weekday", "hour", "timezone", "updated_at"]
    list_filter = ["enabled", "weekday"]
    search_fields = ["user__username", "user__email"]


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(_DeliveryAdminBase):
    list_display = ["user", "week_start", "status", "attempts", "sent_at", "message_id"]
    list_filter = ["status"]
    search_fields = ["user__username", "message_id"]
    readonly_fields = [
        "user",
        "week_start",
        "status",
        "attempts",
        "last_error",
        "claimed_at",
        "sent_at",
        "message_id",
        "created_at",
        "updated_at",
    ]
