"""The digest's pages: each user's settings (opt in, day, hour, time zone) and this week's
preview, as it would be sent (HTML in a sandboxed frame, and the plain-text version)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from dashboard.core.http import AppRequest
from dashboard.digest import compose
from dashboard.digest.forms import SubscriptionForm
from dashboard.digest.models import DigestDelivery, DigestSubscription
from dashboard.okrs import cache


def _subscription(request: AppRequest) -> DigestSubscription:
    found = DigestSubscription.objects.filter(user=request.user).first()
    return found or DigestSubscription(user=request.user, timezone=str(settings.TIME_ZONE))


@require_http_methods(["GET", "POST"])
def digest_settings(request: AppRequest) -> HttpResponse:
    subscription = _subscription(request)
    if request.method == "POST":
        form = SubscriptionForm(request.POST, instance=subscription)
        if form.is_valid():
            saved = form.save()
            if saved.enabled:
                when = f"{saved.get_weekday_display()}s at {saved.hour:02d}:00 ({saved.timezone})"
                messages.success(request, f"Saved. Your digest is set for {when}, to {request.user.email or 'no address yet'}.")
            else:
                messages.success(request, "Saved. You will not get the weekly digest.")
            return redirect("digest:settings")
        messages.error(request, "Not saved: check the fields marked below.")
        status = 400
    else:
        form = SubscriptionForm(instance=subscription)
        status = 200
    recent = DigestDelivery.objects.filter(user=request.user).order_by("-week_start")[:5]
    context = {"form": form, "subscription": subscription, "recent": recent, "email": request.user.email}
    return render(request, "digest/settings.html", context, status=status)


def _digest(request: AppRequest) -> compose.Digest:
    """This week's digest for the signed-in user, cached like the dashboard's page data: the
    same user, credentials at the same data versions and the same minute give the same digest
    (a sync, a write-back or a sharing change shows at once)."""
    zone = _subscription(request).timezone
    return cache.cached(request.user, "digest-preview", [zone], lambda: compose.compose(request.user, zone=zone))


@require_GET
def preview(request: AppRequest) -> HttpResponse:
    digest = _digest(request)
    return render(request, "digest/preview.html", {"digest": digest, "subject": digest.subject})


@require_GET
def preview_text(request: AppRequest) -> HttpResponse:
    _subject, text, _html = compose.render(_digest(request))
    return HttpResponse(text, content_type="text/plain; charset=utf-8")
