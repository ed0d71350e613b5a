from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import include, path


@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("dashboard.accounts.urls")),
    path("oidc/", include("dashboard.accounts.oidc_urls")),  # OpenID Connect sign-in (issue #21)
    path("api-tokens/", include("dashboard.accounts.token_urls")),  # read API tokens page (issue #9)
    path("api/v1/", include("dashboard.api")),  # read API (issue #9)
    path("digest/", include("dashboard.digest.urls")),  # the weekly digest: settings and preview (issue #18)
    path("", include("dashboard.integrations.urls")),  # /connections/, /connectors/ (issue #7), sync (issue #6)
    path("", include("dashboard.audit.urls")),  # the audit trail for admins (issue #21)
    path("", include("dashboard.writeback.urls")),  # write-back forms and the audit log (issue #10)
    path("", include("dashboard.alignment.urls")),  # cross-vendor alignment (issue #18)
    path("healthz", healthz, name="healthz"),
    path("", include("dashboard.people.urls")),  # one person across vendors (issue #18)
    path("", include("dashboard.okrs.urls")),  # dashboard pages (issue #8)
]
