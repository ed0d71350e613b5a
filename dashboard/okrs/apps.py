from django.apps import AppConfig


class OkrsConfig(AppConfig):
    name = "dashboard.okrs"
    label = "okrs"
    default_auto_field = "django.db.models.BigAutoField"
