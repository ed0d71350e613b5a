from django.apps import AppConfig


class DigestConfig(AppConfig):
    name = "dashboard.digest"
    label = "digest"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Monday digest"
