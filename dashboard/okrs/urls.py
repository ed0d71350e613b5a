from django.urls import path

from dashboard.okrs import views

app_name = "okrs"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("teams/", views.teams, name="teams"),
    path("teams/export.csv", views.teams_export, name="teams_export"),
    path("teams/<int:team_id>/children/", views.team_children, name="team_children"),
    path("goals/", views.goals, name="goals"),
    path("goals/export.csv", views.goals_export, name="goals_export"),
    path("goals/<int:goal_id>/", views.goal_detail, name="goal_detail"),
    path("actions/", views.actions, name="actions"),
    path("actions/export.csv", views.actions_export, name="actions_export"),
    path("work-items/<int:item_id>/", views.work_item_detail, name="work_item_detail"),
    path("review/", views.review, name="review"),
    path("review/export.csv", views.review_export, name="review_export"),
    path("search/", views.search, name="search"),
    path("search/export.csv", views.search_export, name="search_export"),
    path("sync/now/", views.sync_now, name="sync_now"),
    path("sync/status/", views.sync_status, name="sync_status"),
]
