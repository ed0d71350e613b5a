from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "dashboard.integrations"
    label = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the Celery tasks in every process (web too), so the sync engine's send by name
        # (``sync.enqueue.send_run``) applies the task itself in eager mode; the engine never
        # imports the tasks module.
        from dashboard.integrations import tasks  # noqa: F401
