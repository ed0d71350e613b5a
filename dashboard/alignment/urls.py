from django.urls import path

from dashboard.alignment import views

app_name = "alignment"

urlpatterns = [
    path("goals/<int:goal_id>/align/", views.align, name="align"),
    path("goals/<int:goal_id>/unalign/", views.unalign, name="unalign"),
    path("alignment/suggestions/", views.suggestions, name="suggestions"),
    path("alignment/suggestions/<int:suggestion_id>/accept/", views.decide, {"decision": "accept"}, name="accept"),
    path("alignment/suggestions/<int:suggestion_id>/dismiss/", views.decide, {"decision": "dismiss"}, name="dismiss"),
]
