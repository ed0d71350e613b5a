"""Read-side queries for one work item's detail (page and API): the item with its flags, the
visibility of what it links to, its check-in history, progress history and sub-items.

Check-ins and snapshots follow their subject: whoever may see the item sees its history.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from connectors import registry
from dashboard.okrs.models import CheckIn, ProgressSnapshot, WorkItem
from dashboard.okrs.selectors import LIST_DEFER, UserLike, visible_goals_base, visible_work_items, visible_work_items_base

CHECK_IN_LIMIT = 200  # the page shows the newest; the vendor keeps the rest
SUB_ITEM_LIMIT = 50
SNAPSHOT_WEEKS = 26

# What the detail never reads of the rows it joins: their raw JSON and long text.
_JOINED_DEFER = (
    "goal__raw", "goal__fingerprint", "goal__description",
    "parent__raw", "parent__fingerprint", "parent__description",
)  # fmt: skip


def work_item_for_detail(user: UserLike, item_id: int) -> WorkItem | None:
    """The work item ``item_id`` with its flags (stale, overdue, late start), its connector, goal
    and parent joined, and whether ``user`` may see that goal and parent; ``None`` when the
    user may not see the item (or there is none)."""
    goal_visible = Exists(visible_goals_base(user).filter(pk=OuterRef("goal_id")))
    parent_visible = Exists(visible_work_items_base(user).filter(pk=OuterRef("parent_id")))
    return (
        visible_work_items(user)
        .select_related("connector", "goal", "parent")
        .defer(*LIST_DEFER, *_JOINED_DEFER)
        .annotate(goal_visible=goal_visible, parent_visible=parent_visible)
        .filter(pk=item_id)
        .first()
    )


def work_item_check_ins(item: WorkItem, limit: int | None = CHECK_IN_LIMIT) -> QuerySet[CheckIn]:
    """The item's check-ins (North initiative events, Operately project check-ins), newest first;
    ``limit=None`` for all of them (the API)."""
    return CheckIn.objects.filter(work_item=item).defer("raw").order_by("-created_at", "-id")[:limit]


def work_item_snapshots(item: WorkItem, weeks: int | None = SNAPSHOT_WEEKS) -> QuerySet[ProgressSnapshot]:
    """The item's progress snapshots of the last ``weeks`` (``None``: all), oldest first."""
    snapshots = ProgressSnapshot.objects.filter(work_item=item)
    if weeks is not None:
        snapshots = snapshots.filter(taken_at__gte=timezone.now() - timedelta(weeks=weeks))
    return snapshots.order_by("taken_at", "id")


def work_item_children(user: UserLike, item: WorkItem, limit: int = SUB_ITEM_LIMIT) -> QuerySet[WorkItem]:
    """The visible items below this one (an Operately project's milestones, say), by state and due date."""
    return (
        visible_work_items(user)
        .filter(parent=item)
        .only(
            "id", "vendor", "kind", "title", "health", "state", "progress", "due_date", "start_date", "url", "stale_at", "last_check_in_at"
        )
        .order_by("state", "due_date", "title", "id")[:limit]
    )


def vendor_checks_in(item: WorkItem) -> bool:
    """Whether the item's vendor checks in on this kind of item (North initiatives, Operately
    projects; never an OGSM action): only then do "last check-in" and staleness mean anything."""
    try:
        return item.kind in registry.get(item.vendor).check_in_kinds
    except KeyError:  # a vendor no longer installed: its rows may outlive it
        return False
