"""Fixtures of the reliability tests."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.http import RetryPolicy
from dashboard.integrations.services import connectors as connector_service

# The production request path and retry counts, with millisecond backoffs so a fault scenario
# takes a second, not ten. Retry-After is still honoured up to the production cap.
FAST_RETRIES = RetryPolicy(base_delay=0.01, max_delay=0.05)


@pytest.fixture
def fast_vendor_retries(monkeypatch: pytest.MonkeyPatch) -> RetryPolicy:
    real = connector_service.connector_options

    def connector_options(credential: Any, **extra: Any) -> dict[str, Any]:
        return real(credential, **{"retry_policy": FAST_RETRIES, **extra})

    monkeypatch.setattr(connector_service, "connector_options", connector_options)
    return FAST_RETRIES


@pytest.fixture
def short_client_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production waits 15 s for a vendor; the timeout scenario takes the same path in 0.5 s."""
    real = connector_service.make_client

    def make_client(base_url: str, **kwargs: Any) -> httpx.Client:
        return real(base_url, **{**kwargs, "timeout": httpx.Timeout(0.5)})

    monkeypatch.setattr(connector_service, "make_client", make_client)
