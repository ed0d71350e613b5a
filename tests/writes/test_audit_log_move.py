"""The audit log moved from ``integrations`` to ``writeback`` (issue #19) without touching its
table: rows written before the move are read after it, and the move can be undone."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dashboard.writeback.models import AuditLog


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_read_after_it_and_back() -> None:
    old_node = ("integrations", "0007_streamresult_held_back")
    before = [old_node, ("writeback", None)]  # writeback unapplied: the log still belongs to integrations
    executor = migrate(before)
    old = executor.loader.project_state([old_node]).apps.get_model("integrations", "AuditLog")
    old.objects.create(
        username="ada", connector_name="North", vendor="north", operation="goal_check_in", item_kind="goal", outcome="succeeded"
    )

    executor = migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    moved = AuditLog.objects.get()
    assert (moved.username, moved.operation, moved._meta.label) == ("ada", "goal_check_in", "writeback.AuditLog")
    with connection.cursor() as cursor:
        assert "integrations_auditlog" in connection.introspection.table_names(cursor)

    executor = migrate(before)  # and back: the row is still there, under the old app
    old = executor.loader.project_state([old_node]).apps.get_model("integrations", "AuditLog")
    assert list(old.objects.values_list("username", flat=True)) == ["ada"]
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
