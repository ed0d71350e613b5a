"""The audit trail (issue #21), included at the site root."""

from django.urls import URLPattern, path

from dashboard.audit import views

app_name = "audit"

urlpatterns: list[URLPattern] = [
    path("audit/changes/", views.changes, name="changes"),
    path("audit/changes.csv", views.changes_csv, name="changes_csv"),
]
