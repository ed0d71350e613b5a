"""The django-celery-beat entry that recomputes alignment suggestions hourly (issue #18), so
new look-alike goals from the syncs reach the admins' page without anyone running the command."""

from django.db import migrations

SUGGEST_TASK_NAME = "okrhub: alignment suggestions"
SUGGEST_TASK = "dashboard.alignment.tasks.suggest_alignments"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.update_or_create(
        name=SUGGEST_TASK_NAME,
        defaults={"task": SUGGEST_TASK, "interval": interval, "enabled": True, "description": "Recomputes pending alignment suggestions."},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SUGGEST_TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("alignment", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
