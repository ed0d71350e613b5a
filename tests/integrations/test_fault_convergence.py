"""A North org synced through a vendor that answers 10 % 500s, 5 % 429s (with Retry-After) and
3 % garbled bodies (a proxy's HTML page with status 200, or a cut-off body): the real sync
engine over real HTTP normally succeeds in one run and always within ``MAX_RUNS``, and the rows
it stored then equal what the sandbox holds (read from the sandbox's own state).

Each run is one ``run_sync`` without Celery retries (what one scheduled run does on its own),
so a run that ends ``partial`` counts as a run needed. ``FAULT_CONVERGENCE_TRIES=10`` runs ten
fresh orgs (different seeds) for the note's measurement; each try prints the runs it needed.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from connectors.http import RetryPolicy
from dashboard.integrations.models import SyncRun
from dashboard.integrations.services import connectors as connector_service
from dashboard.okrs.models import CheckIn
from tests.reliability.helpers import assert_stored_as_the_sandbox_holds, connect, sync

pytestmark = pytest.mark.django_db

FAULT_MIX = "500=0.10,429=0.05,retry_after=1,badjson=0.015,truncated=0.015,seed={seed}"
MAX_RUNS = 3
TRIES = int(os.environ.get("FAULT_CONVERGENCE_TRIES", "2"))
# The production retry counts and time budget (they decide convergence), with the waits between
# attempts shortened so a try takes seconds; Retry-After is still honoured (1 s here).
PRODUCTION = RetryPolicy()
SHORT_WAITS = RetryPolicy(max_attempts=PRODUCTION.max_attempts, budget_seconds=PRODUCTION.budget_seconds, base_delay=0.02, max_delay=0.2)
CHECK_IN_KINDS = ("check_in", "check-in", "checkin")  # North's spellings of a check-in event


@pytest.fixture
def short_retry_waits(monkeypatch: pytest.MonkeyPatch) -> RetryPolicy:
    real = connector_service.connector_options

    def connector_options(credential: Any, **extra: Any) -> dict[str, Any]:
        return real(credential, **{"retry_policy": SHORT_WAITS, **extra})

    monkeypatch.setattr(connector_service, "connector_options", connector_options)
    return SHORT_WAITS


def north_check_in_ids(state: Any) -> set[str]:
    """Every check-in event the North sandbox holds, as ``<kind>-<item id>-<event id>``."""
    with state.lock:
        return {
            f"{kind}-{item_id}-{event['id']}"
            for kind in ("goal", "key_result", "initiative")
            for item_id in state.items_of(kind)
            for event in state.events_for(kind, item_id)
            if event.get("kind") in CHECK_IN_KINDS
        }


def sync_until_it_succeeds(credential: Any, limit: int) -> list[SyncRun]:
    runs: list[SyncRun] = []
    while len(runs) < limit:
        runs.append(sync(credential))
        if runs[-1].status == SyncRun.Status.SUCCEEDED:
            break
    return runs


@pytest.mark.parametrize("seed", range(1, TRIES + 1))
def test_a_north_org_converges_through_500s_429s_and_garbled_bodies(seed, sandbox_factory, short_retry_waits):
    sandbox, server = sandbox_factory("north", seed=seed, size="small")
    c = connect(sandbox, server)
    sandbox.faults = FAULT_MIX.format(seed=seed)

    runs = sync_until_it_succeeds(c.credential, MAX_RUNS)

    outcomes = [(run.status, run.requests_made, run.error[:300]) for run in runs]
    print(f"\nfault convergence seed={seed}: {len(runs)} run(s) {outcomes}")
    assert runs[-1].status == SyncRun.Status.SUCCEEDED, outcomes
    served = sandbox.app.faults_served
    assert served.get("500", 0) and served.get("429", 0) and served.get("badjson", 0) + served.get("truncated", 0), served
    # what we stored is what the vendor holds, read from the sandbox's state, not our connector
    sandbox.faults = ""
    assert_stored_as_the_sandbox_holds(c.credential, sandbox)
    # check-ins: the one kind the shared sandbox reader leaves out for North (they are events)
    stored_check_ins = set(CheckIn.objects.filter(connector=c.connector).values_list("external_id", flat=True))
    assert stored_check_ins == north_check_in_ids(sandbox.state) != set()
