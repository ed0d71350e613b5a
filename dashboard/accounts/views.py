"""Sign-in with a rate limit on failed attempts (per username and per client address), a
"Sign in with ..." button when single sign-on is configured, and the break-glass mode where only
the listed users may use a password (dashboard/accounts/oidc.py)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator

from dashboard.accounts.oidc import password_sign_in_allowed, sso_enabled, sso_only_message

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 15 * 60
# While the shared cache (Redis) is unreachable, failures are counted in this process instead:
# sign-in keeps working, and keeps a limit, rather than answering 500 (tests/reliability).
_LOCAL_COUNTS = LocMemCache("okrhub-login-failures", {"TIMEOUT": WINDOW_SECONDS})


def _keys(request: HttpRequest) -> list[str]:
    username = (request.POST.get("username") or "").strip().lower()
    addr = request.META.get("REMOTE_ADDR", "")
    return [f"login-fail:user:{username}", f"login-fail:addr:{addr}"]


def _too_many(request: HttpRequest) -> bool:
    limit = settings.LOGIN_ATTEMPTS_PER_15_MINUTES
    keys = _keys(request)
    try:
        return any((cache.get(k) or 0) >= limit for k in keys)
    except Exception:  # the shared cache is down
        logger.warning("login rate limit: the shared cache is unreachable; counting failures in this process")
        return any((_LOCAL_COUNTS.get(k) or 0) >= limit for k in keys)


def _count(store: Any, key: str) -> None:
    if not store.add(key, 1, WINDOW_SECONDS):
        try:
            store.incr(key)
        except ValueError:  # expired between add and incr
            store.set(key, 1, WINDOW_SECONDS)


def _record_failure(request: HttpRequest) -> None:
    for key in _keys(request):
        try:
            _count(cache, key)
        except Exception:  # the shared cache is down
            _count(_LOCAL_COUNTS, key)


class SignInForm(AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and not password_sign_in_allowed(username):
            raise ValidationError(sso_only_message(), code="sso_only")  # counted as a failed attempt
        return super().clean()


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    authentication_form = SignInForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            sso_enabled=sso_enabled(),
            sso_label=settings.OIDC_BUTTON_LABEL,
            break_glass=settings.LOCAL_LOGIN == "break-glass",
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _too_many(request):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, "Too many failed sign-in attempts. Wait 15 minutes and try again.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        response = super().post(request, *args, **kwargs)
        if response.status_code != 302:
            _record_failure(request)
        return response
