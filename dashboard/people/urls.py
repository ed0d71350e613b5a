from django.urls import path

from dashboard.people import views

app_name = "people"

urlpatterns = [
    path("people/", views.people_index, name="index"),
    path("people/matches/", views.matches, name="matches"),
    path("people/matches/<int:proposal_id>/confirm/", views.confirm, name="confirm"),
    path("people/matches/<int:proposal_id>/reject/", views.reject, name="reject"),
    path("people/<int:identity_id>/", views.person_detail, name="person"),
    path("people/<int:identity_id>/merge/", views.merge, name="merge"),
    path("people/<int:identity_id>/split/", views.split, name="split"),
]
