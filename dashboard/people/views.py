"""People pages: the index, one person across vendors, and the admins' name matches (issue #18).

Everything a page lists starts from the ``visible_*`` selectors: a person page shows only what
the viewer may see, and a person with nothing the viewer may see is a 404. The page runs a fixed
number of queries whatever the person owns (ids first, then rows by id, as the lists do); its
data is cached like the other pages' (:mod:`dashboard.okrs.cache`): link changes bump every
connector's data version.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from connectors.base import Health
from dashboard.accounts.roles import admin_required, is_admin
from dashboard.core.http import AppRequest
from dashboard.okrs import cache, lists, rows, selectors
from dashboard.okrs.pace import BEHIND_PACE_POINTS, pace_of, with_pace_gap
from dashboard.okrs.views_common import page_context
from dashboard.people import selectors as people
from dashboard.people import services
from dashboard.people.models import IdentityMember

LIST_LIMIT = 50
PACE_LIMIT = 10  # the most-behind rows shown, over goals, key results and work items together
PER_PAGE = 50
ATTENTION_HEALTH = (Health.OFF_TRACK.value, Health.NEEDS_ATTENTION.value)
WORST_FIRST = ("health_rank", "due_date", "title", "id")


def _summary(qs: QuerySet[Any], *, stale: bool = True) -> dict[str, int]:
    """Owned, off track or needing attention, behind pace, stale, overdue: one query."""
    aggregates: dict[str, Any] = {
        "total": Count("id"),
        "off_track": Count("id", filter=Q(health__in=ATTENTION_HEALTH)),
        "behind_pace": Count("id", filter=Q(pace_gap__gte=BEHIND_PACE_POINTS)),
        "overdue": Count("id", filter=selectors.overdue_q()),
    }
    if stale:
        aggregates["stale"] = Count("id", filter=selectors.stale_q())
    counts = with_pace_gap(qs.order_by()).aggregate(**aggregates)
    counts.setdefault("stale", 0)
    return {k: int(v or 0) for k, v in counts.items()}


def _behind(qs: QuerySet[Any], kind: str) -> list[dict[str, Any]]:
    """The most-behind rows of ``qs`` with their pace (one query). The same rows as
    :func:`dashboard.okrs.pace.behind_pace`, with the gap computed once for the filter and the sort."""
    found = with_pace_gap(qs.only("id", "title", "vendor", "progress", "start_date", "due_date", "state"))
    out = []
    for row in found.filter(pace_gap__gte=BEHIND_PACE_POINTS).order_by("-pace_gap", "title", "id")[:PACE_LIMIT]:
        pace = pace_of(row)
        if pace is not None:
            out.append({"kind": kind, "row": row, "pace": pace, "expected": round(pace.expected)})
    return out


@require_GET
def person_detail(request: AppRequest, identity_id: int) -> HttpResponse:
    # Cached like the other pages' data (keyed by the user's data versions): every link change
    # (a link run that changed something, a confirm, merge or split) bumps every connector's.
    data = cache.cached(request.user, "person-detail", identity_id, lambda: _person_data(request.user, identity_id))
    if data is None:
        raise Http404("No such person, or nothing of theirs is visible to you.")
    context = page_context(request)
    context.update(data, can_manage=is_admin(request.user), list_limit=LIST_LIMIT, behind_points=BEHIND_PACE_POINTS)
    return render(request, "people/person_detail.html", context)


def _person_data(user: Any, identity_id: int) -> dict[str, Any] | None:
    """What the person page shows of ``identity_id`` to ``user``; ``None`` when nothing is visible."""
    found = people.identity_for_page(user, identity_id)
    if found is None:
        return None
    identity, visible_members, refs = found
    members = [people.member_label(m) for m in visible_members]
    owned = people.owned_q(refs)
    goals = selectors.visible_goals_base(user).filter(owned)
    key_results = selectors.visible_key_results(user).filter(owned)
    items = selectors.visible_work_items_base(user).filter(owned)

    goal_ids = lists.first_ids(selectors.with_health_rank(goals).order_by(*WORST_FIRST), LIST_LIMIT)
    item_ids = lists.first_ids(selectors.with_health_rank(items).order_by(*WORST_FIRST), LIST_LIMIT)
    kr_rows = list(
        selectors.with_health_rank(key_results)
        .select_related("goal")
        .only(*lists.KEY_RESULT_ROW_FIELDS[2:], "id", "goal__id", "goal__title", "goal__health")
        .order_by(*WORST_FIRST)[:LIST_LIMIT]
    )
    counts = {"goals": _summary(goals), "key_results": _summary(key_results, stale=False), "work_items": _summary(items)}
    behind = _behind(goals, "Goal") + _behind(key_results, "Key result") + _behind(items, "Work item")
    return {
        "identity": identity,
        "members": members,
        "vendors": sorted({m["vendor"] for m in members if m["vendor"]}),
        "counts": counts,
        "attention": {key: sum(c[key] for c in counts.values()) for key in ("off_track", "behind_pace", "stale", "overdue")},
        "behind": sorted(behind, key=lambda b: -b["pace"].gap)[:PACE_LIMIT],
        "goal_rows": rows.review_goal_rows(lists.attach_recent_progress(lists.in_order(lists.goal_rows(), goal_ids))),
        "goal_ids": goal_ids,
        "key_results": kr_rows,
        "work_rows": rows.work_rows(lists.attach_team_names(user, lists.in_order(lists.work_item_rows(), item_ids))),
        "item_ids": item_ids,
    }


@require_GET
def people_index(request: AppRequest) -> HttpResponse:
    user = request.user
    text = request.GET.get("q", "").strip()[:200]
    context = page_context(request)
    context.update(cache.cached_for(request, "people-index", lambda: _index_data(user, text, request.GET.get("page"))))
    context.update(q=text, pending=people.pending_proposals().count() if is_admin(user) else 0)
    return render(request, "people/people_index.html", context)


def _index_data(user: Any, text: str, page_number: str | None) -> dict[str, Any]:
    qs = people.visible_identities(user)
    if text:
        qs = qs.filter(
            Q(name__icontains=text)
            | Q(email__icontains=text)
            | Q(members__person__name__icontains=text)
            | Q(members__owner_name__icontains=text)
            | Q(members__person__email__icontains=text)
        ).distinct()
    page = Paginator(qs.order_by("name", "id"), PER_PAGE).get_page(page_number)
    identities = list(page.object_list)
    vendors: dict[int, set[str]] = {}
    member_rows = (
        IdentityMember.objects.filter(people.visible_member_q(user), identity_id__in=[i.pk for i in identities])
        .values_list("identity_id", "person__vendor", "connector__vendor")
        .distinct()
    )
    for identity_id, person_vendor, name_vendor in member_rows:
        vendors.setdefault(identity_id, set()).add(person_vendor or name_vendor)
    return {
        "people": [{"identity": i, "vendors": sorted(vendors.get(i.pk, ()))} for i in identities],
        "page": {
            "number": page.number,
            "num_pages": page.paginator.num_pages,
            "has_other_pages": page.has_other_pages(),
            "previous": page.previous_page_number() if page.has_previous() else None,
            "next": page.next_page_number() if page.has_next() else None,
        },
    }


# -- admins -----------------------------------------------------------------------------------


@require_GET
@admin_required
def matches(request: AppRequest) -> HttpResponse:
    proposals = list(people.pending_proposals()[:200])
    context = page_context(request)
    context["proposals"] = [{"proposal": p, "member": people.member_label(p.member), "identity": p.identity} for p in proposals]
    return render(request, "people/matches.html", context)


def _decide(request: AppRequest, proposal_id: int, decide: Any, done: str) -> HttpResponse:
    error = ""
    try:
        proposal = decide(proposal_id, request.user)
    except services.PeopleError as exc:
        error, proposal = str(exc), None
    if request.htmx:
        context = {"error": error, "done": done, "proposal": proposal}
        return render(request, "people/matches.html#decided", context, status=200 if not error else 409)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Name match {done}.")
    return redirect("people:matches")


@require_POST
@admin_required
def confirm(request: AppRequest, proposal_id: int) -> HttpResponse:
    return _decide(request, proposal_id, services.confirm_proposal, "confirmed")


@require_POST
@admin_required
def reject(request: AppRequest, proposal_id: int) -> HttpResponse:
    return _decide(request, proposal_id, services.reject_proposal, "rejected")


@require_POST
@admin_required
def merge(request: AppRequest, identity_id: int) -> HttpResponse:
    raw = request.POST.get("other", "").strip().lstrip("#")
    if "/people/" in raw:  # a pasted address: /people/12/
        raw = raw.rstrip("/").rsplit("/", 1)[-1]
    if not raw.isdigit():
        messages.error(request, "Enter the number of the person to merge in (it is in their address: /people/<number>/).")
        return redirect("people:person", identity_id=identity_id)
    try:
        services.merge_identities(int(raw), identity_id, request.user)
    except services.PeopleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Person {raw} was merged into this one. OKR Hub keeps this link across syncs.")
    return redirect("people:person", identity_id=identity_id)


@require_POST
@admin_required
def split(request: AppRequest, identity_id: int) -> HttpResponse:
    raw = request.POST.get("member", "")
    if not raw.isdigit() or not IdentityMember.objects.filter(pk=int(raw), identity_id=identity_id).exists():
        messages.error(request, "Choose one of this person's vendor accounts to split out.")
        return redirect("people:person", identity_id=identity_id)
    try:
        new = services.split_member(int(raw), request.user)
    except services.PeopleError as exc:
        messages.error(request, str(exc))
        return redirect("people:person", identity_id=identity_id)
    messages.success(request, f"Split out into their own person, “{new.name}”. OKR Hub keeps this split across syncs.")
    return redirect("people:person", identity_id=identity_id)
