"""A local OGSM: the vendor API from its documents, seeded tenants, fault injection.

``build(seed=1, size="small", faults=None, tenant="acme")``; ``size`` is the number of canvases
(small 3, medium 50, large 500), each with ``actions_per_canvas`` actions (10) and, on tenants
that offer them, one objective and ``goals_per_canvas`` goals (3). ``sandbox.state`` is the
OgsmState (data, users and every request received, for tests to assert against).
"""

from __future__ import annotations

from typing import Any

from connectors.ogsm.sandbox.app import OgsmApp
from connectors.ogsm.sandbox.data import TENANTS, OgsmState, generate
from connectors.sandbox_kit import FaultInjector, FaultSpec, Sandbox, SandboxCredential, size_of

__all__ = ["TENANTS", "OgsmState", "build"]


def build(
    seed: int = 1,
    size: int | str = "small",
    faults: str | None = None,
    *,
    tenant: str = "acme",
    actions_per_canvas: int = 10,
    goals_per_canvas: int = 3,
    **unknown: Any,
) -> Sandbox:
    if unknown:
        raise ValueError(
            f"unknown OGSM sandbox option(s): {', '.join(sorted(unknown))}; options: tenant, actions_per_canvas, goals_per_canvas"
        )
    state = generate(tenant, seed, size_of(size), actions_per_canvas, goals_per_canvas)
    admin, member = state.users[f"api-{tenant}"], state.users["member"]
    credentials = [
        SandboxCredential(
            label=f"{admin.username} (full access)",
            person=admin.name,
            secret={"username": admin.username, "password": admin.password},
            note=f"tenant {tenant}: the team admin's API user, may edit every action",
        ),
        SandboxCredential(
            label="member (owner-only edits)",
            person=member.name,
            secret={"username": member.username, "password": member.password},
            note=f"reads everything; may edit or delete only the actions assigned to {member.name} (403 otherwise)",
        ),
    ]
    app = FaultInjector(OgsmApp(state), FaultSpec.parse(faults))
    return Sandbox(vendor="ogsm", app=app, credentials=credentials, state=state)
