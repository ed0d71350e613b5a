"""The OGSM connector: canvases as teams, objectives and goals as goals, actions as work items,
plus the action writes (create, update, delete: writes.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

import httpx

from connectors.base import (
    AccountInfo,
    AuthError,
    CredentialField,
    Kind,
    NotFound,
    Page,
    Record,
    WorkItemKind,
    WriteOperation,
)
from connectors.http import RetryPolicy
from connectors.ogsm import mapping
from connectors.ogsm.client import Listing, OgsmClient
from connectors.ogsm.writes import WRITE_OPERATIONS, OgsmWrites
from connectors.registry import register

T = TypeVar("T")

RESOURCES = ("objectives", "goals", "actions")  # the lists the teams stream reads for canvases
PAGE_SIZE = 500  # records per Page: the vendor sends one array, the sync gets bounded batches


def _pages(stream: str, items: Sequence[T], to_record: Callable[[T], Record], *, last: bool) -> Iterator[Page]:
    """Map ``items`` a page at a time (records exist for one page only); the final page is
    ``complete`` when ``last`` is set."""
    if not items:
        if last:
            yield Page(stream=stream, records=(), complete=True)
        return
    for start in range(0, len(items), PAGE_SIZE):
        chunk = tuple(to_record(item) for item in items[start : start + PAGE_SIZE])
        yield Page(stream=stream, records=chunk, complete=last and start + PAGE_SIZE >= len(items))


def _with_id(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Items the vendor sent without a usable id cannot be stored: leave them out."""
    return [item for item in items if mapping.id_of(item.get("id")) is not None]


@register
class OgsmConnector(OgsmWrites):
    vendor: ClassVar[str] = "ogsm"
    display_name: ClassVar[str] = "OGSM"
    credential_fields: ClassVar[Sequence[CredentialField]] = (
        CredentialField("username", "API username", help_text="Created by an OGSM admin under Settings -> API."),
        CredentialField("password", "API password", secret=True),
    )
    stream_kinds: ClassVar[Mapping[str, Kind]] = MappingProxyType(
        {
            "teams": Kind.TEAM,
            "goals": Kind.GOAL,
            "work_items": Kind.WORK_ITEM,
        }
    )  # dependency order
    streams: ClassVar[Sequence[str]] = tuple(stream_kinds)
    # OGSM has no check-ins at all: nothing of it can be stale
    check_in_kinds: ClassVar[frozenset[str]] = frozenset()
    write_operations: ClassVar[Sequence[WriteOperation]] = WRITE_OPERATIONS

    def __init__(self, client: httpx.Client, secret: Mapping[str, str], *, options: Mapping[str, Any] | None = None) -> None:
        options = options or {}
        self.username = (secret.get("username") or "").strip()
        self._password = secret.get("password") or ""
        policy = options.get("retry_policy")
        self.api = OgsmClient(
            client,
            self.username,
            self._password,
            policy=policy if isinstance(policy, RetryPolicy) else None,
            concurrency=int(options.get("concurrency", 8)),
        )
        # Lists the teams stream fetched (to find the canvases), handed to the goals and
        # work_items streams of the same run so neither asks again. Kept unparsed (bytes), and
        # each is taken (dropped) by the stream that uses it: reading again asks the vendor again.
        # The sync reads a connector's streams in order from one thread.
        self._handoff: dict[str, Listing | None] = {}

    @property
    def requests_made(self) -> int:
        return self.api.requests_made

    def _require_secret(self) -> None:
        if not self.username or not self._password:
            raise AuthError("OGSM needs an API username and password (Settings -> API in OGSM)")

    # ---------------------------------------------------------------- reads

    def check(self) -> AccountInfo:
        """OGSM has no "who am I" endpoint: listing actions proves the credential works."""
        self._require_secret()
        actions = self.api.list_actions()
        return AccountInfo(
            account_name=self.username,
            account_id=self.username,
            detail=f"{len(actions)} actions visible to {self.username}",
            raw={"actions": len(actions)},
        )

    def read(self, stream: str, cursor: Mapping[str, Any] | None = None) -> Iterator[Page]:
        self._require_secret()
        if stream == "teams":
            yield from self._read_teams()
        elif stream == "goals":
            yield from self._read_goals()
        elif stream == "work_items":
            yield from self._read_actions()
        else:
            raise ValueError(f"unknown OGSM stream {stream!r}; streams: {', '.join(self.streams)}")

    def _take(self, resource: str) -> list[Mapping[str, Any]]:
        """The items of ``resource``: from the teams stream's hand-off, else asked for now."""
        listing = self._handoff.pop(resource) if resource in self._handoff else self.api.fetch_listing(resource)
        return self.api.items(listing) if listing is not None else []

    def _read_teams(self) -> Iterator[Page]:
        # No canvas endpoint exists: the canvases are the ones the items sit on.
        self._handoff.clear()
        listings = dict(zip(RESOURCES, self.api.session.map_concurrent(self.api.fetch_listing, RESOURCES), strict=True))
        seen: dict[str, None] = {}
        names: dict[str, str] = {}
        for resource, listing in listings.items():
            items = self.api.items(listing) if listing is not None else []
            mapping.canvas_ids_in(items, seen)
            if resource == "objectives":
                names = mapping.canvas_names(items)
            del items  # one parsed list at a time
        self._handoff = listings  # every list parsed cleanly: the later streams may use them
        yield from _pages("teams", list(seen), lambda canvas_id: mapping.canvas_team(canvas_id, names), last=True)

    def _read_goals(self) -> Iterator[Page]:
        objectives = self._take("objectives")
        yield from _pages("goals", _with_id(objectives), mapping.map_objective, last=False)
        parents = mapping.objective_ids_by_canvas(objectives)
        del objectives
        goals = self._take("goals")
        yield from _pages("goals", _with_id(goals), lambda goal: mapping.map_goal(goal, parents), last=True)

    def _read_actions(self) -> Iterator[Page]:
        yield from _pages("work_items", _with_id(self._take("actions")), mapping.map_action, last=True)

    def fetch_item(self, kind: str, external_id: str) -> Record:
        """Re-read one item (conflict detection before a write)."""
        self._require_secret()
        if kind in (Kind.WORK_ITEM, WorkItemKind.ACTION):
            action = self.api.get_action(external_id)
            if action is None:
                action = next((a for a in self.api.list_actions() if mapping.id_of(a.get("id")) == external_id), None)
            if action is None:
                raise NotFound(f"OGSM action {external_id} does not exist", endpoint="GET /api/v2/actions.json", status=404)
            return mapping.map_action(action)
        if kind == Kind.GOAL:
            for prefix, resource in ((mapping.OBJECTIVE_PREFIX, "objectives"), (mapping.GOAL_PREFIX, "goals")):
                if external_id.startswith(prefix):
                    vendor_id = external_id.removeprefix(prefix)
                    items = self.api.list_optional(resource) or []
                    item = next((i for i in items if mapping.id_of(i.get("id")) == vendor_id), None)
                    if item is None:
                        break
                    if resource == "objectives":
                        return mapping.map_objective(item)
                    parents = mapping.objective_ids_by_canvas(self.api.list_optional("objectives") or [])
                    return mapping.map_goal(item, parents)
            raise NotFound(f"OGSM goal {external_id} does not exist", status=404)
        if kind == Kind.TEAM:
            for page in self._read_teams():
                for record in page.records:
                    if record.external_id == external_id:
                        return record
            raise NotFound(f"OGSM canvas {external_id} does not exist", status=404)
        raise ValueError(f"OGSM has no items of kind {kind!r}")
