"""The django-celery-beat entry that runs the sync scheduler (issue #6).

Beat fires ``enqueue_due_syncs`` every SYNC_SCHEDULER_EVERY_SECONDS; that task enqueues a sync for
each enabled credential whose connector interval has passed (admins set the interval per
connector, so one beat entry serves every connector).
"""

from django.conf import settings
from django.db import migrations

SCHEDULER_TASK_NAME = "okrhub: enqueue due syncs"
SCHEDULER_TASK = "dashboard.integrations.tasks.enqueue_due_syncs"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every = max(10, int(getattr(settings, "SYNC_SCHEDULER_EVERY_SECONDS", 60)))
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=SCHEDULER_TASK_NAME,
        defaults={
            "task": SCHEDULER_TASK,
            "interval": interval,
            "enabled": True,
            "description": "Enqueues a sync for every enabled credential whose connector interval has passed.",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=SCHEDULER_TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_sync_progress_fields"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
