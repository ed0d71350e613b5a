"""The goal page's alignment section (issue #18): its aligned parent, the goals aligned under
it, and the "Align under…" form for those who may align it. The goal page (``okrs``) renders it;
the alignment views (``views.py``) answer its form."""

from __future__ import annotations

from typing import Any

from dashboard.alignment import selectors as alignment_selectors
from dashboard.alignment import services
from dashboard.core.http import AppRequest
from dashboard.okrs.models import Goal

REGION = "alignment"


def alignment_context(request: AppRequest, goal: Goal, *, selected: str = "", error: str = "") -> dict[str, Any]:
    """The goal page's alignment section: its aligned parent, the goals aligned under it, and the
    form for those who may align it (a fixed handful of queries)."""
    user = request.user
    may = services.may_align(user, goal)
    query = request.GET.get("align_q", "").strip()[:100]
    return {
        "alignment": alignment_selectors.goal_alignment(user, goal),
        "aligned_children": alignment_selectors.aligned_children(user, goal),
        "may_align": may,
        "align_candidates": _options(alignment_selectors.candidates(user, goal, query)) if may else {},
        "align_q": query,
        "align_selected": selected,
        "align_error": error,
    }


def _options(found: dict[str, list[Any]]) -> dict[str, list[tuple[str, str]]]:
    """(value, label) per optgroup of the "Align under…" select."""
    return {
        "Teams": [(f"team:{t.pk}", f"{t.connector.name} · {t.name}") for t in found["teams"]],
        "Goals": [(f"goal:{g.pk}", f"{g.connector.name} · {g.title}") for g in found["goals"]],
    }
