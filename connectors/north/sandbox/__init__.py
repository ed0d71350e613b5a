"""A local North: the published API served from seeded data, with fault injection.

``build(seed=1, size="small", faults=None, *, page_size=None, goals=None, key_results=None,
initiatives=None)``: ``size`` is the number of teams (or small/medium/large); by default each
team brings 10 goals, 30 key results and 10 initiatives, and the three keyword arguments override
those totals (the benchmark org: ``build(size=300, goals=2000, key_results=6000, initiatives=1000)``).
``page_size`` switches every list from bare arrays to page objects with ``next`` links.
``body_style`` spells the unpublished bodies another way (``title``, ``percent``, ``check-in``,
``checkin``, ``mixed``, joined with ``+``; see ``styles.py``); the state keeps the NOTES.md shapes.
"""

from __future__ import annotations

from typing import Any

from connectors.north.sandbox.app import NorthApp
from connectors.north.sandbox.data import (
    ALL_SCOPES,
    ALYSSA,
    BEN,
    SCOPE_BASIC,
    SCOPE_OKRS,
    SCOPE_ORG,
    NorthState,
    TokenInfo,
    token_for,
)
from connectors.north.sandbox.generate import generate
from connectors.north.sandbox.styles import BodyStyle
from connectors.sandbox_kit import FaultInjector, FaultSpec, Sandbox, SandboxCredential, size_of

__all__ = ["NorthState", "build"]

GOALS_PER_TEAM, KRS_PER_TEAM, INITIATIVES_PER_TEAM = 10, 30, 10


def build(
    seed: int = 1,
    size: int | str = "small",
    faults: str | None = None,
    *,
    page_size: int | None = None,
    goals: int | None = None,
    key_results: int | None = None,
    initiatives: int | None = None,
    body_style: str = "documented",
    **unknown: Any,
) -> Sandbox:
    if unknown:
        raise ValueError(
            f"unknown North sandbox option(s): {', '.join(sorted(unknown))}; known: page_size, goals, key_results, initiatives, body_style"
        )
    style = BodyStyle.parse(body_style)
    teams = size_of(size)
    if page_size is not None and page_size < 1:
        raise ValueError("page_size must be a positive number of results per page")
    state = generate(
        seed,
        teams,
        goals=GOALS_PER_TEAM * teams if goals is None else goals,
        key_results=KRS_PER_TEAM * teams if key_results is None else key_results,
        initiatives=INITIATIVES_PER_TEAM * teams if initiatives is None else initiatives,
    )
    state.page_size = page_size
    state.body_style = style
    credentials = []
    for label, person, user_id, scopes, note in (
        ("alyssa (full access)", "Alyssa P Hacker", ALYSSA, ALL_SCOPES, "org owner; member of every private team"),
        ("ben (no private team)", "Ben Bitdiddle", BEN, ALL_SCOPES, "sees everything except the private teams"),
        (
            "alyssa (no Org management)",
            "Alyssa P Hacker",
            ALYSSA,
            frozenset({SCOPE_BASIC, SCOPE_OKRS}),
            "token without the Org management scope",
        ),
        (
            "alyssa (no OKRs and initiatives)",
            "Alyssa P Hacker",
            ALYSSA,
            frozenset({SCOPE_BASIC, SCOPE_ORG}),
            "token without the OKRs and initiatives scope",
        ),
    ):
        token = token_for(seed, label)
        state.tokens[token] = TokenInfo(user_id, scopes)
        credentials.append(SandboxCredential(label=label, person=person, secret={"token": token}, note=note))
    app = FaultInjector(NorthApp(state), FaultSpec.parse(faults))
    return Sandbox(vendor="north", app=app, credentials=credentials, state=state)
