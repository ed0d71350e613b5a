"""Requests per sync run, as the sandbox recorded them over real HTTP.

One run = one connector instance reading teams, goals and work_items in order. The teams stream
needs all three lists to find the canvases; the goals and work_items streams then use those
answers instead of asking again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from connectors.base import Record

from .conftest import Served, records

LISTS = ["/api/v2/actions.json", "/api/v2/goals.json", "/api/v2/objectives.json"]


def run(served: Served) -> dict[str, list[Record]]:
    connector = served.connector()
    out: dict[str, list[Record]] = {}
    for stream in connector.streams:
        pages = list(connector.read(stream))
        assert pages[-1].complete and not any(p.complete for p in pages[:-1])
        out[stream] = records(pages)
    assert connector.requests_made == len(served.state.requests)
    return out


def gets(served: Served) -> Counter[str]:
    return Counter(r.path for r in served.state.requests if r.method == "GET")


def test_a_run_asks_each_list_once(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    result = run(served)
    assert sorted(r.path for r in served.state.requests) == LISTS  # three requests, none repeated
    assert len(result["teams"]) == 3 and len(result["work_items"]) == len(served.state.actions)
    assert len(result["goals"]) == len(served.state.objectives or {}) + len(served.state.goals or {})


def test_a_run_gives_the_records_each_stream_gives_alone(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    together = run(served)
    for stream, expected in together.items():
        assert records(list(served.connector().read(stream))) == expected, stream


def test_a_tenant_without_objectives_is_asked_once_too(ogsm: Callable[..., Served]) -> None:
    served = ogsm(tenant="legacy")
    result = run(served)
    assert sorted((r.path, r.status) for r in served.state.requests) == [
        ("/api/v2/actions.json", 200),
        ("/api/v2/goals.json", 404),
        ("/api/v2/objectives.json", 404),
    ]
    assert result["goals"] == [] and len(result["work_items"]) == len(served.state.actions)


def test_a_list_is_used_once_then_asked_again(ogsm: Callable[..., Served]) -> None:
    """The hand-off is taken by the stream that uses it: a later read of the same stream on the
    same connector sees the vendor's current data, not the run's first answer."""
    served = ogsm()
    connector = served.connector()
    for stream in connector.streams:
        list(connector.read(stream))
    action_id = next(iter(served.state.actions))
    with served.state.lock:
        served.state.actions[action_id]["title"] = "Renamed after the run"
    again = {r.external_id: r for r in records(list(connector.read("work_items")))}
    assert again[str(action_id)].title == "Renamed after the run"
    assert gets(served)["/api/v2/actions.json"] == 2


def test_work_items_alone_ask_only_for_actions(ogsm: Callable[..., Served]) -> None:
    served = ogsm()
    list(served.connector().read("work_items"))
    assert [(r.method, r.path) for r in served.state.requests] == [("GET", "/api/v2/actions.json")]
