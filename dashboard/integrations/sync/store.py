"""Idempotent bulk upserts of connector records into the unified model (issue #2, #6).

One vendor item is one row keyed by (connector, external_id), work items by (connector, kind,
external_id). Each page is written in one transaction:

* the normalized values of every record are hashed (``fingerprint``); a row whose fingerprint
  did not change is not written at all, so a sync with nothing changed writes no rows;
* new and changed rows go out in one ``INSERT ... ON CONFLICT DO UPDATE`` per batch, which is
  also safe when two credentials of the same connector sync the same item at the same time;
* links to rows of earlier streams (goal.team, kr.goal, work item teams, check-in subject) are
  resolved through per-run id maps and are part of the fingerprint, so an item whose parent
  appears in a later sync is re-linked then; links inside one stream (team.parent,
  goal.parent, work item parent) may point forward and are fixed once the stream has ended
  (see ``links``);
* progress snapshots are recorded on first sight and whenever progress or health changes;
* the credential is added to ``seen_by`` of every returned item (removal happens only after a
  complete read, in ``links.reconcile_visibility``).

Memory stays at one page plus the id maps (external id -> pk).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from connectors import registry
from connectors.base import Kind, Record, WorkItemRecord
from dashboard.integrations.models import Connector, Credential
from dashboard.integrations.sync import pg
from dashboard.integrations.sync.specs import (
    CHECK_IN_FIELDS,
    KIND_MODELS,
    SPECS,
    Spec,
    fingerprint,
    fingerprint_document,
    fit_to_columns,
    stale_at,
)
from dashboard.okrs.models import ProgressSnapshot, WorkItem

__all__ = ["KIND_MODELS", "SPECS", "IdMap", "PageCounts", "StoreContext", "add_seen_by", "upsert_page", "upsert_records"]

logger = logging.getLogger(__name__)
_SNAPSHOT_FK = {Kind.GOAL: "goal_id", Kind.KEY_RESULT: "key_result_id", Kind.WORK_ITEM: "work_item_id"}


@dataclass
class PageCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class IdMap:
    """external id -> pk for one table of one connector, loaded lazily, one query per page."""

    def __init__(self, model: type[models.Model], connector_id: int) -> None:
        self.model = model
        self.connector_id = connector_id
        self._known: dict[str, int | None] = {}

    def load(self, external_ids: Iterable[str | None]) -> None:
        missing = {e for e in external_ids if e and e not in self._known}
        if not missing:
            return
        for ext in missing:
            self._known[ext] = None
        rows = self.model.objects.filter(connector_id=self.connector_id, external_id__in=missing).order_by("pk")  # type: ignore[attr-defined]
        for ext, pk in rows.values_list("external_id", "pk"):
            if self._known.get(ext) is None:  # lowest pk wins when work item kinds share an id
                self._known[ext] = pk

    def get(self, external_id: str | None) -> int | None:
        if not external_id:
            return None
        if external_id not in self._known:
            self.load([external_id])
        return self._known.get(external_id)

    def put(self, external_id: str, pk: int) -> None:
        if self._known.get(external_id) is None:
            self._known[external_id] = pk


@dataclass
class StoreContext:
    """What one run's upserts share: the connector, the credential, the id maps."""

    connector: Connector
    credential: Credential
    now: datetime = field(default_factory=timezone.now)
    id_maps: dict[Kind, IdMap] = field(default_factory=dict)

    @property
    def check_in_kinds(self) -> frozenset[str]:
        """The kinds the vendor checks in on: only those can be stale."""
        return registry.get(self.connector.vendor).check_in_kinds

    def ids(self, kind: Kind) -> IdMap:
        if kind not in self.id_maps:
            self.id_maps[kind] = IdMap(KIND_MODELS[kind], self.connector.pk)
        return self.id_maps[kind]


def _key_fields(spec: Spec) -> list[str]:
    return ["connector", "kind", "external_id"] if spec.kind == Kind.WORK_ITEM else ["connector", "external_id"]


def _key(spec: Spec, values: Mapping[str, Any]) -> tuple[str, ...]:
    return (values["kind"], values["external_id"]) if spec.kind == Kind.WORK_ITEM else (values["external_id"],)


def _existing(spec: Spec, ctx: StoreContext, keys: list[tuple[str, ...]]) -> dict[tuple[str, ...], dict[str, Any]]:
    """The stored state needed to classify each row: pk, fingerprint, progress/health."""
    qs = spec.model.objects.filter(connector_id=ctx.connector.pk, external_id__in={k[-1] for k in keys})  # type: ignore[attr-defined]
    if spec.stored_fingerprint:
        names = ["pk", "external_id", "fingerprint"]
        if spec.kind == Kind.WORK_ITEM:
            names.append("kind")
        if spec.snapshots:
            names += ["progress", "health"]
        rows = qs.values(*names)
    else:  # check-ins: recompute the fingerprint from the stored values
        rows = qs.values("pk", *CHECK_IN_FIELDS, "goal_id", "key_result_id", "work_item_id")
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["kind"], row["external_id"]) if spec.kind == Kind.WORK_ITEM else (row["external_id"],)
        if not spec.stored_fingerprint:
            links = {link.attname: row[link.attname] for link in spec.links}
            row = {**row, "fingerprint": fingerprint({**{f: row[f] for f in CHECK_IN_FIELDS}, **links})}
        out[key] = row
    return out


def upsert_records(ctx: StoreContext, kind: Kind, records: Sequence[Record], seen: set[int]) -> PageCounts:
    """Write one page of records of one kind; adds the pks of every returned item to ``seen``."""
    spec = SPECS[kind]
    counts = PageCounts()
    if not records:
        return counts
    # Resolve every cross-stream link of the page with one query per target table.
    for link in spec.links:
        ctx.ids(link.target).load(link.external_id(r) for r in records)
    if kind == Kind.WORK_ITEM:
        work_items = cast("Sequence[WorkItemRecord]", records)  # a page holds records of one kind
        ctx.ids(Kind.TEAM).load(str(t) for r in work_items for t in r.team_external_ids)

    stale_after_days = settings.STALE_AFTER_DAYS
    check_in_kinds = ctx.check_in_kinds
    prepared: dict[tuple[str, ...], Prepared] = {}
    for record in records:
        values = fit_to_columns(spec.model, spec.values(record))
        if spec.staleness:
            values["stale_at"] = stale_at(record, check_in_kinds)  # type: ignore[arg-type]
        links: dict[str, Any] = {}
        hashed_links: dict[str, Any] = {}
        for link in spec.links:
            pk = ctx.ids(link.target).get(link.external_id(record))
            links[link.attname] = pk
            if not link.same_stream:
                hashed_links[link.attname] = pk
        team_pks: list[int] = []
        if kind == Kind.WORK_ITEM:
            team_map = ctx.ids(Kind.TEAM)
            team_pks = sorted({pk for ext in values["team_external_ids"] if (pk := team_map.get(ext)) is not None})
            hashed_links["teams"] = team_pks
        if spec.stored_fingerprint:
            document, digest = fingerprint_document({**values, **hashed_links, "stale_after_days": stale_after_days})
        else:
            document, digest = fingerprint_document({**{f: values[f] for f in CHECK_IN_FIELDS}, **hashed_links})
        prepared[_key(spec, values)] = Prepared(values, links, digest, team_pks, document)  # a duplicate in one page: last wins

    existing = _existing(spec, ctx, list(prepared))
    changed: list[tuple[str, ...]] = []
    snapshot_rows: list[tuple[tuple[str, ...], Any, str]] = []
    for key, item in prepared.items():
        old = existing.get(key)
        if old is not None and old["fingerprint"] == item.digest:
            counts.unchanged += 1
            continue
        changed.append(key)
        if old is None:
            counts.created += 1
        else:
            counts.updated += 1
        values = item.values
        if spec.snapshots and (old is None or old["progress"] != values["progress"] or old["health"] != values["health"]):
            snapshot_rows.append((key, values["progress"], values["health"]))

    postgres = connection.vendor == "postgresql"
    own_transaction = not connection.in_atomic_block  # a caller's transaction keeps its commit mode
    with transaction.atomic():
        if postgres and changed and own_transaction:
            pg.commit_without_flush()
        pks = {key: row["pk"] for key, row in existing.items()}
        if changed:
            written = _write_pg(spec, ctx, prepared, changed) if postgres else _write_orm(spec, ctx, prepared, changed)
            pks.update(written)
            missing = [key for key in changed if key not in pks]
            if missing:  # databases that return no ids for conflicting rows; rows another sync wrote alike
                pks.update(_existing_pks(spec, ctx, missing))
        id_map = ctx.ids(kind)
        for key in prepared:
            if key in pks:
                id_map.put(key[-1], pks[key])
        if kind == Kind.WORK_ITEM and changed:
            teams_by_item = {pks[key]: prepared[key].team_pks for key in changed}
            if postgres:
                pg.replace_work_item_teams(WorkItem.teams.through, teams_by_item)
            else:
                _set_work_item_teams(teams_by_item)
        if snapshot_rows:
            fk = _SNAPSHOT_FK[kind]
            if postgres:
                pg.insert_snapshots(ProgressSnapshot, fk, [(pks[key], p, h) for key, p, h in snapshot_rows], ctx.now)
            else:
                ProgressSnapshot.objects.bulk_create(
                    [
                        ProgressSnapshot(**{fk: pks[key]}, taken_at=ctx.now, progress=progress, health=health)
                        for key, progress, health in snapshot_rows
                    ],
                    batch_size=settings.SYNC_UPSERT_BATCH_SIZE,
                )
        if spec.has_seen_by:
            page_pks = {pks[key] for key in prepared if key in pks}
            add_seen_by(spec.model, ctx.credential, page_pks)
            seen.update(page_pks)
    return counts


@dataclass(slots=True)
class Prepared:
    """One record ready to write: column values, resolved links, fingerprint and its JSON."""

    values: dict[str, Any]
    links: dict[str, Any]
    digest: str
    team_pks: list[int]
    document: str  # the canonical JSON the fingerprint hashes (values + cross-stream links)


def _write_pg(
    spec: Spec, ctx: StoreContext, prepared: dict[tuple[str, ...], Prepared], changed: list[tuple[str, ...]]
) -> dict[tuple[str, ...], int]:
    """One ``INSERT ... ON CONFLICT DO UPDATE`` per batch from the records' JSON documents."""
    same_stream = [link.attname for link in spec.links if link.same_stream]
    documents: list[str] = []
    for key in changed:
        item = prepared[key]
        extra = [f'"{name}":{"null" if item.links[name] is None else int(item.links[name])}' for name in same_stream]
        if spec.stored_fingerprint:
            extra.append(f'"fingerprint":"{item.digest}"')
        # The document is a JSON object: splice the columns the fingerprint leaves out into it.
        documents.append(item.document[:-1] + "," + ",".join(extra) + "}" if extra else item.document)
    first = prepared[changed[0]]
    provided = frozenset(first.values) | frozenset(first.links) | ({"fingerprint"} if spec.stored_fingerprint else frozenset())
    key_columns = ("connector_id", "kind", "external_id") if spec.kind == Kind.WORK_ITEM else ("connector_id", "external_id")
    return pg.upsert_documents(
        spec.model,
        key_columns=key_columns,
        provided=provided,
        documents=documents,
        connector_id=ctx.connector.pk,
        vendor=ctx.connector.vendor,
        now=timezone.now(),
        skip_same_fingerprint=spec.stored_fingerprint,
        batch_size=settings.SYNC_UPSERT_BATCH_SIZE,
    )


def _write_orm(
    spec: Spec, ctx: StoreContext, prepared: dict[tuple[str, ...], Prepared], changed: list[tuple[str, ...]]
) -> dict[tuple[str, ...], int]:
    """The portable path (SQLite): ``bulk_create(update_conflicts=True)``."""
    objs: list[models.Model] = []
    for key in changed:
        item = prepared[key]
        obj = spec.model(connector_id=ctx.connector.pk, vendor=ctx.connector.vendor, **item.values, **item.links)
        if spec.stored_fingerprint:
            obj.fingerprint = item.digest  # type: ignore[attr-defined]
        objs.append(obj)
    update_fields = [
        f.name for f in spec.model._meta.concrete_fields if not f.primary_key and f.name not in ("connector", "external_id", "kind")
    ]
    spec.model.objects.bulk_create(  # type: ignore[attr-defined]
        objs,
        batch_size=settings.SYNC_UPSERT_BATCH_SIZE,
        update_conflicts=True,
        unique_fields=_key_fields(spec),
        update_fields=update_fields,
    )
    return {_key(spec, obj.__dict__): obj.pk for obj in objs if obj.pk is not None}


def _existing_pks(spec: Spec, ctx: StoreContext, keys: list[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
    return {key: row["pk"] for key, row in _existing(spec, ctx, keys).items()}


def _set_work_item_teams(teams_by_item: dict[int, list[int]]) -> None:
    through = WorkItem.teams.through
    through.objects.filter(workitem_id__in=list(teams_by_item)).delete()
    through.objects.bulk_create(
        [through(workitem_id=item, team_id=team) for item, teams in teams_by_item.items() for team in teams],
        ignore_conflicts=True,
    )


def add_seen_by(model: type[models.Model], credential: Credential, pks: set[int]) -> None:
    """Link ``credential`` to the items it returned, inserting only the missing links."""
    if not pks:
        return
    through = model.seen_by.through  # type: ignore[attr-defined]
    fk = f"{model._meta.model_name}_id"
    if connection.vendor == "postgresql":
        pg.add_links(through, "credential_id", credential.pk, fk, pks)
        return
    linked = set(through.objects.filter(credential_id=credential.pk, **{f"{fk}__in": pks}).values_list(fk, flat=True))
    missing = pks - linked
    if missing:
        through.objects.bulk_create(
            [through(credential_id=credential.pk, **{fk: pk}) for pk in missing],
            ignore_conflicts=True,
            batch_size=settings.SYNC_UPSERT_BATCH_SIZE,
        )


def upsert_page(ctx: StoreContext, records: Sequence[Record], seen: dict[Kind, set[int]]) -> PageCounts:
    """Write a page that may mix record kinds (a stream normally yields one kind)."""
    total = PageCounts()
    by_kind: dict[Kind, list[Record]] = {}
    for record in records:
        kind = getattr(record, "kind", None)
        if kind not in SPECS:  # not one of base.py's records: a connector bug, not a reason to fail
            logger.warning("sync: ignoring a %s record (not a connectors.base record type)", type(record).__name__)
            continue
        by_kind.setdefault(kind, []).append(record)
    for kind in sorted(by_kind, key=list(Kind).index):
        counts = upsert_records(ctx, kind, by_kind[kind], seen.setdefault(kind, set()))
        total.created += counts.created
        total.updated += counts.updated
        total.unchanged += counts.unchanged
    return total
