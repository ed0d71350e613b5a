"""The sync engine against the real vendor connectors and their sandboxes over HTTP."""

from __future__ import annotations

import pytest

from connectors import registry
from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.sync import create_runs, run_sync
from dashboard.okrs.models import CheckIn, Goal, KeyResult, Team, WorkItem
from tests.factories import UserFactory
from tests.integrations.test_sync_engine import okrs_rows_written

pytestmark = pytest.mark.django_db

VENDORS = ("north", "ogsm", "operately")


def credential_for(connector: Connector, secret: dict[str, str], username: str) -> Credential:
    credential = Credential(connector=connector, owner=UserFactory(username=username))
    credential.set_secret(dict(secret))
    credential.save()
    return credential


def sync(credential: Credential) -> SyncRun:
    (run,) = create_runs([credential], trigger="manual")
    return run_sync(run.pk)


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_full_sync_then_a_no_change_sync_of_the_vendor_sandbox(vendor, sandbox_factory):
    sandbox, server = sandbox_factory(vendor, seed=1, size="small")
    connector = Connector.objects.create(vendor=vendor, name=f"{vendor} sandbox", base_url=server.url)
    main = credential_for(connector, sandbox.credentials[0].secret, "main")

    run = sync(main)

    assert run.status == "succeeded", run.error
    totals = run.counts()
    assert totals["created"] > 0 and totals["fetched"] >= totals["created"]
    assert Team.objects.filter(connector=connector, seen_by=main).exists()
    assert Goal.objects.filter(connector=connector, seen_by=main).exists()
    assert WorkItem.objects.filter(connector=connector).exists()
    # every team path is a materialised chain of ids ending in the team's own id
    for team in Team.objects.filter(connector=connector):
        assert team.path.endswith(f"/{team.pk}/") and team.path.count("/") == team.depth + 2
    streams = registry.get(vendor).streams
    if "key_results" in streams:
        assert KeyResult.objects.filter(connector=connector, seen_by=main).exists()
    if "check_ins" in streams:
        assert CheckIn.objects.filter(connector=connector).exists()

    before = okrs_rows_written()
    again = sync(main)
    assert again.status == "succeeded", again.error
    assert okrs_rows_written() == before, "a sync with nothing changed must write no rows"
    # incremental streams (North's check-ins) may fetch less the second time; nothing is new
    assert again.counts()["unchanged"] == again.counts()["fetched"] > 0
    assert again.counts()["removed"] == 0
    assert again.requests_made <= run.requests_made


@pytest.mark.parametrize("vendor", VENDORS)
def test_two_credentials_share_rows_and_see_what_their_own_sync_returned(vendor, sandbox_factory):
    sandbox, server = sandbox_factory(vendor, seed=1, size="small")
    connector = Connector.objects.create(vendor=vendor, name=f"{vendor} sandbox", base_url=server.url)
    main = credential_for(connector, sandbox.credentials[0].secret, "main")
    other = credential_for(connector, sandbox.credentials[1].secret, "other")

    assert sync(main).status == "succeeded"
    goals_after_main = Goal.objects.filter(connector=connector).count()
    other_run = sync(other)

    assert other_run.status in ("succeeded", "partial"), other_run.error
    # one row per vendor item: the second credential adds no duplicate of what the first stored
    assert Goal.objects.filter(connector=connector).count() >= goals_after_main
    assert (
        Goal.objects.filter(connector=connector).values("external_id").distinct().count()
        == Goal.objects.filter(connector=connector).count()
    )
    main_goals = set(Goal.objects.filter(seen_by=main).values_list("pk", flat=True))
    other_goals = set(Goal.objects.filter(seen_by=other).values_list("pk", flat=True))
    assert other_goals <= set(Goal.objects.filter(connector=connector).values_list("pk", flat=True))
    assert main_goals  # the full-access account sees goals
