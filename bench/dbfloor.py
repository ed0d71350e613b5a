"""The database floor of a sync: the rows it wrote, written again with one COPY per table.

After a full sync into an empty bench database, every ``okrs_*`` row is a row that sync wrote.
``capture`` reads them back (``COPY ... TO STDOUT``, untimed); ``write_floor`` creates empty
copies of those tables in a scratch schema (``CREATE TABLE ... (LIKE ... INCLUDING ALL)``: same
columns, defaults, indexes and unique constraints, no foreign keys) and times one
``COPY ... FROM STDIN`` per table inside one transaction, commit included. That is the least the
database must do to hold the sync's result; the sync's own SQL (upserts, look-ups, run records)
is measured against it.
"""

from __future__ import annotations

import time
from typing import Any

DATA_PREFIX = "okrs_"
SCRATCH = "bench_floor"


def _raw() -> Any:
    from django.db import connection

    connection.ensure_connection()
    return connection.connection


def capture(prefix: str = DATA_PREFIX) -> dict[str, bytes]:
    """Rows of each non-empty ``prefix*`` table, in COPY text format."""
    from django.db import connection

    raw = _raw()
    captured: dict[str, bytes] = {}
    with raw.cursor() as cursor:
        for table in sorted(t for t in connection.introspection.table_names() if t.startswith(prefix)):
            with cursor.copy(f'COPY public."{table}" TO STDOUT') as copy:
                data = b"".join(bytes(chunk) for chunk in copy)
            if data:
                captured[table] = data
    return captured


def write_floor(captured: dict[str, bytes]) -> float:
    """Seconds to write ``captured`` into empty scratch tables with one COPY per table."""
    raw = _raw()
    with raw.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCRATCH}")
        for table in captured:
            cursor.execute(f'CREATE TABLE {SCRATCH}."{table}" (LIKE public."{table}" INCLUDING ALL)')
    try:
        started = time.perf_counter()
        with raw.transaction(), raw.cursor() as cursor:
            for table, data in captured.items():
                with cursor.copy(f'COPY {SCRATCH}."{table}" FROM STDIN') as copy:
                    copy.write(data)
        return time.perf_counter() - started
    finally:
        with raw.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")


def rows(captured: dict[str, bytes]) -> int:
    return sum(data.count(b"\n") for data in captured.values())
