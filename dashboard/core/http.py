"""The request our views actually receive, typed (django-stubs' "typing a custom request").

`HttpRequest.user` is `User | AnonymousUser` in the stubs, and `request.htmx` is attached at
runtime by django-htmx's middleware, so neither is visible on a plain `HttpRequest`. Settings
install `HtmxMiddleware` and `LoginRequiredMiddleware` for every view that is not marked
`@login_not_required`, so on those views the user is always signed in (a
`django.contrib.auth.models.User`: AUTH_USER_MODEL is Django's default) and `htmx` is always
there. Views annotate their request with `AppRequest` to say so; views that opt out of login
keep `HttpRequest`.
"""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AppRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


def wants_region(request: HttpRequest) -> bool:
    """An htmx request that swaps one region in (boosted htmx requests want whole pages)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx and not htmx.boosted)
