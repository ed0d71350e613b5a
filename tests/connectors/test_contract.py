"""The connector contract: every registered connector, against its own sandbox over real HTTP.

Whatever the vendor, a connector must name the account, read every stream it declares into our
vocabulary with consistent links, be deterministic, and refuse a wrong secret as an AuthError.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors import registry
from connectors.base import (
    AccountInfo,
    AuthError,
    CheckInRecord,
    GoalRecord,
    Health,
    KeyResultRecord,
    Kind,
    Outcome,
    Page,
    PersonRecord,
    State,
    TeamRecord,
    VendorConnector,
    WorkItemKind,
    WorkItemRecord,
    WriteOperation,
)
from connectors.http import RetryPolicy, make_client
from connectors.sandbox_kit import RunningServer, Sandbox
from tests.sandbox_state import sandbox_titles

RECORD_TYPES = (TeamRecord, PersonRecord, GoalRecord, KeyResultRecord, WorkItemRecord, CheckInRecord)
FAST_RETRY = RetryPolicy(max_attempts=2, base_delay=0.01, budget_seconds=2)
# Every vendor the product ships (each with its sandbox): one that fails to load fails the suite.
# The sync engine's test double, registered when tests/integrations is imported, is not one of them.
VENDORS = sorted(vendor for vendor, _label in registry.VENDOR_CHOICES)


@pytest.fixture(params=VENDORS)
def vendor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def served(vendor: str, sandbox_factory: Callable[..., tuple[Sandbox, RunningServer]]) -> tuple[Sandbox, RunningServer]:
    return sandbox_factory(vendor, seed=1, size="small")


def open_connector(vendor: str, url: str, secret: dict[str, str]) -> VendorConnector:
    cls = registry.get(vendor)
    return cls(make_client(url), secret, options={"retry_policy": FAST_RETRY, "concurrency": 4})


def read_all(connector: VendorConnector) -> dict[str, list[Page]]:
    return {stream: list(connector.read(stream)) for stream in connector.streams}


def wrong_secret(secret: dict[str, str]) -> dict[str, str]:
    return {k: (v + "-wrong" if k in ("token", "password") else v) for k, v in secret.items()}


def test_registry_lists_the_three_vendors() -> None:
    assert {"north", "operately", "ogsm"} <= set(registry.all())


def test_connector_declares_its_interface(vendor: str) -> None:
    cls = registry.get(vendor)
    assert cls.vendor == vendor
    assert cls.display_name
    assert cls.credential_fields and any(f.secret for f in cls.credential_fields)
    assert cls.streams and set(cls.streams) <= {"teams", "people", "goals", "key_results", "work_items", "check_ins"}
    order = ["teams", "people", "goals", "key_results", "work_items", "check_ins"]
    assert list(cls.streams) == sorted(cls.streams, key=order.index), "streams must be in dependency order"
    # write-back (issue #19): declared operations (possibly none) and fetch_item are part of the protocol
    assert all(isinstance(op, WriteOperation) and op.item_kinds for op in cls.write_operations)
    assert callable(getattr(cls, "fetch_item", None))
    # The sync engine reads each stream's kind from the connector (issue #19).
    assert list(cls.stream_kinds) == list(cls.streams), "stream_kinds declares every stream, in order"
    assert all(isinstance(kind, Kind) for kind in cls.stream_kinds.values())


def test_every_record_a_stream_yields_is_of_its_declared_kind(vendor: str, served: tuple[Sandbox, RunningServer]) -> None:
    sandbox, server = served
    connector = open_connector(vendor, server.url, dict(sandbox.credentials[0].secret))
    for stream, pages in read_all(connector).items():
        kinds = {record.kind for page in pages for record in page.records}
        assert kinds <= {connector.stream_kinds[stream]}, stream


def test_check_names_the_account(vendor: str, served: tuple[Sandbox, RunningServer]) -> None:
    sandbox, server = served
    connector = open_connector(vendor, server.url, dict(sandbox.credentials[0].secret))
    info = connector.check()
    assert isinstance(info, AccountInfo)
    assert info.account_name.strip()
    assert connector.requests_made >= 1


def test_every_stream_reads_into_the_vocabulary(vendor: str, served: tuple[Sandbox, RunningServer]) -> None:
    sandbox, server = served
    connector = open_connector(vendor, server.url, dict(sandbox.credentials[0].secret))
    pages = read_all(connector)
    ids: dict[Kind, set[str]] = {}
    work_ids: set[str] = set()
    records_by_stream: dict[str, list[Any]] = {}
    for stream, stream_pages in pages.items():
        assert stream_pages, f"{stream} yielded no page"
        assert stream_pages[-1].complete, f"the last page of {stream} must be complete"
        assert all(p.stream == stream for p in stream_pages)
        records = [r for p in stream_pages for r in p.records]
        records_by_stream[stream] = records
        for record in records:
            assert isinstance(record, RECORD_TYPES), f"{stream} yielded {type(record).__name__}"
            assert isinstance(record.external_id, str) and record.external_id
        keyed = [(getattr(r, "work_kind", None), r.kind, r.external_id) for r in records]
        assert len(keyed) == len(set(keyed)), f"duplicate external ids in {stream}"
        for record in records:
            ids.setdefault(record.kind, set()).add(record.external_id)
            if isinstance(record, WorkItemRecord):
                work_ids.add(record.external_id)

    assert ids.get(Kind.TEAM), "a connector must produce a team tree"
    assert ids.get(Kind.GOAL) or work_ids, "a connector must produce goals or work items"
    teams = ids.get(Kind.TEAM, set())
    goals = ids.get(Kind.GOAL, set())
    roots = 0
    for stream, records in records_by_stream.items():
        for r in records:
            if isinstance(r, TeamRecord):
                if r.parent_external_id is None:
                    roots += 1
                else:
                    assert r.parent_external_id in teams, f"team {r.external_id} has an unknown parent"
            if isinstance(r, GoalRecord | KeyResultRecord | WorkItemRecord):
                assert r.health in set(Health), f"{stream}: health {r.health!r}"
                assert r.state in set(State), f"{stream}: state {r.state!r}"
                assert r.progress is None or 0.0 <= r.progress <= 100.0, f"{stream}: progress {r.progress!r}"
                assert all(isinstance(o, str) and o for o in r.owners)
            if isinstance(r, GoalRecord):
                assert r.outcome is None or r.outcome in set(Outcome)
                assert r.team_external_id is None or r.team_external_id in teams
                assert r.parent_external_id is None or r.parent_external_id in goals
                if r.state == State.ARCHIVED:
                    assert r.raw, "raw vendor JSON is kept"
            if isinstance(r, KeyResultRecord):
                assert r.goal_external_id is None or r.goal_external_id in goals
            if isinstance(r, WorkItemRecord):
                assert r.work_kind in set(WorkItemKind)
                assert all(t in teams for t in r.team_external_ids)
                assert r.goal_external_id is None or r.goal_external_id in goals
            if isinstance(r, CheckInRecord):
                assert r.subject_kind in (Kind.GOAL, Kind.KEY_RESULT, Kind.WORK_ITEM)
                pool = work_ids if r.subject_kind == Kind.WORK_ITEM else ids.get(r.subject_kind, set())
                assert r.subject_external_id in pool, f"check-in {r.external_id} points at an unknown subject"
                assert r.created_at.tzinfo is not None
            # The vendor's own JSON is kept beside the normalized values, as stored (a JSON column).
            assert isinstance(r.raw, dict) and r.raw, f"{stream}: {r.external_id} kept no raw vendor JSON"
            assert json.loads(json.dumps(r.raw)) == r.raw, f"{stream}: {r.external_id} raw is not plain JSON"
    assert roots >= 1, "the team tree needs a root"


def test_what_is_read_is_what_the_sandbox_holds(vendor: str, served: tuple[Sandbox, RunningServer]) -> None:
    """Every item of the vendor's data, by id and title, from the sandbox's own state: nothing
    lost, nothing invented (the full-access credential sees everything)."""
    sandbox, server = served
    pages = read_all(open_connector(vendor, server.url, dict(sandbox.credentials[0].secret)))
    read: dict[Kind, dict[str, str]] = {}
    for stream_pages in pages.values():
        for record in (r for p in stream_pages for r in p.records):
            read.setdefault(record.kind, {})[record.external_id] = getattr(record, "title", None) or getattr(record, "name", "")
    held = sandbox_titles(sandbox)
    assert held[Kind.TEAM] and held[Kind.WORK_ITEM], "the sandbox state holds nothing to compare with"
    for kind, titles in held.items():
        got = read.get(kind, {})
        assert set(got) == set(titles), (
            f"{kind}: missing {sorted(set(titles) - set(got))[:5]}, unknown {sorted(set(got) - set(titles))[:5]}"
        )
        wrong = {i: (got[i], t) for i, t in titles.items() if t and got[i] != t}
        assert not wrong, f"{kind}: titles differ from the vendor's (read, held): {dict(list(wrong.items())[:5])}"


def _comparable(pages: dict[str, list[Page]]) -> Iterator[tuple[str, Any]]:
    for stream, stream_pages in pages.items():
        for page in stream_pages:
            for record in page.records:
                values = dataclasses.asdict(record)
                values.pop("raw", None)
                yield stream, repr(sorted(values.items()))


def test_reading_twice_gives_equal_records(vendor: str, served: tuple[Sandbox, RunningServer]) -> None:
    sandbox, server = served
    secret = dict(sandbox.credentials[0].secret)
    first = sorted(_comparable(read_all(open_connector(vendor, server.url, secret))))
    second = sorted(_comparable(read_all(open_connector(vendor, server.url, secret))))
    assert first == second


def test_a_wrong_secret_is_an_auth_error(vendor: str, served: tuple[Sandbox, RunningServer]) -> None:
    sandbox, server = served
    connector = open_connector(vendor, server.url, wrong_secret(dict(sandbox.credentials[0].secret)))
    with pytest.raises(AuthError):
        connector.check()
    with pytest.raises(AuthError):
        for _page in connector.read(connector.streams[0]):
            pass
