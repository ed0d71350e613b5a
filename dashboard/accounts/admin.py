"""API tokens in the Django admin: list, search and revoke. Tokens are created by their owner
(API tokens page or ``manage.py apitoken create``) because the raw token is shown only once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from dashboard.accounts.models import ApiToken

# ModelAdmin is generic only in django-stubs (no runtime __class_getitem__ without django_stubs_ext).
if TYPE_CHECKING:
    _ApiTokenAdminBase = admin.ModelAdmin[ApiToken]
else:
    _ApiTokenAdminBase = admin.ModelAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(_ApiTokenAdminBase):
    list_display = ["name", "user", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), ("expires_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["user", "name", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]
    exclude = ["token_hash"]
    actions = ["revoke_tokens"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected API tokens")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
