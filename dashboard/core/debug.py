"""Exception reports that mask secrets whatever DEBUG says."""

from __future__ import annotations

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter


class AlwaysCleanseExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django masks ``sensitive_post_parameters`` / ``sensitive_variables`` only when DEBUG is
    off; vendor secrets must be masked on the development debug page too."""

    def is_active(self, request: HttpRequest | None) -> bool:
        return True
