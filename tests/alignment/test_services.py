"""Who may align, and which links are refused (issue #18)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from dashboard.alignment import services
from dashboard.alignment.models import Alignment
from dashboard.alignment.services import AlignmentError
from dashboard.integrations.models import Connector, Credential
from dashboard.integrations.sync.links import reconcile_visibility
from dashboard.okrs.models import Goal, Team
from tests.factories import GoalFactory

pytestmark = pytest.mark.django_db


def test_the_owner_aligns_their_goal_under_another_vendors_goal(world):
    alignment = services.align(world["member"], world["o_goal"], "goal", world["n_goal"].pk)
    row = Alignment.objects.get(child_goal=world["o_goal"])
    assert row.pk == alignment.pk
    assert (row.parent_goal_id, row.parent_team_id, row.created_by, row.source) == (world["n_goal"].pk, None, world["member"], "manual")
    assert row.created_at is not None


def test_an_admin_aligns_any_goal_under_a_team(world):
    admin = world["admin"]
    services.align(admin, world["o_goal2"], "team", world["n_team"].pk)
    assert Alignment.objects.get(child_goal=world["o_goal2"]).parent_team == world["n_team"]


def test_another_member_may_not_and_is_told_why(world):
    with pytest.raises(AlignmentError) as exc:
        services.align(world["other"], world["o_goal"], "goal", world["n_goal"].pk)
    assert exc.value.status == 403
    assert "admin or an owner" in exc.value.message
    assert not Alignment.objects.exists()


def test_owner_mapping_needs_the_goals_own_connector(world):
    # Mia is a person at North too, but the Operately goal o_goal2 has no owner: not hers.
    assert not services.owns_goal(world["member"], world["o_goal2"])
    assert services.owns_goal(world["member"], world["o_goal"])
    world["member"].email = ""
    assert not services.owns_goal(world["member"], world["o_goal"])


def test_same_connector_is_refused(world):
    admin = world["admin"]
    with pytest.raises(AlignmentError, match="same connector"):
        services.align(admin, world["n_sub"], "goal", world["n_goal"].pk)
    with pytest.raises(AlignmentError, match="same connector"):
        services.align(admin, world["o_goal"], "team", world["o_team"].pk)
    assert not Alignment.objects.exists()


def test_a_loop_through_vendor_and_aligned_parents_is_refused(world):
    admin = world["admin"]
    services.align(admin, world["o_goal"], "goal", world["n_sub"].pk)  # billing under "Win ten logos"
    # "Grow revenue" (parent of n_sub) under billing would close a loop: n_goal > n_sub > o_goal > n_goal.
    with pytest.raises(AlignmentError, match="loop"):
        services.align(admin, world["n_goal"], "goal", world["o_goal"].pk)
    assert Alignment.objects.count() == 1


def test_one_aligned_parent_per_goal(world):
    admin = world["admin"]
    services.align(admin, world["o_goal"], "goal", world["n_goal"].pk)
    with pytest.raises(AlignmentError, match="already aligned"):
        services.align(admin, world["o_goal"], "team", world["n_team"].pk)
    with pytest.raises(IntegrityError):
        Alignment.objects.create(child_goal=world["o_goal"], parent_team=world["n_team"])


def test_exactly_one_parent_is_a_database_rule(world):
    with pytest.raises(IntegrityError):
        Alignment.objects.create(child_goal=world["o_goal"], parent_goal=world["n_goal"], parent_team=world["n_team"])


def test_an_invisible_parent_is_refused(world):
    hidden = GoalFactory(connector=world["north"], title="Secret goal")  # seen by no credential
    with pytest.raises(AlignmentError, match="not visible"):
        services.align(world["member"], world["o_goal"], "goal", hidden.pk)
    with pytest.raises(AlignmentError, match="Choose a goal or a team"):
        services.parse_parent("nonsense")


def test_unalign_by_the_owner_and_refused_for_others(world):
    services.align(world["member"], world["o_goal"], "goal", world["n_goal"].pk)
    with pytest.raises(AlignmentError) as exc:
        services.unalign(world["other"], world["o_goal"])
    assert exc.value.status == 403
    services.unalign(world["member"], world["o_goal"])
    assert not Alignment.objects.exists()


def test_a_change_bumps_both_connectors_data_versions(world):
    before = dict(Connector.objects.values_list("pk", "data_version"))
    services.align(world["member"], world["o_goal"], "goal", world["n_goal"].pk)
    after = dict(Connector.objects.values_list("pk", "data_version"))
    assert after[world["north"].pk] > before[world["north"].pk]
    assert after[world["operately"].pk] > before[world["operately"].pk]


def test_a_sync_that_no_longer_finds_the_parent_removes_the_link(world):
    admin = world["admin"]
    services.align(admin, world["o_goal"], "goal", world["n_goal"].pk)
    services.align(admin, world["o_goal2"], "team", world["n_team"].pk)
    north = world["north"]
    # The sync engine's removal path after a complete read: every North credential stops seeing
    # the goal and the team, so the rows go, and their links with them.
    for credential in Credential.objects.filter(connector=north):
        seen_goals = set(Goal.objects.filter(connector=north).exclude(pk=world["n_goal"].pk).values_list("pk", flat=True))
        reconcile_visibility(Goal, north, credential, seen_goals, guard=False)
        seen_teams = set(Team.objects.filter(connector=north).exclude(pk=world["n_team"].pk).values_list("pk", flat=True))
        reconcile_visibility(Team, north, credential, seen_teams, guard=False)
    assert not Goal.objects.filter(pk=world["n_goal"].pk).exists()
    assert not Alignment.objects.exists()
