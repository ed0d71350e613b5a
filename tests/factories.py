"""factory_boy factories for the unified model. ``seen_by`` is set with ``see(item, credential)``."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from dashboard.integrations.models import Connector, Credential
from dashboard.okrs.models import CheckIn, Goal, KeyResult, Person, ProgressSnapshot, Team, WorkItem

User = get_user_model()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("pw-Secret-123")


class AdminFactory(UserFactory):
    is_staff = True
    is_superuser = True


class ConnectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connector

    vendor = "north"
    name = factory.Sequence(lambda n: f"Connector {n}")
    base_url = "http://127.0.0.1:9/"
    interval_minutes = 60


class CredentialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Credential
        skip_postgeneration_save = True

    connector = factory.SubFactory(ConnectorFactory)
    owner = factory.SubFactory(UserFactory)
    is_shared = False

    @factory.post_generation
    def secret(self, create: bool, extracted: dict[str, str] | None, **kwargs: object) -> None:
        self.set_secret(extracted or {"token": "test-token-abcdefgh"})
        if create:
            self.save()


class VendorItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    connector = factory.SubFactory(ConnectorFactory)
    vendor = factory.LazyAttribute(lambda o: o.connector.vendor)
    external_id = factory.Sequence(lambda n: str(1000 + n))


class TeamFactory(VendorItemFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def set_path(self, create: bool, extracted: object, **kwargs: object) -> None:
        parent_path = self.parent.path if self.parent else "/"
        self.path = f"{parent_path}{self.pk}/"
        self.depth = (self.parent.depth + 1) if self.parent else 0
        if create:
            self.save(update_fields=["path", "depth"])


class PersonFactory(VendorItemFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Person {n}")


class GoalFactory(VendorItemFactory):
    class Meta:
        model = Goal

    title = factory.Sequence(lambda n: f"Goal {n}")
    team = None
    health = "on_track"
    state = "active"
    progress = 50.0


class KeyResultFactory(VendorItemFactory):
    class Meta:
        model = KeyResult

    title = factory.Sequence(lambda n: f"KR {n}")
    goal = factory.SubFactory(GoalFactory, connector=factory.SelfAttribute("..connector"))
    start = 0.0
    target = 100.0
    current = 50.0
    progress = 50.0


class WorkItemFactory(VendorItemFactory):
    class Meta:
        model = WorkItem

    kind = "initiative"
    title = factory.Sequence(lambda n: f"Work item {n}")


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    goal = factory.SubFactory(GoalFactory)
    connector = factory.LazyAttribute(lambda o: o.goal.connector)
    vendor = factory.LazyAttribute(lambda o: o.goal.vendor)
    external_id = factory.Sequence(lambda n: f"ci-{n}")
    subject_kind = "goal"
    subject_external_id = factory.LazyAttribute(lambda o: o.goal.external_id)
    created_at = factory.LazyFunction(timezone.now)


class SnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressSnapshot

    taken_at = factory.LazyFunction(timezone.now)


def see(credential: Credential, *items: object) -> None:
    """Mark items as returned by ``credential``'s latest complete sync."""
    for item in items:
        item.seen_by.add(credential)  # type: ignore[attr-defined]
    Connector.bump_data_version(credential.connector_id)  # as a sync run does: cached pages go stale


def build_org(
    credential: Credential,
    *,
    teams: int = 10,
    branching: int = 3,
    goals_per_team: int = 3,
    krs_per_goal: int = 2,
    work_items_per_team: int = 2,
    snapshots_per_goal: int = 3,
    prefix: str = "",
) -> dict[str, list[object]]:
    """A team tree with goals, key results, work items, snapshots and check-ins, all seen by
    ``credential``; bulk-inserted so view tests can build a "large" org quickly (issue #8).

    Healths, states, due dates and check-in ages cycle so every filter has something to match.
    """
    from datetime import timedelta

    connector = credential.connector
    vendor = connector.vendor
    now = timezone.now()
    today = timezone.localdate()
    healths = ["on_track", "needs_attention", "off_track", "unknown"]
    states = ["active", "active", "not_started", "paused", "done"]
    owners = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson"]

    team_rows: list[Team] = []
    for i in range(teams):
        parent = team_rows[(i - 1) // branching] if i else None
        team = Team.objects.create(
            connector=connector,
            vendor=vendor,
            external_id=f"{prefix}t{i}",
            name=f"{prefix}Team {i}",
            parent=parent,
            parent_external_id=parent.external_id if parent else "",
            depth=(parent.depth + 1) if parent else 0,
        )
        team.path = f"{parent.path if parent else '/'}{team.pk}/"
        team_rows.append(team)
    Team.objects.bulk_update(team_rows, ["path"])

    goals: list[Goal] = []
    for t_index, team in enumerate(team_rows):
        for j in range(goals_per_team):
            n = t_index * goals_per_team + j
            last_check_in = now - timedelta(days=(n % 25))
            goals.append(
                Goal(
                    connector=connector,
                    vendor=vendor,
                    external_id=f"{prefix}g{n}",
                    title=f"{prefix}Goal {n}",
                    team=team,
                    team_external_id=team.external_id,
                    health=healths[n % 4],
                    vendor_status=["on-track", "at-risk", "off-track", ""][n % 4],
                    state=states[n % 5],
                    progress=None if n % 7 == 6 else float((n * 13) % 101),
                    owners=[owners[n % 4]],
                    owners_text=Goal.owners_text_for([owners[n % 4]]),
                    due_date=today + timedelta(days=(n % 40) - 10),
                    last_check_in_at=last_check_in,
                    stale_at=last_check_in + timedelta(days=10) if states[n % 5] != "done" else None,
                    url=f"https://example.test/{vendor}/goals/{n}",
                )
            )
    Goal.objects.bulk_create(goals)
    krs = [
        KeyResult(
            connector=connector,
            vendor=vendor,
            external_id=f"{prefix}k{g.external_id}-{k}",
            title=f"KR {k} of {g.title}",
            goal=g,
            goal_external_id=g.external_id,
            health=g.health,
            progress=g.progress,
            start=0,
            target=100,
            current=g.progress,
            owners=g.owners,
            owners_text=g.owners_text,
        )
        for g in goals
        for k in range(krs_per_goal)
    ]
    KeyResult.objects.bulk_create(krs)
    items = []
    for t_index, team in enumerate(team_rows):
        for j in range(work_items_per_team):
            n = t_index * work_items_per_team + j
            items.append(
                WorkItem(
                    connector=connector,
                    vendor=vendor,
                    external_id=f"{prefix}w{n}",
                    kind="initiative",
                    title=f"{prefix}Work {n}",
                    health=healths[n % 4],
                    state=states[n % 5],
                    progress=float(n % 100),
                    owners=[owners[n % 4]],
                    owners_text=Goal.owners_text_for([owners[n % 4]]),
                    due_date=today + timedelta(days=(n % 30) - 5),
                    team_external_ids=[team.external_id],
                    goal=goals[n % len(goals)] if goals else None,
                )
            )
    WorkItem.objects.bulk_create(items)
    WorkItem.teams.through.objects.bulk_create(
        [WorkItem.teams.through(workitem_id=w.pk, team_id=team_rows[i // max(work_items_per_team, 1)].pk) for i, w in enumerate(items)]
    )
    ProgressSnapshot.objects.bulk_create(
        [
            ProgressSnapshot(
                goal=g,
                taken_at=now - timedelta(weeks=snapshots_per_goal - s),
                progress=max(0.0, (g.progress or 0) - 10 * (snapshots_per_goal - s)),
                health=g.health,
            )
            for g in goals
            for s in range(snapshots_per_goal)
        ]
    )
    CheckIn.objects.bulk_create(
        [
            CheckIn(
                connector=connector,
                vendor=vendor,
                external_id=f"{prefix}c{g.external_id}",
                subject_kind="goal",
                subject_external_id=g.external_id,
                goal=g,
                created_at=g.last_check_in_at or now,
                author=g.owners[0],
                value=g.progress,
                progress=g.progress,
                health=g.health,
                comment=f"Update on {g.title}",
            )
            for g in goals
        ]
    )
    for model, rows in ((Team, team_rows), (Goal, goals), (KeyResult, krs), (WorkItem, items)):
        through = model.seen_by.through  # type: ignore[attr-defined]
        fk = f"{model._meta.model_name}_id"
        through.objects.bulk_create([through(**{fk: row.pk, "credential_id": credential.pk}) for row in rows], batch_size=2000)
    Connector.bump_data_version(credential.connector_id)  # as a sync run does: cached pages go stale
    return {"teams": team_rows, "goals": goals, "key_results": krs, "work_items": items}
