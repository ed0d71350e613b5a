"""The django-celery-beat entry that sends the weekly digests (issue #18).

Beat fires ``send_due_digests`` at minutes 0, 15, 30 and 45 of every hour (UTC); each run sends the
digests whose local weekday and hour are now in their user's zone (docs/digest.md). A crontab,
not an interval, so a digest set for 08:00 leaves at 08:00, not at some minute past.
"""

from django.db import migrations

DIGEST_TASK_NAME = "okrhub: send due digests"
DIGEST_TASK = "dashboard.digest.tasks.send_due_digests"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0,15,30,45", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.update_or_create(
        name=DIGEST_TASK_NAME,
        defaults={
            "task": DIGEST_TASK,
            "crontab": crontab,
            "interval": None,
            "enabled": True,
            "description": "Sends the weekly digests due now in each user's time zone (never twice).",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=DIGEST_TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("digest", "0001_subscriptions_and_deliveries"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
