"""The North connector: streams in our vocabulary, incremental events, membership writes.

Events are one request per item, so they are fetched only for items whose ``updated_at`` changed
since the last sync: see ``connectors/north/events.py`` for how the streams share them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from connectors.base import (
    ALL_STREAM_KINDS,
    AccountInfo,
    CredentialField,
    Kind,
    NotFound,
    Page,
    PermanentError,
    Record,
    ScopeError,
    WriteOperation,
)
from connectors.http import HttpSession, RetryPolicy
from connectors.north import event_mapping, mapping
from connectors.north.client import SCOPE_OKRS, SCOPE_ORG, NorthClient
from connectors.north.events import ItemEvents, changed
from connectors.north.mapping import WebLinks, as_id
from connectors.north.writes import WRITE_OPERATIONS, NorthWrites

CURSOR_VERSION = 1


class NorthConnector(NorthWrites):
    vendor: ClassVar[str] = "north"
    display_name: ClassVar[str] = "North"
    credential_fields: ClassVar[Sequence[CredentialField]] = (
        CredentialField(
            "token",
            "Personal API token",
            secret=True,
            help_text="North: profile menu -> API -> create a token with the Basic, Org management and OKRs and initiatives scopes.",
        ),
    )
    stream_kinds: ClassVar[Mapping[str, Kind]] = ALL_STREAM_KINDS  # all six, in dependency order
    streams: ClassVar[Sequence[str]] = tuple(stream_kinds)
    # check_in events exist on goals, key results and initiatives (the events endpoints)
    check_in_kinds: ClassVar[frozenset[str]] = frozenset({"goal", "key_result", "initiative"})
    write_operations: ClassVar[Sequence[WriteOperation]] = WRITE_OPERATIONS

    def __init__(self, client: httpx.Client, secret: Mapping[str, str], *, options: Mapping[str, Any] | None = None) -> None:
        options = dict(options or {})
        token = str(secret.get("token") or "").strip()
        policy = options.get("retry_policy")
        self.session = HttpSession(
            client,
            headers={"Authorization": f"Bearer {token}"},
            secrets=[token],
            policy=policy if isinstance(policy, RetryPolicy) else None,
            concurrency=int(options.get("concurrency", 8)),
        )
        self.api = NorthClient(self.session)
        self.base_url = str(client.base_url)
        org_option = options.get("org_id") or secret.get("org_id")
        self._org_id: str | None = as_id(org_option)
        self._root_team_id: str | None = None
        self.page_records = max(1, int(options.get("page_records", 500)))
        self.stale_after_days = int(options.get("stale_after_days", 10))
        self.initiatives_nql: str | None = options.get("initiatives_nql") or None
        self._names: dict[str, str] = {}
        self._members_loaded = False
        self._team_ids: list[str] | None = None
        self._updated: dict[str, dict[str, str | None]] = {}  # item kind -> id -> updated_at
        self.events = ItemEvents(self.api, self.session, self.org_id, self._names)

    @property
    def requests_made(self) -> int:
        return self.session.requests_made

    # ------------------------------------------------------------------ account
    def check(self) -> AccountInfo:
        user = self.api.current_user()
        if not isinstance(user, Mapping):
            raise PermanentError("North's /api/user/ did not answer with a user object", endpoint="GET /api/user/")
        missing: list[str] = []
        detail = ""
        try:
            org = self._org()
            detail = str(org.get("name") or "")
        except ScopeError:
            missing.append(SCOPE_ORG)
        if self._org_id:
            try:  # cheap: a filter no goal matches
                self.api.all(f"api/orgs/{self._org_id}/goals/", {"team_id": 0})
            except ScopeError:
                missing.append(SCOPE_OKRS)
        can_write = SCOPE_ORG not in missing
        return AccountInfo(
            account_name=mapping.person_name(user),
            account_id=as_id(user.get("id")),
            detail=detail,
            can_write=can_write,
            write_disabled_reason="" if can_write else "Membership changes need a token with the Org management scope.",
            missing_scopes=tuple(missing),
            raw=dict(user),
        )

    def _org(self) -> Mapping[str, Any]:
        """The org this connector reads: the ``org_id`` option, else the token user's first org."""
        if self._org_id:
            org = self.api.org(self._org_id)
        else:
            orgs = self.api.orgs()
            if not orgs or not isinstance(orgs[0], Mapping):
                raise PermanentError("The token's user belongs to no North organization", endpoint="GET /api/orgs/")
            org = orgs[0]
        self._org_id = as_id(org.get("id"))
        self._root_team_id = as_id(org.get("root_team_id"))
        return org  # type: ignore[no-any-return]

    def org_id(self) -> str:
        if self._org_id is None:
            try:
                self._org()
            except ScopeError as exc:
                raise ScopeError(
                    "Finding the North organization needs the Org management scope; add it to the token or set the org_id option.",
                    scope=SCOPE_ORG,
                    endpoint=exc.endpoint,
                ) from None
        assert self._org_id is not None
        return self._org_id

    def _links(self) -> WebLinks:
        return WebLinks(self.base_url, self.org_id())

    # ------------------------------------------------------------------ reading
    def read(self, stream: str, cursor: Mapping[str, Any] | None = None) -> Iterator[Page]:
        readers: dict[str, Callable[[Mapping[str, Any] | None], Iterator[Page]]] = {
            "teams": self._read_teams,
            "people": self._read_people,
            "goals": self._read_goals,
            "key_results": self._read_key_results,
            "work_items": self._read_work_items,
            "check_ins": self._read_check_ins,
        }
        if stream not in readers:
            raise ValueError(f"North has no stream {stream!r}; streams: {', '.join(self.streams)}")
        return readers[stream](cursor)

    def _paged(
        self, stream: str, batches: Iterable[Sequence[Record]], cursor: Callable[[], Mapping[str, Any]] | None = None
    ) -> Iterator[Page]:
        """Re-cut batches into pages of ``page_records``; the last page is complete (and has the cursor)."""
        pending: list[Record] = []
        for batch in batches:
            pending.extend(batch)
            while len(pending) > self.page_records:
                yield Page(stream, pending[: self.page_records])
                pending = pending[self.page_records :]
        yield Page(stream, pending, complete=True, cursor=cursor() if cursor else None)

    def _read_teams(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        org_id, links = self.org_id(), self._links()
        self._team_ids = []

        def batches() -> Iterator[list[Record]]:
            for page in self.api.teams(org_id):
                records = [r for r in (mapping.map_team(t, links) for t in page if isinstance(t, Mapping)) if r]
                assert self._team_ids is not None
                self._team_ids.extend(r.external_id for r in records)
                yield list(records)

        yield from self._paged("teams", batches())

    def _read_people(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        """Everyone with a membership in a team the token sees (guests need not be in the root team)."""
        org_id = self.org_id()
        team_ids = self._team_ids
        if team_ids is None:
            team_ids = [tid for page in self.api.teams(org_id) for t in page if isinstance(t, Mapping) and (tid := as_id(t.get("id")))]
        seen: set[str] = set()

        def members_of(team_id: str) -> list[Any]:
            try:
                return self.api.memberships(org_id, team_id)
            except NotFound:  # the team vanished (or was hidden) since the team list
                return []

        def batches() -> Iterator[list[Record]]:
            for memberships in self.session.map_concurrent(members_of, team_ids):
                records: list[Record] = []
                for membership in memberships:
                    if not isinstance(membership, Mapping):
                        continue
                    record = mapping.map_membership(membership, "")
                    if record is None or record.person.external_id in seen:
                        continue
                    seen.add(record.person.external_id)
                    self._names[record.person.external_id] = record.person.name
                    records.append(record.person)
                yield records
            self._members_loaded = True

        yield from self._paged("people", batches())

    def _ensure_names(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Owner names: from the people stream, else the root team's members, else /api/users/<id>/."""
        if not self._members_loaded:
            self._members_loaded = True
            try:
                if self._root_team_id is None:
                    self._org()
                if self._root_team_id:
                    for membership in self.api.memberships(self.org_id(), self._root_team_id):
                        record = mapping.map_membership(membership, self._root_team_id) if isinstance(membership, Mapping) else None
                        if record:
                            self._names[record.person.external_id] = record.person.name
            except (ScopeError, NotFound):
                pass  # without Org management, fall back to the public user endpoint below
        unknown: set[str] = set()
        for item in items:
            for owner in item.get("owners") or ():
                user_id = as_id(owner.get("user_id")) if isinstance(owner, Mapping) else None
                if user_id and user_id not in self._names:
                    unknown.add(user_id)

        def fetch(user_id: str) -> tuple[str, str]:
            try:
                user = self.api.user(user_id)
            except NotFound:
                return user_id, f"User {user_id}"
            return user_id, mapping.person_name(user) if isinstance(user, Mapping) else f"User {user_id}"

        for user_id, name in self.session.map_concurrent(fetch, sorted(unknown)):
            self._names[user_id] = name

    def _read_goals(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        org_id, links = self.org_id(), self._links()
        previous: Mapping[str, Any] = cursor.get("goals", {}) if cursor and cursor.get("v") == CURSOR_VERSION else {}
        seen: dict[str, list[str | None]] = {}
        updated: dict[str, str | None] = {}  # published to self._updated only after a complete read
        now = datetime.now(UTC)

        def batches() -> Iterator[list[Record]]:
            for page in self.api.items(org_id, "goal"):
                goals = [g for g in page if isinstance(g, Mapping) and as_id(g.get("id"))]
                self._ensure_names(goals)
                records: list[Record] = []
                for goal, newest in zip(goals, self.events.newest("goal", goals, previous), strict=True):
                    record = mapping.map_goal(
                        goal,
                        self._names,
                        links,
                        check_ins_known=True,
                        last_check_in_at=newest,
                        now=now,
                        stale_after_days=self.stale_after_days,
                    )
                    if record:
                        records.append(record)
                        seen[record.external_id] = [goal.get("updated_at"), newest.isoformat() if newest else None]
                        updated[record.external_id] = goal.get("updated_at")
                    if len(records) >= self.page_records:
                        yield records
                        records = []
                yield records
            self._updated["goal"] = updated

        yield from self._paged("goals", batches(), lambda: {"v": CURSOR_VERSION, "goals": seen})

    def _read_key_results(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        org_id, links = self.org_id(), self._links()
        updated: dict[str, str | None] = {}  # published to self._updated only after a complete read

        def batches() -> Iterator[list[Record]]:
            for page in self.api.items(org_id, "key_result"):
                krs = [k for k in page if isinstance(k, Mapping)]
                self._ensure_names(krs)
                for kr in krs:
                    self.events.note_scale("key_result", kr)
                records = [r for r in (mapping.map_key_result(k, self._names, links) for k in krs) if r]
                updated.update((r.external_id, r.raw.get("updated_at")) for r in records)
                yield list(records)
            self._updated["key_result"] = updated

        yield from self._paged("key_results", batches())

    def _initiative_params(self) -> dict[str, str]:
        return {"nql": self.initiatives_nql} if self.initiatives_nql else {}

    def _read_work_items(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        """Initiatives, each with its newest check-in (so the store can tell a stale one), fetched
        like the goals': only for new or changed initiatives (the cursor keeps the rest)."""
        org_id, links = self.org_id(), self._links()
        previous: Mapping[str, Any] = cursor.get("initiatives", {}) if cursor and cursor.get("v") == CURSOR_VERSION else {}
        seen: dict[str, list[str | None]] = {}
        updated: dict[str, str | None] = {}  # published to self._updated only after a complete read

        def batches() -> Iterator[list[Record]]:
            for page in self.api.items(org_id, "initiative", self._initiative_params()):
                initiatives = [i for i in page if isinstance(i, Mapping) and as_id(i.get("id"))]
                self._ensure_names(initiatives)
                records: list[Record] = []
                for initiative, newest in zip(initiatives, self.events.newest("initiative", initiatives, previous), strict=True):
                    record = mapping.map_initiative(initiative, self._names, links, last_check_in_at=newest)
                    if record:
                        records.append(record)
                        seen[record.external_id] = [initiative.get("updated_at"), newest.isoformat() if newest else None]
                        updated[record.external_id] = initiative.get("updated_at")
                    if len(records) >= self.page_records:
                        yield records
                        records = []
                yield records
            self._updated["initiative"] = updated

        yield from self._paged("work_items", batches(), lambda: {"v": CURSOR_VERSION, "initiatives": seen})

    def _read_check_ins(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        org_id = self.org_id()
        previous: Mapping[str, Any] = cursor.get("updated", {}) if cursor and cursor.get("v") == CURSOR_VERSION else {}
        current: dict[str, str | None] = {}
        for kind in ("goal", "key_result", "initiative"):
            known = self._updated.get(kind)
            if known is None:  # that stream was not read by this instance: re-derive from the list
                params = self._initiative_params() if kind == "initiative" else None
                known = {}
                for page in self.api.items(org_id, kind, params):
                    for item in page:
                        if isinstance(item, Mapping) and (item_id := as_id(item.get("id"))):
                            known[item_id] = item.get("updated_at")
                            self.events.note_scale(kind, item)
                self._updated[kind] = known
            current.update((f"{kind}:{item_id}", stamp) for item_id, stamp in known.items())
        todo = [key for key, stamp in current.items() if changed([previous.get(key)], stamp)]
        if todo and not self._names:
            self._ensure_names(())  # check-in authors
        batches = self.events.for_check_ins(todo, self.page_records)
        yield from self._paged("check_ins", batches, lambda: {"v": CURSOR_VERSION, "updated": current})

    # ------------------------------------------------------------------ single items (writes: writes.py)
    def fetch_item(self, kind: str, external_id: str) -> Record:
        """Re-read one item (before a write, to detect conflicts)."""
        org_id = self.org_id()
        links = self._links()
        if kind in ("team", Kind.TEAM):
            team = mapping.map_team(self.api.get(f"api/orgs/{org_id}/teams/{external_id}/"), links)
            if team:
                return team
        elif kind in ("person", Kind.PERSON):
            person = mapping.map_person(self.api.user(external_id))
            if person:
                return person
        elif kind in ("goal", "key_result", "work_item", "initiative"):
            vendor_kind = "initiative" if kind == "work_item" else kind
            raw = self.api.item(org_id, vendor_kind, external_id)
            if not isinstance(raw, Mapping):
                raise PermanentError(f"North answered {kind} {external_id} with something that is not an object")
            self._ensure_names([raw])
            newest = event_mapping.newest_check_in(self.events.raw(vendor_kind, external_id)) if vendor_kind != "key_result" else None
            if vendor_kind == "goal":
                goal = mapping.map_goal(
                    raw,
                    self._names,
                    links,
                    check_ins_known=True,
                    last_check_in_at=newest,
                    now=datetime.now(UTC),
                    stale_after_days=self.stale_after_days,
                )
                if goal:
                    return goal
            elif vendor_kind == "key_result":
                kr = mapping.map_key_result(raw, self._names, links)
                if kr:
                    return kr
            else:
                initiative = mapping.map_initiative(raw, self._names, links, last_check_in_at=newest)
                if initiative:
                    return initiative
        else:
            raise ValueError(f"North cannot fetch items of kind {kind!r}")
        raise PermanentError(f"North answered {kind} {external_id} without an id")
