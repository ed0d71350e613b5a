"""People pages and the owner filter across vendors run the same number of queries at two sizes."""

from __future__ import annotations

import pytest

from dashboard.okrs.models import Goal, KeyResult, Person, WorkItem
from dashboard.people.models import Identity
from dashboard.people.services import link_people
from tests.factories import ConnectorFactory, CredentialFactory, UserFactory, build_org, see
from tests.querycount import page_queries

pytestmark = pytest.mark.django_db
MAX_QUERIES = 25


def own_by_grace(credential, external_id: str) -> None:
    """Grace Hopper's items at this connector carry her vendor id, as a sync stores them."""
    for model in (Goal, KeyResult, WorkItem):
        model.objects.filter(connector=credential.connector, owners_text__contains="|grace hopper|").update(
            owner_external_ids=[external_id]
        )


def add_people(credential, n: int) -> None:
    people = Person.objects.bulk_create(
        Person(
            connector=credential.connector,
            vendor=credential.connector.vendor,
            external_id=f"x{credential.pk}-{i}",
            name=f"P {i}",
            email=f"p{i}@x.test",
        )
        for i in range(n)
    )
    see(credential, *people)


def count(client, url: str) -> int:
    n, response = page_queries(client, url)
    assert b"Grace" in response.content or url.startswith("/api/"), url
    return n


def test_people_pages_and_owner_filters_are_flat(client):
    user = UserFactory(username="mia")
    client.force_login(user)
    north = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="north"))
    operately = CredentialFactory(owner=user, connector=ConnectorFactory(vendor="operately"))
    for credential, prefix in ((north, "n"), (operately, "o")):
        build_org(credential, teams=4, goals_per_team=2, krs_per_goal=1, work_items_per_team=1, prefix=prefix)
        grace = Person.objects.create(
            connector=credential.connector,
            vendor=credential.connector.vendor,
            external_id=f"grace-{prefix}",
            name="Grace Hopper",
            email="grace@navy.test",
        )
        see(credential, grace)
        own_by_grace(credential, grace.external_id)
    link_people()
    identity = Identity.objects.get(email="grace@navy.test")
    assert identity.members.count() == 2
    urls = [
        f"/people/{identity.pk}/",
        "/people/",
        "/people/?q=grace",
        "/goals/?owner=Grace+Hopper",
        "/actions/?owner=Grace+Hopper",
        f"/api/v1/goals?person={identity.pk}",
        "/api/v1/goals?owner=Grace+Hopper",
        "/api/v1/identities",
        f"/api/v1/identities/{identity.pk}",
    ]
    small = {url: count(client, url) for url in urls}

    for credential, prefix in ((north, "N"), (operately, "O")):
        build_org(credential, teams=40, goals_per_team=5, krs_per_goal=3, work_items_per_team=4, prefix=prefix)
        own_by_grace(credential, f"grace-{prefix.lower()}")
        add_people(credential, 30)
    link_people()
    assert Goal.objects.filter(owner_external_ids__icontains='"grace-n"').count() > 50
    large = {url: count(client, url) for url in urls}
    for url, n in small.items():
        assert n <= MAX_QUERIES, f"{url}: {n} queries"
        assert large[url] == n, f"{url}: {n} queries small, {large[url]} large"
