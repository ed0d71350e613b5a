"""Members' "My connections": connect, test, replace the secret, disconnect.

Every credential URL is looked up with ``owner=request.user``: another member's id is a 404,
whether it exists or not. Views that receive secrets are ``sensitive_post_parameters``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.core.http import AppRequest
from dashboard.integrations.forms import SECRET_FIELD_NAMES, SecretForm
from dashboard.integrations.models import Connector, Credential
from dashboard.integrations.services import connections as service
from dashboard.integrations.views_common import SyncHealth, sync_health
from dashboard.integrations.visibility import shared_credentials_for

TEMPLATE = "integrations/connections.html"


@dataclass
class ConnectionRow:
    connector: Connector
    credential: Credential | None
    shared: list[Credential]
    form: SecretForm
    form_open: bool = False
    outcome: service.CheckOutcome | None = None
    notice: str = ""
    health: SyncHealth | None = field(default=None)

    @property
    def host(self) -> str:
        return urlsplit(self.connector.base_url).netloc

    @property
    def uses_password(self) -> bool:
        return service.uses_password(self.connector.vendor)


def _own_credential(request: AppRequest, credential_id: int) -> Credential:
    return get_object_or_404(Credential.objects.select_related("connector"), pk=credential_id, owner=request.user, is_shared=False)


def _shared_for(user: Any) -> dict[int, list[Credential]]:
    shared = shared_credentials_for(user).filter(connector__enabled=True).select_related("connector").order_by("label", "id")
    by_connector: dict[int, list[Credential]] = {}
    for credential in shared:
        by_connector.setdefault(credential.connector_id, []).append(credential)
    return by_connector


def _row(connector: Connector, credential: Credential | None, shared: list[Credential], **extra: Any) -> ConnectionRow:
    form = extra.pop("form", None) or SecretForm(vendor=connector.vendor, hint=credential.secret_hint if credential else "")
    row = ConnectionRow(connector, credential, shared, form, **extra)
    if credential is not None:
        row.health = sync_health(credential)
    return row


def _rows(request: AppRequest, overrides: dict[int, dict[str, Any]] | None = None) -> list[ConnectionRow]:
    overrides = overrides or {}
    connectors = list(Connector.objects.filter(enabled=True).order_by("name"))
    own = {c.connector_id: c for c in Credential.objects.filter(owner=request.user, is_shared=False, connector__enabled=True)}
    shared = _shared_for(request.user)
    return [_row(c, own.get(c.pk), shared.get(c.pk, []), **overrides.get(c.pk, {})) for c in connectors]


def _render_row(request: AppRequest, connector: Connector, status: int = 200, **extra: Any) -> HttpResponse:
    """The htmx answer: one connector's region; a plain request gets the whole page."""
    if request.htmx:
        credential = Credential.objects.filter(owner=request.user, is_shared=False, connector=connector).first()
        row = _row(connector, credential, _shared_for(request.user).get(connector.pk, []), **extra)
        return render(request, f"{TEMPLATE}#connection-row", {"row": row}, status=status)
    return render(request, TEMPLATE, {"rows": _rows(request, {connector.pk: extra})}, status=status)


def connections(request: AppRequest) -> HttpResponse:
    return render(request, TEMPLATE, {"rows": _rows(request)})


@sensitive_post_parameters(*SECRET_FIELD_NAMES)
@sensitive_variables("form")
@require_http_methods(["GET", "POST"])
def connect(request: AppRequest, connector_id: int) -> HttpResponse:
    connector = get_object_or_404(Connector, pk=connector_id, enabled=True)
    if request.method == "GET":
        return render(request, TEMPLATE, {"rows": _rows(request, {connector.pk: {"form_open": True}})})
    form = SecretForm(request.POST, vendor=connector.vendor)
    if not form.is_valid():
        return _render_row(request, connector, form=form, form_open=True)
    try:
        result = service.connect(request.user, connector, form.secret())
    except service.ConnectionProblem as exc:
        form.add_error(None, str(exc))
        return _render_row(request, connector, form=form, form_open=True)
    if result.credential is None:
        # The vendor refused or could not be reached: a fresh, empty form, and the reason.
        return _render_row(request, connector, form=SecretForm(vendor=connector.vendor), form_open=True, outcome=result.outcome)
    notice = "Connected. " + ("The first sync has been queued." if result.sync_enqueued else "Data appears after the next sync.")
    if not request.htmx:
        messages.success(request, f"{connector.name}: {result.outcome.message} {notice}")
        return redirect("integrations:connections")
    return _render_row(request, connector, outcome=result.outcome, notice=notice)


@require_POST
def test(request: AppRequest, credential_id: int) -> HttpResponse:
    credential = _own_credential(request, credential_id)
    outcome = service.test_connection(credential)
    if request.htmx:
        return render(request, f"{TEMPLATE}#test-result", {"outcome": outcome, "credential": credential})
    return render(request, TEMPLATE, {"rows": _rows(request, {credential.connector_id: {"outcome": outcome}})})


@sensitive_post_parameters(*SECRET_FIELD_NAMES)
@sensitive_variables("form")
@require_http_methods(["GET", "POST"])
def replace(request: AppRequest, credential_id: int) -> HttpResponse:
    credential = _own_credential(request, credential_id)
    connector = credential.connector
    if request.method == "GET":
        return render(request, TEMPLATE, {"rows": _rows(request, {connector.pk: {"form_open": True}})})
    form = SecretForm(request.POST, vendor=connector.vendor, hint=credential.secret_hint)
    if not form.is_valid():
        return _render_row(request, connector, form=form, form_open=True)
    try:
        result = service.replace_secret(credential, form.secret(), user=request.user)
    except service.ConnectionProblem as exc:
        form.add_error(None, str(exc))
        return _render_row(request, connector, form=form, form_open=True)
    if result.credential is None:
        blank = SecretForm(vendor=connector.vendor, hint=credential.secret_hint)
        return _render_row(request, connector, form=blank, form_open=True, outcome=result.outcome, notice="The stored secret was kept.")
    if not request.htmx:
        messages.success(request, f"{connector.name}: secret replaced. {result.outcome.message}")
        return redirect("integrations:connections")
    return _render_row(request, connector, outcome=result.outcome, notice="Secret replaced.")


@require_http_methods(["GET", "POST"])
def disconnect(request: AppRequest, credential_id: int) -> HttpResponse:
    credential = _own_credential(request, credential_id)
    if request.method == "GET":
        return render(request, "integrations/disconnect.html", {"credential": credential})
    connector = credential.connector
    service.disconnect(credential)
    message = f"Disconnected from {connector.name}. Its data has left your views."
    if request.htmx:
        return _render_row(request, connector, notice=message)
    messages.success(request, message)
    return redirect("integrations:connections")
