"""Display helpers: one vocabulary, displayed the same everywhere (chips, bars, freshness).

Vendor text is escaped here (``format_html``); only goal/work-item descriptions are rendered as
HTML, and only after ``nh3`` sanitised them once more.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import nh3
from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from connectors.base import HEALTH_LABELS, OUTCOME_LABELS, STATE_LABELS
from dashboard.okrs import svg
from dashboard.okrs.filters import KIND_LABELS, VENDOR_LABELS
from dashboard.okrs.pace import Pace, pace_of

register = template.Library()


# Lists render these per row (hundreds per page): the few distinct outputs are built once.
_HEALTH_CHIPS = {str(key): format_html('<span class="chip chip-{}">{}</span>', str(key), label) for key, label in HEALTH_LABELS.items()}


@register.simple_tag
def health_chip(health: str | None) -> SafeString:
    """Colour and a word, so colour is never the only signal."""
    return _HEALTH_CHIPS.get(health or "", _HEALTH_CHIPS["unknown"])  # type: ignore[arg-type]


def _behind_pace(item: Any) -> Pace | None:
    pace = pace_of(item)
    return pace if pace is not None and pace.is_behind else None


def _short_date(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def _pace_title(item: Any, pace: Pace) -> str:
    return (
        f"Expected about {pace.expected:.0f} % by today (linear from {_short_date(item.start_date)} to "
        f"{_short_date(item.due_date)}), at {float(item.progress):.0f} %; OKR Hub's reading, not the vendor's"
    )


@register.simple_tag
def pace_text(item: Any) -> str:
    """ "Behind pace by 23 points" for an item behind pace (:mod:`dashboard.okrs.pace`); empty otherwise."""
    pace = _behind_pace(item)
    return f"Behind pace by {pace.behind_by} points" if pace else ""


@register.simple_tag
def pace_chip(item: Any) -> SafeString:
    """OKR Hub's own pace reading, beside (never instead of) the vendor's health: outlined, with
    the expected progress and the timeframe in its tooltip."""
    pace = _behind_pace(item)
    if pace is None:
        return mark_safe("")
    return format_html(
        '<span class="chip chip-sm chip-pace" title="{}">Behind pace by {} points</span>', _pace_title(item, pace), pace.behind_by
    )


@register.simple_tag
def pace_flag(item: Any) -> SafeString:
    """The pace reason of a "Why" cell: "Behind pace by 23 points", with the same tooltip."""
    pace = _behind_pace(item)
    if pace is None:
        return mark_safe("")
    return format_html('<span class="flag flag-pace" title="{}">Behind pace by {} points</span>', _pace_title(item, pace), pace.behind_by)


@lru_cache(maxsize=256)
def _vendor_status(vendor: str, raw: str) -> SafeString:
    return format_html('<span class="vendor-status">{}: {}</span>', VENDOR_LABELS.get(vendor, vendor), raw)


@register.simple_tag
def vendor_status(item: Any) -> SafeString:
    """The vendor's own wording, small, beside our chip: "North: at-risk"."""
    raw = getattr(item, "vendor_status", "") or ""
    if not raw:
        return mark_safe("")
    return _vendor_status(getattr(item, "vendor", ""), raw)


@register.simple_tag
def progress_bar(value: float | None, label: str = "Progress") -> SafeString:
    """A bar with its number; unknown progress is a dash, never 0 %."""
    return _progress_bar(None if value is None else float(value), label)


@lru_cache(maxsize=4096)
def _progress_bar(value: float | None, label: str) -> SafeString:
    if value is None:
        return format_html('<span class="progress progress-unknown"><span class="num" title="{}: unknown">&ndash;</span></span>', label)
    pct = max(0.0, min(100.0, float(value)))
    return format_html(
        '<span class="progress"><span class="bar" role="progressbar" aria-label="{}" aria-valuemin="0" aria-valuemax="100" '
        'aria-valuenow="{}"><span style="width:{}%"></span></span><span class="num">{}%</span></span>',
        label,
        f"{pct:.0f}",
        f"{pct:.1f}",
        f"{pct:.0f}",
    )


@register.simple_tag
def sparkline(snapshots: Iterable[Any] | None, current: float | None = None) -> SafeString:
    return sparkline_values([s.progress for s in (snapshots or [])], current)


def sparkline_values(values: list[float | None], current: float | None = None) -> SafeString:
    """The sparkline of these progress values (oldest first), ending on ``current``."""
    if values and current is not None and values[-1] != current:
        values = [*values, current]
    return svg.sparkline(values)


@register.filter
def state_label(state: str | None) -> str:
    return STATE_LABELS.get(state or "", state or "")


@register.filter
def outcome_label(outcome: str | None) -> str:
    return OUTCOME_LABELS.get(outcome or "", "")


@register.filter
def kind_label(kind: str | None) -> str:
    return KIND_LABELS.get(kind or "", kind or "")


@register.filter
def vendor_label(vendor: str | None) -> str:
    return VENDOR_LABELS.get(vendor or "", vendor or "")


@register.simple_tag
def vendor_mark(vendor: str | None) -> SafeString:
    """A small mark naming the vendor (text, not only a colour)."""
    return _vendor_mark(vendor or "")


@lru_cache(maxsize=64)
def _vendor_mark(vendor: str) -> SafeString:
    key = vendor if vendor in VENDOR_LABELS else "other"
    return format_html('<span class="vendor vendor-{}">{}</span>', key, VENDOR_LABELS.get(vendor, vendor or "?"))


@register.filter
def safe_url(url: str | None) -> str:
    """Only http(s) links leave the page: a vendor's ``javascript:`` URL becomes no link."""
    url = (url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


@register.simple_tag
def vendor_link(item: Any, text: str = "") -> SafeString:
    url = safe_url(getattr(item, "url", ""))
    if not url:
        return mark_safe("")
    vendor = VENDOR_LABELS.get(getattr(item, "vendor", ""), "the vendor")
    # Plain escaping (what format_html does, without its per-call overhead): this runs per row.
    return mark_safe(  # noqa: S308 - every value is escaped
        f'<a class="vendor-link" href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">{html.escape(str(text or f"Open in {vendor}"))}'
        f'<span class="visually-hidden"> (opens {html.escape(vendor)})</span> ↗</a>'
    )


@register.filter
def sanitized(html: str | None) -> SafeString:
    """Vendor rich text: connectors sanitise it already; sanitise again before trusting it."""
    return mark_safe(nh3.clean(html or "", link_rel="noopener noreferrer nofollow"))  # noqa: S308 - nh3 output


@register.filter
def owners(value: Any) -> str:
    names = [str(n) for n in (value or []) if n]
    return ", ".join(names)


def _days(delta_days: int) -> str:
    return "1 day" if abs(delta_days) == 1 else f"{abs(delta_days)} days"


@register.simple_tag
def staleness(item: Any) -> str:
    """ "No check-in for 19 days" for stale items; empty otherwise."""
    if not getattr(item, "is_stale", False):
        return ""
    last = getattr(item, "last_check_in_at", None)
    if not last:
        return "No check-in yet"
    days = (timezone.now() - last).days
    return f"No check-in for {_days(days)}" if days > 0 else "Check-in overdue"


@register.simple_tag
def late_start_text(item: Any) -> str:
    """ "Not started, 3 days past start" for an item flagged ``is_late_start``; empty otherwise."""
    start: date | None = getattr(item, "start_date", None)
    if not getattr(item, "is_late_start", False) or not start:
        return ""
    return f"Not started, {_days((timezone.localdate() - start).days)} past start"


@register.simple_tag
def goal_health_note(own_health: str | None, goal_health: str | None) -> SafeString:
    """Beside a key result without a status of its own (Operately targets have none), its goal's
    status, labelled as the goal's: "Goal: Off track". Nothing when the key result has a status
    of its own or the goal has none."""
    if (own_health or "unknown") != "unknown" or (goal_health or "unknown") == "unknown":
        return mark_safe("")
    return _GOAL_HEALTH_NOTES.get(goal_health or "", mark_safe(""))  # type: ignore[arg-type]


_GOAL_HEALTH_NOTES = {
    str(key): format_html('<span class="chip chip-{} chip-sm chip-goal">Goal: {}</span>', str(key), label)
    for key, label in HEALTH_LABELS.items()
}


@register.simple_tag
def due_text(item: Any) -> str:
    """ "Due 3 days ago", "Due today", "Due in 5 days", or the date when far away."""
    due: date | None = getattr(item, "due_date", None)
    if not due:
        return ""
    if getattr(item, "state", "") in ("done", "archived"):
        return f"Due {due:%b} {due.day}, {due.year}"
    days = (due - timezone.localdate()).days
    if days < 0:
        return f"Due {_days(days)} ago"
    if days == 0:
        return "Due today"
    if days <= 30:
        return f"Due in {_days(days)}"
    return f"Due {due:%b} {due.day}, {due.year}"


@register.simple_tag
def ago(moment: datetime | None, never: str = "never") -> str:
    if not moment:
        return never
    seconds = int((timezone.now() - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    days = seconds // 86400
    return f"{_days(days)} ago"


@register.filter
def num(value: float | int | None) -> str:
    """A measured value: up to two decimals, no trailing zeros (3.50 -> 3.5, 100.0 -> 100)."""
    if value is None:
        return ""
    text = f"{float(value):,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
