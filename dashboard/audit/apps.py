from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dashboard.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from dashboard.audit import signals

        signals.connect()
