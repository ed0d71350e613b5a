from django.apps import AppConfig


class DigestConfig(AppConfig):
    name = "dashboard.digest"
    label = "digest"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Monday digest"

    def ready(self) -> None:
        from django.conf import settings

        from dashboard.core.logging import register_secret

        register_secret(settings.EMAIL_HOST_PASSWORD)  # never in a log line, whoever logs it
