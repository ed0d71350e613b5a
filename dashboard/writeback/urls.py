"""Write-back pages (issue #10), included at the site root."""

from django.urls import URLPattern, URLResolver, path

from dashboard.writeback import views

app_name = "writes"

urlpatterns: list[URLPattern | URLResolver] = [
    path("actions/new/", views.action_new, name="action_new"),
    path("actions/<int:pk>/edit/", views.action_edit, name="action_edit"),
    path("actions/<int:pk>/delete/", views.action_delete, name="action_delete"),
    path("goals/<int:pk>/check-in/", views.goal_check_in, name="goal_check_in"),
    path("projects/<int:pk>/check-in/", views.project_check_in, name="project_check_in"),
    path("key-results/<int:pk>/value/", views.key_result_value, name="key_result_value"),
    path("tasks/<int:pk>/status/", views.task_status, name="task_status"),
    path("teams/<int:pk>/members/", views.team_members, name="team_members"),
    path("teams/<int:pk>/members/<str:user_id>/remove/", views.member_remove, name="member_remove"),
    path("audit/", views.audit, name="audit"),
]
