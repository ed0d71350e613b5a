"""Team tree: one tree per connector, rolled-up rows, children loaded lazily on expand."""

from __future__ import annotations

from typing import Any, TypedDict

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.alignment import selectors as alignment_selectors
from dashboard.core.http import AppRequest
from dashboard.integrations.models import Connector
from dashboard.okrs import cache, lists, rows, selectors
from dashboard.okrs.filters import TreeFilters
from dashboard.okrs.models import Team
from dashboard.okrs.views_common import csv_response, empty_state, page_context, progress_cell, render_region

MAX_ROWS = 300  # a level wider than this is cut, with a note pointing at the filters


class _TreeOptions(TypedDict):
    """The keyword arguments of ``rows.tree_items`` shared by a page's levels."""

    child_query: str
    truncated: bool
    max_rows: int


def _filters(request: AppRequest) -> TreeFilters:
    return TreeFilters(request.GET, path="/teams/", teams=selectors.visible_teams(request.user))


def _goals(request: AppRequest, filters: TreeFilters) -> Any:
    goals = selectors.visible_goals_base(request.user)
    # The team filter picks the subtree shown; roll-ups inside it stay whole.
    for name in ("vendor", "health", "owner", "stale"):
        if name in filters.values:
            goals = filters.appliers[name](filters, goals, filters.values[name])
    return goals


@require_GET
def teams(request: AppRequest) -> HttpResponse:
    user = request.user
    filters = _filters(request)
    goals = _goals(request, filters)
    context = page_context(request)
    trees: list[dict[str, Any]] = []
    focus: dict[str, Any] | None = None
    truncated = False
    if filters.team:
        # Focus on one subtree; the path up to the root stays visible as a breadcrumb.
        team = selectors.visible_teams(user).filter(pk=filters.team["id"]).select_related("connector").first()
        if team is not None:
            children = list(selectors.team_children(user, team.pk, goals, only_matching=filters.limits_goals)[: MAX_ROWS + 1])
            truncated = len(children) > MAX_ROWS
            children = children[:MAX_ROWS]
            aligned = alignment_selectors.aligned_goals(user, goals)
            selectors.attach_rollups([team, *children], goals, aligned=aligned)
            _attach_aligned([team, *children], alignment_selectors.aligned_goals_by_team(user, goals, [team.pk, *(c.pk for c in children)]))
            focus = {"team": team, "ancestors": selectors.team_ancestors(user, team), "children": children}
    else:

        def tree_data() -> dict[str, Any]:
            roots = selectors.team_roots(user, goals, vendors=filters.values.get("vendor"), only_matching=filters.limits_goals)
            found = list(roots.values_list("pk", "has_children")[: MAX_ROWS + 1])
            shown = [pk for pk, _ in found[:MAX_ROWS]]
            if shown:
                aligned = alignment_selectors.aligned_goals(user, goals)
                team_rollups, connector_rollups = selectors.tree_rollups(Team.objects.filter(pk__in=shown), goals, aligned=aligned)
            else:
                team_rollups, connector_rollups = {}, selectors.connector_rollups(goals)
            in_place = alignment_selectors.aligned_goals_by_team(user, goals, shown)
            return {"found": found, "teams": team_rollups, "connectors": connector_rollups, "aligned": in_place}

        data = cache.cached_for(request, "teams:roots", tree_data)
        truncated = len(data["found"]) > MAX_ROWS
        by_connector: dict[int, dict[str, Any]] = {}
        roots = _teams_by_id(data["found"][:MAX_ROWS], data["teams"])
        _attach_aligned(roots, data.get("aligned", {}))
        rollups = data["connectors"]
        for team in roots:
            tree = by_connector.get(team.connector_id)
            if tree is None:
                connector: Connector = team.connector
                tree = {"connector": connector, "rollup": rollups.get(connector.pk, {}), "roots": []}
                by_connector[connector.pk] = tree
                trees.append(tree)
            tree["roots"].append(team)
    child_query = filters.querystring(keep_extra=False)
    # The page says once, below the trees, that a level was cut; lazily loaded levels say it in their list.
    rows_options: _TreeOptions = {"child_query": child_query, "truncated": False, "max_rows": MAX_ROWS}
    for tree in trees:
        tree["roots_html"] = rows.tree_items(tree["roots"], level=1, **rows_options)
    if focus is not None:
        focus["row_html"] = rows.focus_row(focus["team"], child_query)
        focus["children_html"] = rows.tree_items(focus["children"], level=2, **rows_options)
    context.update(
        filters=filters,
        trees=trees,
        focus=focus,
        truncated=truncated,
        max_rows=MAX_ROWS,
        export_url=filters.url("/teams/export.csv", keep_extra=False),
    )
    context["empty"] = "" if trees or focus else empty_state(context["freshness"], filtered=filters.active)
    return render_region(request, "okrs/teams.html", context, "listing")


def _attach_aligned(teams: list[Team], by_team: dict[int, list[dict[str, Any]]]) -> None:
    """The goals of other connectors aligned under each team, shown in place (issue #18)."""
    for team in teams:
        team.aligned_goals = by_team.get(team.pk, [])  # type: ignore[attr-defined]


def _teams_by_id(found: list[tuple[int, bool]], rollups: dict[int, dict[str, Any]]) -> list[Team]:
    """The rows of these (visible, chosen) teams in order, with ``has_children`` and roll-ups
    from the cached data set on them: one query."""
    teams = lists.in_order(Team.objects.defer(*selectors.LIST_DEFER).select_related("connector"), [pk for pk, _ in found])
    has_children = dict(found)
    for team in teams:
        team.has_children = has_children[team.pk]  # type: ignore[attr-defined]
        selectors.set_rollup(team, rollups.get(team.pk, selectors.EMPTY_ROLLUP))
    return teams


@require_GET
def team_children(request: AppRequest, team_id: int) -> HttpResponse:
    """The children of one team, as tree rows: what htmx loads when a row is expanded."""
    if not selectors.visible_teams(request.user).filter(pk=team_id).exists():
        raise Http404("No such team.")  # another member's team answers like a missing one
    filters = _filters(request)
    goals = _goals(request, filters)

    def children_data() -> dict[str, Any]:
        children = selectors.team_children(request.user, team_id, goals, only_matching=filters.limits_goals)
        found = list(children.values_list("pk", "has_children")[: MAX_ROWS + 1])
        shown = [pk for pk, _ in found[:MAX_ROWS]]
        if not shown:
            return {"found": found, "teams": {}, "aligned": {}}
        aligned = alignment_selectors.aligned_goals(request.user, goals)
        return {
            "found": found,
            "teams": selectors.subtree_rollups(Team.objects.filter(pk__in=shown), goals, aligned=aligned),
            "aligned": alignment_selectors.aligned_goals_by_team(request.user, goals, shown),
        }

    data = cache.cached_for(request, "teams:children", children_data, extra=team_id)
    children = data["found"]
    level = request.GET.get("level", "1")
    shown = _teams_by_id(children[:MAX_ROWS], data["teams"])
    _attach_aligned(shown, data.get("aligned", {}))
    rows_html = rows.tree_items(
        shown,
        level=int(level) + 1 if level.isdigit() and int(level) < 50 else 2,
        child_query=filters.querystring(keep_extra=False),
        truncated=len(children) > MAX_ROWS,
        max_rows=MAX_ROWS,
    )
    return render(request, "okrs/teams.html#rows", {"rows_html": rows_html, "parent_id": team_id})


@require_GET
def teams_export(request: AppRequest) -> StreamingHttpResponse:
    """Every visible team (in the filtered trees) with its roll-ups, one row each."""
    user = request.user
    filters = _filters(request)
    goals = _goals(request, filters)
    teams = selectors.visible_teams(user)
    if "vendor" in filters.values:
        teams = teams.filter(vendor__in=filters.values["vendor"])
    if filters.team:
        teams = teams.filter(path__startswith=filters.team["path"])
    if filters.limits_goals:
        teams = selectors.with_matching_goals_only(teams, goals)
    rollups = selectors.subtree_rollups(teams, goals, aligned=alignment_selectors.aligned_goals(user, goals))
    teams = teams.defer("raw", "fingerprint").select_related("connector").order_by("connector__name", "path")

    def rows() -> Any:
        for t in teams.iterator(chunk_size=1000):
            r = rollups.get(t.pk, selectors.EMPTY_ROLLUP)
            yield [t.connector.name, t.vendor, t.name, t.depth, r["goals"], progress_cell(r["progress"]),
                   r["on_track"], r["needs_attention"], r["off_track"], r["unknown"], t.url, r.get("aligned", 0)]  # fmt: skip

    # New columns go last: scripts that read the export by position keep working.
    header = ["connector", "vendor", "team", "depth", "goals", "progress", "on_track", "needs_attention", "off_track", "no_status", "url",
              "aligned_goals"]  # fmt: skip
    return csv_response("okrhub-teams.csv", header, rows())
