from django.conf import settings
from django.http import HttpRequest

from connectors.base import HEALTH_LABELS, STATE_LABELS


def okrhub(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {
        "HEALTH_LABELS": HEALTH_LABELS,
        "STATE_LABELS": STATE_LABELS,
        "is_admin": bool(user and user.is_authenticated and (user.is_staff or user.is_superuser)),
        "STALE_AFTER_DAYS": settings.STALE_AFTER_DAYS,
    }
