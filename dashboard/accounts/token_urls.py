"""The "API tokens" page: views and routes (mounted at /api-tokens/).

A new token is rendered in the response to the POST that created it and nowhere else: it is not
put in the session or a message (both are stored server-side), so only its hash ever persists.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from dashboard.accounts.models import ApiToken
from dashboard.accounts.tokens import create_token, revoke_token
from dashboard.core.http import AppRequest

app_name = "api_tokens"


def _page(request: AppRequest, *, new_token: str = "", new_name: str = "", error: str = "", status: int = 200) -> HttpResponse:
    tokens = ApiToken.objects.filter(user=request.user)
    context = {
        "tokens": tokens,
        "active_count": sum(1 for t in tokens if t.is_active),
        "new_token": new_token,
        "new_name": new_name,
        "error": error,
        "api_base": request.build_absolute_uri("/api/v1/"),
    }
    return render(request, "accounts/api_tokens.html", context, status=status)


@require_http_methods(["GET", "POST"])
def token_list(request: AppRequest) -> HttpResponse:
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            new = create_token(request.user, name)
        except ValueError as exc:
            return _page(request, error=str(exc), new_name=name, status=400)
        return _page(request, new_token=new.raw, new_name=new.token.name, status=201)
    return _page(request)


@require_http_methods(["GET", "POST"])
def token_revoke(request: AppRequest, token_id: int) -> HttpResponse:
    token = ApiToken.objects.filter(user=request.user, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise Http404("No such active token.")
    if request.method == "POST":
        revoke_token(request.user, token.pk)
        messages.success(request, f"Revoked “{token.name}”. Scripts using it now get 401 Unauthorized.")
        return redirect("api_tokens:list")
    return render(request, "accounts/api_tokens_revoke.html", {"token": token})


urlpatterns = [
    path("", token_list, name="list"),
    path("<int:token_id>/revoke/", token_revoke, name="revoke"),
]
