"""Helpers for the OGSM tests: a sandbox over real HTTP and a connector bound to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from connectors.base import Page
from connectors.http import RetryPolicy, make_client
from connectors.ogsm import OgsmConnector
from connectors.ogsm.sandbox import OgsmState
from connectors.sandbox_kit import RunningServer, Sandbox

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, budget_seconds=5)


@dataclass
class Served:
    sandbox: Sandbox
    server: RunningServer

    @property
    def state(self) -> OgsmState:
        state: OgsmState = self.sandbox.state
        return state

    def connector(
        self, credential: int = 0, *, secret: dict[str, str] | None = None, timeout: float = 5.0, **options: Any
    ) -> OgsmConnector:
        secret = secret if secret is not None else dict(self.sandbox.credentials[credential].secret)
        return OgsmConnector(make_client(self.server.url, timeout=timeout), secret, options={"retry_policy": FAST_RETRY, **options})

    def raw_client(self, credential: int | None = 0) -> httpx.Client:
        """A plain httpx client (for what the connector never sends, e.g. a form body)."""
        auth = None
        if credential is not None:
            secret = self.sandbox.credentials[credential].secret
            auth = (secret["username"], secret["password"])
        return httpx.Client(base_url=self.server.url, auth=auth, timeout=5.0)


@pytest.fixture
def ogsm(sandbox_factory: Callable[..., tuple[Sandbox, RunningServer]]) -> Callable[..., Served]:
    """``ogsm(tenant="acme", size="small", **options)`` -> Served."""

    def make(**options: Any) -> Served:
        options.setdefault("seed", 1)
        options.setdefault("size", "small")
        sandbox, server = sandbox_factory("ogsm", **options)
        return Served(sandbox, server)

    return make


def records(pages: list[Page]) -> list[Any]:
    return [record for page in pages for record in page.records]
