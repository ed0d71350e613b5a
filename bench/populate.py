"""Fill the unified tables directly (bulk_create) with an org of a given size, in seconds.

Three connectors (North, Operately, OGSM) share the org; the bench user owns one credential per
connector, each of which "saw" its connector's items (``seen_by``), and each has a finished sync
run, so every page has freshness to show. Data is seeded (deterministic) and dated around today
so that stale, overdue and off-track items exist.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from bench.orgs import PageOrg

BATCH = 2000
FIRST_NAMES = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana"]
LAST_NAMES = ["Ng", "Ortiz", "Park", "Quinn", "Roy"]
WORK_KIND = {"north": "initiative", "operately": "project", "ogsm": "action"}
HEALTHS = ["on_track"] * 5 + ["needs_attention"] * 2 + ["off_track", "unknown"]
STATES = ["active"] * 6 + ["not_started", "paused", "done"]
WORDS = [
    "revenue",
    "growth",
    "churn",
    "onboarding",
    "platform",
    "hiring",
    "quality",
    "latency",
    "pipeline",
    "launch",
    "retention",
    "margin",
    "support",
    "security",
]


def populate(org: PageOrg, user: Any, seed: int = 1) -> dict[str, Any]:
    """Create ``org`` for ``user``; returns ids the pages benchmark needs (a team with children, a goal)."""
    from django.db import transaction
    from django.utils import timezone

    from dashboard.integrations.models import Connector, Credential, StreamResult, SyncRun
    from dashboard.okrs.models import CheckIn, Goal, KeyResult, Person, ProgressSnapshot, Team, WorkItem

    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    vendors = list(WORK_KIND)
    with transaction.atomic():
        credentials = {}
        for vendor in vendors:
            connector = Connector.objects.create(vendor=vendor, name=f"{vendor} (bench pages)", base_url=f"http://127.0.0.1:9/{vendor}/")
            credential = Credential(connector=connector, owner=user, label=f"{vendor} bench", account_name="Bench Org")
            credential.set_secret(
                {"token": f"bench-token-{vendor}-0000"} if vendor != "ogsm" else {"username": "bench", "password": "bench-pass-0000"}
            )
            credential.last_sync_at = credential.last_success_at = now
            credential.save()
            credentials[vendor] = credential
            run = SyncRun.objects.create(
                credential=credential,
                trigger="schedule",
                status="succeeded",
                started_at=now - timedelta(minutes=3),
                finished_at=now - timedelta(minutes=2),
                duration_seconds=61.0,
                requests_made=1200,
                streams_total=5,
                streams_done=5,
            )
            StreamResult.objects.create(
                run=run, stream="goals", status="succeeded", complete=True, fetched=org.goals // 3, unchanged=org.goals // 3
            )

        # People: two per team, names reused as owners.
        people = [
            Person(
                connector=credentials[vendors[i % 3]].connector,
                vendor=vendors[i % 3],
                external_id=f"p{i}",
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {i}",
                email=f"person{i}@example.com",
            )
            for i in range(org.teams * 2)
        ]
        Person.objects.bulk_create(people, batch_size=BATCH)
        names = [p.name for p in people]
        person_at = {p.name: (p.connector_id, p.external_id) for p in people}  # owner ids where the owner is of that vendor

        teams = _teams(org, credentials, vendors, rng, Team)
        goals: list[Any] = []
        for i in range(org.goals):
            team = teams[i % len(teams)]
            vendor = team.vendor
            owners = [rng.choice(names) for _ in range(rng.choice([1, 1, 2]))]
            last = now - timedelta(days=rng.randint(0, 30))
            goals.append(
                Goal(
                    connector_id=team.connector_id,
                    vendor=vendor,
                    external_id=f"g{i}",
                    title=f"Goal {i}: {rng.choice(WORDS)} {rng.choice(WORDS)}",
                    owners=owners,
                    owners_text=Goal.owners_text_for(owners),
                    owner_external_ids=[person_at[n][1] for n in owners if person_at[n][0] == team.connector_id],
                    health=rng.choice(HEALTHS),
                    state=rng.choice(STATES),
                    progress=None if i % 17 == 0 else round(rng.uniform(0, 100), 1),
                    start_date=today - timedelta(days=60),
                    due_date=today + timedelta(days=rng.randint(-20, 90)),
                    team=team,
                    team_external_id=team.external_id,
                    vendor_status="at-risk" if i % 5 == 0 else "on-track",
                    description=f"Why goal {i} matters.",
                    last_check_in_at=last,
                    stale_at=last + timedelta(days=10),
                    url=f"https://vendor.example/goals/{i}",
                )
            )
        Goal.objects.bulk_create(goals, batch_size=BATCH)
        parented = [g for g in goals[len(goals) // 10 :] if rng.random() < 0.3]
        for goal in parented:
            goal.parent_id = goals[rng.randrange(len(goals) // 10)].id
        Goal.objects.bulk_update(parented, ["parent"], batch_size=BATCH)

        krs = []
        for i in range(org.key_results):
            goal = goals[i % len(goals)]
            current = rng.uniform(0, 100)
            krs.append(
                KeyResult(
                    connector_id=goal.connector_id,
                    vendor=goal.vendor,
                    external_id=f"kr{i}",
                    title=f"KR {i}: {rng.choice(WORDS)}",
                    owners=goal.owners,
                    owners_text=goal.owners_text,
                    health=rng.choice(HEALTHS),
                    state=goal.state,
                    progress=round(current, 1),
                    goal=goal,
                    goal_external_id=goal.external_id,
                    team_id=goal.team_id,
                    start=0.0,
                    target=100.0,
                    current=round(current, 1),
                    unit="%",
                    last_check_in_at=goal.last_check_in_at,
                )
            )
        KeyResult.objects.bulk_create(krs, batch_size=BATCH)

        work_items = []
        for i in range(org.work_items):
            goal = goals[(i * 7) % len(goals)]
            owners = [rng.choice(names)]
            work_items.append(
                WorkItem(
                    connector_id=goal.connector_id,
                    vendor=goal.vendor,
                    external_id=f"w{i}",
                    kind=WORK_KIND[goal.vendor],
                    title=f"Work item {i}: {rng.choice(WORDS)}",
                    owners=owners,
                    owners_text=WorkItem.owners_text_for(owners),
                    health=rng.choice(HEALTHS),
                    state=rng.choice(STATES),
                    progress=round(rng.uniform(0, 100), 1),
                    due_date=today + timedelta(days=rng.randint(-15, 60)),
                    goal=goal,
                    goal_external_id=goal.external_id,
                    team_external_ids=[goal.team.external_id],
                )
            )
        WorkItem.objects.bulk_create(work_items, batch_size=BATCH)
        WorkItem.teams.through.objects.bulk_create(
            [WorkItem.teams.through(workitem_id=w.id, team_id=goals[(i * 7) % len(goals)].team_id) for i, w in enumerate(work_items)],
            batch_size=BATCH,
        )

        check_ins = []
        snapshots = []
        for goal in goals:
            for n in range(org.check_ins_per_goal):
                check_ins.append(
                    CheckIn(
                        connector_id=goal.connector_id,
                        vendor=goal.vendor,
                        external_id=f"c{goal.external_id}-{n}",
                        subject_kind="goal",
                        subject_external_id=goal.external_id,
                        goal=goal,
                        created_at=now - timedelta(days=7 * n + 1),
                        author=goal.owners[0],
                        value=goal.progress,
                        progress=goal.progress,
                        health=goal.health,
                        comment=f"Check-in {n} on {goal.title}",
                    )
                )
            for n in range(org.snapshots_per_goal):
                snapshots.append(
                    ProgressSnapshot(goal=goal, taken_at=now - timedelta(days=7 * n), progress=goal.progress, health=goal.health)
                )
        CheckIn.objects.bulk_create(check_ins, batch_size=BATCH)
        ProgressSnapshot.objects.bulk_create(snapshots, batch_size=BATCH)

        for model, items in ((Team, teams), (Person, people), (Goal, goals), (KeyResult, krs), (WorkItem, work_items)):
            through = model.seen_by.through
            fk = f"{model._meta.model_name}_id"
            through.objects.bulk_create(
                [through(**{fk: item.id, "credential_id": credentials[item.vendor].id}) for item in items], batch_size=BATCH
            )
    from dashboard.people.services import link_people

    link_people()  # people across vendors (issue #18), as a sync would
    _align(goals, teams, user)
    root = next(t for t in teams if t.depth == 0)
    goal_with_krs = goals[0]
    owned = next((g for g in goals if g.owner_external_ids), None)
    owner = (
        Person.objects.get(connector_id=owned.connector_id, external_id=owned.owner_external_ids[0]) if owned else Person.objects.first()
    )
    person = owner.identity_member.identity_id if owner else 0
    return {"team_with_children": root.id, "goal": goal_with_krs.id, "search": WORDS[0], "person": person}


def _align(goals: list[Any], teams: list[Any], user: Any) -> None:
    """OKR Hub's own links (issue #18): every 10th Operately/OGSM goal aligned under a North goal,
    every 25th under a North team, and a pending suggestion for every 20th, so the tree, the goal
    pages and the suggestions page carry alignments in proportion to the org."""
    from dashboard.alignment.models import Alignment, AlignmentSuggestion

    north_goals = [g for g in goals if g.vendor == "north"]
    north_teams = [t for t in teams if t.vendor == "north"]
    others = [g for g in goals if g.vendor != "north"]
    if not north_goals or not north_teams:
        return
    links, suggested = [], []
    for n, goal in enumerate(others):
        if n % 10 == 0:
            links.append(Alignment(child_goal=goal, parent_goal=north_goals[n % len(north_goals)], created_by=user))
        elif n % 25 == 1:
            links.append(Alignment(child_goal=goal, parent_team=north_teams[n % len(north_teams)], created_by=user))
        elif n % 20 == 3:
            parent = north_goals[(n * 7) % len(north_goals)]
            suggested.append(AlignmentSuggestion(child_goal=goal, parent_goal=parent, score=0.8, reasons=["similar title (80 %)"]))
    Alignment.objects.bulk_create(links, batch_size=BATCH)
    AlignmentSuggestion.objects.bulk_create(suggested, batch_size=BATCH)


def _teams(org: PageOrg, credentials: dict[str, Any], vendors: list[str], rng: random.Random, team_model: Any) -> list[Any]:
    """A tree per connector (one root each, up to 6 children per team), created level by level."""
    per_vendor = [org.teams // 3 + (1 if i < org.teams % 3 else 0) for i in range(3)]
    teams: list[Any] = []
    counter = 0
    for vendor, count in zip(vendors, per_vendor, strict=True):
        connector_id = credentials[vendor].connector_id
        level = [team_model(connector_id=connector_id, vendor=vendor, external_id=f"t{counter}", name=f"{vendor.title()} company", depth=0)]
        counter += 1
        team_model.objects.bulk_create(level)
        for team in level:
            team.path = f"/{team.id}/"
        made = 1
        while made < count:
            next_level = []
            for parent in level:
                for _ in range(6):
                    if made >= count:
                        break
                    next_level.append(
                        team_model(
                            connector_id=connector_id,
                            vendor=vendor,
                            external_id=f"t{counter}",
                            name=f"Team {counter} {rng.choice(WORDS)}",
                            parent=parent,
                            parent_external_id=parent.external_id,
                            depth=parent.depth + 1,
                            private=counter % 23 == 0,
                        )
                    )
                    counter += 1
                    made += 1
            team_model.objects.bulk_create(next_level, batch_size=BATCH)
            for team in next_level:
                team.path = f"{team.parent.path}{team.id}/"
            teams.extend(level)
            level = next_level
        teams.extend(level)
        team_model.objects.bulk_update([t for t in teams if t.connector_id == connector_id], ["path"], batch_size=BATCH)
    return teams
