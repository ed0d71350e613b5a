"""The audit log moves here from ``integrations`` (issue #19): state only, the table stays.

``integrations.0008`` removes it from that app's state after this one adds it here; the table
``integrations_auditlog``, its rows and its index are untouched.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("integrations", "0007_streamresult_held_back"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AuditLog",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("username", models.CharField(help_text="Kept when the user is deleted.", max_length=150)),
                        ("connector_name", models.CharField(max_length=100)),
                        ("vendor", models.CharField(max_length=20)),
                        ("operation", models.CharField(db_index=True, max_length=40)),
                        ("item_kind", models.CharField(max_length=30)),
                        ("item_external_id", models.CharField(blank=True, default="", max_length=255)),
                        ("item_title", models.CharField(blank=True, default="", max_length=500)),
                        ("sent", models.JSONField(blank=True, default=dict, help_text="The fields sent to the vendor (never secrets).")),
                        (
                            "outcome",
                            models.CharField(
                                choices=[
                                    ("succeeded", "Succeeded"),
                                    ("rejected", "Rejected by the vendor"),
                                    ("failed", "Failed"),
                                    ("refused", "Refused"),
                                    ("conflict", "Conflict"),
                                ],
                                db_index=True,
                                max_length=20,
                            ),
                        ),
                        (
                            "vendor_status",
                            models.PositiveSmallIntegerField(blank=True, help_text="The vendor's HTTP status, when known.", null=True),
                        ),
                        ("vendor_summary", models.TextField(blank=True, default="")),
                        (
                            "connector",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="integrations.connector",
                            ),
                        ),
                        (
                            "credential",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="integrations.credential",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "integrations_auditlog",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["connector", "-created_at"], name="integration_connect_896688_idx")],
                    },
                ),
            ],
        ),
    ]
