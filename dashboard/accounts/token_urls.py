"""The "API tokens" page: views and routes (mounted at /api-tokens/).

A new token is rendered in the response to the POST that created it and nowhere else: it is not
put in the session or a message (both are stored server-side), so only its hash ever persists.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from dashboard.accounts.models import SCOPES, ApiToken
from dashboard.accounts.roles import admin_required, is_admin
from dashboard.accounts.tokens import DEFAULT_EXPIRY_DAYS, EXPIRY_CHOICES, create_token, revoke_token
from dashboard.core.http import AppRequest

app_name = "api_tokens"


def _expiry_label(days: int) -> str:
    return "Never" if days == 0 else ("1 year" if days == 365 else f"{days} days")


def _form_context(chosen_scopes: list[str], expiry: int) -> dict[str, object]:
    return {
        "scope_choices": [(key, label, key in chosen_scopes) for key, label in SCOPES.items()],
        "expiry_choices": [(days, _expiry_label(days), days == expiry) for days in EXPIRY_CHOICES],
    }


def _page(
    request: AppRequest,
    *,
    new_token: str = "",
    new_name: str = "",
    error: str = "",
    status: int = 200,
    chosen_scopes: list[str] | None = None,
    expiry: int = DEFAULT_EXPIRY_DAYS,
) -> HttpResponse:
    tokens = list(ApiToken.objects.filter(user=request.user))
    context = {
        "tokens": tokens,
        "active_count": sum(1 for t in tokens if t.is_active),
        "new_token": new_token,
        "new_name": new_name,
        "error": error,
        "api_base": request.build_absolute_uri("/api/v1/"),
        "is_admin": is_admin(request.user),
        **_form_context(chosen_scopes if chosen_scopes is not None else ["read"], expiry),
    }
    return render(request, "accounts/api_tokens.html", context, status=status)


def _expiry_from(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise ValueError("Choose how long the token lives from the list.") from None
    if days not in EXPIRY_CHOICES:
        raise ValueError("Choose how long the token lives from the list.")
    return days


@require_http_methods(["GET", "POST"])
def token_list(request: AppRequest) -> HttpResponse:
    if request.method == "POST":
        name = request.POST.get("name", "")
        # The page's form marks that it offered scopes; a form without them gets the default (read).
        scopes = request.POST.getlist("scopes") if "scopes_offered" in request.POST else ["read"]
        expiry = DEFAULT_EXPIRY_DAYS
        try:
            expiry = _expiry_from(request.POST.get("expires_in_days", str(DEFAULT_EXPIRY_DAYS)))
            new = create_token(request.user, name, scopes=scopes, expires_in_days=expiry)
        except ValueError as exc:
            return _page(request, error=str(exc), status=400, new_name=name, chosen_scopes=scopes, expiry=expiry)
        return _page(request, new_token=new.raw, new_name=new.token.name, status=201)  # the form starts afresh
    return _page(request)


def _revocable(request: AppRequest, token_id: int) -> ApiToken:
    """An active token of the user's own, or any user's for admins."""
    tokens = ApiToken.objects.active().select_related("user")
    if not is_admin(request.user):
        tokens = tokens.filter(user=request.user)
    token = tokens.filter(pk=token_id).first()
    if token is None:
        raise Http404("No such active token.")
    return token


@require_http_methods(["GET", "POST"])
def token_revoke(request: AppRequest, token_id: int) -> HttpResponse:
    token = _revocable(request, token_id)
    own = token.user_id == request.user.pk
    if request.method == "POST":
        revoke_token(request.user, token.pk, any_user=not own)
        whose = "" if own else f" of {token.user.get_username()}"
        messages.success(request, f"Revoked “{token.name}”{whose}. Scripts using it now get 401 Unauthorized.")
        return redirect("api_tokens:list" if own else "api_tokens:all")
    return render(request, "accounts/api_tokens_revoke.html", {"token": token, "own": own})


STATUS_FILTERS = ("active", "expired", "revoked")
ALL_TOKENS_LIMIT = 500


@admin_required
def token_all(request: AppRequest) -> HttpResponse:
    """Every user's tokens, for admins: names, prefixes, scopes and dates, never a secret."""
    tokens = ApiToken.objects.select_related("user").order_by("user__username", "-created_at", "-id")
    status = request.GET.get("status", "")
    now = timezone.now()
    if status == "active":
        tokens = tokens.active()
    elif status == "expired":
        tokens = tokens.filter(revoked_at__isnull=True, expires_at__lte=now)
    elif status == "revoked":
        tokens = tokens.filter(revoked_at__isnull=False)
    else:
        status = ""
    user_query = request.GET.get("user", "").strip()[:150]
    if user_query:
        tokens = tokens.filter(user__username__icontains=user_query)
    shown = list(tokens[: ALL_TOKENS_LIMIT + 1])
    context = {
        "tokens": shown[:ALL_TOKENS_LIMIT],
        "truncated": len(shown) > ALL_TOKENS_LIMIT,
        "limit": ALL_TOKENS_LIMIT,
        "status": status,
        "user_query": user_query,
        "status_filters": STATUS_FILTERS,
    }
    return render(request, "accounts/api_tokens_all.html", context)


urlpatterns = [
    path("", token_list, name="list"),
    path("all/", token_all, name="all"),
    path("<int:token_id>/revoke/", token_revoke, name="revoke"),
]
