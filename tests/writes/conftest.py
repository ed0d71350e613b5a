"""Write-back tests: a vendor sandbox over real HTTP, a Connector + Credential pointing at it,
one real sync to fill the local copy, and a signed-in Django test client."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from connectors.sandbox_kit import RunningServer, Sandbox
from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.services.connections import test_connection as check_credential
from dashboard.integrations.sync import create_runs, run_sync
from tests.factories import UserFactory

VERSION_RE = re.compile(r'name="version" value="([^"]*)"')


@dataclass
class Vendor:
    sandbox: Sandbox
    server: RunningServer
    connector: Connector
    credential: Credential
    user: Any
    client: Client

    def add_credential(self, user: Any, index: int, *, check: bool = False, synced: bool = True) -> Credential:
        """Another user's own credential: the sandbox's credential number ``index`` (synced, so
        the user sees what it returns)."""
        credential = Credential(connector=self.connector, owner=user)
        credential.set_secret(dict(self.sandbox.credentials[index].secret))
        credential.save()
        if check:  # what "Test connection" learns: read-only, missing scopes
            check_credential(credential)
            credential.refresh_from_db()
        if synced:
            sync(credential)
        return credential


def sync(credential: Credential) -> SyncRun:
    (run,) = create_runs([credential], trigger="manual")
    run = run_sync(run.pk)
    assert run.status in ("succeeded", "partial"), run.error
    return run


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def version_of(html: str) -> str:
    """The version token embedded in a drawn form."""
    match = VERSION_RE.search(html)
    assert match, "the form carries no version token"
    return match.group(1).replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&")


@pytest.fixture
def connect(sandbox_factory: Callable[..., tuple[Sandbox, RunningServer]], db: Any) -> Callable[..., Vendor]:
    """``connect("ogsm")``: sandbox + connector + the first (full-access) credential, synced."""

    def make(vendor: str, *, index: int = 0, username: str | None = None, **options: Any) -> Vendor:
        sandbox, server = sandbox_factory(vendor, seed=1, size="small", **options)
        connector = Connector.objects.create(vendor=vendor, name=f"{vendor.title()} sandbox", base_url=server.url)
        user = UserFactory(username=username or f"{vendor}-writer")
        credential = Credential(connector=connector, owner=user)
        credential.set_secret(dict(sandbox.credentials[index].secret))
        credential.save()
        sync(credential)
        return Vendor(sandbox, server, connector, credential, user, client_for(user))

    return make
