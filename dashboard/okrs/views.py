"""Dashboard pages. Function views; each works as a plain link first, then htmx makes it lively."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.okrs import selectors


def overview(request: HttpRequest) -> HttpResponse:
    goals = selectors.visible_goals(request.user)
    counts = selectors.health_counts(goals)
    return render(request, "okrs/overview.html", {"counts": counts})
