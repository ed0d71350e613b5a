"""``StreamResult.held_back``: a held-back mass removal as a field, not an error-string prefix.

Existing rows are converted by the prefix the engine used to read ("Removal held back").
"""

from typing import Any

from django.db import migrations, models

HELD_BACK_PREFIX = "Removal held back"  # frozen here: the engine no longer reads the prefix


def mark_held_back(apps: Any, schema_editor: Any) -> None:
    StreamResult = apps.get_model("integrations", "StreamResult")
    StreamResult.objects.filter(error__startswith=HELD_BACK_PREFIX).update(held_back=True)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0006_syncrun_reason")]

    operations = [
        migrations.AddField(model_name="streamresult", name="held_back", field=models.BooleanField(default=False)),
        migrations.RunPython(mark_held_back, migrations.RunPython.noop),
    ]
