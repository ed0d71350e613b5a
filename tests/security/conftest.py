"""A two-member world for the security tests: Victor owns data only he can see, Mallory is
another member probing for it. Every private thing of Victor's carries the marker text
``VICTIM-ONLY`` so a leak anywhere in a response is found by one substring check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client

from dashboard.accounts.tokens import create_token
from dashboard.alignment.models import Alignment, AlignmentSuggestion
from dashboard.integrations.models import Credential, SyncRun
from dashboard.people.models import Identity, IdentityMember, NameMatchProposal, name_key
from dashboard.writeback.models import AuditLog
from tests.factories import (
    ConnectorFactory,
    CredentialFactory,
    GoalFactory,
    KeyResultFactory,
    PersonFactory,
    TeamFactory,
    UserFactory,
    WorkItemFactory,
    see,
)

MARKER = "VICTIM-ONLY"


@dataclass
class World:
    victor: Any
    mallory: Any
    mallory_client: Client
    victor_credential: Credential
    shared_credential: Credential
    victor_token_id: int
    victor_token: str
    run: SyncRun
    team: Any
    goal: Any
    key_result: Any
    action: Any
    project: Any
    task: Any
    connector: Any
    mallory_credential: Credential
    mallory_goal: Any
    suggestion: Any = None  # an alignment suggestion between two of Victor's goals (issue #18)
    identity: Any = None  # a person only Victor's credentials returned (issue #18)
    proposal: Any = None  # a name match proposed for that person (admins decide)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()  # login and API rate-limit windows must not leak between tests


@pytest.fixture
def world(db: None, settings: Any) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    victor, mallory = UserFactory(username="victor"), UserFactory(username="mallory")
    north = ConnectorFactory(vendor="north", name="North HQ")
    ogsm = ConnectorFactory(vendor="ogsm", name="OGSM")
    ops = ConnectorFactory(vendor="operately", name="Operately")
    cred = CredentialFactory(connector=north, owner=victor, label=f"{MARKER} credential", secret={"token": "victor-secret-token-1234"})
    Credential.objects.filter(pk=cred.pk).update(account_name=f"{MARKER} account", last_error=f"{MARKER} last error")
    ogsm_cred = CredentialFactory(connector=ogsm, owner=victor, secret={"username": "victor", "password": "victor-ogsm-password"})
    ops_cred = CredentialFactory(connector=ops, owner=victor, secret={"token": "victor-operately-token"})
    shared = CredentialFactory(connector=north, owner=None, is_shared=True, label=f"{MARKER} shared credential")
    shared.groups.add(Group.objects.create(name="finance"))  # Mallory is not in it
    mallory_cred = CredentialFactory(connector=north, owner=mallory, label="Mallory's own")

    team = TeamFactory(connector=north, name=f"{MARKER} team")
    goal = GoalFactory(connector=north, team=team, title=f"{MARKER} goal")
    kr = KeyResultFactory(connector=north, goal=goal, title=f"{MARKER} key result")
    action = WorkItemFactory(connector=ogsm, kind="action", title=f"{MARKER} action")
    project = WorkItemFactory(connector=ops, kind="project", title=f"{MARKER} project")
    task = WorkItemFactory(connector=ops, kind="task", title=f"{MARKER} task")
    see(cred, team, goal, kr)
    see(ogsm_cred, action)
    see(ops_cred, project, task)
    # OKR Hub's own links between Victor's goals of two tools (issue #18): hidden from Mallory too.
    ops_goal = GoalFactory(connector=ops, title=f"{MARKER} operately goal")
    see(ops_cred, ops_goal)
    Alignment.objects.create(child_goal=ops_goal, parent_team=team, created_by=victor)
    suggestion = AlignmentSuggestion.objects.create(child_goal=goal, parent_goal=ops_goal, score=90.0, reasons=[f"{MARKER} reason"])
    # One person across vendors (issue #18): a North person only Victor sees, and an OGSM owner
    # name proposed as the same person.
    person = PersonFactory(connector=north, name=f"{MARKER} person", email="marker-person@example.com")
    see(cred, person)
    identity = Identity.objects.create(name=person.name, email=person.email)
    IdentityMember.objects.create(identity=identity, person=person, how=IdentityMember.How.OWN)
    name_only = Identity.objects.create(name=person.name)
    member = IdentityMember.objects.create(
        identity=name_only, connector=ogsm, owner_name=person.name, owner_key=name_key(person.name), how=IdentityMember.How.OWN
    )
    proposal = NameMatchProposal.objects.create(member=member, identity=identity)
    mallory_goal = GoalFactory(connector=north, title="Mallory's goal")
    see(mallory_cred, mallory_goal)

    run = SyncRun.objects.create(credential=cred, requested_by=victor, status="failed", error=f"{MARKER} run error")
    token = create_token(victor, f"{MARKER} token")
    AuditLog.objects.create(
        user=victor, username="victor", connector=north, connector_name=north.name, vendor="north", credential=cred,
        operation="goal_check_in", item_kind="goal", item_external_id=goal.external_id, item_title=f"{MARKER} audited goal",
        outcome=AuditLog.Outcome.choices[0][0],
    )  # fmt: skip
    client = Client()
    client.force_login(mallory)
    return World(
        victor=victor, mallory=mallory, mallory_client=client, victor_credential=cred, shared_credential=shared,
        victor_token_id=token.token.pk, victor_token=token.raw, run=run, team=team, goal=goal, key_result=kr,
        action=action, project=project, task=task, connector=north, mallory_credential=mallory_cred, mallory_goal=mallory_goal,
        suggestion=suggestion, identity=identity, proposal=proposal,
    )  # fmt: skip
