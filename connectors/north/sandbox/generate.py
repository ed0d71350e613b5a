"""Seeded, deterministic generation of a North org (see ``data.py`` for the state it fills).

Awkward cases are placed deterministically in the first items (so even a 3-team org has them)
and sprinkled at random rates through larger orgs.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.north.sandbox.data import (
    ALYSSA,
    BEN,
    DESCRIPTIONS,
    FIRST_NAMES,
    GOAL_NAMES,
    INITIATIVE_NAMES,
    INITIATIVE_STATUSES,
    ITEM_KINDS,
    KR_NAMES,
    LAST_NAMES,
    OUTCOMES,
    PRIORITIES,
    STATUSES,
    TEAM_WORDS,
    NorthState,
    iso,
    parse_timestamp,
)

ONE_PERCENT_KR, COMPLETE_KR = 4, 6  # indexes: key results 5 and 7
COMPLETE_GOAL = 3  # closed as completed


def generate(seed: int, teams: int, goals: int, key_results: int, initiatives: int) -> NorthState:
    if teams < 1:
        raise ValueError("a North org needs at least one team (the root team)")
    if min(goals, key_results, initiatives) < 0:
        raise ValueError("item counts must not be negative")
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    org: dict[str, Any] = {
        "demo_org_expires_on": None,
        "description": "",
        "estimated_size": "",
        "external_object_providers": [],
        "id": 1,
        "is_billed_offline": False,
        "is_demo_org": False,
        "name": "ACME",
        "root_team_id": 1,
        "tzname": "UTC",
    }
    state = NorthState(seed=seed, now=now, org=org)
    _make_users(state, rng, max(6, 2 * teams + 3))
    _make_teams(state, rng, teams)
    _make_memberships(state, rng)
    _make_goals(state, rng, goals, today)
    _make_key_results(state, rng, key_results, today)
    _roll_up_goal_progress(state)
    _make_initiatives(state, rng, initiatives, today)
    _finish_timestamps(state)
    return state


def _make_users(state: NorthState, rng: random.Random, count: int) -> None:
    fixed = [(ALYSSA, "Alyssa", "P Hacker"), (BEN, "Ben", "Bitdiddle"), (4, "Cy", "D Fect"), (5, "Eva", "Lu Ator")]
    for user_id in range(2, count + 2):
        if user_id <= 5:
            _, first, last = fixed[user_id - 2]
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        ascii_first = first.encode("ascii", "ignore").decode().lower() or "user"
        state.users[user_id] = {
            "email": f"{ascii_first}.{user_id}@example.com" if user_id > 5 else f"{first.lower()}@example.com",
            "first_name": first,
            "id": user_id,
            "last_login": None if user_id % 3 else iso(state.now - timedelta(days=user_id % 20)),
            "last_name": last,
            "otype": "user",
            "photo_id": str(_uuid(rng)),
            "work_function": rng.choice(("Developer", "Designer", "Sales", "Manager")),
            "work_level": rng.choice(("Executive", "Manager", "Individual contributor")),
            "has_saved_profile": True,
            "referral_details": "",
            "referral_sources": [],
        }


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _make_teams(state: NorthState, rng: random.Random, count: int) -> None:
    depth: dict[int, int] = {}
    created = state.now - timedelta(days=400)
    for team_id in range(1, count + 1):
        if team_id == 1:
            parent, name = None, state.org["name"]
        elif team_id <= 6:
            parent = team_id - 1  # a chain: the deep tree every org size has
            name = TEAM_WORDS[(team_id - 2) % len(TEAM_WORDS)]
        else:
            shallow = [t for t in range(1, team_id) if depth[t] < 4]
            parent = 1 if rng.random() < 0.35 else rng.choice(shallow)
            name = f"{TEAM_WORDS[team_id % len(TEAM_WORDS)]} {team_id}"
        depth[team_id] = 0 if parent is None else depth[parent] + 1
        private = team_id > 1 and (team_id == count or (count > 20 and rng.random() < 0.03))
        explicit_archive = team_id > 1 and ((count >= 4 and team_id == count - 1) or (count > 20 and rng.random() < 0.03))
        archived = explicit_archive or (parent is not None and state.teams[parent]["is_archived"])
        stamp = created + timedelta(hours=team_id)
        state.teams[team_id] = {
            "archived_at": iso(state.now - timedelta(days=30)) if archived else None,
            "archiver_id": ALYSSA if explicit_archive else None,
            "created_at": iso(stamp),
            "id": team_id,
            "is_archived": archived,
            "is_explicitly_archived": explicit_archive,
            "is_org_like": parent is None,
            "is_private": private,
            "name": name + (" (private)" if private else ""),
            "organization_id": 1,
            "parent_id": parent,
            "updated_at": iso(stamp + timedelta(days=10)),
        }


def _make_memberships(state: NorthState, rng: random.Random) -> None:
    user_ids = list(state.users)
    guest = user_ids[-1]  # a guest who belongs to one team only, not to the root team
    root = state.org["root_team_id"]
    state.memberships[root] = {uid: ("owner" if uid == ALYSSA else "regular") for uid in user_ids if uid != guest}
    for team_id, team in state.teams.items():
        if team_id == root:
            continue
        members: dict[int, str] = {}
        pool = [u for u in user_ids if u not in (ALYSSA, BEN, guest)]
        for uid in rng.sample(pool, k=min(len(pool), rng.randint(3, 5))):
            members[uid] = "regular"
        members[next(iter(members))] = "owner"
        if team["is_private"]:
            members[ALYSSA] = "owner"  # the admin-ish user sees everything; Ben is never in a private team
        else:
            members[ALYSSA] = "owner" if team_id % 2 else "regular"
            if team_id % 3 == 2:
                members[BEN] = "regular"
        if team_id == 2:
            members[guest] = "guest"
            members[next(u for u in pool if u not in members)] = "guest-no-access"
        state.memberships[team_id] = members


def _owners(rng: random.Random, members: list[int], *, allow_none: bool) -> list[dict[str, Any]]:
    if allow_none or not members:
        return []
    chosen = rng.sample(members, k=min(len(members), rng.choice((1, 1, 2, 3))))
    return [{"user_id": uid, "is_primary": i == 0} for i, uid in enumerate(chosen)]


def _team_members(state: NorthState, team_id: int) -> list[int]:
    return [u for u, t in state.memberships.get(team_id, {}).items() if t in ("owner", "regular")]


def _make_goals(state: NorthState, rng: random.Random, count: int, today: date) -> None:
    team_ids = list(state.teams)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarter_end = (quarter_start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
    goals_by_team: dict[int, list[int]] = {}
    for j in range(count):
        goal_id = j + 1
        team_id = team_ids[j % len(team_ids)]
        team = state.teams[team_id]
        parent_team = team["parent_id"]
        candidates = goals_by_team.get(parent_team, []) if parent_team else []
        parent_goal = rng.choice(candidates) if candidates and rng.random() < 0.6 else None
        closed = j in (2, 3, 4, 5) or (j > 10 and rng.random() < 0.08)
        outcome = OUTCOMES[(j - 2) % 4] if j in (2, 3, 4, 5) else (rng.choice(OUTCOMES) if closed else None)
        archived = team["is_archived"] or j == 6 or (j > 10 and rng.random() < 0.03)
        no_owner = j == 1 or (j > 10 and rng.random() < 0.08)
        created = state.now - timedelta(days=rng.randint(60, 120), hours=rng.randint(0, 23))
        state.goals[goal_id] = {
            "id": goal_id,
            "otype": "goal",
            "name": GOAL_NAMES[j % len(GOAL_NAMES)].format(n=rng.randint(2, 9)),
            "description": DESCRIPTIONS[j % len(DESCRIPTIONS)],
            "team_id": team_id,
            "parent_id": parent_goal,
            "owners": _owners(rng, _team_members(state, team_id), allow_none=no_owner),
            "status": None,
            "progress": None,
            "start_date": quarter_start.isoformat(),
            "end_date": quarter_end.isoformat(),
            "is_archived": archived,
            "closed_at": iso(state.now - timedelta(days=rng.randint(1, 20))) if closed else None,
            "outcome": outcome,
            "created_at": iso(created),
            "updated_at": iso(created),
        }
        goals_by_team.setdefault(team_id, []).append(goal_id)
        state.krs_by_goal[goal_id] = []
        # check-in plan: goal 0 fresh, goal 9 never checked in, goal 10 stale; the rest mixed
        if j == 0:
            plan: tuple[int, float | None] = (4, 1.5)
        elif j == 9 or (j > 10 and rng.random() < 0.1):
            plan = (0, None)
        elif j == 10:
            plan = (3, 20.0)
        else:
            plan = (rng.randint(1, 6), rng.choice((0.5, 2.0, 4.0, 6.0, 13.0, 25.0)) + rng.random())
        state.event_plans[("goal", goal_id)] = plan
        if plan[0]:
            state.goals[goal_id]["status"] = rng.choice(STATUSES)


def _make_key_results(state: NorthState, rng: random.Random, count: int, today: date) -> None:
    goal_ids = list(state.goals)
    if not goal_ids:
        return
    for k in range(count):
        kr_id = k + 1
        goal = state.goals[goal_ids[k % len(goal_ids)]]
        if k == 1 or (k > 10 and rng.random() < 0.15):  # decreasing
            start, target = float(rng.randint(40, 90)), float(rng.randint(0, 20))
        elif k == 2 or (k > 10 and rng.random() < 0.03):  # start equals target
            start = target = float(rng.randint(1, 10))
        else:
            start, target = 0.0, float(rng.randint(10, 100))
        current = round(start + (target - start) * rng.uniform(-0.1, 1.15), 1)
        plan: tuple[int, float | None] = (0, None) if k % 11 == 5 else (rng.randint(1, 5), rng.choice((1.0, 3.0, 5.0, 15.0)) + rng.random())
        # Progress exactly 1 % and exactly 100 %: "1" on one of the two scales (styles.py), which
        # only the values (and the KR's own events) can tell apart. The 1 % one slipped back from
        # more, so its older check-ins show the scale too. (After the random draws: they stay put.)
        if k == ONE_PERCENT_KR:
            start, target, current = 0.0, 100.0, 1.0
            plan = (max(3, plan[0]), plan[1])
            state.slipping.add(("key_result", kr_id))
        elif k == COMPLETE_KR:
            current = target  # an increasing KR (k > 2): start 0, target drawn above
        with_progress = k % 7 != 3 and start != target  # some KRs leave progress to the client
        fraction = max(0.0, min(1.0, (current - start) / (target - start))) if start != target else 0.0
        kr = {
            "id": kr_id,
            "otype": "key_result",
            "name": KR_NAMES[k % len(KR_NAMES)].format(n=rng.randint(2, 9)),
            "goal_id": goal["id"],
            "team_id": goal["team_id"],
            "owners": _owners(rng, _team_members(state, goal["team_id"]), allow_none=rng.random() < 0.05),
            "status": rng.choice(STATUSES) if plan[0] else None,
            "start_value": start,
            "target_value": target,
            "current_value": current,
            "unit": rng.choice(("customers", "%", "ms", "", "bugs")),
            "contribution": None,
            "start_date": goal["start_date"],
            "end_date": goal["end_date"],
            "is_archived": goal["is_archived"],
            "closed_at": goal["closed_at"],
            "outcome": goal["outcome"],
            "created_at": goal["created_at"],
            "updated_at": goal["created_at"],
        }
        if with_progress:
            kr["progress"] = round(fraction, 4)
        state.key_results[kr_id] = kr
        state.krs_by_goal[goal["id"]].append(kr_id)
        state.event_plans[("key_result", kr_id)] = plan


def _roll_up_goal_progress(state: NorthState) -> None:
    """Goal progress: its KRs share 100 % equally (the vendor's default contribution). The
    completed goal is at exactly 100 % (a ``1`` on the fraction scale, with nothing to say more)."""
    for goal_id, kr_ids in state.krs_by_goal.items():
        if not kr_ids:
            continue
        share = round(100.0 / len(kr_ids), 2)
        total = 0.0
        for kr_id in kr_ids:
            kr = state.key_results[kr_id]
            kr["contribution"] = share
            s, t, c = kr["start_value"], kr["target_value"], kr["current_value"]
            total += 0.0 if s == t else max(0.0, min(1.0, (c - s) / (t - s)))
        state.goals[goal_id]["progress"] = round(total / len(kr_ids), 4)
    if COMPLETE_GOAL in state.goals:
        state.goals[COMPLETE_GOAL]["progress"] = 1.0


def _make_initiatives(state: NorthState, rng: random.Random, count: int, today: date) -> None:
    team_ids = list(state.teams)
    goals_by_team: dict[int, list[int]] = {}
    for goal in state.goals.values():
        goals_by_team.setdefault(goal["team_id"], []).append(goal["id"])
    for i in range(count):
        init_id = i + 1
        team_id = team_ids[i % len(team_ids)]
        goal_choices = goals_by_team.get(team_id, [])
        goal_id = rng.choice(goal_choices) if goal_choices and rng.random() < 0.8 else None
        kr_id = rng.choice(state.krs_by_goal[goal_id]) if goal_id and state.krs_by_goal.get(goal_id) and rng.random() < 0.4 else None
        status = INITIATIVE_STATUSES[i % len(INITIATIVE_STATUSES)] if i < 5 else rng.choice(INITIATIVE_STATUSES)
        closed = status == "done" and rng.random() < 0.7
        start = today - timedelta(days=rng.randint(0, 60))
        created = state.now - timedelta(days=rng.randint(61, 90))
        state.initiatives[init_id] = {
            "id": init_id,
            "otype": "initiative",
            "name": INITIATIVE_NAMES[i % len(INITIATIVE_NAMES)].format(n=i + 1),
            "description": DESCRIPTIONS[(i + 1) % len(DESCRIPTIONS)],
            "team_id": team_id,
            "goal_id": goal_id,
            "key_result_id": kr_id,
            "owners": _owners(rng, _team_members(state, team_id), allow_none=i == 1 or rng.random() < 0.05),
            "status": status,
            "priority": rng.choice((*PRIORITIES, None)),
            "progress": {"not-started": 0.0, "done": 1.0}.get(status, round(rng.uniform(0.05, 0.95), 2)),
            "start_date": start.isoformat(),
            "due_date": (start + timedelta(days=rng.randint(-10, 90))).isoformat(),
            "is_archived": state.teams[team_id]["is_archived"] or (i > 5 and rng.random() < 0.04),
            "is_closed": closed,
            "created_at": iso(created),
            "updated_at": iso(created),
        }
        plan: tuple[int, float | None] = (
            (0, None) if status == "not-started" else (rng.randint(1, 4), rng.choice((1.0, 6.0, 16.0)) + rng.random())
        )
        state.event_plans[("initiative", init_id)] = plan


def _finish_timestamps(state: NorthState) -> None:
    """``updated_at`` is the newest of creation, check-ins and closing."""
    for kind in ITEM_KINDS:
        for item_id, item in state.items_of(kind).items():
            count, newest_days = state.event_plans.get((kind, item_id), (0, None))
            newest = parse_timestamp(item["created_at"])
            if count and newest_days is not None:
                newest = max(newest, state.now - timedelta(days=newest_days))
            if item.get("closed_at"):
                newest = max(newest, parse_timestamp(item["closed_at"]))
            item["updated_at"] = iso(newest)
