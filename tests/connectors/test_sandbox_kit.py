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


def test_rates_combine_into_one_fault_mix():
    spec = FaultSpec.parse("500=0.10,429=0.05,badjson=0.015,truncated=0.015,seed=4")
    assert spec.rates == {"500": 0.10, "429": 0.05, "badjson": 0.015, "truncated": 0.015}
    c, injector = client("500=0.10,429=0.05,badjson=0.015,truncated=0.015,seed=4")
    statuses = [c.get("/x").status_code for _ in range(2000)]
    served = injector.faults_served
    # every kind of the mix is served, each near its own rate (2000 seeded rolls)
    assert set(served) == {"500", "429", "badjson", "truncated"}
    assert 150 <= served["500"] <= 250 and 60 <= served["429"] <= 140
    assert 10 <= served["badjson"] <= 55 and 10 <= served["truncated"] <= 55
    assert statuses.count(500) == served["500"] and statuses.count(429) == served["429"]


def test_rates_that_add_up_beyond_one_are_refused():
    with pytest.raises(FaultSpecError, match=r"add up to 1\.2"):
        FaultSpec.parse("500=0.7,badjson=0.5")


def test_badjson_is_a_proxy_page_with_status_200():
    c, _ = client("script=badjson")
    answer = c.get("/x")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.text.startswith("<!DOCTYPE html>") and "<title>" in answer.text and "</html>" in answer.text
    with pytest.raises(ValueError):
        answer.json()


def test_truncated_cuts_the_real_answer_and_its_length():
    c, _ = client("script=truncated")
    answer = c.get("/x")
    assert answer.status_code == 200
    assert answer.content == b'{"ok": true}'[:6] and answer.headers["Content-Length"] == "6"
    with pytest.raises(ValueError):
        answer.json()
