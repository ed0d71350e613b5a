"""A read answered 200 with a body that is not JSON (a proxy's HTML page, a cut-off body), over
real HTTP against each vendor's sandbox: asked again with backoff like a 5xx, within the
request's budget; a ``GarbledBody`` (a ``PermanentError``) naming the endpoint once the budget is
spent; and a write is never sent twice for a garbled answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors.base import PermanentError
from connectors.http import GarbledBody, HttpSession, RetryPolicy, make_client
from connectors.north import NorthConnector
from connectors.ogsm import OgsmConnector
from connectors.ogsm.payload import action_body
from connectors.operately import OperatelyConnector
from connectors.operately.ids import uuid_to_short
from connectors.sandbox_kit import RunningServer, Sandbox

POLICY = RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.2, budget_seconds=10)
CONNECTORS: dict[str, type[Any]] = {"north": NorthConnector, "operately": OperatelyConnector, "ogsm": OgsmConnector}
# the list request of one stream per vendor, as the sandbox sees its path and the error names it
READS = {
    "north": ("key_results", "/key_results/", "GET /api/orgs/1/key_results/"),
    "operately": ("goals", "get_goals", "GET get_goals"),
    "ogsm": ("work_items", "/api/v2/actions.json", "GET /api/v2/actions.json"),
}

Served = Callable[..., tuple[Sandbox, RunningServer]]


def connect(sandbox_factory: Served, vendor: str) -> tuple[Sandbox, Any, list[float]]:
    """A connector on the vendor's sandbox over HTTP, its backoff sleeps recorded (and taken)."""
    sandbox, server = sandbox_factory(vendor, seed=1, size="small")
    client = make_client(server.url, timeout=5)
    connector = CONNECTORS[vendor](client, dict(sandbox.credentials[0].secret), options={"retry_policy": POLICY, "concurrency": 1})
    session = session_of(connector)
    slept: list[float] = []
    real_sleep = session.sleep

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    session.sleep = sleep
    return sandbox, connector, slept


def session_of(connector: Any) -> HttpSession:
    if isinstance(connector, NorthConnector):
        return connector.session
    return connector.api.http if isinstance(connector, OperatelyConnector) else connector.api.session


def read_all(connector: Any, stream: str) -> list[Any]:
    pages = list(connector.read(stream))
    assert pages and pages[-1].complete
    return [record for page in pages for record in page.records]


@pytest.mark.parametrize("vendor", list(READS))
def test_garbled_answers_to_a_read_are_asked_again_with_backoff(sandbox_factory: Served, vendor: str) -> None:
    stream, path, _ = READS[vendor]
    sandbox, connector, slept = connect(sandbox_factory, vendor)
    clean = len(read_all(connector, stream))
    slept.clear()
    sandbox.faults = f"script=badjson|truncated,match={path}"

    records = read_all(connector, stream)

    assert len(records) == clean > 0
    assert sandbox.app.faults_served == {"badjson": 1, "truncated": 1}
    # capped exponential backoff with jitter (half to all of base * 2**(n-1)), as for a 5xx
    assert len(slept) == 2
    assert POLICY.base_delay / 2 <= slept[0] <= POLICY.base_delay
    assert POLICY.base_delay <= slept[1] <= POLICY.base_delay * 2


@pytest.mark.parametrize("vendor", list(READS))
def test_a_read_garbled_on_every_attempt_fails_naming_the_endpoint(sandbox_factory: Served, vendor: str) -> None:
    stream, path, endpoint = READS[vendor]
    sandbox, connector, slept = connect(sandbox_factory, vendor)
    connector.check()
    sandbox.faults = f"badjson=1,match={path}"

    with pytest.raises(GarbledBody) as failed:
        list(connector.read(stream))

    error = failed.value
    assert isinstance(error, PermanentError) and not error.retryable  # what the sync engine and callers rely on
    assert error.endpoint == endpoint and endpoint in str(error)
    assert error.attempts == POLICY.max_attempts and "garbled (a body that is not JSON" in error.message
    assert f"after {POLICY.max_attempts} attempts" in error.message and "Service temporarily unavailable" in error.message
    assert error.status == 200
    # each attempt was one request: a client's own retry loop does not multiply the budget
    assert sandbox.app.faults_served == {"badjson": POLICY.max_attempts}
    assert len(slept) == POLICY.max_attempts - 1


def test_a_spent_time_budget_stops_the_retries_early(sandbox_factory: Served) -> None:
    sandbox, server = sandbox_factory("north", seed=1, size="small")
    tight = RetryPolicy(max_attempts=10, base_delay=0.2, max_delay=1.0, budget_seconds=0.5)
    connector = NorthConnector(make_client(server.url, timeout=5), dict(sandbox.credentials[0].secret), options={"retry_policy": tight})
    sandbox.faults = "truncated=1,match=/api/user/"

    with pytest.raises(GarbledBody) as failed:
        connector.check()

    assert 2 <= failed.value.attempts < tight.max_attempts  # 0.1-0.2 s, then 0.2-0.4 s: the third wait would overrun
    assert sandbox.app.faults_served["truncated"] == failed.value.attempts


def test_a_read_sent_without_retries_is_not_asked_again(sandbox_factory: Served) -> None:
    sandbox, connector, _ = connect(sandbox_factory, "north")
    session = session_of(connector)
    sandbox.faults = "script=badjson"

    response = session.send("GET", "api/user/", retry=False)

    with pytest.raises(PermanentError, match="not JSON"):
        session.decode(response, "GET /api/user/")
    assert sandbox.app.faults_served == {"badjson": 1} and session.requests_made == 1


def test_a_checked_body_is_decoded_again_on_each_call(sandbox_factory: Served) -> None:
    """The body parsed while checking is handed to the first decode only (OGSM keeps answers as
    bytes and decodes them again): every decode gives the same, whole value."""
    _, connector, _ = connect(sandbox_factory, "north")
    session = session_of(connector)
    response = session.send("GET", "api/user/")
    first, second = session.decode(response, "GET /api/user/"), session.decode(response, "GET /api/user/")
    assert first == second == response.json() and first["first_name"]


def test_operately_a_garbled_answer_to_a_mutation_is_not_sent_again(sandbox_factory: Served) -> None:
    """Operately reads with GET and writes with POST: only the reads are asked again."""
    sandbox, connector, _ = connect(sandbox_factory, "operately")
    connector.check()
    project = uuid_to_short(next(iter(sandbox.state.projects)))
    before, made = len(sandbox.state.project_check_ins), session_of(connector).requests_made
    sandbox.faults = "script=truncated"  # the vendor applied it; its answer was cut on the way

    with pytest.raises(PermanentError, match="not JSON") as failed:
        connector.post_project_check_in(project, "on_track", "written once")

    assert not isinstance(failed.value, GarbledBody)
    assert session_of(connector).requests_made == made + 1
    assert len(sandbox.state.project_check_ins) == before + 1  # the vendor applied it, once


def test_ogsm_a_garbled_answer_to_a_create_is_not_sent_again(sandbox_factory: Served) -> None:
    sandbox, connector, _ = connect(sandbox_factory, "ogsm")
    before, made = len(sandbox.state.actions), session_of(connector).requests_made
    sandbox.faults = "script=truncated,match=/api/v2/actions.json"

    with pytest.raises(PermanentError, match="not JSON"):
        connector.api.create_action(action_body({"title": "Created once", "team_external_ids": [str(sandbox.state.canvases[0])]}))

    assert session_of(connector).requests_made == made + 1
    assert len(sandbox.state.actions) == before + 1
