"""The benchmark's measuring parts, checked against known answers (fast, no database)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from werkzeug.wrappers import Request, Response

from bench.common import percentile
from bench.floor import LoggedRequest, RequestLog, duplicates, in_flight, repeated, replay
from connectors.sandbox_kit import FaultInjector, FaultSpec, serve

ROOT = Path(__file__).resolve().parents[2]


def test_peak_memory_is_the_workers_own_not_the_parents() -> None:
    # A parent holding 300 MB starts a small child: ru_maxrss would say 300 MB (it survives
    # fork+exec); the worker must report its own peak.
    ballast = bytearray(300 * 1024 * 1024)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    code = "from bench.sync_worker import peak_rss_mb; print(peak_rss_mb())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    assert float(out.stdout) < 100
    del ballast


def test_request_log_records_what_the_floor_replays_over_http() -> None:
    def app(environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        body = f"{request.method} {request.full_path} {request.headers.get('Authorization')} {request.get_data(as_text=True)}"
        return Response(body)(environ, start_response)

    log = RequestLog(FaultInjector(app, FaultSpec.parse("latency=20ms")))
    server = serve(log)
    try:
        import httpx

        with httpx.Client(base_url=server.url) as client:
            client.get("/api/items?page=2", headers={"Authorization": "Bearer t0ken"})
            client.post("/api/search", content=b'{"q": 1}', headers={"Content-Type": "application/json"})
            client.get("/api/items?page=2", headers={"Authorization": "Bearer t0ken"})
        taken = log.take()
        assert [(r.method, r.target) for r in taken] == [
            ("GET", "/api/items?page=2"),
            ("POST", "/api/search"),
            ("GET", "/api/items?page=2"),
        ]
        assert ("Authorization", "Bearer t0ken") in taken[0].headers
        assert taken[1].body == b'{"q": 1}' and ("Content-Type", "application/json") in taken[1].headers
        assert all(r.finished - r.started >= 0.02 for r in taken)  # the latency is inside the logged interval
        assert duplicates(taken) == 1 and repeated(taken) == "GET /api/items?page=2 x2"
        assert log.take() == []

        # 16 requests of 20 ms, 4 at a time: about 80 ms, never less.
        result = replay(server.url, [taken[0]] * 16, concurrency=4)
        assert result.statuses == {200: 16} and result.requests == 16
        assert 0.08 <= result.seconds < 2
        assert len(log.take()) == 16  # the floor's requests went to the same server
    finally:
        server.stop()


def test_in_flight_splits_wall_time_into_waiting_and_own_work() -> None:
    def req(start: float, end: float) -> LoggedRequest:
        return LoggedRequest("GET", "/", (), b"", start, end)

    # Two overlapping requests over 0-2 s, one over 5-6 s, in a 10 s sync.
    found = in_flight([req(0, 2), req(1, 2), req(5, 6)], start=0, end=10)
    assert found["busy_seconds"] == 3
    assert found["idle_seconds"] == 7
    assert found["mean_in_flight"] == (2 + 1 + 1) / 3


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 21)]
    assert percentile(samples, 95) == 19
    assert percentile(samples, 50) == 10
    assert percentile([3.0], 99) == 3


def test_a_bad_argument_is_refused_with_a_clear_message() -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "bench", "sync", "--vendor", "jira"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--vendor must be one of north, operately, ogsm, got 'jira'" in done.stderr
    assert time.monotonic() - started < 30
