"""Trigram indexes for the dashboard's "contains" searches (issue #8, "Speed").

Title and owner searches are case-insensitive substring matches; Django writes them on
PostgreSQL as ``UPPER(col::text) LIKE UPPER(%s)``, which no B-tree index can serve: every search
read every goal, key result and work item. A GIN trigram index on exactly that expression lets
PostgreSQL find the matching rows directly (for terms of 3+ characters).

PostgreSQL only, and optional: SQLite (the embedded default) gets nothing, and a PostgreSQL role
that may not create the pg_trgm extension gets a warning and unindexed (correct, slower) search.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, migrations, transaction

log = logging.getLogger(__name__)

TABLES = ("okrs_goal", "okrs_keyresult", "okrs_workitem")
COLUMNS = ("title", "owners_text")


def _index_name(table: str, column: str) -> str:
    return f"{table}_{column}_upper_trgm"


def create_indexes(apps, schema_editor):  # type: ignore[no-untyped-def]
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):  # a savepoint: a refusal leaves the migration usable
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as error:
            log.warning("pg_trgm is not available (%s); title and owner search stays unindexed", error)
            return
        for table in TABLES:
            for column in COLUMNS:
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {_index_name(table, column)} ON {table} "
                    f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
                )


def drop_indexes(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            for column in COLUMNS:
                cursor.execute(f"DROP INDEX IF EXISTS {_index_name(table, column)}")


class Migration(migrations.Migration):
    dependencies = [("okrs", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
