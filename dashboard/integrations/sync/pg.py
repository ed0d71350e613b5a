"""PostgreSQL fast path of the sync's bulk writes (issue #6 "Speed and memory").

The ORM's ``bulk_create(update_conflicts=True)`` builds a model instance per row, prepares every
value in Python and, on PostgreSQL, binds each column as an array literal that psycopg escapes
character by character: most of a full sync's CPU. Here one page goes to the server as one JSON
document (the records' canonical JSON, already built for their fingerprints) and PostgreSQL
unpacks it with ``json_populate_recordset`` against the table's own row type, so column types
and conversions are the server's. Semantics match the ORM path in ``store``:

* ``INSERT ... ON CONFLICT (unique key) DO UPDATE`` keyed like the model's unique constraint;
  the update is skipped when the stored fingerprint already matches (another credential of the
  same connector wrote the same item meanwhile), so such a row costs no write;
* columns a record does not carry (a team's ``path``/``depth``, kept by ``rebuild_team_tree``)
  get the field default on insert and are left alone on update;
* links (``seen_by``, work item teams) and snapshots are inserted with set-based statements
  that write only what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection, models

__all__ = ["add_links", "commit_without_flush", "insert_snapshots", "replace_work_item_teams", "upsert_documents"]

Key = tuple[str, ...]


def commit_without_flush() -> None:
    """Let the current (page) transaction commit without waiting for its WAL flush.

    A page is idempotent and the run's own records (cursor, status) are committed normally
    afterwards; a synchronous commit flushes all earlier WAL, so once a run is recorded as done
    its pages are durable too. A database crash before that loses at most the last pages of an
    unfinished run, which the redelivered run writes again. Saves an fsync per page.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _bigint_array(values: Iterable[int]) -> str:
    """A ``bigint[]`` literal: one short string instead of a list psycopg would adapt item by item."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


@cache
def _upsert_sql(
    model: type[models.Model], provided: frozenset[str], key_columns: tuple[str, ...], skip_same_fingerprint: bool
) -> tuple[str, tuple[str, ...]]:
    """SQL for one model and one set of provided columns; returns (sql, names of the leading params)."""
    table = _q(model._meta.db_table)
    columns: list[str] = []
    select: list[str] = []
    params: list[str] = []  # "connector_id", "vendor", "synced_at" or "default:<attname>"
    updates: list[str] = []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        name = field.attname
        columns.append(_q(name))
        if name in provided:
            select.append(f"s.{_q(name)}")
        else:
            select.append("%s")
            params.append(name if name in ("connector_id", "vendor", "synced_at") else f"default:{name}")
        if name not in key_columns and (name in provided or name in ("vendor", "synced_at")):
            updates.append(f"{_q(name)} = EXCLUDED.{_q(name)}")
    where = f" WHERE {table}.{_q('fingerprint')} IS DISTINCT FROM EXCLUDED.{_q('fingerprint')}" if skip_same_fingerprint else ""
    returning = ", ".join(_q(c) for c in ("id", *key_columns[1:]))
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - identifiers from model metadata, values are parameters
        f"SELECT {', '.join(select)} FROM json_populate_recordset(NULL::{table}, %s::json) AS s "
        f"ON CONFLICT ({', '.join(_q(c) for c in key_columns)}) DO UPDATE SET {', '.join(updates)}{where} "
        f"RETURNING {returning}"
    )
    return sql, tuple(params)


def upsert_documents(
    model: type[models.Model],
    *,
    key_columns: tuple[str, ...],
    provided: frozenset[str],
    documents: Sequence[str],
    connector_id: int,
    vendor: str,
    now: datetime,
    skip_same_fingerprint: bool,
    batch_size: int,
) -> dict[Key, int]:
    """Upsert rows given as JSON object texts; returns ``{key without connector_id: pk}`` of the
    rows written (a row skipped because its fingerprint was already stored is not returned)."""
    sql, names = _upsert_sql(model, provided, key_columns, skip_same_fingerprint)
    fields = {f.attname: f for f in model._meta.concrete_fields}
    leading: list[Any] = []
    for name in names:
        if name == "connector_id":
            leading.append(connector_id)
        elif name == "vendor":
            leading.append(vendor)
        elif name == "synced_at":
            leading.append(now)
        else:
            field = fields[name.removeprefix("default:")]
            leading.append(field.get_db_prep_save(field.get_default(), connection))
    pks: dict[Key, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(documents), batch_size):
            payload = "[" + ",".join(documents[start : start + batch_size]) + "]"
            cursor.execute(sql, [*leading, payload])
            for pk, *key in cursor.fetchall():
                pks[tuple(key)] = pk
    return pks


def add_links(through: type[models.Model], owner_column: str, owner_id: int, target_column: str, targets: Iterable[int]) -> None:
    """Insert the missing ``(owner, target)`` rows of an M2M table; existing ones cost no write."""
    table = _q(through._meta.db_table)
    owner, target = _q(owner_column), _q(target_column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({owner}, {target}) SELECT %s, x FROM unnest(%s::bigint[]) AS x "  # noqa: S608 - identifiers from model metadata, values are parameters
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{owner} = %s AND t.{target} = x) "
            "ON CONFLICT DO NOTHING",
            [owner_id, _bigint_array(sorted(targets)), owner_id],
        )


def replace_work_item_teams(through: type[models.Model], teams_by_item: dict[int, list[int]]) -> None:
    """Make each work item's team links exactly ``teams_by_item[item]``."""
    table = _q(through._meta.db_table)
    pairs = [(item, team) for item, teams in teams_by_item.items() for team in teams]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE workitem_id = ANY(%s::bigint[])", [_bigint_array(teams_by_item)])  # noqa: S608
        if pairs:
            cursor.execute(
                f"INSERT INTO {table} (workitem_id, team_id) SELECT w, t FROM unnest(%s::bigint[], %s::bigint[]) AS s(w, t) "  # noqa: S608 - identifiers from model metadata, values are parameters
                "ON CONFLICT DO NOTHING",
                [_bigint_array(p[0] for p in pairs), _bigint_array(p[1] for p in pairs)],
            )


def insert_snapshots(model: type[models.Model], fk: str, rows: Sequence[tuple[int, float | None, str]], taken_at: datetime) -> None:
    """Insert progress snapshots ``(subject pk, progress, health)`` for one subject column."""
    if not rows:
        return
    table = _q(model._meta.db_table)
    progress = "{" + ",".join("NULL" if p is None else repr(float(p)) for _pk, p, _h in rows) + "}"
    health = "{" + ",".join('"' + h.replace("\\", "\\\\").replace('"', '\\"') + '"' for _pk, _p, h in rows) + "}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({_q(fk)}, taken_at, progress, health) "  # noqa: S608 - identifiers from model metadata, values are parameters
            "SELECT s.pk, %s, s.progress, s.health FROM unnest(%s::bigint[], %s::float8[], %s::text[]) AS s(pk, progress, health)",
            [taken_at, _bigint_array(pk for pk, _p, _h in rows), progress, health],
        )
