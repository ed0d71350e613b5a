"""OpenID Connect sign-in (issue #21): start (redirect to the provider) and callback. Both answer
404 while ``OIDC_ISSUER`` is unset. Sign-out stays the local one (``accounts:logout``)."""

from django.urls import path

from dashboard.accounts import oidc

app_name = "oidc"

urlpatterns = [
    path("authenticate/", oidc.SSOStartView.as_view(), name="authenticate"),
    path("callback/", oidc.SSOCallbackView.as_view(), name="callback"),
]
