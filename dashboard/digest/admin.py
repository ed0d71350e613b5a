"""Digest subscriptions and deliveries in the Django admin: deliveries are read-only records
(``failed_unknown`` rows are the ones an admin may have to look at; see docs/digest.md), with
one action: send a failed or lost delivery again, by hand."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

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


RESENDABLE = (DigestDelivery.Status.FAILED, DigestDelivery.Status.FAILED_UNKNOWN)


def _dispatch(delivery_id: int) -> None:
    from dashboard.digest.tasks import send_digest

    send_digest.delay(delivery_id)


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(_DeliveryAdminBase):
    list_display = ["user", "week_start", "status", "attempts", "claimed_at", "sent_at", "message_id"]
    list_filter = ["status", "week_start"]
    actions = ["send_again"]
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

    @admin.action(description="Send again (failed or unknown deliveries only)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[DigestDelivery]) -> None:
        """The by-hand resend of docs/digest.md: an admin who checked that a ``failed_unknown``
        digest did not arrive (its message id is on the row) sends it again."""
        with transaction.atomic():
            ids = list(queryset.filter(status__in=RESENDABLE).select_for_update().values_list("pk", flat=True))
            DigestDelivery.objects.filter(pk__in=ids).update(status=DigestDelivery.Status.PENDING)
            for delivery_id in ids:
                transaction.on_commit(partial(_dispatch, delivery_id))
        skipped = queryset.count() - len(ids)
        note = f" {skipped} neither failed nor unknown: left alone." if skipped else ""
        self.message_user(request, f"{len(ids)} queued to be sent again.{note}", messages.WARNING if skipped else messages.SUCCESS)
