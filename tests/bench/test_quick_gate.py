"""Issue #20: the quick gate's arithmetic, and the network floor replayed from its own process."""

from __future__ import annotations

import json
from pathlib import Path

from bench.floor import RequestLog, replay_in_subprocess
from bench.orgs import sync_sandbox_options
from bench.quick import BASELINE, gate, load_baseline, ratios
from connectors.http import make_client
from connectors.north import NorthConnector
from connectors.north.sandbox import build
from connectors.sandbox_kit import serve

BASE = {"margin": 0.5, "ratios": {"north full sync / network floor": 1.25, "ogsm full sync / total floor": 6.0}}


def test_gate_passes_an_equal_ratio_and_fails_a_worse_one() -> None:
    equal = gate({"north full sync / network floor": 1.25, "ogsm full sync / total floor": 6.0}, BASE)
    assert [g.passed for g in equal] == [True, True]
    # The margin is the headroom: 1.25 x 1.5 = 1.875 passes, just above it fails.
    assert gate({"north full sync / network floor": 1.875, "ogsm full sync / total floor": 6.0}, BASE)[0].passed
    worse = gate({"north full sync / network floor": 1.88, "ogsm full sync / total floor": 5.0}, BASE)
    assert [(g.name, g.passed) for g in worse] == [("north full sync / network floor", False), ("ogsm full sync / total floor", True)]
    assert worse[0].limit == 1.875


def test_gate_fails_a_ratio_the_run_did_not_measure() -> None:
    (north, ogsm) = gate({"north full sync / network floor": 1.0}, BASE)
    assert north.passed and not ogsm.passed and ogsm.measured is None


def test_ratios_come_from_the_full_syncs_of_a_sync_section() -> None:
    data = [
        {"vendor": "north", "run": "full", "ratio": 1.1, "total_ratio": 1.0},
        {"vendor": "north", "run": "re-sync", "ratio": 3.0, "total_ratio": 3.0},
    ]
    assert ratios(data) == {"north full sync / network floor": 1.1, "north full sync / total floor": 1.0}


def test_committed_baseline_is_readable_and_names_every_vendor() -> None:
    baseline = load_baseline(BASELINE)
    assert 0 < baseline["margin"] <= 2
    assert {name.split(" ", 1)[0] for name in baseline["ratios"]} == {"north", "operately", "ogsm"}
    assert json.loads(Path(BASELINE).read_text()) == baseline


def test_floor_worker_replays_exactly_the_logged_requests_over_http() -> None:
    sandbox = build(seed=1, faults="latency=5ms", **sync_sandbox_options("north", "tiny"))
    log = RequestLog(sandbox.app)
    server = serve(log)
    try:
        with make_client(server.url, timeout=10) as client:
            connector = NorthConnector(client, {"token": sandbox.credentials[0].secret["token"]}, options={"concurrency": 4})
            for stream in connector.streams:
                for _page in connector.read(stream):
                    pass
        logged = log.take()
        assert len(logged) > 10

        result = replay_in_subprocess(server.url, logged, concurrency=4)

        replayed = log.take()
        assert result.requests == len(logged) == len(replayed)
        assert sorted(r.key for r in replayed) == sorted(r.key for r in logged)
        assert result.statuses == {200: len(logged)}
        assert result.seconds >= 0.005 * len(logged) / 4  # the latency, 4 at a time, is a floor under the floor
    finally:
        server.stop()
