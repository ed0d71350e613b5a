"""Initiative events over real HTTP: each initiative carries its newest check-in (for the store's
staleness), its check-ins are work-item check-ins, and the events are still fetched once per
changed item (the request counts of the incremental logic hold)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.base import CheckInRecord, Kind, WorkItemRecord
from tests.connectors.north.conftest import North, read_stream


def newest_check_in(north: North, initiative_id: int) -> datetime | None:
    stamps = [e["created_at"] for e in north.state.events_for("initiative", initiative_id) if e["kind"] == "check_in"]
    return datetime.fromisoformat(max(stamps).replace("Z", "+00:00")) if stamps else None


def test_each_initiative_carries_its_newest_check_in(north: North) -> None:
    connector = north.connector()
    initiatives: dict[str, WorkItemRecord] = {w.external_id: w for w in read_stream(connector, "work_items")[0]}
    assert set(initiatives) == {str(i) for i in north.state.initiatives}
    for initiative_id in north.state.initiatives:
        assert initiatives[str(initiative_id)].last_check_in_at == newest_check_in(north, initiative_id), initiative_id
        assert initiatives[str(initiative_id)].is_stale is None  # the store decides, from last_check_in_at
    never = [w for w in initiatives.values() if w.last_check_in_at is None]
    checked = [w for w in initiatives.values() if w.last_check_in_at is not None]
    assert never and checked  # the sandbox has both (not-started initiatives never check in)
    assert all(w.last_check_in_at is None for w in initiatives.values() if w.vendor_status == "not-started")

    # the check-ins stream of the same run reuses those events: no initiative's events twice
    before = connector.requests_made
    check_ins: list[CheckInRecord] = read_stream(connector, "check_ins")[0]
    # the goal and KR lists (those streams did not run here) and their events; the initiatives' are reused
    assert connector.requests_made - before == 2 + len(north.state.goals) + len(north.state.key_results)
    of_initiatives = [c for c in check_ins if c.subject_kind == Kind.WORK_ITEM]
    planned = {
        f"initiative-{i}-{e['id']}"
        for i in north.state.initiatives
        for e in north.state.events_for("initiative", i)
        if e["kind"] == "check_in"
    }
    assert planned and {c.external_id for c in of_initiatives} == planned
    for check_in in of_initiatives:
        assert check_in.created_at <= initiatives[check_in.subject_external_id].last_check_in_at  # type: ignore[operator]


def test_unchanged_initiatives_keep_their_newest_check_in_from_the_cursor(north: North) -> None:
    first = north.connector()
    cursors = {stream: read_stream(first, stream)[1].cursor for stream in first.streams}
    assert len(cursors["work_items"]["initiatives"]) == len(north.state.initiatives)  # type: ignore[index]

    unchanged = north.connector()
    initiatives = {w.external_id: w for w in read_stream(unchanged, "work_items", cursors["work_items"])[0]}
    assert unchanged.requests_made == 3  # the org, the owners' names (root team), the initiatives: no events
    for initiative_id in north.state.initiatives:
        assert initiatives[str(initiative_id)].last_check_in_at == newest_check_in(north, initiative_id)

    checked_in = next(i for i, item in north.state.initiatives.items() if item["status"] == "on-track")
    north.state.add_check_in("initiative", checked_in, status="behind", progress=0.3, comment="Vendor delay")
    changed = north.connector()
    got = {stream: read_stream(changed, stream, cursors[stream])[0] for stream in changed.streams}
    assert changed.requests_made == 8 + 1  # the lists, then the changed initiative's events once
    moved = next(w for w in got["work_items"] if w.external_id == str(checked_in))
    assert datetime.now(UTC) - moved.last_check_in_at < timedelta(minutes=1)  # type: ignore[operator]
    assert [(c.subject_kind, c.subject_external_id, c.comment) for c in got["check_ins"] if c.comment == "Vendor delay"] == [
        (Kind.WORK_ITEM, str(checked_in), "Vendor delay")
    ]


def test_fetch_item_rereads_an_initiative_with_its_newest_check_in(north: North) -> None:
    initiative_id = next(i for i in north.state.initiatives if newest_check_in(north, i) is not None)
    initiative = north.connector().fetch_item("work_item", str(initiative_id))
    assert isinstance(initiative, WorkItemRecord) and initiative.last_check_in_at == newest_check_in(north, initiative_id)
