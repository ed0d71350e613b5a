"""North test helpers: the sandbox over real HTTP, API clients per credential, connectors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from connectors.base import Page, Record
from connectors.http import RetryPolicy, make_client
from connectors.north import NorthConnector
from connectors.sandbox_kit import RunningServer, Sandbox

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, budget_seconds=5)
FULL, BEN, NO_ORG, NO_OKRS = (
    "alyssa (full access)",
    "ben (no private team)",
    "alyssa (no Org management)",
    "alyssa (no OKRs and initiatives)",
)


class North:
    """One served sandbox plus helpers to talk to it as each of its credentials."""

    def __init__(self, sandbox: Sandbox, server: RunningServer) -> None:
        self.sandbox = sandbox
        self.server = server
        self.state: Any = sandbox.state
        self._clients: list[httpx.Client] = []

    def token(self, label: str = FULL) -> str:
        return self.sandbox.credential(label).secret["token"]

    def api(self, label: str = FULL) -> httpx.Client:
        client = httpx.Client(base_url=self.server.url, headers={"Authorization": f"Bearer {self.token(label)}"}, timeout=10)
        self._clients.append(client)
        return client

    def connector(self, label: str = FULL, *, timeout: float = 10, **options: Any) -> NorthConnector:
        client = make_client(self.server.url, timeout=timeout)
        self._clients.append(client)
        return NorthConnector(client, {"token": self.token(label)}, options={"retry_policy": FAST_RETRY, "concurrency": 4, **options})

    def close(self) -> None:
        for client in self._clients:
            client.close()


@pytest.fixture
def north_factory(sandbox_factory: Callable[..., tuple[Sandbox, RunningServer]]) -> Iterator[Callable[..., North]]:
    made: list[North] = []

    def make(**options: Any) -> North:
        options.setdefault("seed", 1)
        options.setdefault("size", "small")
        north = North(*sandbox_factory("north", **options))
        made.append(north)
        return north

    yield make
    for north in made:
        north.close()


@pytest.fixture
def north(north_factory: Callable[..., North]) -> North:
    return north_factory()


def read_stream(connector: NorthConnector, stream: str, cursor: Any = None) -> tuple[list[Record], Page]:
    pages = list(connector.read(stream, cursor))
    assert pages and pages[-1].complete and not any(p.complete for p in pages[:-1])
    return [r for p in pages for r in p.records], pages[-1]
