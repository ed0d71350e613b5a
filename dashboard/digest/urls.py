from django.urls import path

from dashboard.digest import views

app_name = "digest"

urlpatterns = [
    path("", views.digest_settings, name="settings"),
    path("preview/", views.preview, name="preview"),
    path("preview.txt", views.preview_text, name="preview_text"),
]
