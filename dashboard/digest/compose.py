"""What one user's weekly digest says (issue #18): a pure service over the selectors, so it
shows exactly what the dashboard shows that user, and nothing else.

- *Changed since last week*: progress deltas and health changes of goals and key results,
  from their snapshots (the latest snapshot in the window against the one before the window, or
  the first in it), and the check-ins made in the window.
- *Needs attention*: open goals and work items that are off track or need attention (the
  vendor's health), stale or overdue, as the Review page lists them; a listed goal that is also
  behind pace (OKR Hub's reading, :mod:`dashboard.okrs.pace`) says so among its reasons.

Each list is capped; the rest is "and N more" with a link into the dashboard. Links are
absolute (``settings.SITE_URL``): the digest is read in a mail client. A fixed number of
queries whatever the data size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from connectors.base import HEALTH_LABELS
from dashboard.digest.models import week_start_in
from dashboard.okrs import selectors
from dashboard.okrs.filters import VENDOR_LABELS
from dashboard.okrs.models import CheckIn, Goal, KeyResult, ProgressSnapshot
from dashboard.okrs.templatetags.okrs import due_text, pace_text, staleness

WINDOW = timedelta(days=7)
MAX_PER_LIST = 10
WORST_FIRST = ("health_rank", "due_date", "title", "id")  # as the Review page


@dataclass(frozen=True)
class Change:
    """A goal or key result whose progress or health moved in the window."""

    kind: str  # "Goal" or "Key result"
    title: str
    url: str
    vendor: str
    progress_before: float | None
    progress_after: float | None
    health_before: str
    health_after: str

    @property
    def delta(self) -> float | None:
        if self.progress_before is None or self.progress_after is None:
            return None
        return self.progress_after - self.progress_before

    @property
    def health_changed(self) -> bool:
        return self.health_before != self.health_after

    @property
    def delta_text(self) -> str:
        delta = self.delta
        if delta is None:
            if self.progress_after is None:
                return ""
            return f"now {self.progress_after:.0f} %"
        if round(delta) == 0:
            return f"{self.progress_after:.0f} %"
        sign = "+" if delta > 0 else "-"
        return f"{sign}{abs(delta):.0f} points to {self.progress_after:.0f} %"

    @property
    def health_text(self) -> str:
        if not self.health_changed:
            return ""
        return f"{HEALTH_LABELS.get(self.health_before, self.health_before)} → {HEALTH_LABELS.get(self.health_after, self.health_after)}"


@dataclass(frozen=True)
class NewCheckIn:
    title: str  # what was checked in on
    url: str
    author: str
    created_at: datetime
    health: str
    comment: str

    @property
    def health_label(self) -> str:
        return HEALTH_LABELS.get(self.health, self.health)


@dataclass(frozen=True)
class Attention:
    kind: str  # "Goal" or a work item's kind
    title: str
    url: str
    vendor: str
    health: str
    reasons: list[str]

    @property
    def health_label(self) -> str:
        return HEALTH_LABELS.get(self.health, self.health)


@dataclass(frozen=True)
class Section:
    items: list[Any]
    total: int
    more_url: str

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.items))


@dataclass
class Digest:
    user_name: str
    week_start: date
    since: datetime
    until: datetime
    changes: Section
    check_ins: Section
    attention: Section
    work_attention: Section
    links: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.changes.total or self.check_ins.total or self.attention.total or self.work_attention.total)

    @property
    def subject(self) -> str:
        day = self.week_start
        counts = []
        if self.attention.total or self.work_attention.total:
            counts.append(f"{self.attention.total + self.work_attention.total} need attention")
        if self.changes.total:
            counts.append(f"{self.changes.total} changed")
        tail = ": " + ", ".join(counts) if counts else ": nothing new"
        return f"OKR Hub digest, week of {day:%b} {day.day}{tail}"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _goal_url(goal_id: int) -> str:
    return absolute(reverse("okrs:goal_detail", args=[goal_id]))


def _work_item_url(item_id: int) -> str:
    return absolute(reverse("okrs:work_item_detail", args=[item_id]))


def _changes(user: Any, since: datetime) -> Section:
    """Goals and key results with a snapshot in the window whose progress or health moved."""
    changes: list[Change] = []
    for model, kind, fk in ((Goal, "Goal", "goal"), (KeyResult, "Key result", "key_result")):
        visible: QuerySet[Any] = selectors.visible_goals_base(user) if model is Goal else selectors.visible_key_results(user)
        before = ProgressSnapshot.objects.filter(**{fk: OuterRef("pk")}, taken_at__lt=since).order_by("-taken_at", "-id")
        first = ProgressSnapshot.objects.filter(**{fk: OuterRef("pk")}, taken_at__gte=since).order_by("taken_at", "id")
        latest = ProgressSnapshot.objects.filter(**{fk: OuterRef("pk")}, taken_at__gte=since).order_by("-taken_at", "-id")
        rows = (
            visible.filter(pk__in=ProgressSnapshot.objects.filter(taken_at__gte=since).values(f"{fk}_id"))
            .annotate(
                before_progress=Subquery(before.values("progress")[:1]),
                before_health=Subquery(before.values("health")[:1]),
                first_progress=Subquery(first.values("progress")[:1]),
                first_health=Subquery(first.values("health")[:1]),
                latest_progress=Subquery(latest.values("progress")[:1]),
                latest_health=Subquery(latest.values("health")[:1]),
            )
            .values_list(
                "pk",
                "title",
                "vendor",
                *(("goal_id",) if model is KeyResult else ()),
                "before_progress",
                "before_health",
                "first_progress",
                "first_health",
                "latest_progress",
                "latest_health",
            )
        )
        for row in rows:
            pk, title, vendor, *rest = row
            goal_id = rest.pop(0) if model is KeyResult else pk
            before_progress, before_health, first_progress, first_health, latest_progress, latest_health = rest
            has_before = before_health is not None  # a snapshot always has a health
            change = Change(
                kind=kind,
                title=title,
                url=_goal_url(goal_id) if goal_id else absolute("/goals/"),
                vendor=VENDOR_LABELS.get(vendor, vendor),
                progress_before=before_progress if has_before else first_progress,
                progress_after=latest_progress,
                health_before=(before_health if has_before else first_health) or "unknown",
                health_after=latest_health or "unknown",
            )
            moved = change.delta is not None and round(change.delta) != 0
            if moved or change.health_changed:
                changes.append(change)
    # Health changes first (worse news is in them), then the largest moves.
    changes.sort(key=lambda c: (not c.health_changed, -abs(c.delta or 0), c.title))
    return Section(changes[:MAX_PER_LIST], len(changes), absolute("/goals/?sort=updated"))


def _check_in_subject(c: CheckIn) -> tuple[str, str]:
    if c.goal_id and c.goal is not None:
        return c.goal.title, _goal_url(c.goal_id)
    if c.key_result_id and c.key_result is not None:
        kr = c.key_result
        return kr.title, _goal_url(kr.goal_id) if kr.goal_id else absolute("/goals/")
    if c.work_item_id and c.work_item is not None:
        return c.work_item.title, _work_item_url(c.work_item_id)
    return "", absolute("/")


def _check_ins(user: Any, since: datetime, until: datetime) -> Section:
    in_window = selectors.visible_check_ins(user).filter(created_at__gte=since, created_at__lte=until)
    total = in_window.count()
    shown = (
        in_window.select_related("goal", "key_result", "work_item")
        .only(
            "id",
            "goal_id",
            "key_result_id",
            "work_item_id",
            "created_at",
            "author",
            "health",
            "comment",
            "goal__title",
            "key_result__title",
            "key_result__goal",
            "work_item__title",
        )
        .order_by("-created_at", "-id")[:MAX_PER_LIST]
    )
    items = []
    for c in shown:
        title, url = _check_in_subject(c)
        comment = " ".join((c.comment or "").split())
        items.append(
            NewCheckIn(
                title=title,
                url=url,
                author=c.author or "Someone",
                created_at=c.created_at,
                health=c.health,
                comment=comment[:280] + ("…" if len(comment) > 280 else ""),
            )
        )
    return Section(items, total, absolute("/review/"))


def _reasons(item: Any) -> list[str]:
    """Why an item needs attention beyond its health (which the digest shows as a chip)."""
    reasons = []
    if pace := pace_text(item):
        reasons.append(pace)
    if stale := staleness(item):
        reasons.append(stale)
    if getattr(item, "is_overdue", False):
        reasons.append(due_text(item))
    return reasons


def _goal_attention(user: Any) -> Section:
    goals = selectors.with_health_rank(selectors.visible_goals(user).filter(selectors.attention_q()))
    total = goals.count()
    shown = goals.defer(*selectors.LIST_DEFER, "description").order_by(*WORST_FIRST)[:MAX_PER_LIST]
    items = [Attention("Goal", g.title, _goal_url(g.pk), VENDOR_LABELS.get(g.vendor, g.vendor), g.health, _reasons(g)) for g in shown]
    return Section(items, total, absolute("/review/"))


def _work_attention(user: Any) -> Section:
    items_qs = selectors.with_health_rank(selectors.visible_work_items(user).filter(selectors.attention_q()))
    total = items_qs.count()
    shown = items_qs.defer(*selectors.LIST_DEFER, "description").order_by(*WORST_FIRST)[:MAX_PER_LIST]
    items = [
        Attention(
            w.get_kind_display().replace("_", " ").capitalize(),
            w.title,
            _work_item_url(w.pk),
            VENDOR_LABELS.get(w.vendor, w.vendor),
            w.health,
            _reasons(w),
        )
        for w in shown
    ]
    return Section(items, total, absolute("/review/"))


def compose(user: Any, *, zone: str | None = None, now: datetime | None = None) -> Digest:
    """``user``'s digest for the week of ``now`` (in ``zone``, the user's time zone)."""
    until = now or timezone.now()
    since = until - WINDOW
    return Digest(
        user_name=user.get_full_name() or user.get_username(),
        week_start=week_start_in(zone or str(settings.TIME_ZONE), until),
        since=since,
        until=until,
        changes=_changes(user, since),
        check_ins=_check_ins(user, since, until),
        attention=_goal_attention(user),
        work_attention=_work_attention(user),
        links={
            "overview": absolute("/"),
            "review": absolute("/review/"),
            "behind_pace": absolute("/review/?pace=behind"),
            "settings": absolute(reverse("digest:settings")),
        },
    )


def render(digest: Digest) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a digest."""
    context = {"digest": digest}
    text = render_to_string("digest/email.txt", context)
    html = render_to_string("digest/email.html", context)
    return digest.subject, text, html
