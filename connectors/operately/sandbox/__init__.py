"""A local Operately external API (``/api/external/v1``) that follows the vendor CONTRACT.md.

``build(seed, size, faults, profile="2026-03")``: profile ``2026-03`` serves the flat names of
the published list (``get_goals``), ``2026-08`` today's namespaced names (``goals/list``). Inputs
are validated against that profile's catalogue (``catalogs/<profile>.json``).
"""

from __future__ import annotations

from typing import Any

from connectors.sandbox_kit import FaultInjector, FaultSpec, Sandbox, SandboxCredential, size_of

from .app import OperatelyApp
from .inputs import PROFILES
from .model import State
from .seed import Seeder

__all__ = ["PROFILES", "State", "build"]


def build(
    seed: int = 1,
    size: int | str = "small",
    faults: str | None = None,
    *,
    profile: str = "2026-03",
    goals_per_space: int = 10,
    targets_per_goal: int = 3,
    projects_per_space: int = 4,
    milestones_per_project: int = 3,
    tasks_per_space: int = 6,
    **_ignored: Any,
) -> Sandbox:
    if profile not in PROFILES:
        raise ValueError(f"unknown Operately API profile {profile!r}; use one of {', '.join(PROFILES)}")
    spaces = size_of(size)
    if spaces < 1:
        raise ValueError("size must be at least 1 space")
    seeder = Seeder(
        seed,
        spaces,
        goals_per_space=goals_per_space,
        targets_per_goal=targets_per_goal,
        projects_per_space=projects_per_space,
        milestones_per_project=milestones_per_project,
        tasks_per_space=tasks_per_space,
    )
    state = seeder.build()
    state.profile = profile
    credentials = [
        SandboxCredential(
            "ada (full access, company admin)",
            "Ada Lovelace",
            {"token": seeder.token(seeder.ada, read_only=False, label="ada-full")},
            "sees every space and goal",
        ),
        SandboxCredential(
            "ada (read-only)",
            "Ada Lovelace",
            {"token": seeder.token(seeder.ada, read_only=True, label="ada-read-only")},
            "every POST gets 403",
        ),
        SandboxCredential(
            "bob (full access, member)",
            "Bob Builder",
            {"token": seeder.token(seeder.bob, read_only=False, label="bob-full")},
            "cannot see the private space or secret goals",
        ),
        SandboxCredential(
            "carol (full access, view only)",
            "Carol Viewer",
            {"token": seeder.token(seeder.carol, read_only=False, label="carol-full")},
            "may view goals and projects but edit none",
        ),
    ]
    app = FaultInjector(OperatelyApp(state, profile), FaultSpec.parse(faults))
    return Sandbox(vendor="operately", app=app, credentials=credentials, state=state)
