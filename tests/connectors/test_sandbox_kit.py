"""The sandboxes' shared fault injection (connectors/sandbox_kit.py): the spec grammar, and
what a spec does to answers, driven through a tiny WSGI app in process."""

from __future__ import annotations

import time

import httpx
import pytest

from connectors.sandbox_kit import FaultInjector, FaultSpec, FaultSpecError


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"ok": true}']


def client(spec: str) -> tuple[httpx.Client, FaultInjector]:
    injector = FaultInjector(app, FaultSpec.parse(spec), in_process=True)
    return httpx.Client(transport=httpx.WSGITransport(app=injector), base_url="http://sandbox"), injector


def timed(c: httpx.Client, path: str) -> tuple[int, float]:
    start = time.perf_counter()
    status = c.get(path).status_code
    return status, time.perf_counter() - start


def test_the_spec_grammar():
    spec = FaultSpec.parse("latency=20ms, 500=0.1, 429=0.05, retry_after=2, seed=7, script=ok|503, match=/api/orgs")
    assert spec.latency == pytest.approx(0.02)
    assert spec.rates == {"500": 0.1, "429": 0.05}
    assert (spec.retry_after, spec.seed, list(spec.script), spec.match) == (2.0, 7, ["ok", "503"], "/api/orgs")
    assert FaultSpec.parse("latency=1.5s").latency == 1.5
    assert FaultSpec.parse("").rates == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("latency", "not key=value"),
        ("500=2", "between 0 and 1"),
        ("boom=1", "unknown fault 'boom'"),
        ("latency=soon", "bad value for latency"),
    ],
)
def test_a_bad_spec_is_refused_with_a_clear_message(text, message):
    with pytest.raises(FaultSpecError, match=message):
        FaultSpec.parse(text)


def test_a_script_is_consumed_in_order_then_answers_are_ok():
    c, injector = client("script=500|429|ok|503,retry_after=3")
    answers = [c.get("/x") for _ in range(5)]
    assert [a.status_code for a in answers] == [500, 429, 200, 503, 200]
    assert answers[1].headers["Retry-After"] == "3"
    assert injector.faults_served == {"500": 1, "429": 1, "503": 1}


def test_match_limits_faults_and_latency_to_matching_paths():
    c, _ = client("latency=300ms,500=1,match=/slow/")
    fast_status, fast = timed(c, "/fast/items")
    slow_status, slow = timed(c, "/slow/items")
    assert fast_status == 200 and fast < 0.2
    assert slow_status == 500 and slow >= 0.3


def test_latency_without_match_applies_everywhere():
    c, _ = client("latency=150ms")
    for path in ("/a", "/b"):
        status, took = timed(c, path)
        assert status == 200 and took >= 0.15
