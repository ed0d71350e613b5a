"""Selectors and helpers behind the pages: trees, board columns, filters, sparklines, CSV cells."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from dashboard.okrs import lists, selectors
from dashboard.okrs.filters import GoalFilters, TreeFilters, WorkItemFilters
from dashboard.okrs.svg import sparkline, sparkline_points
from dashboard.okrs.views_common import csv_safe
from tests.factories import CredentialFactory, GoalFactory, TeamFactory, WorkItemFactory, see

pytestmark = pytest.mark.django_db


@pytest.fixture
def cred():
    return CredentialFactory()


def test_a_team_whose_parent_is_invisible_becomes_a_root(cred):
    c = cred.connector
    hidden_parent = TeamFactory(connector=c, name="Hidden")
    visible_child = TeamFactory(connector=c, name="Visible", parent=hidden_parent)
    grandchild = TeamFactory(connector=c, name="Grandchild", parent=visible_child)
    see(cred, visible_child, grandchild)
    roots = list(selectors.team_roots(cred.owner, selectors.visible_goals_base(cred.owner)))
    assert [t.name for t in roots] == ["Visible"] and roots[0].has_children
    children = list(selectors.team_children(cred.owner, visible_child.pk, selectors.visible_goals_base(cred.owner)))
    assert [t.name for t in children] == ["Grandchild"] and not children[0].has_children
    assert selectors.team_ancestors(cred.owner, grandchild) == [visible_child]  # the hidden one is left out


def test_board_columns_cap_each_state_in_two_queries(cred, django_assert_num_queries):
    items = [WorkItemFactory(connector=cred.connector, state=state, title=f"{state} {i}") for state in ("active", "done") for i in range(5)]
    see(cred, *items)
    qs = selectors.visible_work_items(cred.owner)
    selectors.visible_credential_ids(cred.owner)
    with django_assert_num_queries(2):  # the ids (a window over narrow rows), then those rows
        cards = lists.board_columns(qs, per_column=3)
    assert [c.state for c in cards] == ["active"] * 3 + ["done"] * 3
    assert [c.title for c in cards[:3]] == ["active 0", "active 1", "active 2"]  # most urgent first (no due date: by title)


def test_work_item_team_names_only_name_visible_teams(cred):
    seen_team = TeamFactory(connector=cred.connector, name="Seen")
    unseen_team = TeamFactory(connector=cred.connector, name="Unseen")
    item = WorkItemFactory(connector=cred.connector)
    item.teams.add(seen_team, unseen_team)
    see(cred, seen_team, item)
    assert selectors.work_item_team_names(cred.owner, selectors.visible_work_items(cred.owner)) == {item.pk: ["Seen"]}


def test_filters_parse_validate_describe_and_apply(cred):
    team = TeamFactory(connector=cred.connector, name="Ops")
    see(cred, team)
    params = QueryDict(f"health=off_track&health=bogus&team={team.pk}&owner=Grace&stale=1&sort=due&vendor=north")
    filters = GoalFilters(params, path="/goals/", teams=selectors.visible_teams(cred.owner))
    assert filters.values["health"] == ["off_track"] and filters.values["team"] == team.pk
    assert any("Unknown health “bogus”" in e for e in filters.errors)
    labels = [chip.label for chip in filters.chips()]
    assert labels == ["Vendor: North", "Team: Ops", "Health: Off track", "Owner: “Grace”", "Stale"]
    owner_chip = filters.chips()[3]
    assert "owner=" not in owner_chip.remove_url and "sort=due" in owner_chip.remove_url and "health=off_track" in owner_chip.remove_url
    assert filters.clear_url() == "/goals/?sort=due"
    assert filters.url("/goals/export.csv", keep_extra=False).startswith("/goals/export.csv?vendor=north&team=")
    matching = GoalFactory(
        connector=cred.connector, team=team, health="off_track", owners_text="|grace hopper|", stale_at="2000-01-01T00:00Z"
    )
    other = GoalFactory(connector=cred.connector, team=team, health="off_track", owners_text="|ada|")
    see(cred, matching, other)
    assert list(filters.apply(selectors.visible_goals(cred.owner))) == [matching]


def test_text_filters_are_bounded_and_unknown_choices_dropped():
    filters = WorkItemFilters(QueryDict("q=" + "x" * 500 + "&due=soon&kind=task"), path="/actions/")
    assert len(filters.values["q"]) == 200 and filters.values["kind"] == ["task"] and "due" not in filters.values
    assert TreeFilters(QueryDict("stale=0"), path="/teams/").values == {}


def test_sparkline_is_svg_on_a_fixed_scale_and_skips_unknowns():
    assert sparkline([50.0]) == ""  # one point is no trend
    points = sparkline_points([0.0, None, 100.0], width=80, height=22)
    assert points == [(2.0, 20.0), (78.0, 2.0)]
    svg = sparkline([10.0, 20.0, 45.0])
    assert svg.startswith('<svg class="sparkline"') and 'aria-label="Progress trend: 10% to 45% over 3 snapshots"' in svg


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@me", "'@me"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (12.5, 12.5),
        (None, ""),
        (True, "yes"),
    ],
)
def test_csv_cells_are_neutralised(cell, expected):
    assert csv_safe(cell) == expected
