"""Three vendor sandboxes over real HTTP, synced by the real sync engine, with a few people who
are one person across vendors (set up in the sandboxes' own data before the first sync)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from connectors.ogsm.sandbox.data import PEOPLE as OGSM_PEOPLE
from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.sync import create_runs, run_sync
from tests.factories import UserFactory

SHARED_EMAIL_NORTH_USER = 2  # North's Alyssa P Hacker
OGSM_NAME = OGSM_PEOPLE[0]  # an OGSM owner; an Operately person gets this name (and keeps an e-mail)


@dataclass
class World:
    sandboxes: dict[str, Any]
    connectors: dict[str, Connector]
    credentials: dict[str, Credential]
    shared_email: str
    operately_named: str  # the Operately person renamed to OGSM_NAME (by e-mail)
    user: Any

    def sync(self, vendor: str, credential: Credential | None = None) -> SyncRun:
        (run,) = create_runs([credential or self.credentials[vendor]], trigger="manual")
        run = run_sync(run.pk)
        assert run.status == "succeeded", run.error
        return run


def add_credential(connector: Connector, secret: Any, owner: Any) -> Credential:
    credential = Credential(connector=connector, owner=owner)
    credential.set_secret(dict(secret))
    credential.save()
    return credential


@pytest.fixture
def world(sandbox_factory, db) -> World:
    return build_world(sandbox_factory, tweak=True)


def build_world(sandbox_factory: Any, *, tweak: bool) -> World:
    """The three sandboxes synced for alice; ``tweak`` adds a second shared e-mail (Alyssa/Ada)
    and renames Operately's Bob to an OGSM owner name before the first sync."""
    sandboxes: dict[str, Any] = {}
    connectors: dict[str, Connector] = {}
    credentials: dict[str, Credential] = {}
    user = UserFactory(username="alice")
    for vendor in ("north", "operately", "ogsm"):
        sandbox, server = sandbox_factory(vendor, seed=1, size="small")
        sandboxes[vendor] = sandbox
        connectors[vendor] = Connector.objects.create(vendor=vendor, name=f"{vendor.capitalize()} sandbox", base_url=server.url)
        credentials[vendor] = add_credential(connectors[vendor], sandbox.credentials[0].secret, user)
    north_user = sandboxes["north"].state.users[SHARED_EMAIL_NORTH_USER]
    shared = north_user["email"]
    people = sandboxes["operately"].state.people
    bob = next(p for p in people.values() if p.full_name == "Bob Builder")
    if tweak:
        ada = next(p for p in people.values() if p.full_name == "Ada Lovelace")
        ada.email = shared.upper()  # e-mail matching ignores case
        bob.full_name = OGSM_NAME
    world = World(sandboxes, connectors, credentials, shared, bob.email, user)
    for vendor in ("north", "operately", "ogsm"):
        world.sync(vendor)
    return world
