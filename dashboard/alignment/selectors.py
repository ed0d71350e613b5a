"""Read side of alignment: a user sees a link only when both its ends are visible to them."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce

from dashboard.alignment.models import Alignment, AlignmentSuggestion
from dashboard.okrs import selectors
from dashboard.okrs.models import Goal
from dashboard.okrs.selectors import UserLike

MAX_SHOWN_PER_PAGE = 300  # aligned goals listed in place on one page of the tree


def visible_alignments(user: UserLike) -> QuerySet[Alignment]:
    goals = selectors.visible_goals_base(user).values("id")
    teams = selectors.visible_teams(user).values("id")
    return Alignment.objects.filter(child_goal_id__in=goals).filter(Q(parent_goal_id__in=goals) | Q(parent_team_id__in=teams))


def aligned_goals(user: UserLike, goals: QuerySet[Goal]) -> QuerySet[Goal]:
    """Those of ``goals`` (visible, maybe filtered) that are aligned under something the user
    sees, each with ``aligned_team_id``: the team whose roll-up it joins (the parent team, or
    the parent goal's team)."""
    visible_goal_ids = selectors.visible_goals_base(user).values("id")
    visible_team_ids = selectors.visible_teams(user).values("id")
    return goals.filter(Q(alignment__parent_team_id__in=visible_team_ids) | Q(alignment__parent_goal_id__in=visible_goal_ids)).annotate(
        aligned_team_id=Coalesce(F("alignment__parent_team_id"), F("alignment__parent_goal__team_id"))
    )


def link_info(alignment: Alignment) -> dict[str, Any]:
    """Who linked and when, for a badge's tooltip and the API."""
    who = alignment.created_by.get_username() if alignment.created_by else "a removed user"
    return {"created_by": who, "created_at": alignment.created_at, "source": alignment.source}


def aligned_goals_by_team(user: UserLike, goals: QuerySet[Goal], team_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The aligned goals shown in place under each of ``team_ids`` (one query): plain dicts, so
    they can be cached with the tree's data."""
    if not team_ids:
        return {}
    rows = (
        aligned_goals(user, goals)
        .filter(aligned_team_id__in=team_ids)  # type: ignore[misc]  # an annotation the plugin does not see
        .order_by("title", "id")
        .values(
            "id", "title", "vendor", "health", "progress", "aligned_team_id",
            "alignment__parent_goal__title", "alignment__created_by__username", "alignment__created_at",
        )[:MAX_SHOWN_PER_PAGE]
    )  # fmt: skip
    by_team: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_team.setdefault(row["aligned_team_id"], []).append(
            {
                "id": row["id"],
                "title": row["title"],
                "vendor": row["vendor"],
                "health": row["health"],
                "progress": row["progress"],
                "under_goal": row["alignment__parent_goal__title"] or "",
                "created_by": row["alignment__created_by__username"] or "a removed user",
                "created_at": row["alignment__created_at"],
            }
        )
    return by_team


def goal_alignment(user: UserLike, goal: Goal) -> Alignment | None:
    """The goal's own aligned parent, when the user sees it."""
    return visible_alignments(user).filter(child_goal=goal).select_related("parent_goal", "parent_team", "created_by").first()


def aligned_children(user: UserLike, goal: Goal, limit: int = 50) -> list[Alignment]:
    return list(
        visible_alignments(user)
        .filter(parent_goal=goal)
        .select_related("child_goal", "created_by")
        .defer("child_goal__raw", "child_goal__fingerprint", "child_goal__description")
        .order_by("child_goal__title", "id")[:limit]
    )


def candidates(user: UserLike, goal: Goal, query: str = "", limit: int = 200) -> dict[str, list[Any]]:
    """What ``goal`` may be aligned under: visible teams and goals of other connectors (two queries)."""
    teams = selectors.visible_teams(user).exclude(connector_id=goal.connector_id).select_related("connector")
    goals = selectors.visible_goals_base(user).exclude(connector_id=goal.connector_id).select_related("connector")
    if query:
        teams, goals = teams.filter(name__icontains=query), goals.filter(title__icontains=query)
    fields = ("id", "vendor", "connector__name")
    return {
        "teams": list(teams.only(*fields, "name").order_by("connector__name", "name", "id")[:limit]),
        "goals": list(goals.only(*fields, "title").order_by("connector__name", "title", "id")[:limit]),
    }


def visible_suggestions(user: UserLike) -> QuerySet[AlignmentSuggestion]:
    """Suggestions whose both ends ``user`` sees (admins review them; visibility still holds)."""
    goals = selectors.visible_goals_base(user).values("id")
    teams = selectors.visible_teams(user).values("id")
    return AlignmentSuggestion.objects.filter(child_goal_id__in=goals).filter(Q(parent_goal_id__in=goals) | Q(parent_team_id__in=teams))


def pending_suggestions(user: UserLike, limit: int = 200) -> list[AlignmentSuggestion]:
    """Best first; goals already aligned are left out (one query)."""
    return list(
        visible_suggestions(user)
        .filter(status=AlignmentSuggestion.Status.PENDING, child_goal__alignment__isnull=True)
        .select_related("child_goal", "parent_goal", "parent_team")
        .defer(*(f"{rel}__{f}" for rel in ("child_goal", "parent_goal", "parent_team") for f in ("raw", "fingerprint")))
        .order_by("-score", "id")[:limit]
    )


def aligned_parent(alignment: Alignment | None) -> dict[str, Any] | None:
    """The API's ``aligned_parent`` of a goal: ``None``, or the parent with who linked and when."""
    if alignment is None:
        return None
    parent = alignment.parent
    data: dict[str, Any] = {
        "id": parent.pk,
        "vendor": parent.vendor,
        "created_by": alignment.created_by.get_username() if alignment.created_by else None,
        "created_at": alignment.created_at,
        "source": alignment.source,
    }
    if alignment.parent_goal_id:
        return {"kind": "goal", "title": alignment.parent_goal.title if alignment.parent_goal else "", **data}
    return {"kind": "team", "name": alignment.parent_team.name if alignment.parent_team else "", **data}
