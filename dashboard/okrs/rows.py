"""The repeated rows of the dashboard lists, as HTML built in Python in one pass (issue #8, "Speed").

A list page shows up to ~100 rows; rendering each through template includes and a dozen template
tags cost more than every SQL query of the page together. The markup here is the one the
templates had, node for node; the templates keep the page around it. Every vendor value is
escaped (``html.escape``, what Django's ``escape`` does); the fragments from the display tags
(chips, bars, sparklines) are already safe.

Other apps' per-row entry points (``writes/_entry_*.html``) stay templates: :class:`Entry` renders
the compiled template with a light context, so changes to them show up here unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from connectors.base import HEALTH_LABELS, OUTCOME_LABELS, STATE_LABELS
from dashboard.okrs.filters import KIND_LABELS, VENDOR_LABELS
from dashboard.okrs.templatetags.okrs import (
    due_text,
    goal_health_note,
    health_chip,
    late_start_text,
    num,
    owners,
    pace_chip,
    pace_flag,
    progress_bar,
    safe_url,
    sparkline_values,
    staleness,
    vendor_link,
    vendor_mark,
    vendor_status,
)


class Entry:
    """One ``writes/_entry_*.html`` template for many rows: its compiled nodes are rendered per
    row inside one context, instead of one template render, with its context set-up, per row.

    The context holds the row's item only (no request, no user): rows are cached per user and
    data version (:mod:`dashboard.okrs.cache`), so nothing of one request may end up in them."""

    def __init__(self, template_name: str, name: str) -> None:
        self.template_name = template_name
        self.name = name

    def render(self, items: list[Any]) -> list[str]:
        if not items:
            return []
        template = get_template(self.template_name).template  # type: ignore[attr-defined]
        context = Context({}, autoescape=True)
        parts = []
        # What Template.render does around its nodes, done once for all rows.
        with context.render_context.push_state(template), context.bind_template(template):
            for item in items:
                with context.push({self.name: item}):
                    parts.append(str(template.nodelist.render(context)))
        return parts


def goal_url_prefix() -> str:
    """``/goals/`` (whatever the URL configuration says): row links are this plus ``<pk>/``."""
    return reverse("okrs:goal_detail", args=[0])[: -len("0/")]


def work_item_url_prefix() -> str:
    """``/work-items/``: work-item row links are this plus ``<pk>/``."""
    return reverse("okrs:work_item_detail", args=[0])[: -len("0/")]


def _why(item: Any) -> str:
    """The "Why" cell of an attention row: overdue, stale and behind-pace flags, else the
    reported health."""
    overdue = getattr(item, "is_overdue", False)
    stale = staleness(item)
    pace = str(pace_flag(item))
    parts = f'<span class="flag flag-overdue">{escape(due_text(item))}</span> ' if overdue else ""
    if stale:
        parts += f'<span class="flag flag-stale">{escape(stale)}</span> '
    parts += pace
    if not overdue and not stale and not pace:
        health = HEALTH_LABELS.get(item.health or "unknown", HEALTH_LABELS["unknown"])
        parts += f'<span class="muted">Reported {escape(health.lower())}</span>'
    return parts


def _row_classes(item: Any, first: str = "") -> str:
    classes = [first] if first else []
    if getattr(item, "is_overdue", False):
        classes.append("is-overdue")
    if getattr(item, "is_stale", False):
        classes.append("is-stale")
    return " ".join(classes)


def _owners_or_none(item: Any) -> str:
    return escape(owners(item.owners) or "No owner")


# -- goals ------------------------------------------------------------------------------------


def goal_groups(goals: Iterable[Any]) -> SafeString:
    """The goals list: per goal a ``<tbody>`` with the goal row and its key-result rows."""
    prefix = goal_url_prefix()
    out: list[str] = []
    for g in goals:
        meta = [escape(g.team.name) + " · " if g.team else "", _owners_or_none(g)]
        if g.state != "active":
            meta.append(" · " + escape(STATE_LABELS.get(g.state or "", g.state or "")))
        if g.outcome:
            meta.append(" · " + escape(OUTCOME_LABELS.get(g.outcome, "")))
        if safe_url(g.url):
            meta.append(" · " + str(vendor_link(g)))
        due = escape(due_text(g))
        stale = staleness(g)
        due_cell = f'<span class="flag flag-overdue">{due}</span>' if g.is_overdue else (f'<span class="muted">{due}</span>' if due else "")
        stale_cell = f'<span class="flag flag-stale">{escape(stale)}</span>' if stale else ""
        out.append(
            '<tbody class="goal-group">\n'
            f'<tr class="{_row_classes(g, "goal-row")}" data-goal="{g.pk}">\n'
            f'  <td data-label="Goal" class="cell-title">\n'
            f'    {vendor_mark(g.vendor)} <a class="goal-link" href="{prefix}{g.pk}/">{escape(g.title)}</a>\n'
            f'    <div class="meta">{"".join(meta)}</div>\n'
            "  </td>\n"
            f'  <td data-label="Health">{health_chip(g.health)} {pace_chip(g)}<div>{vendor_status(g)}</div></td>\n'
            f'  <td data-label="Progress" class="cell-progress">{progress_bar(g.progress)} {sparkline_values(g.recent_progress, g.progress)}</td>\n'
            f'  <td data-label="Due" class="cell-due">{due_cell} {stale_cell}</td>\n'
            "</tr>\n"
        )
        for kr in g.visible_key_results:
            kr_meta = escape(owners(kr.owners))
            if kr.current is not None:
                kr_meta += (" · " if kr.owners else "") + num(kr.current)
                if kr.target is not None:
                    kr_meta += " of " + num(kr.target)
                kr_meta += " " + escape(kr.unit or "")
            out.append(
                '<tr class="kr-row">\n'
                '  <td data-label="Key result" class="cell-title"><span class="kr-tag" aria-hidden="true">KR</span>'
                f'<span class="visually-hidden">Key result:</span> {escape(kr.title)}\n'
                f'    <div class="meta">{kr_meta}</div></td>\n'
                f'  <td data-label="Health">{health_chip(kr.health)} {goal_health_note(kr.health, g.health)} {pace_chip(kr)}<div>{vendor_status(kr)}</div></td>\n'
                f'  <td data-label="Progress" class="cell-progress">{progress_bar(kr.progress, "Key result progress")}</td>\n'
                f'  <td data-label="Due" class="cell-due{"" if kr.due_date else " is-blank"}"><span class="muted">{escape(due_text(kr))}</span></td>\n'
                "</tr>\n"
            )
        out.append("</tbody>\n")
    return mark_safe("".join(out))  # noqa: S308 - vendor text escaped above


def review_goal_rows(goals: Iterable[Any]) -> SafeString:
    """Goals needing attention (review page): title, team and owners, health, progress, why."""
    prefix = goal_url_prefix()
    out: list[str] = []
    for g in goals:
        meta = (escape(g.team.name) + " · " if g.team else "") + _owners_or_none(g)
        if safe_url(g.url):
            meta += " · " + str(vendor_link(g))
        out.append(
            f'<tr class="{_row_classes(g)}">\n'
            f'  <td data-label="Goal" class="cell-title">{vendor_mark(g.vendor)} <a href="{prefix}{g.pk}/">{escape(g.title)}</a>\n'
            f'    <div class="meta">{meta}</div></td>\n'
            f'  <td data-label="Health">{health_chip(g.health)} {pace_chip(g)}<div>{vendor_status(g)}</div></td>\n'
            f'  <td data-label="Progress" class="cell-progress">{progress_bar(g.progress)} {sparkline_values(g.recent_progress, g.progress)}</td>\n'
            f'  <td data-label="Why" class="why">{_why(g)}</td>\n'
            "</tr>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - vendor text escaped above


def attention_rows(goals: Iterable[Any]) -> SafeString:
    """The overview's "Needs attention" rows."""
    prefix = goal_url_prefix()
    out: list[str] = []
    for g in goals:
        team = f' <span class="muted">· {escape(g.team.name)}</span>' if g.team else ""
        out.append(
            f'<tr class="{_row_classes(g)}">\n'
            f'  <td data-label="Goal">{vendor_mark(g.vendor)} <a href="{prefix}{g.pk}/">{escape(g.title)}</a>{team}</td>\n'
            f'  <td data-label="Health">{health_chip(g.health)} {pace_chip(g)}<div>{vendor_status(g)}</div></td>\n'
            f'  <td data-label="Progress">{progress_bar(g.progress)}</td>\n'
            f'  <td data-label="Why" class="why">{_why(g)}</td>\n'
            "</tr>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - vendor text escaped above


# -- work items -------------------------------------------------------------------------------


def _work_flags(w: Any) -> str:
    """The flags of a work-item row: overdue (else the due text), stale, late to start."""
    due = escape(due_text(w))
    flags = [f'<span class="flag flag-overdue">{due}</span>' if w.is_overdue else (f'<span class="muted">{due}</span>' if due else "")]
    if stale := staleness(w):
        flags.append(f'<span class="flag flag-stale">{escape(stale)}</span>')
    if late := late_start_text(w):
        flags.append(f'<span class="flag flag-late">{escape(late)}</span>')
    return " ".join(f for f in flags if f)


def work_rows(items: Iterable[Any], *, hide_state: bool = False) -> SafeString:
    """Work-item table rows (actions table, review)."""
    items = list(items)
    entries = Entry("writes/_entry_action.html", "w").render(items)
    prefix = work_item_url_prefix()
    out: list[str] = []
    for w, entry in zip(items, entries, strict=True):
        teams = ", ".join(escape(name) for name in w.visible_team_names)
        meta = teams + (" · " if w.visible_team_names else "") + _owners_or_none(w)
        if w.outcome:
            meta += " · " + escape(OUTCOME_LABELS.get(w.outcome, w.outcome))
        if safe_url(w.url):
            meta += " · " + str(vendor_link(w))
        meta += entry
        state = "" if hide_state else f'  <td data-label="State">{escape(STATE_LABELS.get(w.state or "", w.state or ""))}</td>\n'
        out.append(
            f'<tr class="{_row_classes(w)}" data-item="{w.pk}">\n'
            f'  <td data-label="Item" class="cell-title">{vendor_mark(w.vendor)} <span class="kind">{escape(KIND_LABELS.get(w.kind or "", w.kind or ""))}</span> '
            f'<a class="item-link" href="{prefix}{w.pk}/">{escape(w.title)}</a>\n'
            f'    <div class="meta">{meta}</div></td>\n'
            f"{state}"
            f'  <td data-label="Health">{health_chip(w.health)}<div>{vendor_status(w)}</div></td>\n'
            f'  <td data-label="Progress" class="cell-progress">{progress_bar(w.progress)}</td>\n'
            f'  <td data-label="Due" class="cell-due">{_work_flags(w)}</td>\n'
            "</tr>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - vendor text escaped above


def board_cards(items: Iterable[Any]) -> SafeString:
    """The cards of one board column."""
    items = list(items)
    entries = Entry("writes/_entry_action.html", "w").render(items)
    prefix = work_item_url_prefix()
    out: list[str] = []
    for w, entry in zip(items, entries, strict=True):
        link = f"<div>{vendor_link(w)}</div>" if safe_url(w.url) else ""
        out.append(
            f'<li class="{_row_classes(w, "card-item")}" data-item="{w.pk}">\n'
            f'  <div class="card-title">{vendor_mark(w.vendor)} <a class="item-link" href="{prefix}{w.pk}/">{escape(w.title)}</a></div>\n'
            f"  <div>{health_chip(w.health)} {vendor_status(w)}</div>\n"
            f"  {progress_bar(w.progress)}\n"
            f'  <div class="meta">{escape(KIND_LABELS.get(w.kind or "", w.kind or ""))} · {_owners_or_none(w)}</div>\n'
            f"  <div>{_work_flags(w)}</div>\n"
            f"  {link}\n"
            f"  <div>{entry}</div>\n"
            "</li>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - vendor text escaped above


# -- search -----------------------------------------------------------------------------------


def search_goal_items(goals: Iterable[Any]) -> SafeString:
    prefix = goal_url_prefix()
    return mark_safe(  # noqa: S308 - vendor text escaped
        "".join(
            f'<li>{vendor_mark(g.vendor)} {health_chip(g.health)} <a href="{prefix}{g.pk}/">{escape(g.title)}</a> '
            f'<span class="muted">{escape(owners(g.owners))}{" · " + escape(g.team.name) if g.team else ""}</span> {progress_bar(g.progress)}</li>'
            for g in goals
        )
    )


def search_key_result_items(key_results: Iterable[Any]) -> SafeString:
    prefix = goal_url_prefix()
    out = []
    for k in key_results:
        goal = f' <span class="muted">in</span> <a href="{prefix}{k.goal_id}/">{escape(k.goal.title)}</a>' if k.goal else ""
        note = goal_health_note(k.health, k.goal.health) if k.goal else ""
        out.append(
            f"<li>{vendor_mark(k.vendor)} {health_chip(k.health)} {note}{' ' if note else ''}{escape(k.title)}{goal} "
            f'<span class="muted">{escape(owners(k.owners))}</span> {progress_bar(k.progress)}</li>'
        )
    return mark_safe("".join(out))  # noqa: S308 - vendor text escaped above


def search_work_items(items: Iterable[Any]) -> SafeString:
    prefix = work_item_url_prefix()
    return mark_safe(  # noqa: S308 - vendor text escaped
        "".join(
            f'<li>{vendor_mark(w.vendor)} {health_chip(w.health)} <span class="kind">{escape(KIND_LABELS.get(w.kind or "", w.kind or ""))}</span> '
            f'<a href="{prefix}{w.pk}/">{escape(w.title)}</a> <span class="muted">{escape(owners(w.owners))}</span> {vendor_link(w, "Open")}</li>'
            for w in items
        )
    )


# -- team tree --------------------------------------------------------------------------------


def rollup_note(team: Any) -> str:
    """What a team's rolled-up numbers are made of, in words (the tooltip)."""
    goals = int(team.rollup_goals or 0)
    aligned = int(getattr(team, "rollup_aligned", 0) or 0)
    vendor = VENDOR_LABELS.get(team.vendor, team.vendor)
    plural = "" if goals == 1 else "s"
    made_of = f"{goals - aligned} from {vendor}, {aligned} aligned via OKR Hub" if aligned else f"all from {vendor}"
    with_progress = int(getattr(team, "rollup_with_progress", goals) or 0)
    progress = f"the average of the {with_progress} with progress" if with_progress != goals else "their average"
    return f"{goals} goal{plural} in this team and its sub-teams: {made_of}; progress is {progress}."


def link_title(created_by: str, created_at: Any) -> str:
    when = timezone.localtime(created_at).strftime("%b %-d, %Y %H:%M") if created_at else "an unknown time"
    return f"Aligned in OKR Hub by {created_by} on {when}; the vendors do not hold this link."


def link_badge(created_by: str, created_at: Any) -> str:
    return f'<span class="badge badge-link" title="{escape(link_title(created_by, created_at))}">OKR Hub link</span>'


def aligned_goal_items(goals: list[dict[str, Any]], level: int = 1) -> str:
    """The goals of other connectors aligned under a team, listed in place under its row."""
    if not goals:
        return ""
    prefix = goal_url_prefix()
    items = []
    for g in goals:
        under = f' <span class="muted">under {escape(g["under_goal"])}</span>' if g["under_goal"] else ""
        items.append(
            f'<li class="aligned-goal">{vendor_mark(g["vendor"])} {health_chip(g["health"])} '
            f'<a href="{prefix}{g["id"]}/">{escape(g["title"])}</a>{under} '
            f"{link_badge(g['created_by'], g['created_at'])} {progress_bar(g['progress'])}</li>"
        )
    return f'  <ul class="aligned-list" style="--level: {level}" role="none" aria-label="Aligned via OKR Hub">{"".join(items)}</ul>\n'


def tree_row(team: Any, level: int, child_query: str, entry: str) -> str:
    """One team's row: twisty, name, rolled-up progress, counts per health, goal count."""
    pk = team.pk
    query = escape(child_query)
    has_children = getattr(team, "has_children", False)
    twisty = (
        f'<a class="toggle" href="/teams/?team={pk}{"&amp;" + query if child_query else ""}" '
        f'aria-label="Show sub-teams of {escape(team.name)}"><span aria-hidden="true">▸</span></a>'
        if has_children
        else ""
    )
    counts = "".join(
        f'<span class="chip chip-{key} chip-sm">{count} {escape(label.lower())}</span>'
        for key, label in HEALTH_LABELS.items()
        if (count := int(getattr(team, f"rollup_{key}", 0) or 0))
    )
    goals = team.rollup_goals
    note = escape(rollup_note(team))
    aligned = int(getattr(team, "rollup_aligned", 0) or 0)
    aligned_text = f' <span class="badge badge-link">{aligned} via OKR Hub</span>' if aligned else ""
    return (
        f'<div class="tree-row" style="--level: {level}">\n'
        f'  <span class="twisty">{twisty}</span>\n'
        f'  <span class="tree-name">{vendor_mark(team.vendor)} <a href="/goals/?team={pk}" class="team-link">{escape(team.name)}</a></span>\n'
        f'  <span class="tree-progress" title="{note}">{progress_bar(team.rollup_progress, "Rolled-up progress")}</span>\n'
        f'  <span class="tree-health">{counts}</span>\n'
        f'  <span class="tree-goals muted"><a href="/goals/?team={pk}" title="{note}">{goals} goal{"" if goals == 1 else "s"}</a>{aligned_text} · '
        f'<a href="/actions/?team={pk}">actions</a> {entry}</span>\n'
        "</div>\n"
    )


def tree_items(teams: Iterable[Any], *, level: int, child_query: str, truncated: bool, max_rows: int) -> SafeString:
    """Tree items of one level; a team with sub-teams gets the URL htmx loads them from."""
    teams = list(teams)
    entries = Entry("writes/_entry_team.html", "team").render(teams)
    query = escape(child_query)
    out: list[str] = []
    for team, entry in zip(teams, entries, strict=True):
        pk = team.pk
        if getattr(team, "has_children", False):
            expand = (
                f' aria-expanded="false" data-children-url="/teams/{pk}/children/?{query + "&amp;" if child_query else ""}level={level}"'
            )
            group = f'  <ul role="group" id="children-{pk}" hidden></ul>\n'
        else:
            expand = group = ""
        out.append(
            f'<li role="treeitem" aria-level="{level}" class="tree-item" data-team="{pk}"{expand}>\n'
            f"  {tree_row(team, level, child_query, entry)}"
            f"{aligned_goal_items(getattr(team, 'aligned_goals', []), level)}"
            f"{group}"
            "</li>\n"
        )
    if not out:
        text = "No sub-team has goals matching these filters." if child_query else "No sub-teams."
        out.append(f'<li class="tree-empty muted" role="none">{text}</li>\n')
    if truncated:
        out.append(f'<li class="muted" role="none">Showing the first {max_rows}; use the filters to narrow down.</li>\n')
    return mark_safe("".join(out))  # noqa: S308 - vendor text escaped above


def focus_row(team: Any, child_query: str) -> SafeString:
    """The focused team's own row, at the top of its subtree."""
    entry = Entry("writes/_entry_team.html", "team").render([team])[0]
    return mark_safe(tree_row(team, 1, child_query, entry) + aligned_goal_items(getattr(team, "aligned_goals", [])))  # noqa: S308 - vendor text escaped in tree_row
