"""Shared fixtures. Real components wherever they run here: PostgreSQL (CI), Redis, Celery,
Chromium, and the vendor sandboxes over real HTTP.

``CI=true`` turns every "service missing" skip into a failure: nothing may be skipped in CI.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.sandbox_kit import RunningServer, Sandbox, serve
from tests import clock
from tests.ci_gates import pytest_runtest_makereport  # noqa: F401 - the hook: no undeclared skip in CI

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live-server tests with Playwright
clock.start()  # a pinned clock for this process and every process it starts (tests/clock.py)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def require(condition: bool, what: str) -> None:
    """Skip locally when a service is missing; fail in CI, where nothing may be skipped."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (CI=true) but is not available")
    pytest.skip(f"{what} not available")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session", autouse=True)
def private_lock_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """File locks (the embedded default, without Redis) of this session only: two test runs on
    one machine (or one tree) must not see each other's credential locks."""
    from django.conf import settings

    path = tmp_path_factory.mktemp("locks")
    previous, previous_env = settings.SYNC_LOCK_DIR, os.environ.get("SYNC_LOCK_DIR")
    settings.SYNC_LOCK_DIR = path
    os.environ["SYNC_LOCK_DIR"] = str(path)  # the workers and commands the tests start
    yield path
    settings.SYNC_LOCK_DIR = previous
    if previous_env is None:
        os.environ.pop("SYNC_LOCK_DIR", None)
    else:
        os.environ["SYNC_LOCK_DIR"] = previous_env


@pytest.fixture(autouse=True)
def empty_page_cache() -> Iterator[None]:
    """Each test starts with an empty (per-process) page cache: database ids repeat after a
    rollback, and the pinned clock keeps tests in one cache time bucket, so a test could
    otherwise read a page that an earlier test cached."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    backend = caches["default"]
    if isinstance(backend, LocMemCache):  # never flush a real Redis that REDIS_URL may point at
        backend.clear()
    yield


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    host_port = url.split("://", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    require(port_open(host or "127.0.0.1", int(port or 6379)), f"Redis at {url}")
    return url


@pytest.fixture(autouse=True)
def fresh_local_cache() -> None:
    """Every test starts with an empty in-process cache (the embedded default). On SQLite a
    rolled-back test's ids are handed out again, so a page cached under "user 1, version 3" by one
    test would be served to the next; PostgreSQL's sequences never roll back and hid that. A
    Redis cache is left alone: it may be shared, and its keys never meet reused ids."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    for cache in caches.all():
        if isinstance(cache, LocMemCache):
            cache.clear()


@pytest.fixture
def one_cache_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page-data cache's clock part stays put for the test: a test that expects a repeat
    request to be served from the cache must not fail because a minute (or a day) turned
    between the two requests. Data versions still change keys, as in production."""
    from dashboard.okrs import cache

    monkeypatch.setattr(cache, "time_key", lambda: "d-fixed|t-fixed")


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., tuple[Sandbox, RunningServer]]]:
    """Build a vendor sandbox and serve it over real HTTP on loopback: ``(sandbox, server)``."""
    servers: list[RunningServer] = []

    def make(vendor: str, **options: Any) -> tuple[Sandbox, RunningServer]:
        module = importlib.import_module(f"connectors.{vendor}.sandbox")
        sandbox: Sandbox = module.build(**options)
        server = serve(sandbox.app)
        servers.append(server)
        return sandbox, server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    require(shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM}")
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
        ],
    }


@pytest.fixture
def artifacts_dir() -> Path:
    """Screenshots and other generated files: git-ignored."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
