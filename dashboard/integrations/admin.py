"""Django admin for integrations. Secrets never appear: the encrypted value is excluded from
every form and list, and secrets are entered on the connector pages (tested before saving)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from dashboard.integrations.models import Connector, Credential, StreamResult, SyncCursor, SyncRun

SECRET_FIELDS = ("secret_encrypted",)

# The admin classes are generic only in django-stubs (no runtime __class_getitem__ without django_stubs_ext).
if TYPE_CHECKING:
    _ConnectorAdminBase = admin.ModelAdmin[Connector]
    _CredentialAdminBase = admin.ModelAdmin[Credential]
    _StreamResultInlineBase = admin.TabularInline[StreamResult, SyncRun]
    _SyncRunAdminBase = admin.ModelAdmin[SyncRun]
    _SyncCursorAdminBase = admin.ModelAdmin[SyncCursor]
else:
    _ConnectorAdminBase = _CredentialAdminBase = _SyncRunAdminBase = _SyncCursorAdminBase = admin.ModelAdmin
    _StreamResultInlineBase = admin.TabularInline


@admin.register(Connector)
class ConnectorAdmin(_ConnectorAdminBase):
    list_display = ("name", "vendor", "base_url", "interval_minutes", "enabled", "allow_shared_writes")
    list_filter = ("vendor", "enabled")
    search_fields = ("name", "base_url")

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        from dashboard.integrations.forms import ConnectorForm

        kwargs["form"] = ConnectorForm  # the same base URL safety rules as the connector pages
        return super().get_form(request, obj, change, **kwargs)


@admin.register(Credential)
class CredentialAdmin(_CredentialAdminBase):
    list_display = ("id", "connector", "owner", "is_shared", "account_name", "status", "last_success_at", "consecutive_failures")
    list_filter = ("status", "is_shared", "connector")
    search_fields = ("owner__username", "account_name", "label")
    exclude = SECRET_FIELDS
    readonly_fields = (
        "connector",
        "owner",
        "is_shared",
        "secret_hint",
        "secret_set_at",
        "account_name",
        "account_detail",
        "can_write",
        "write_disabled_reason",
        "missing_scopes",
        "consecutive_failures",
        "last_sync_at",
        "last_success_at",
        "last_error",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a credential needs a secret: add it on Connections or the connector pages


class StreamResultInline(_StreamResultInlineBase):
    model = StreamResult
    extra = 0
    can_delete = False
    readonly_fields = ("stream", "status", "complete", "fetched", "created", "updated", "unchanged", "removed", "error")


@admin.register(SyncRun)
class SyncRunAdmin(_SyncRunAdminBase):
    list_display = ("id", "credential", "trigger", "status", "reason", "created_at", "duration_seconds", "requests_made")
    list_filter = ("status", "trigger")
    inlines = [StreamResultInline]

    def get_readonly_fields(self, request: HttpRequest, obj: SyncRun | None = None) -> list[str]:
        return [f.name for f in SyncRun._meta.fields]


@admin.register(SyncCursor)
class SyncCursorAdmin(_SyncCursorAdminBase):
    list_display = ("credential", "stream", "updated_at")
