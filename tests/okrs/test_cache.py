"""Cached page data (dashboard/okrs/cache.py): a repeat request skips the scans over every
visible row, yet a sync, a write-back, a disconnect or a sharing change shows at once, and two
users with different credentials never share a cached value (issue #8, "Speed")."""

# ruff: noqa: F811 - pytest fixtures imported from other test modules are redefined as arguments
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.integrations.models import Credential
from dashboard.integrations.services.connections import disconnect
from dashboard.integrations.sync import create_runs, run_sync
from dashboard.okrs.models import Goal, WorkItem
from tests.factories import ConnectorFactory, CredentialFactory, UserFactory, build_org
from tests.integrations.fake_connector import fake_sandbox, make_credential  # noqa: F401 - fixtures
from tests.writes.conftest import connect  # noqa: F401 - fixture
from tests.writes.test_ogsm_writes import ACTION_ID, local_action, open_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_cache_minute")]

HTMX = {"HTTP_HX_REQUEST": "true"}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"|csrftoken[^"\s]*|"X-CSRFToken": "[^"]*"')


def get(client: Client, url: str) -> tuple[str, int]:
    """The page (CSRF tokens blanked, as they differ per response) and its query count."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return CSRF.sub("", response.content.decode()), len(ctx.captured_queries)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sync(credential: Credential):
    (run,) = create_runs([credential], trigger="manual")
    run = run_sync(run.pk)
    assert run.status == "succeeded", run.error
    return run


def goal_total(client: Client) -> int:
    """The overview's goal count (a cached summary); 0 when it shows its empty state."""
    html, _ = get(client, "/")
    match = re.search(r"Goals by health <span[^>]*>· ([\d,]+) goal", html)
    if match is None:
        assert "Goals by health" not in html
        return 0  # the empty state instead of the counts
    return int(match.group(1).replace(",", ""))


CACHED_PAGES = [
    "/",
    "/goals/",
    "/goals/?health=off_track&sort=progress&page=2",
    "/actions/",
    "/actions/?view=board",
    "/review/",
    "/search/?q=goal",
    "/teams/",
    "/teams/?health=off_track",
]


@pytest.mark.parametrize("url", CACHED_PAGES)
def test_a_repeat_request_skips_the_scans_and_shows_the_same_page(client, url):
    user = UserFactory(username="mia")
    client.force_login(user)
    build_org(CredentialFactory(owner=user), teams=12, goals_per_team=3, krs_per_goal=1, work_items_per_team=2)

    first_html, first_queries = get(client, url)
    second_html, second_queries = get(client, url)

    # The summaries, roll-ups and sorted id lists are read once; rows are still read per request.
    assert second_queries < first_queries, f"{url}: {first_queries} then {second_queries} queries"
    assert second_html == first_html


def test_team_children_are_cached_per_parent(client):
    user = UserFactory(username="mia")
    client.force_login(user)
    org = build_org(CredentialFactory(owner=user), teams=12)
    root, child = org["teams"][0], org["teams"][1]
    first_html, first_queries = get(client, f"/teams/{root.pk}/children/?level=1")
    again_html, again_queries = get(client, f"/teams/{root.pk}/children/?level=1")
    other_html, _ = get(client, f"/teams/{child.pk}/children/?level=2")
    assert again_queries < first_queries and again_html == first_html
    assert other_html != first_html  # another parent is another key, not the cached rows


def test_a_sync_that_changes_data_shows_at_once(fake_sandbox, make_credential):
    sandbox, server = fake_sandbox(teams=3, goals_per_team=2, krs_per_goal=1)
    alice = make_credential(server)
    sync(alice)
    client = client_for(alice.owner)
    assert goal_total(client) == 6
    goals_html, _ = get(client, "/goals/")
    assert "Goal" in goals_html
    removed = Goal.objects.get(external_id="g3-2")
    assert removed.title in goals_html

    del sandbox.state.goals["g3-2"]  # gone at the vendor: the next complete sync hides it
    sync(alice)

    assert goal_total(client) == 5
    after_html, _ = get(client, "/goals/")
    assert removed.title not in after_html


def test_cached_rows_and_goal_detail_follow_a_sync_that_renames_and_reports(fake_sandbox, make_credential):
    """The rendered rows (goals, actions, review, search) and a goal's detail are cached too:
    a sync that changes a title or a health shows on each of them at once."""
    sandbox, server = fake_sandbox(teams=2, goals_per_team=2, krs_per_goal=1)
    alice = make_credential(server)
    sync(alice)
    client = client_for(alice.owner)
    goal = Goal.objects.get(external_id="g1-1")
    pages = ["/goals/", f"/goals/{goal.pk}/", "/actions/", "/actions/?view=board", "/review/", "/search/?q=renamed"]
    before = {url: get(client, url)[0] for url in pages}
    assert "Goal 1.1" in before["/goals/"] and "Initiative 1" in before["/actions/"]

    sandbox.state.goals["g1-1"].update(title="Goal renamed at the vendor", health="off_track")
    sandbox.state.work_items["w1"]["title"] = "Initiative renamed too"
    sync(alice)

    after = {url: get(client, url)[0] for url in pages}
    for url in ("/goals/", f"/goals/{goal.pk}/", "/review/", "/search/?q=renamed"):
        assert "Goal renamed at the vendor" in after[url], url
    for url in ("/actions/", "/actions/?view=board", "/search/?q=renamed"):
        assert "Initiative renamed too" in after[url], url
    assert "Goal renamed at the vendor" not in before["/review/"]  # it was on track: not under review


def test_a_write_back_shows_at_once(connect):
    ogsm = connect("ogsm")
    item = local_action()
    assert item.health != "off_track"
    off_track_url = "/actions/?health=off_track"
    before, _ = get(ogsm.client, off_track_url)
    assert f"/actions/{item.pk}/" not in before

    data = open_form(ogsm.client, f"/actions/{item.pk}/edit/")
    response = ogsm.client.post(f"/actions/{item.pk}/edit/", {**data, "traffic_light": "red"})
    assert response.status_code == 302
    assert WorkItem.objects.get(pk=item.pk).health == "off_track"
    assert ogsm.sandbox.state.action(ACTION_ID)["traffic_light"] == "red"

    after, _ = get(ogsm.client, off_track_url)
    assert f"/actions/{item.pk}/" in after


def test_disconnecting_a_credential_shows_at_once(client):
    user = UserFactory(username="mia")
    client.force_login(user)
    kept = CredentialFactory(owner=user)
    dropped = CredentialFactory(owner=user)
    build_org(kept, teams=2, goals_per_team=2, prefix="kept ")
    build_org(dropped, teams=2, goals_per_team=3, prefix="dropped ")
    assert goal_total(client) == 10
    assert "dropped Goal" in get(client, "/goals/")[0]

    disconnect(dropped)

    assert goal_total(client) == 4
    assert "dropped Goal" not in get(client, "/goals/")[0]


def test_changing_a_shared_credentials_groups_shows_at_once(client):
    sales, ops = Group.objects.create(name="sales"), Group.objects.create(name="ops")
    member = UserFactory(username="sam")
    member.groups.add(sales)
    admin = UserFactory(username="root", is_staff=True)
    shared = CredentialFactory(owner=None, is_shared=True, connector=ConnectorFactory())
    shared.groups.set([sales, ops])
    build_org(shared, teams=2, goals_per_team=2, prefix="shared ")
    member_client = client_for(member)
    assert goal_total(member_client) == 4
    assert "shared Goal" in get(member_client, "/goals/")[0]

    response = client_for(admin).post(f"/connectors/shared/{shared.pk}/", {"action": "sharing", "label": "", "groups": [ops.pk]})
    assert response.status_code == 302
    assert list(shared.groups.all()) == [ops]

    assert goal_total(member_client) == 0
    assert "shared Goal" not in get(member_client, "/goals/")[0]


def test_two_users_with_different_credentials_never_share_a_cached_value():
    connector = ConnectorFactory()
    ann, ben = UserFactory(username="ann"), UserFactory(username="ben")
    build_org(CredentialFactory(owner=ann, connector=connector), teams=3, goals_per_team=2, prefix="anns ")
    build_org(CredentialFactory(owner=ben, connector=connector), teams=2, goals_per_team=1, prefix="bens ")
    ann_client, ben_client = client_for(ann), client_for(ben)

    for url in CACHED_PAGES:
        ann_html, _ = get(ann_client, url.replace("q=goal", "q=anns"))  # Ann's values are cached first
        ben_html, _ = get(ben_client, url.replace("q=goal", "q=anns"))
        assert "anns " not in ben_html, url
        assert "bens " not in ann_html, url
    assert (goal_total(ann_client), goal_total(ben_client)) == (6, 2)
