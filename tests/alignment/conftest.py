"""Two vendors seen by one member, with an owner mapping (Person e-mail) for the alignment tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import AdminFactory, ConnectorFactory, CredentialFactory, GoalFactory, PersonFactory, TeamFactory, UserFactory, see


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    member = UserFactory(username="mia", email="mia@example.com")
    other = UserFactory(username="otto", email="otto@example.com")
    admin = AdminFactory(username="root", email="root@example.com")
    north = ConnectorFactory(vendor="north", name="North")
    operately = ConnectorFactory(vendor="operately", name="Operately")
    creds = {u.username: [CredentialFactory(connector=c, owner=u) for c in (north, operately)] for u in (member, other, admin)}
    n_team = TeamFactory(connector=north, name="Platform")
    o_team = TeamFactory(connector=operately, name="Engineering space")
    mia_north = PersonFactory(connector=north, name="Mia North", email="MIA@example.com")
    n_goal = GoalFactory(connector=north, team=n_team, title="Grow revenue", progress=40.0)
    n_sub = GoalFactory(connector=north, team=n_team, title="Win ten logos", parent=n_goal, progress=20.0)
    o_goal = GoalFactory(connector=operately, team=o_team, title="Ship the new billing", progress=80.0,
                         owners=["Mia"], owner_external_ids=["p-mia"])  # fmt: skip
    PersonFactory(connector=operately, external_id="p-mia", name="Mia", email="mia@example.com")
    o_goal2 = GoalFactory(connector=operately, team=o_team, title="Hire two engineers", progress=None)
    for cred_n, cred_o in creds.values():
        see(cred_n, n_team, n_goal, n_sub, mia_north)
        see(cred_o, o_team, o_goal, o_goal2)
    return {
        "member": member, "other": other, "admin": admin, "north": north, "operately": operately, "n_team": n_team, "o_team": o_team,
        "n_goal": n_goal, "n_sub": n_sub, "o_goal": o_goal, "o_goal2": o_goal2,
    }  # fmt: skip
