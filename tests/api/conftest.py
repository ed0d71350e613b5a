"""A small two-user world for the read API: Alice sees a North tree, Bob an Operately team, and
one goal is seen by both. Tokens are real (created through ``create_token``) and hit the real
URLconf, middleware and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from dashboard.accounts.tokens import create_token
from tests.factories import (
    CheckInFactory,
    ConnectorFactory,
    CredentialFactory,
    GoalFactory,
    KeyResultFactory,
    PersonFactory,
    SnapshotFactory,
    TeamFactory,
    UserFactory,
    WorkItemFactory,
    see,
)


@dataclass
class World:
    alice: Any
    bob: Any
    alice_token: str
    bob_token: str
    north: Any
    ops: Any
    cred_a: Any
    cred_b: Any
    root: Any  # North team, Alice
    child: Any  # below root, Alice
    ops_team: Any  # Operately team, Bob
    g_root: Any  # root, on track, 40 %
    g_child: Any  # child, off track, 80 %, stale and overdue
    g_bob: Any  # Operately, Bob only
    g_both: Any  # seen by both, no team
    g_hidden_in_child: Any  # in Alice's child team but seen only by Bob: never counted for Alice
    kr_root: Any
    kr_bob: Any
    wi_alice: Any
    wi_bob: Any
    person_a: Any
    person_b: Any


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()  # rate-limit windows must not leak between tests


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # The world creates users with passwords; PBKDF2's deliberate slowness buys nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db: None) -> World:
    now = timezone.now()
    today = timezone.localdate()
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    north = ConnectorFactory(vendor="north", name="North HQ")
    ops = ConnectorFactory(vendor="operately", name="Operately")
    cred_a = CredentialFactory(connector=north, owner=alice)
    cred_b = CredentialFactory(connector=ops, owner=bob)

    root = TeamFactory(connector=north, name="Company", external_id="t-root")
    child = TeamFactory(connector=north, name="Growth", external_id="t-child", parent=root, parent_external_id="t-root")
    ops_team = TeamFactory(connector=ops, name="Platform", external_id="t-ops")
    see(cred_a, root, child)
    see(cred_b, ops_team)

    g_root = GoalFactory(
        connector=north,
        team=root,
        title="Grow revenue",
        health="on_track",
        progress=40.0,
        owners=["Ann Lee", "Bo Chen"],
        owners_text="|ann lee|bo chen|",
        vendor_status="on-track",
        url="https://north.example/goals/1",
        external_id="g-root",
        start_date=today - timedelta(days=30),
        due_date=today + timedelta(days=60),
        last_check_in_at=now - timedelta(days=2),
    )
    g_child = GoalFactory(
        connector=north,
        team=child,
        title="Launch referral program",
        health="off_track",
        progress=80.0,
        owners=["Bo Chen"],
        owners_text="|bo chen|",
        external_id="g-child",
        parent=g_root,
        parent_external_id="g-root",
        due_date=today - timedelta(days=3),
        stale_at=now - timedelta(days=1),
    )
    g_bob = GoalFactory(connector=ops, team=ops_team, title="Cut infra cost", health="needs_attention", progress=10.0, external_id="g-ops")
    g_both = GoalFactory(connector=north, title="Hire well", health="unknown", progress=None, external_id="g-both", state="not_started")
    g_hidden = GoalFactory(connector=north, team=child, title="Secret project", health="off_track", progress=0.0, external_id="g-secret")
    see(cred_a, g_root, g_child, g_both)
    see(cred_b, g_bob, g_both, g_hidden)

    kr_root = KeyResultFactory(
        connector=north,
        goal=g_root,
        goal_external_id="g-root",
        title="ARR 10M",
        external_id="kr-1",
        start=0.0,
        target=10.0,
        current=4.0,
        unit="M EUR",
        progress=40.0,
        health="on_track",
        owners=["Ann Lee"],
        owners_text="|ann lee|",
    )
    kr_bob = KeyResultFactory(
        connector=ops, goal=g_bob, goal_external_id="g-ops", title="Spend -20%", external_id="kr-2", health="off_track"
    )
    see(cred_a, kr_root)
    see(cred_b, kr_bob)

    wi_alice = WorkItemFactory(
        connector=north,
        kind="initiative",
        title="Referral emails",
        goal=g_child,
        goal_external_id="g-child",
        health="on_track",
        due_date=today - timedelta(days=1),
        state="active",
        owners=["Bo Chen"],
        owners_text="|bo chen|",
        external_id="w-1",
    )
    wi_alice.teams.add(child)
    wi_bob = WorkItemFactory(connector=ops, kind="task", title="Resize databases", goal=g_bob, state="done", external_id="w-2")
    wi_bob.teams.add(ops_team)
    see(cred_a, wi_alice)
    see(cred_b, wi_bob)

    person_a = PersonFactory(connector=north, name="Ann Lee", email="ann@example.com", external_id="p-1")
    person_b = PersonFactory(connector=ops, name="Bob Ops", email="bob@example.com", external_id="p-2")
    see(cred_a, person_a)
    see(cred_b, person_b)

    CheckInFactory(
        goal=g_root,
        external_id="ci-1",
        progress=30.0,
        health="on_track",
        comment="Good start",
        author="Ann Lee",
        created_at=now - timedelta(days=9),
    )
    CheckInFactory(
        goal=g_root,
        external_id="ci-2",
        progress=40.0,
        health="on_track",
        comment="Still fine",
        author="Ann Lee",
        created_at=now - timedelta(days=2),
    )
    CheckInFactory(
        goal=None,
        key_result=kr_root,
        connector=north,
        vendor="north",
        subject_kind="key_result",
        subject_external_id="kr-1",
        external_id="ci-kr",
        value=4.0,
        created_at=now - timedelta(days=1),
    )
    SnapshotFactory(goal=g_root, progress=30.0, health="on_track", taken_at=now - timedelta(days=9))
    SnapshotFactory(goal=g_root, progress=40.0, health="on_track", taken_at=now - timedelta(days=2))

    return World(
        alice=alice,
        bob=bob,
        alice_token=create_token(alice, "alice script", scopes=("read", "sync")).raw,
        bob_token=create_token(bob, "bob script", scopes=("read", "sync")).raw,
        north=north,
        ops=ops,
        cred_a=cred_a,
        cred_b=cred_b,
        root=root,
        child=child,
        ops_team=ops_team,
        g_root=g_root,
        g_child=g_child,
        g_bob=g_bob,
        g_both=g_both,
        g_hidden_in_child=g_hidden,
        kr_root=kr_root,
        kr_bob=kr_bob,
        wi_alice=wi_alice,
        wi_bob=wi_bob,
        person_a=person_a,
        person_b=person_b,
    )


def api_get(token: str | None, path: str, client: Client | None = None, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return (client or Client()).get(f"/api/v1/{path}", params, headers=headers)


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}
