"""The unified model (issue #2 "Done when"): the vocabulary, the roll-ups, snapshots and the
visibility rule: user B never sees what only user A's personal credential returned, in any list,
count or roll-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from connectors.base import HEALTH_LABELS, STATE_LABELS, Health, State, clamp_progress, progress_between, resolve_state
from dashboard.integrations.models import Credential
from dashboard.integrations.sync import create_runs, run_sync
from dashboard.okrs import lists, selectors
from dashboard.okrs.models import HEALTH_CHOICES, STATE_CHOICES, Goal, ProgressSnapshot, Team
from tests.factories import (
    ConnectorFactory,
    CredentialFactory,
    GoalFactory,
    KeyResultFactory,
    TeamFactory,
    UserFactory,
    WorkItemFactory,
    see,
)

pytestmark = pytest.mark.django_db


# -- vocabulary ------------------------------------------------------------------------------------


def test_one_vocabulary_with_labels_for_every_value():
    assert [v for v, _ in HEALTH_CHOICES] == ["on_track", "needs_attention", "off_track", "unknown"]
    assert [v for v, _ in STATE_CHOICES] == ["not_started", "active", "paused", "done", "archived"]
    assert HEALTH_LABELS[Health.UNKNOWN] == "No status" and HEALTH_LABELS[Health.OFF_TRACK] == "Off track"
    assert set(STATE_LABELS) == set(State)
    assert resolve_state(State.DONE, archived=True) == State.ARCHIVED  # archived wins
    assert clamp_progress(130) == 100.0 and clamp_progress(float("nan")) is None and clamp_progress(None) is None
    assert progress_between(100, 50, 75) == 50.0  # decreasing targets work
    assert progress_between(5, 5, 5) == 0.0


def test_stale_and_overdue_flags_are_computed_in_sql():
    cred = CredentialFactory()
    now = timezone.now()
    today = timezone.localdate()
    stale = GoalFactory(connector=cred.connector, stale_at=now - timedelta(minutes=1))
    fresh = GoalFactory(connector=cred.connector, stale_at=now + timedelta(days=3))
    overdue = GoalFactory(connector=cred.connector, due_date=today - timedelta(days=1), state="active")
    done_late = GoalFactory(connector=cred.connector, due_date=today - timedelta(days=1), state="done")
    see(cred, stale, fresh, overdue, done_late)
    flags = {g.pk: (g.is_stale, g.is_overdue) for g in selectors.visible_goals(cred.owner)}
    assert flags[stale.pk] == (True, False) and flags[fresh.pk] == (False, False)
    assert flags[overdue.pk] == (False, True) and flags[done_late.pk] == (False, False)


# -- roll-ups --------------------------------------------------------------------------------------


def test_team_rollups_cover_the_whole_subtree_in_one_query(django_assert_num_queries):
    cred = CredentialFactory()
    c = cred.connector
    root = TeamFactory(connector=c, name="Root")
    mid = TeamFactory(connector=c, name="Mid", parent=root)
    leaf = TeamFactory(connector=c, name="Leaf", parent=mid)
    empty = TeamFactory(connector=c, name="Empty", parent=root)
    goals = [
        GoalFactory(connector=c, team=root, health="on_track", progress=100.0),
        GoalFactory(connector=c, team=mid, health="off_track", progress=20.0),
        GoalFactory(connector=c, team=leaf, health="off_track", progress=None),  # unknown: not a zero
        GoalFactory(connector=c, team=leaf, health="needs_attention", progress=60.0),
    ]
    see(cred, root, mid, leaf, empty, *goals)
    user = cred.owner
    with django_assert_num_queries(3):  # the visible credential ids, the teams, then one query for every roll-up
        teams = selectors.attach_rollups(list(selectors.visible_teams(user)), selectors.visible_goals_base(user))
    rows = {t.name: t for t in teams}
    assert rows["Root"].rollup_progress == pytest.approx(60.0)  # (100 + 20 + 60) / 3
    assert (rows["Root"].rollup_on_track, rows["Root"].rollup_off_track, rows["Root"].rollup_needs_attention) == (1, 2, 1)
    assert rows["Root"].rollup_goals == 4
    assert rows["Mid"].rollup_progress == pytest.approx(40.0) and rows["Mid"].rollup_goals == 3
    assert rows["Leaf"].rollup_off_track == 1 and rows["Leaf"].rollup_progress == pytest.approx(60.0)
    assert rows["Empty"].rollup_goals == 0 and rows["Empty"].rollup_progress is None
    # the annotating form (what the read API filters and orders by) agrees with the page form
    annotated = {t.name: t for t in selectors.with_rollups(selectors.visible_teams(user), selectors.visible_goals_base(user))}
    for name, team in rows.items():
        assert annotated[name].rollup_progress == team.rollup_progress
        assert selectors.rollup_goal_count(annotated[name]) == team.rollup_goals
        assert annotated[name].rollup_off_track == team.rollup_off_track
    summary = selectors.goal_summary(selectors.visible_goals_base(user))
    assert summary["goals"] == 4 and summary["off_track"] == 2 and summary["progress"] == pytest.approx(60.0)


# -- snapshots -------------------------------------------------------------------------------------


def test_a_sync_records_snapshots_and_a_repeat_sync_records_none(sandbox_factory):
    sandbox, server = sandbox_factory("ogsm", seed=2, size="small")
    connector = ConnectorFactory(vendor="ogsm", name="OGSM", base_url=server.url)
    credential = CredentialFactory(connector=connector, secret=dict(sandbox.credentials[0].secret))

    def sync():
        (run,) = create_runs([credential], trigger="manual")
        done = run_sync(run.pk)
        assert done.status == "succeeded", done.error

    sync()
    first = ProgressSnapshot.objects.count()
    tracked = Goal.objects.filter(connector=connector).exclude(progress=None, health="unknown").count()
    assert first >= tracked > 0  # every goal with a progress or a health got its first point
    sync()  # nothing changed at the vendor: no new snapshot
    assert ProgressSnapshot.objects.count() == first


def test_sparkline_uses_recent_snapshots_in_time_order():
    cred = CredentialFactory()
    goal = GoalFactory(connector=cred.connector, progress=40.0)
    see(cred, goal)
    now = timezone.now()
    ProgressSnapshot.objects.create(goal=goal, taken_at=now - timedelta(weeks=30), progress=99.0)  # too old for the list
    ProgressSnapshot.objects.create(goal=goal, taken_at=now - timedelta(days=1), progress=30.0)
    ProgressSnapshot.objects.create(goal=goal, taken_at=now - timedelta(days=8), progress=10.0)
    (row,) = lists.attach_recent_progress(list(selectors.goals_with_details(cred.owner, selectors.visible_goals(cred.owner))))
    assert row.recent_progress == [10.0, 30.0]


# -- visibility ------------------------------------------------------------------------------------


@pytest.fixture
def two_users():
    """A and B on one connector: one shared item (both credentials returned it), one A-only."""
    connector = ConnectorFactory(vendor="north", name="North")
    a = CredentialFactory(connector=connector, owner=UserFactory(username="alice"))
    b = CredentialFactory(connector=connector, owner=UserFactory(username="bob"))
    root = TeamFactory(connector=connector, name="Root")
    secret_team = TeamFactory(connector=connector, name="A's private team", parent=root)
    shared_goal = GoalFactory(connector=connector, team=root, title="Shared goal", health="on_track", progress=80.0)
    private_goal = GoalFactory(
        connector=connector,
        team=secret_team,
        title="A-only goal",
        health="off_track",
        progress=0.0,
        owners=["Alice"],
        owners_text="|alice|",
    )
    private_kr = KeyResultFactory(connector=connector, goal=private_goal, title="A-only KR")
    private_item = WorkItemFactory(connector=connector, title="A-only work", health="off_track")
    see(a, root, secret_team, shared_goal, private_goal, private_kr, private_item)
    see(b, root, shared_goal)
    return {"a": a, "b": b, "root": root, "private_goal": private_goal}


def test_user_b_never_sees_what_only_a_returned(two_users, client):
    bob = two_users["b"].owner
    assert [g.title for g in selectors.visible_goals(bob)] == ["Shared goal"]
    assert not selectors.visible_key_results(bob).exists() and not selectors.visible_work_items(bob).exists()
    assert [t.name for t in selectors.visible_teams(bob)] == ["Root"]
    summary = selectors.goal_summary(selectors.visible_goals_base(bob))
    assert summary["goals"] == 1 and summary["off_track"] == 0
    (root,) = selectors.attach_rollups(
        list(selectors.team_roots(bob, selectors.visible_goals_base(bob))), selectors.visible_goals_base(bob)
    )
    assert root.rollup_goals == 1 and root.rollup_progress == 80.0 and root.rollup_off_track == 0
    assert root.has_children is False  # A's private team is not even hinted at
    assert selectors.connector_rollups(selectors.visible_goals_base(bob))[root.connector_id]["goals"] == 1
    alice = two_users["a"].owner
    (a_root,) = selectors.attach_rollups(
        list(selectors.team_roots(alice, selectors.visible_goals_base(alice))), selectors.visible_goals_base(alice)
    )
    assert a_root.rollup_goals == 2 and a_root.has_children is True
    # and through the pages: lists, counts, search, exports
    client.force_login(bob)
    for url in [
        "/",
        "/teams/",
        f"/teams/{root.pk}/children/",
        "/goals/",
        "/review/",
        "/actions/",
        "/search/?q=alice",
        "/search/?q=only",
        "/goals/export.csv",
        "/actions/export.csv",
        "/teams/export.csv",
    ]:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"A-only" not in body and b"private team" not in body, url
    assert client.get(f"/goals/{two_users['private_goal'].pk}/").status_code == 404


def test_shared_credentials_are_seen_by_their_groups_and_removal_is_immediate(two_users):
    connector = two_users["a"].connector
    group = Group.objects.create(name="Leads")
    shared = Credential.objects.create(connector=connector, is_shared=True)
    shared.groups.add(group)
    goal = GoalFactory(connector=connector, title="Via the shared credential")
    see(shared, goal)
    carol = UserFactory(username="carol")
    assert not selectors.visible_goals(carol).exists()
    carol.groups.add(group)
    carol = type(carol).objects.get(pk=carol.pk)  # a fresh request: no cached credential ids
    assert [g.title for g in selectors.visible_goals(carol)] == ["Via the shared credential"]
    alice = two_users["a"].owner
    two_users["a"].delete()  # removing a credential removes what only it could see, at once
    alice = type(alice).objects.get(pk=alice.pk)
    assert not selectors.visible_goals(alice).exists() and not selectors.visible_teams(alice).exists()
    bob = two_users["b"].owner
    assert [g.title for g in selectors.visible_goals(bob)] == ["Shared goal"]  # still seen through B's credential
    assert Team.objects.filter(name="A's private team").exists()  # the row stays; nobody sees it


def test_disabled_connectors_hide_their_data(two_users):
    connector = two_users["a"].connector
    connector.enabled = False
    connector.save()
    alice = two_users["a"].owner
    assert not selectors.visible_goals(alice).exists()
    assert selectors.freshness(alice)["credentials"] == 0
    assert Health.OFF_TRACK in HEALTH_LABELS
