"""The audit trail page for admins (``/audit/changes/``) and its CSV export: filters by area,
person, text and date range, newest first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from dashboard.accounts.roles import admin_required
from dashboard.audit.models import AuditEvent
from dashboard.core.http import AppRequest
from dashboard.okrs.views_common import csv_response  # formula-safe cells, UTF-8 BOM

PAGE_SIZE = 50


class _Filters:
    def __init__(self, request: AppRequest) -> None:
        get = request.GET
        self.area = get.get("area", "") if get.get("area", "") in AuditEvent.Area.values else ""
        self.who = get.get("who", "").strip()[:150]
        self.q = get.get("q", "").strip()[:200]
        self.errors: list[str] = []
        self.since = self._date(get.get("since", ""), "From")
        self.until = self._date(get.get("until", ""), "To")
        if self.since and self.until and self.since > self.until:
            self.errors.append("“From” is after “To”: no change can match; swap the dates.")

    def _date(self, value: str, label: str) -> date | None:
        value = value.strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors.append(f"“{label}” must be a date like 2026-01-31; it was ignored.")
            return None

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.area:
            events = events.filter(area=self.area)
        if self.who:
            events = events.filter(actor_name__icontains=self.who)
        if self.q:
            events = events.filter(Q(target_label__icontains=self.q) | Q(summary__icontains=self.q) | Q(action__icontains=self.q))
        zone = timezone.get_current_timezone()
        if self.since:
            events = events.filter(created_at__gte=datetime.combine(self.since, time.min, tzinfo=zone))
        if self.until:
            events = events.filter(created_at__lt=datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=zone))
        return events

    def query(self) -> str:
        values = {"area": self.area, "who": self.who, "q": self.q, "since": self.since or "", "until": self.until or ""}
        return urlencode({k: v for k, v in values.items() if v})

    @property
    def active(self) -> bool:
        return bool(self.area or self.who or self.q or self.since or self.until)


@admin_required
def changes(request: AppRequest) -> HttpResponse:
    filters = _Filters(request)
    events = filters.apply(AuditEvent.objects.all())
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {"page": page, "filters": filters, "areas": AuditEvent.Area.choices, "query": filters.query()}
    return render(request, "audit/changes.html", context)


CSV_COLUMNS = ["when", "who", "source", "area", "action", "target", "target_id", "summary", "changes"]


@admin_required
def changes_csv(request: AppRequest) -> StreamingHttpResponse:
    events = _Filters(request).apply(AuditEvent.objects.all())

    def rows() -> Iterator[list[Any]]:
        for e in events.iterator(chunk_size=500):
            yield [
                e.created_at.isoformat(),
                e.actor_name,
                e.source,
                e.area,
                e.action,
                e.target_label,
                e.target_id,
                e.summary,
                json.dumps(e.changes, sort_keys=True, ensure_ascii=False),
            ]

    return csv_response(f"okrhub-audit-{timezone.localdate():%Y-%m-%d}.csv", CSV_COLUMNS, rows())
