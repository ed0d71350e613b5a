"""/connections/: members' own connections; /connectors/: the admin connector pages."""

from django.urls import URLPattern, URLResolver, path

from dashboard.integrations import views_connections as member
from dashboard.integrations import views_connectors as admin_pages

app_name = "integrations"

urlpatterns: list[URLPattern | URLResolver] = [
    path("connections/", member.connections, name="connections"),
    path("connections/connect/<int:connector_id>/", member.connect, name="connect"),
    path("connections/<int:credential_id>/test/", member.test, name="test_connection"),
    path("connections/<int:credential_id>/replace/", member.replace, name="replace_secret"),
    path("connections/<int:credential_id>/disconnect/", member.disconnect, name="disconnect"),
    path("connectors/", admin_pages.connector_list, name="connector_list"),
    path("connectors/add/", admin_pages.connector_add, name="connector_add"),
    path("connectors/<int:connector_id>/", admin_pages.connector_detail, name="connector_detail"),
    path("connectors/<int:connector_id>/toggle/", admin_pages.connector_toggle, name="connector_toggle"),
    path("connectors/<int:connector_id>/delete/", admin_pages.connector_delete, name="connector_delete"),
    path("connectors/<int:connector_id>/shared/add/", admin_pages.shared_add, name="shared_add"),
    path("connectors/shared/<int:credential_id>/", admin_pages.shared_edit, name="shared_edit"),
    path("connectors/shared/<int:credential_id>/test/", admin_pages.shared_test, name="shared_test"),
    path("connectors/shared/<int:credential_id>/delete/", admin_pages.shared_delete, name="shared_delete"),
]
