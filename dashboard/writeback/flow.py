"""The request flow every write-back form shares (issue #10).

GET draws the form from a fresh vendor read (falling back to the last synced values, disabled
or with a notice) and embeds the signed version it was drawn from. POST checks our own rules,
then hands the write to ``writes.perform``, which refuses, detects conflicts, writes, updates
the local copy and audits. The form region is re-rendered for htmx (always 200, so htmx swaps
it); a plain POST gets the real status code, or a redirect after success.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from connectors.base import ConnectorError
from dashboard.core.http import wants_region
from dashboard.core.logging import scrub_text
from dashboard.okrs.views_common import render_region
from dashboard.writeback import services as writes
from dashboard.writeback.forms import add_vendor_errors, disable_all

REGION = "region"


@dataclass
class WritePage:
    """One write form: how to draw it and how to turn a valid form into a write."""

    template: str
    access: writes.WriteAccess
    local: Any  # the local row (or anything the snapshot function understands)
    snapshot: Callable[[Any], dict[str, Any]]
    fetch: Callable[[Any], Any] | None  # connector -> fresh vendor record
    make_form: Callable[[Any, Any, MutableMapping[str, Any] | None], forms.Form]  # (data, record, initial)
    spec: Callable[[forms.Form], writes.WriteSpec]
    labels: Mapping[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    success_url: str = ""
    unchanged: Callable[[forms.Form, Mapping[str, Any]], bool] | None = None
    done_template: str = ""  # a page that replaces the form after success (e.g. a deletion)


def _status(request: HttpRequest, status: int) -> int:
    return 200 if wants_region(request) else status


def _fresh(page: WritePage) -> tuple[Any, str]:
    """The record to draw the form from, and a notice when it is the last synced copy."""
    if page.fetch is None or not page.access.allowed or page.access.credential is None:
        return page.local, ""
    try:
        return writes.read_current(page.access.credential, page.fetch), ""
    except ConnectorError as exc:
        vendor = page.access.connector.get_vendor_display()
        return page.local, f"Could not read the latest version from {vendor} ({scrub_text(str(exc))}); showing the last synced values."


def conflict_rows(
    labels: Mapping[str, str], base: Mapping[str, Any], theirs: Mapping[str, Any], mine: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Side by side: what the page showed, what the vendor has now, what the user sent."""
    rows = []
    for key, label in labels.items():
        was, now, sent = _dig(base, key), _dig(theirs, key), _dig(mine, key)
        rows.append({"label": label, "was": was, "theirs": now, "mine": sent, "changed_there": was != now})
    return rows


def _dig(values: Mapping[str, Any], key: str) -> Any:
    node: Any = values
    for part in key.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def render_page(request: HttpRequest, page: WritePage, *, form: forms.Form | None = None, status: int = 200, **extra: Any) -> HttpResponse:
    record = extra.pop("record", None)
    notice = ""
    if form is None:
        record, notice = _fresh(page)
        snap = page.snapshot(record)
        form = page.make_form(None, record, snap)
        extra.setdefault("version", writes.version_token(snap))
    if not page.access.allowed:
        disable_all(form)
    context = {
        **page.context,
        "form": form,
        "access": page.access,
        "disabled": not page.access.allowed,
        "reason": page.access.reason,
        "notice": notice,
        "record": record or page.local,
        **extra,
    }
    return render_region(request, page.template, context, REGION, status=_status(request, status))


def handle(request: HttpRequest, page: WritePage) -> HttpResponse:
    if request.method != "POST":
        return render_page(request, page)
    form = page.make_form(request.POST, page.local, None)
    version = request.POST.get("version", "")
    valid = form.is_valid()
    if not page.access.allowed:
        try:  # refused by the service too, so every refusal is audited in one place
            writes.perform(request.user, page.access, page.spec(form), version=version)
        except writes.WriteFailed as failure:
            return render_page(request, page, form=form, status=403, error=failure.message, version=version)
    if not valid:
        return render_page(request, page, form=form, status=400, version=version)
    base = writes.read_version(version)
    if page.unchanged is not None and base is not None and page.unchanged(form, base):
        return render_page(request, page, form=form, status=400, version=version, error="Nothing changed: there is nothing to send.")
    try:
        result = writes.perform(request.user, page.access, page.spec(form), version=version)
    except writes.WriteConflict as conflict:
        mine = writes.plain(dict(form.cleaned_data))
        rows = conflict_rows(page.labels, conflict.base, conflict.theirs, mine)
        return render_page(request, page, form=form, status=409, version=conflict.token, conflict=rows)
    except writes.WriteFailed as failure:
        add_vendor_errors(form, failure.field_errors)
        status = 503 if failure.retryable else 403 if failure.outcome == "refused" else 422
        return render_page(request, page, form=form, status=status, version=version, error=failure.message, retryable=failure.retryable)
    vendor = page.access.connector.get_vendor_display()
    success = f"{vendor} accepted the change: {result.summary}."
    if not wants_region(request):
        messages.success(request, success)
        return HttpResponseRedirect(page.success_url or request.get_full_path())
    if page.done_template:
        context = {**page.context, "success": success, "result": result}
        return render_region(request, page.done_template, context, REGION)
    return render_page(request, page, success=success)
