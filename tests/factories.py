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
