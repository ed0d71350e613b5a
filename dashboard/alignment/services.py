"""Making and removing alignments: who may, and which links make sense (issue #18).

Who may: admins, and an owner of the child goal. A user is an owner of a goal when their
e-mail address matches (case-insensitively) the e-mail of one of the goal's owners, as the
goal's own connector lists its people (``Person`` rows keyed by ``owner_external_ids``). Vendors
do not share user ids, and OKR Hub users are not linked to vendor people otherwise, so the
e-mail is the one reliable key; a user without an e-mail owns nothing.

Both ends must be visible to the user. Every change bumps the data version of both ends'
connectors, so cached pages (``dashboard.okrs.cache``) show it at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.accounts.roles import is_admin
from dashboard.alignment.models import Alignment, AlignmentSuggestion
from dashboard.integrations.models import Connector
from dashboard.okrs import selectors
from dashboard.okrs.models import Goal, Person, Team
from dashboard.okrs.selectors import UserLike

MAX_ANCESTRY = 1000  # far deeper than any real goal tree; a guard against bad data


@dataclass
class AlignmentError(Exception):
    """What went wrong, in words for the page; ``status`` is the HTTP status to answer with."""

    message: str
    status: int = 400

    def __str__(self) -> str:
        return self.message


def owns_goal(user: UserLike, goal: Goal) -> bool:
    email = (getattr(user, "email", "") or "").strip()
    if not email or not goal.owner_external_ids:
        return False
    return Person.objects.filter(connector_id=goal.connector_id, external_id__in=goal.owner_external_ids, email__iexact=email).exists()


def may_align(user: UserLike, goal: Goal) -> bool:
    return is_admin(user) or owns_goal(user, goal)


def _ancestor_ids(goal: Goal) -> set[int]:
    """The goal and every goal above it, through vendor parents and aligned parents."""
    seen: set[int] = set()
    frontier = {goal.pk}
    while frontier and len(seen) < MAX_ANCESTRY:
        seen |= frontier
        vendor_parents = set(Goal.objects.filter(pk__in=frontier, parent__isnull=False).values_list("parent_id", flat=True))
        aligned_parents = set(
            Alignment.objects.filter(child_goal_id__in=frontier, parent_goal__isnull=False).values_list("parent_goal_id", flat=True)
        )
        frontier = {pk for pk in vendor_parents | aligned_parents if pk is not None} - seen
    return seen


def parse_parent(value: str) -> tuple[str, int]:
    """``goal:12`` or ``team:7`` (the form's select values) -> (kind, id)."""
    kind, _, raw_id = (value or "").partition(":")
    if kind not in ("goal", "team") or not raw_id.isdigit():
        raise AlignmentError("Choose a goal or a team to align under.")
    return kind, int(raw_id)


def align(user: UserLike, child: Goal, kind: str, parent_id: int, *, source: str = Alignment.Source.MANUAL) -> Alignment:
    """Align ``child`` (a goal ``user`` sees) under the goal or team ``parent_id``."""
    if not may_align(user, child):
        raise AlignmentError("Only an admin or an owner of this goal can align it.", status=403)
    if not selectors.visible_goals_base(user).filter(pk=child.pk).exists():
        raise AlignmentError("That goal does not exist or is not visible to you.", status=404)
    parent: Goal | Team | None
    if kind == "goal":
        parent = selectors.visible_goals_base(user).filter(pk=parent_id).first()
    elif kind == "team":
        parent = selectors.visible_teams(user).filter(pk=parent_id).first()
    else:
        raise AlignmentError("Choose a goal or a team to align under.")
    if parent is None:
        raise AlignmentError(f"That {kind} does not exist or is not visible to you.")
    if parent.connector_id == child.connector_id:
        raise AlignmentError(
            f"“{parent}” is in the same connector as this goal: link them at the vendor, which holds links within one tool. "
            "OKR Hub links goals across vendors."
        )
    if isinstance(parent, Goal) and child.pk in _ancestor_ids(parent):
        raise AlignmentError(f"“{parent}” is this goal or sits under it: aligning there would make a loop.")
    with transaction.atomic():
        if Alignment.objects.select_for_update().filter(child_goal=child).exists():
            raise AlignmentError("This goal is already aligned; remove that link first (a goal has one aligned parent).")
        try:
            with transaction.atomic():
                alignment = Alignment.objects.create(
                    child_goal=child,
                    parent_goal=parent if isinstance(parent, Goal) else None,
                    parent_team=parent if isinstance(parent, Team) else None,
                    created_by=user if user.is_authenticated else None,
                    source=source,
                )
        except IntegrityError as exc:  # a concurrent request aligned it first
            raise AlignmentError("This goal is already aligned; remove that link first (a goal has one aligned parent).") from exc
        _bump(child.connector_id, parent.connector_id)
    return alignment


def unalign(user: UserLike, child: Goal) -> None:
    if not may_align(user, child):
        raise AlignmentError("Only an admin or an owner of this goal can remove its link.", status=403)
    alignment = Alignment.objects.filter(child_goal=child).select_related("parent_goal", "parent_team").first()
    if alignment is None:
        raise AlignmentError("This goal is not aligned (any more).", status=404)
    parent = alignment.parent
    alignment.delete()
    _bump(child.connector_id, parent.connector_id)


def accept_suggestion(user: UserLike, suggestion: AlignmentSuggestion) -> Alignment:
    kind, parent_id = ("goal", suggestion.parent_goal_id) if suggestion.parent_goal_id else ("team", suggestion.parent_team_id)
    with transaction.atomic():
        alignment = align(user, suggestion.child_goal, kind, int(parent_id or 0), source=Alignment.Source.SUGGESTION)
        _decide(user, suggestion, AlignmentSuggestion.Status.ACCEPTED)
    return alignment


def dismiss_suggestion(user: UserLike, suggestion: AlignmentSuggestion) -> None:
    _decide(user, suggestion, AlignmentSuggestion.Status.DISMISSED)


def _decide(user: UserLike, suggestion: AlignmentSuggestion, status: str) -> None:
    suggestion.status = status
    suggestion.decided_by = user if user.is_authenticated else None  # type: ignore[assignment]
    suggestion.decided_at = timezone.now()
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])


def _bump(*connector_ids: int) -> None:
    for connector_id in sorted(set(connector_ids)):
        Connector.bump_data_version(connector_id)
