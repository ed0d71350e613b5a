"""Align a goal under another vendor's goal or team from its page, and the admins'
suggestions page (issue #18). Plain POST forms first; htmx swaps the region in place (always
200 for htmx, so it swaps; a plain POST gets the real status, or a redirect after success)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from dashboard.accounts.roles import admin_required
from dashboard.alignment import selectors as alignment_selectors
from dashboard.alignment import services
from dashboard.alignment.models import AlignmentSuggestion
from dashboard.alignment.panel import REGION, alignment_context
from dashboard.core.http import AppRequest, wants_region
from dashboard.okrs import selectors
from dashboard.okrs.models import Goal
from dashboard.okrs.views_common import page_context, render_region
from dashboard.okrs.views_goals import goal_detail_context


def _goal(request: AppRequest, goal_id: int) -> Goal:
    goal = selectors.visible_goals_base(request.user).filter(pk=goal_id).first()
    if goal is None:
        raise Http404("No such goal, or it is not visible to you.")
    return goal


def _answer(request: AppRequest, goal: Goal, *, error: str = "", status: int = 200, selected: str = "", done: str = "") -> HttpResponse:
    if not error and not wants_region(request):
        messages.success(request, done)
        return HttpResponseRedirect(reverse("okrs:goal_detail", args=[goal.pk]), status=303)
    if wants_region(request):
        context = {"goal": goal, **alignment_context(request, goal, selected=selected, error=error), "align_done": done}
        return render(request, f"okrs/goal_detail.html#{REGION}", context)
    # A plain POST that failed: the whole page again, with the error and the choice kept.
    context = goal_detail_context(request, goal.pk) or {}
    context.update(alignment_context(request, goal, selected=selected, error=error))
    return render(request, "okrs/goal_detail.html", context, status=status)


@require_POST
def align(request: AppRequest, goal_id: int) -> HttpResponse:
    goal = _goal(request, goal_id)
    selected = request.POST.get("parent", "")
    try:
        kind, parent_id = services.parse_parent(selected)
        alignment = services.align(request.user, goal, kind, parent_id)
    except services.AlignmentError as exc:
        return _answer(request, goal, error=exc.message, status=exc.status, selected=selected)
    return _answer(request, goal, done=f"Aligned under “{alignment.parent}” (an OKR Hub link).")


@require_POST
def unalign(request: AppRequest, goal_id: int) -> HttpResponse:
    goal = _goal(request, goal_id)
    try:
        services.unalign(request.user, goal)
    except services.AlignmentError as exc:
        return _answer(request, goal, error=exc.message, status=exc.status)
    return _answer(request, goal, done="Link removed.")


# -- suggestions (admins) ---------------------------------------------------------------------


def _pending(request: AppRequest) -> list[AlignmentSuggestion]:
    return alignment_selectors.pending_suggestions(request.user)


@require_GET
@admin_required
def suggestions(request: AppRequest) -> HttpResponse:
    context = page_context(request)
    context["suggestions"] = _pending(request)
    return render_region(request, "alignment/suggestions.html", context, "listing")


def _suggestion(request: AppRequest, suggestion_id: int) -> AlignmentSuggestion:
    found = alignment_selectors.visible_suggestions(request.user).filter(pk=suggestion_id).first()
    if found is None:
        raise Http404("No such suggestion.")
    return found


@require_POST
@admin_required
def decide(request: AppRequest, suggestion_id: int, decision: str) -> HttpResponse:
    suggestion = _suggestion(request, suggestion_id)
    error = ""
    if suggestion.status != AlignmentSuggestion.Status.PENDING:
        error = f"This suggestion was already {suggestion.get_status_display().lower()}."
    else:
        try:
            if decision == "accept":
                services.accept_suggestion(request.user, suggestion)
            else:
                services.dismiss_suggestion(request.user, suggestion)
        except services.AlignmentError as exc:
            error = exc.message
    if wants_region(request):
        if error:
            return render(request, "alignment/suggestions.html#row", {"s": suggestion, "row_error": error})
        return HttpResponse("")  # the row swaps out
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Link made." if decision == "accept" else "Suggestion dismissed; it will not come back.")
    return HttpResponseRedirect(reverse("alignment:suggestions"), status=303)
