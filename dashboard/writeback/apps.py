from django.apps import AppConfig


class WritebackConfig(AppConfig):
    name = "dashboard.writeback"
    label = "writeback"
    verbose_name = "Write-back"
    default_auto_field = "django.db.models.BigAutoField"
