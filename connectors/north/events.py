"""North item events: check-ins, fetched incrementally (one request per item, so only when needed).

* ``goals`` and ``work_items`` need each item's newest check-in (staleness). Their cursors
  remember, per item, ``[updated_at, newest check-in]``; events are fetched only for new or
  changed items, and the check-ins found are handed to ``check_ins`` (only those items', until it
  runs) so they are not fetched twice.
* ``key_results`` (and the two streams above) remember ``id -> updated_at`` in the connector.
* ``check_ins`` compares those maps with its cursor (``{"kind:id": updated_at}``) and fetches
  events only for the items that differ. When it runs in a fresh instance (the other streams not
  read), the connector re-derives the maps from the list endpoints. A no-change re-sync therefore
  makes only the list requests. A check-ins read with a cursor yields only the changed items'
  check-ins: check-ins are history and are never removed because an incremental read omitted them.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from connectors.base import CheckInRecord, Kind, NotFound, Record
from connectors.http import HttpSession
from connectors.north import event_mapping, mapping
from connectors.north.client import NorthClient
from connectors.north.mapping import as_id

SUBJECT_KINDS = {"goal": Kind.GOAL, "key_result": Kind.KEY_RESULT, "initiative": Kind.WORK_ITEM}
READ_AHEAD = 16  # results per worker that may wait for a slow consumer (see ItemEvents.ordered)
T = TypeVar("T")
R = TypeVar("R")


class ItemEvents:
    """The events of one org's goals, key results and initiatives, as check-ins.

    ``names`` is the connector's person-id -> name map (check-in authors), shared, not copied.
    """

    def __init__(self, api: NorthClient, session: HttpSession, org_id: Callable[[], str], names: Mapping[str, str]) -> None:
        self.api = api
        self.session = session
        self.org_id = org_id
        self.names = names
        self._handed_over: dict[str, list[CheckInRecord]] = {}  # "kind:id" -> check-ins fetched by goals/work_items
        # "kind:id" -> the item body's progress scale (mapping.percent_scale_of): its check-ins follow it
        self._scales: dict[str, bool | None] = {}

    def note_scale(self, kind: str, item: Mapping[str, Any]) -> None:
        """Remember an item body's progress scale for its check-ins (the lists are read every sync)."""
        item_id = as_id(item.get("id"))
        if item_id is not None:
            self._scales[f"{kind}:{item_id}"] = mapping.percent_scale_of(item)

    def raw(self, kind: str, item_id: str) -> list[Mapping[str, Any]]:
        try:
            events = self.api.events(self.org_id(), kind, item_id)
        except NotFound:  # the item vanished between the list and its events
            return []
        return [e for e in events if isinstance(e, Mapping)]

    def check_ins(self, kind: str, item_id: str) -> list[CheckInRecord]:
        scale = self._scales.get(f"{kind}:{item_id}")
        return event_mapping.map_check_ins(self.raw(kind, item_id), SUBJECT_KINDS[kind], item_id, self.names, percent_scale=scale)

    def newest(self, kind: str, items: Sequence[Mapping[str, Any]], previous: Mapping[str, Any]) -> Iterator[datetime | None]:
        """For each item of one list page, in order: its newest check-in time.

        Events are fetched (concurrently) only for new or changed items, each id once; the others
        take it from ``previous`` (a cursor map ``id -> [updated_at, newest]``). Results follow as
        events arrive, so the first items are stored while later items' events are in flight.
        """
        first: set[str] = set()
        to_fetch: list[bool] = []
        for item in items:
            item_id = str(as_id(item.get("id")))
            self.note_scale(kind, item)
            to_fetch.append(item_id not in first and entry_changed(previous.get(item_id), item.get("updated_at")))
            first.add(item_id)

        def fetch(job: tuple[Mapping[str, Any], bool]) -> list[CheckInRecord] | None:
            item, needed = job
            return self.check_ins(kind, str(as_id(item.get("id")))) if needed else None

        fetched: dict[str, list[CheckInRecord]] = {}
        for item, check_ins in zip(items, self.ordered(fetch, list(zip(items, to_fetch, strict=True))), strict=True):
            item_id = str(as_id(item.get("id")))
            if check_ins is not None:
                fetched[item_id] = check_ins
                self._handed_over[f"{kind}:{item_id}"] = check_ins
            if item_id in fetched:
                yield max((c.created_at for c in fetched[item_id]), default=None)
            else:
                yield mapping.parse_datetime(previous[item_id][1])

    def for_check_ins(self, keys: Sequence[str], page_records: int) -> Iterator[list[Record]]:
        """The check-ins of the items ``keys`` (``"kind:id"``), in batches of about ``page_records``:
        handed over by an earlier stream of this run, else fetched now. One continuous window over
        every item: the pool never drains at a page boundary."""

        def fetch(key: str) -> list[CheckInRecord]:
            handed = self._handed_over.pop(key, None)
            if handed is not None:
                return handed
            kind, item_id = key.split(":", 1)
            return self.check_ins(kind, item_id)

        records: list[Record] = []
        for found in self.ordered(fetch, keys):
            records.extend(found)
            if len(records) >= page_records:
                yield records
                records = []
        yield records
        self._handed_over.clear()

    def ordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        """``fn`` over ``items`` with the session's concurrency, results in order, lazily.

        Unlike ``map_concurrent`` over page-sized chunks, the pool stays full across pages, and at
        most ``READ_AHEAD`` results wait for the consumer (memory stays bounded when it is slow).
        """
        workers = self.session.concurrency
        if workers == 1 or len(items) <= 1:
            yield from (fn(item) for item in items)
            return
        window = workers * READ_AHEAD
        pending: deque[Future[R]] = deque()
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="okrhub-north")
        try:
            queued = iter(items)
            for item in itertools.islice(queued, window):
                pending.append(pool.submit(fn, item))
            while pending:
                result = pending.popleft().result()
                for item in itertools.islice(queued, 1):
                    pending.append(pool.submit(fn, item))
                yield result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # a consumer that stopped early


def changed(previous: Sequence[Any] | None, updated_at: Any) -> bool:
    """An item needs its events again when it is new, changed, or has no ``updated_at`` to compare."""
    if not previous or previous[0] is None or not updated_at:
        return True
    return bool(previous[0] != updated_at)


def entry_changed(previous: Any, updated_at: Any) -> bool:
    """A goals/work_items cursor entry is ``[updated_at, newest check-in]``; anything else counts as changed."""
    return not isinstance(previous, list) or len(previous) != 2 or changed(previous, updated_at)
