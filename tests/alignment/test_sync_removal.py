"""Removing a vendor item removes its links: a real sync (the fake vendor's sandbox over HTTP)
that no longer lists a goal deletes the row and, with it, every alignment at either end."""
# ruff: noqa: F811 - pytest fixtures imported from fake_connector are redefined as arguments

from __future__ import annotations

import pytest

from dashboard.alignment import services
from dashboard.alignment.models import Alignment, AlignmentSuggestion
from dashboard.integrations.models import Credential, SyncRun
from dashboard.integrations.sync import create_runs, run_sync
from dashboard.okrs.models import Goal
from tests.factories import AdminFactory, ConnectorFactory, CredentialFactory, GoalFactory, TeamFactory, see
from tests.integrations.fake_connector import fake_sandbox, make_credential  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def sync(credential: Credential) -> SyncRun:
    (run,) = create_runs([credential], trigger="manual")
    return run_sync(run.pk)


def test_a_goal_gone_at_the_vendor_takes_its_links_along(fake_sandbox, make_credential):
    sandbox, server = fake_sandbox()
    fake = make_credential(server)
    assert sync(fake).status == "succeeded"
    admin = AdminFactory(username="root")
    Credential.objects.filter(pk=fake.pk).update(owner=admin)
    north = CredentialFactory(owner=admin, connector=ConnectorFactory(vendor="north", name="North"))
    north_team = TeamFactory(connector=north.connector, name="Platform")
    north_goal = GoalFactory(connector=north.connector, team=north_team, title="Grow revenue")
    see(north, north_team, north_goal)
    vanishing, staying = Goal.objects.get(external_id="g3-2"), Goal.objects.get(external_id="g1-1")
    services.align(admin, vanishing, "team", north_team.pk)  # the vanishing goal as child
    services.align(admin, north_goal, "goal", vanishing.pk)  # ... and as parent
    services.align(admin, staying, "goal", north_goal.pk)
    AlignmentSuggestion.objects.create(child_goal=vanishing, parent_goal=north_goal, score=80.0)

    state = sandbox.state
    del state.goals["g3-2"]
    for kid in [k for k, kr in state.key_results.items() if kr["goal"] == "g3-2"]:
        del state.key_results[kid]
    state.check_ins.pop("c-g3-2", None)
    run = sync(Credential.objects.get(pk=fake.pk))

    assert run.status == "succeeded", run.error
    assert not Goal.objects.filter(external_id="g3-2").exists()
    assert list(Alignment.objects.values_list("child_goal_id", "parent_goal_id")) == [(staying.pk, north_goal.pk)]
    assert not AlignmentSuggestion.objects.exists()
    assert Goal.objects.filter(pk=north_goal.pk).exists()  # the other end is the vendor's: it stays
