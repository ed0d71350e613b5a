"""Each fault kind of the North sandbox, met by the connector over real HTTP."""

from __future__ import annotations

import time

import pytest

from connectors.base import AuthError, PermanentError, TransientError
from tests.connectors.north.conftest import North, read_stream


def test_a_500_is_retried_and_the_read_completes(north: North) -> None:
    north.sandbox.faults = "script=500|503"
    connector = north.connector()
    goals, _ = read_stream(connector, "goals")
    assert len(goals) == 30
    assert north.sandbox.app.faults_served == {"500": 1, "503": 1}


def test_persistent_500s_end_in_a_transient_error_naming_the_endpoint(north: North) -> None:
    north.sandbox.faults = "500=1,match=/goals/"
    connector = north.connector()
    with pytest.raises(TransientError) as failed:
        list(connector.read("goals"))
    assert failed.value.endpoint == "GET /api/orgs/1/goals/"
    assert north.sandbox.app.faults_served["500"] == 3  # max_attempts of the test policy, then it stops


def test_429_waits_for_retry_after(north: North) -> None:
    north.sandbox.faults = "script=429,retry_after=0.4"
    connector = north.connector()
    started = time.monotonic()
    info = connector.check()
    assert info.account_name == "Alyssa P Hacker"
    assert time.monotonic() - started >= 0.4  # Retry-After honoured, not the 10 ms backoff
    assert north.sandbox.app.faults_served == {"429": 1}


def test_a_timeout_is_retried(north: North) -> None:
    north.sandbox.faults = "script=timeout,hang=1.5"
    connector = north.connector(timeout=0.4)
    teams, _ = read_stream(connector, "teams")
    assert len(teams) == 3 and north.sandbox.app.faults_served == {"timeout": 1}


def test_only_timeouts_end_in_a_transient_error(north: North) -> None:
    north.sandbox.faults = "timeout=1,hang=1,match=/teams/"
    connector = north.connector(timeout=0.3)
    with pytest.raises(TransientError, match="did not answer in time"):
        list(connector.read("teams"))


@pytest.mark.parametrize("fault", ["badjson", "truncated"])
def test_a_body_that_is_not_json_once_is_read_again(north: North, fault: str) -> None:
    north.sandbox.faults = f"script={fault},match=/key_results/"
    connector = north.connector()
    key_results, _ = read_stream(connector, "key_results")
    assert len(key_results) == len(north.state.key_results)
    assert north.sandbox.app.faults_served == {fault: 1}  # one garbled answer, asked again


@pytest.mark.parametrize("fault", ["badjson", "truncated"])
def test_a_body_that_is_never_json_fails_naming_the_endpoint_after_the_budget(north: North, fault: str) -> None:
    north.sandbox.faults = f"{fault}=1,match=/key_results/"
    connector = north.connector()
    with pytest.raises(PermanentError, match=r"garbled .* after 3 attempts") as failed:
        list(connector.read("key_results"))
    assert failed.value.endpoint == "GET /api/orgs/1/key_results/" and "not JSON" in str(failed.value)
    assert north.sandbox.app.faults_served == {fault: 3}  # max_attempts of the test policy, then it stops


def test_a_bad_body_mid_stream_yields_no_complete_page(north: North) -> None:
    """Nothing already stored may be removed: a stream cut short never reports complete."""
    north.state.page_size = 20
    north.sandbox.faults = "match=/key_results/,script=ok|ok|truncated|truncated|truncated"  # the third page, every try
    connector = north.connector(page_records=20)
    seen = []
    with pytest.raises(PermanentError):
        for page in connector.read("key_results"):
            seen.append(page)
    assert seen and not any(page.complete for page in seen)


def test_a_401_is_never_retried(north: North) -> None:
    connector = north.connector()
    connector.session.headers["Authorization"] = "Bearer revoked"
    north.sandbox.faults = ""
    with pytest.raises(AuthError):
        list(connector.read("teams"))
    assert connector.requests_made == 1


def test_latency_is_applied_per_request(north: North) -> None:
    north.sandbox.faults = "latency=50ms"
    connector = north.connector()
    started = time.monotonic()
    connector.check()
    assert time.monotonic() - started >= 0.1  # check() makes at least two requests
