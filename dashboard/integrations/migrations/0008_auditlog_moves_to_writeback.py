"""The audit log now belongs to the ``writeback`` app (issue #19): removed from this app's
state only; the table ``integrations_auditlog`` and its rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0007_streamresult_held_back"),
        ("writeback", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[migrations.DeleteModel(name="AuditLog")]),
    ]
