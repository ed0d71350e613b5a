from django.apps import AppConfig


class AlignmentConfig(AppConfig):
    name = "dashboard.alignment"
    label = "alignment"
    default_auto_field = "django.db.models.BigAutoField"
