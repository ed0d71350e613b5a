"""Each fault kind over real HTTP: what is retried, what fails the stream, and how clearly."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from connectors.base import NotFound, PermanentError, RateLimited, TransientError
from connectors.http import make_client
from connectors.ogsm import OgsmConnector

from .conftest import FAST_RETRY, Served


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_a_server_error_on_a_read_is_retried(ogsm: Callable[..., Served], kind: str) -> None:
    served = ogsm()
    served.sandbox.faults = f"script={kind}|ok"
    connector = served.connector()
    pages = list(connector.read("work_items"))
    assert pages[-1].complete and sum(len(p.records) for p in pages) == 30
    assert connector.requests_made == 2
    assert served.sandbox.app.faults_served == {kind: 1}


def test_persistent_server_errors_fail_the_stream_clearly(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    served.sandbox.faults = "500=1"
    connector = served.connector()
    with pytest.raises(TransientError, match="Vendor server error") as excinfo:
        list(connector.read("work_items"))
    assert excinfo.value.status == 500 and excinfo.value.endpoint == "GET /api/v2/actions.json"
    assert connector.requests_made == 3  # the small retry policy's max_attempts


def test_429_waits_for_retry_after_then_succeeds(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    served.sandbox.faults = "script=429|ok,retry_after=0.3"
    connector = served.connector()
    started = time.monotonic()
    info = connector.check()
    assert time.monotonic() - started >= 0.3  # Retry-After honoured, not the 0.01 s backoff
    assert info.raw["actions"] == 30 and connector.requests_made == 2


def test_429_beyond_the_budget_is_rate_limited(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    served.sandbox.faults = "429=1,retry_after=60"
    with pytest.raises(RateLimited) as excinfo:
        served.connector().check()
    assert excinfo.value.retry_after == 60.0  # handed to the sync, which retries later


def test_a_timeout_is_retried_then_succeeds(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    served.sandbox.faults = "script=timeout|ok,hang=2"
    connector = served.connector(timeout=0.5)
    pages = list(connector.read("goals"))
    assert pages[-1].complete
    assert served.sandbox.app.faults_served == {"timeout": 1}


def test_timeouts_everywhere_are_transient(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    served.sandbox.faults = "timeout=1,hang=2"
    with pytest.raises(TransientError, match="did not answer in time"):
        served.connector(timeout=0.3).check()


@pytest.mark.parametrize("kind", ["badjson", "truncated"])
@pytest.mark.parametrize("stream", ["teams", "goals", "work_items"])
def test_a_body_that_is_not_json_once_is_read_again(ogsm: Callable[..., Served], kind: str, stream: str) -> None:
    served = ogsm()
    served.sandbox.faults = f"script={kind}"
    connector = served.connector(concurrency=1)
    pages = list(connector.read(stream))
    assert pages[-1].complete and sum(len(p.records) for p in pages) > 0
    assert served.sandbox.app.faults_served == {kind: 1}


@pytest.mark.parametrize("kind", ["badjson", "truncated"])
@pytest.mark.parametrize("stream", ["teams", "goals", "work_items"])
def test_a_body_that_is_never_json_fails_the_stream_not_silently(ogsm: Callable[..., Served], kind: str, stream: str) -> None:
    served = ogsm()
    served.sandbox.faults = f"{kind}=1"
    connector = served.connector(concurrency=1)
    with pytest.raises(PermanentError, match=r"not JSON.* after 3 attempts") as failed:
        list(connector.read(stream))
    assert failed.value.endpoint and failed.value.endpoint.startswith("GET /api/v2/")
    assert served.sandbox.app.faults_served == {kind: 3}  # the small retry policy's max_attempts
    # The faults were answers, not the data: once they stop, the same stream is whole again.
    served.sandbox.faults = ""
    pages = list(connector.read(stream))
    assert pages[-1].complete and sum(len(p.records) for p in pages) > 0


def test_a_truncated_write_answer_is_reported_not_guessed(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    served.sandbox.faults = "script=truncated"
    connector = served.connector()
    with pytest.raises(PermanentError, match="not JSON"):
        connector.update_action("1003", {"progress": 12})
    assert connector.requests_made == 1  # a write is never sent twice for a garbled answer
    # The vendor did apply it: the dashboard re-reads before trusting its copy.
    assert served.state.actions[1003]["progress"] == 12


def test_a_404_on_actions_is_a_failure_not_an_empty_tenant(ogsm: Callable[..., Served]) -> None:
    """Only objectives and goals may be missing; a wrong base URL must not read as "no actions"."""
    served = ogsm()
    connector = OgsmConnector(
        make_client(served.server.url + "/wrong-prefix"), dict(served.sandbox.credentials[0].secret), options={"retry_policy": FAST_RETRY}
    )
    with pytest.raises(NotFound):
        connector.check()
    with pytest.raises(NotFound):
        list(connector.read("work_items"))
    with pytest.raises(NotFound):
        list(connector.read("teams"))
