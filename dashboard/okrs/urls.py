from django.urls import path

from dashboard.okrs import views

app_name = "okrs"

urlpatterns = [
    path("", views.overview, name="overview"),
]
