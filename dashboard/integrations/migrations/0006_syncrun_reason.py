# A scheduled run records why it was queued (issue #16: a partial run is retried early).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0005_cache_data_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="reason",
            field=models.CharField(blank=True, default="", help_text="Why the scheduler queued this run.", max_length=300),
        ),
    ]
