"""Admin connector pages: connectors, every credential's sync health, shared credentials.

Members get a 404 here (``admin_required``): the pages' existence does not leak.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.accounts.roles import admin_required
from dashboard.core.http import AppRequest
from dashboard.integrations.forms import SECRET_FIELD_NAMES, ConnectorForm, SecretForm, SharingForm
from dashboard.integrations.models import Connector, Credential
from dashboard.integrations.services import connections as service
from dashboard.integrations.views_common import audience, sync_health

# The same rule as ``sync_health``: re-entry, paused, or an error newer than the last success.
FAILING = (
    ~Q(status=Credential.Status.ACTIVE)
    | Q(consecutive_failures__gt=0)
    | (~Q(last_error="") & (Q(last_success_at__isnull=True) | Q(last_sync_at__gt=F("last_success_at"))))
)
HEALTH_FILTERS = {"all": ("All", Q()), "failing": ("Needs attention", FAILING)}


def _health_rows(credentials: Iterable[Credential]) -> list[dict[str, object]]:
    return [{"credential": c, "health": sync_health(c), "audience": audience(c)} for c in credentials]


def _credentials() -> QuerySet[Credential]:
    return Credential.objects.select_related("connector", "owner").prefetch_related("groups")


@admin_required
def connector_list(request: AppRequest) -> HttpResponse:
    connectors = Connector.objects.annotate(
        credential_count=Count("credentials"),
        failing_count=Count("credentials", filter=Q(credentials__in=Credential.objects.filter(FAILING))),
    ).order_by("name")
    health_filter = request.GET.get("health", "all")
    if health_filter not in HEALTH_FILTERS:
        health_filter = "all"
    credentials = _credentials().filter(HEALTH_FILTERS[health_filter][1]).order_by("connector__name", "is_shared", "owner__username", "id")
    page = Paginator(credentials, 50).get_page(request.GET.get("page"))
    context = {
        "connectors": connectors,
        "health_rows": _health_rows(page.object_list),
        "page": page,
        "health_filter": health_filter,
        "health_filters": [(key, label) for key, (label, _q) in HEALTH_FILTERS.items()],
    }
    if request.htmx and request.htmx.target == "sync-health":
        return render(request, "integrations/connectors.html#sync-health", context)
    return render(request, "integrations/connectors.html", context)


@admin_required
@require_http_methods(["GET", "POST"])
def connector_add(request: AppRequest) -> HttpResponse:
    form = ConnectorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        connector = form.save()
        messages.success(request, f"Connector {connector.name} added. Members can now connect their accounts.")
        return redirect("integrations:connector_detail", connector_id=connector.pk)
    return render(request, "integrations/connector_form.html", {"form": form, "connector": None})


@admin_required
@require_http_methods(["GET", "POST"])
def connector_detail(request: AppRequest, connector_id: int) -> HttpResponse:
    connector = get_object_or_404(Connector, pk=connector_id)
    form = ConnectorForm(request.POST or None, instance=connector)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Connector {connector.name} saved.")
        return redirect("integrations:connector_detail", connector_id=connector.pk)
    rows = _health_rows(_credentials().filter(connector=connector).order_by("-is_shared", "owner__username", "id"))
    shared = [row for row in rows if row["credential"].is_shared]  # type: ignore[attr-defined]
    context = {"form": form, "connector": connector, "health_rows": rows, "shared": shared}
    return render(request, "integrations/connector_form.html", context)


@admin_required
@require_POST
def connector_toggle(request: AppRequest, connector_id: int) -> HttpResponse:
    connector = get_object_or_404(Connector, pk=connector_id)
    connector.enabled = not connector.enabled
    connector.save(update_fields=["enabled", "updated_at"])
    state = "enabled" if connector.enabled else "disabled: it is not synced and its data is hidden"
    messages.success(request, f"Connector {connector.name} {state}.")
    return redirect(request.POST.get("next") or reverse("integrations:connector_detail", args=[connector.pk]))


@admin_required
@require_http_methods(["GET", "POST"])
def connector_delete(request: AppRequest, connector_id: int) -> HttpResponse:
    connector = get_object_or_404(Connector, pk=connector_id)
    if request.method == "POST":
        name = connector.name
        connector.delete()
        messages.success(request, f"Connector {name} deleted with its credentials and synced data.")
        return redirect("integrations:connector_list")
    context = {
        "title": f"Delete connector {connector.name}?",
        "consequence": f"Its {connector.credentials.count()} credential(s) and every item they synced are deleted. "
        "Members lose this data at once. To pause it instead, disable the connector.",
        "cancel_url": reverse("integrations:connector_detail", args=[connector.pk]),
        "button": "Delete connector",
    }
    return render(request, "integrations/confirm_delete.html", context)


# --------------------------------------------------------------------------------------------
# Shared credentials
# --------------------------------------------------------------------------------------------


def _shared_credential(credential_id: int) -> Credential:
    return get_object_or_404(_credentials(), pk=credential_id, is_shared=True)


@admin_required
@sensitive_post_parameters(*SECRET_FIELD_NAMES)
@sensitive_variables("secret_form")
@require_http_methods(["GET", "POST"])
def shared_add(request: AppRequest, connector_id: int) -> HttpResponse:
    connector = get_object_or_404(Connector, pk=connector_id)
    sharing = SharingForm(request.POST or None, initial={"share_with_everyone": True})
    secret_form = SecretForm(request.POST or None, vendor=connector.vendor)
    outcome = None
    if request.method == "POST" and sharing.is_valid() and secret_form.is_valid():
        result = service.add_shared_credential(
            connector,
            secret_form.secret(),
            share_with_everyone=sharing.cleaned_data["share_with_everyone"],
            groups=sharing.cleaned_data["groups"],
            label=sharing.cleaned_data["label"],
        )
        if result.credential is not None:
            messages.success(request, f"Shared credential added. {result.outcome.message}")
            return redirect("integrations:connector_detail", connector_id=connector.pk)
        outcome = result.outcome
        secret_form = SecretForm(vendor=connector.vendor)  # never echo a refused secret
    context = {"connector": connector, "sharing": sharing, "secret_form": secret_form, "outcome": outcome, "credential": None}
    return render(request, "integrations/shared_credential.html", context)


@admin_required
@sensitive_post_parameters(*SECRET_FIELD_NAMES)
@sensitive_variables("secret_form")
@require_http_methods(["GET", "POST"])
def shared_edit(request: AppRequest, credential_id: int) -> HttpResponse:
    """Change who sees a shared credential's data, or replace its secret (two forms, one page)."""
    credential = _shared_credential(credential_id)
    connector = credential.connector
    initial = {"label": credential.label, "share_with_everyone": credential.share_with_everyone, "groups": list(credential.groups.all())}
    action = request.POST.get("action")
    sharing = SharingForm(request.POST if action == "sharing" else None, initial=initial)
    secret_form = SecretForm(request.POST if action == "secret" else None, vendor=connector.vendor, hint=credential.secret_hint)
    outcome = None
    if action == "sharing" and sharing.is_valid():
        credential.label = sharing.cleaned_data["label"]
        credential.share_with_everyone = sharing.cleaned_data["share_with_everyone"]
        credential.save(update_fields=["label", "share_with_everyone"])
        credential.groups.set(sharing.cleaned_data["groups"])
        Connector.bump_data_version(connector.pk)  # who sees what changed: no cached page may lag
        messages.success(request, "Sharing saved: visibility changes at once.")
        return redirect("integrations:shared_edit", credential_id=credential.pk)
    if action == "secret" and secret_form.is_valid():
        result = service.replace_secret(credential, secret_form.secret(), user=request.user)
        if result.credential is not None:
            messages.success(request, f"Secret replaced. {result.outcome.message}")
            return redirect("integrations:shared_edit", credential_id=credential.pk)
        outcome = result.outcome
        secret_form = SecretForm(vendor=connector.vendor, hint=credential.secret_hint)
    context = {
        "connector": connector,
        "credential": credential,
        "health": sync_health(credential),
        "sharing": sharing,
        "secret_form": secret_form,
        "outcome": outcome,
    }
    return render(request, "integrations/shared_credential.html", context)


@admin_required
@require_POST
def shared_test(request: AppRequest, credential_id: int) -> HttpResponse:
    credential = _shared_credential(credential_id)
    outcome = service.test_connection(credential)
    if request.htmx:
        return render(request, "integrations/connections.html#test-result", {"outcome": outcome, "credential": credential})
    messages.info(request, outcome.message)
    return redirect("integrations:shared_edit", credential_id=credential.pk)


@admin_required
@require_http_methods(["GET", "POST"])
def shared_delete(request: AppRequest, credential_id: int) -> HttpResponse:
    credential = _shared_credential(credential_id)
    connector_id = credential.connector_id
    if request.method == "POST":
        service.disconnect(credential)
        messages.success(request, "Shared credential deleted; its data left everyone's views.")
        return redirect("integrations:connector_detail", connector_id=connector_id)
    context = {
        "title": f"Delete the shared credential {credential.display_label}?",
        "consequence": f"{audience(credential)}: they lose what only this credential could see, at once.",
        "cancel_url": reverse("integrations:shared_edit", args=[credential.pk]),
        "button": "Delete credential",
    }
    return render(request, "integrations/confirm_delete.html", context)
