"""Every URL and API endpoint tried as another member (Mallory) against Victor's private things:
credentials, connections, shared credentials she is not granted, runs, tokens, and data only
his credentials' syncs returned. Must hold: a 404 for every object that is not hers (never a
page, a form, a redirect that acted, or a 403 that confirms it exists), no trace of it in any
response, and nothing of Victor's changed by her POSTs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from dashboard.accounts.models import ApiToken
from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.okrs.models import Goal
from tests.security.conftest import MARKER, World
from tests.security.urls import Route, project_routes

pytestmark = pytest.mark.django_db

# Routes whose object is not anyone's private thing: any member may open them.
OPEN_OBJECT_ROUTES = {"integrations:connect"}  # connecting to a connector the admin enabled
# Routes that act for the caller on POST without naming an object; probed with GET only.
ACTING_ROUTES = {"accounts:logout", "okrs:sync_now", "api-v1:start_sync"}
# Single sign-on (dashboard/accounts/oidc.py): open to anonymous visitors, GET only (the callback
# is protected by its state, not by CSRF), 404 while OIDC_ISSUER is unset (as in the tests above).
SIGN_IN_ROUTES = {"oidc:authenticate", "oidc:callback"}

# The write-back routes take a plain ``pk``: which of Victor's items each one acts on.
PK_OBJECTS = {
    "writes:action_edit": "action",
    "writes:action_delete": "action",
    "writes:goal_check_in": "goal",
    "writes:project_check_in": "project",
    "writes:key_result_value": "key_result",
    "writes:task_status": "task",
    "writes:team_members": "team",
    "writes:member_remove": "team",
}


def param_values(route: Route, world: World) -> dict[str, Any]:
    """Victor's object for every URL parameter. An unknown parameter fails the test: a new page
    must say which object it exposes, so it cannot slip past this check."""
    values: dict[str, Any] = {}
    for name in route.params:
        if name == "pk":
            if route.name not in PK_OBJECTS:
                pytest.fail(f"{route.template} ({route.name}) takes a pk: add it to PK_OBJECTS in {__file__}")
            values[name] = getattr(world, PK_OBJECTS[route.name]).pk
        elif name == "credential_id":
            shared = route.template.startswith("connectors/")
            values[name] = (world.shared_credential if shared else world.victor_credential).pk
        elif name in (
            "token_id",
            "goal_id",
            "item_id",
            "team_id",
            "connector_id",
            "user_id",
            "suggestion_id",
            "identity_id",
            "proposal_id",
            "rest",
        ):
            values[name] = {
                "token_id": world.victor_token_id,
                "goal_id": world.goal.pk,
                "item_id": world.project.pk,  # a work item only Victor's credentials returned
                "team_id": world.team.pk,
                "connector_id": world.connector.pk,
                "user_id": "victor",
                "suggestion_id": world.suggestion.pk,  # an alignment suggestion between two of Victor's goals
                "identity_id": world.identity.pk,  # a person only Victor's credentials returned
                "proposal_id": world.proposal.pk,  # a name match for that person (admins only)
                "rest": "probe",
            }[name]
        else:
            pytest.fail(f"{route.template}: unknown URL parameter {name!r}; map it to one of Victor's objects in {__file__}")
    return values


def body_of(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def victor_state(world: World) -> dict[str, Any]:
    cred = Credential.objects.filter(pk=world.victor_credential.pk).values("secret_encrypted", "status", "label").first()
    return {
        "credential": cred,
        "shared": Credential.objects.filter(pk=world.shared_credential.pk).values("secret_encrypted", "label").first(),
        "token_active": ApiToken.objects.filter(pk=world.victor_token_id, revoked_at__isnull=True).exists(),
        "connector": Connector.objects.filter(pk=world.connector.pk).values("enabled", "name", "base_url").first(),
        "goal": Goal.objects.filter(pk=world.goal.pk).values("title", "progress", "health").first(),
        "runs": list(SyncRun.objects.filter(credential=world.victor_credential).values_list("pk", "status")),
    }


def test_the_route_list_covers_the_project():
    """The enumeration itself: it finds the pages, the API and the admin pages of every area."""
    names = {r.name for r in project_routes()}
    for expected in ("okrs:goal_detail", "integrations:disconnect", "integrations:shared_edit", "api_tokens:revoke", "writes:action_edit"):
        assert expected in names
    assert any(r.template.startswith("api/v1/") and "goal_id" in r.params for r in project_routes())


# Deviations found by this test and not fixed yet: route name -> what is wrong.
KNOWN_BUGS: dict[str, str] = {}


def object_routes() -> list[Any]:
    routes = [r for r in project_routes() if r.params and r.name not in OPEN_OBJECT_ROUTES]
    return [
        pytest.param(r, id=r.name, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[r.name])] if r.name in KNOWN_BUGS else [])
        for r in routes
    ]


@pytest.mark.parametrize("route", object_routes())
def test_every_object_url_answers_404_to_another_member(world: World, route: Route):
    client = world.mallory_client
    before = victor_state(world)
    url = route.url(param_values(route, world))
    statuses = {}
    for method in ("get", "post"):
        response = getattr(client, method)(url, {"title": "pwned", "name": "pwned", "enabled": "on", "token": "x" * 20})
        statuses[method] = response.status_code
        assert MARKER not in body_of(response), f"{method.upper()} {url} shows Victor's data"
    assert set(statuses.values()) <= {404, 405} and 404 in statuses.values(), f"{url} answered {statuses}; expected 404"
    assert victor_state(world) == before, "the probe changed Victor's things"


def test_open_object_routes_show_nothing_private(world: World):
    for route in project_routes():
        if route.name in OPEN_OBJECT_ROUTES:
            response = world.mallory_client.get(route.url(param_values(route, world)))
            assert response.status_code < 500 and MARKER not in body_of(response)


def test_no_list_page_export_or_api_list_shows_another_members_data(world: World):
    client = world.mallory_client
    problems = []
    urls = [r.url({"rest": "probe"}) for r in project_routes() if set(r.params) <= {"rest"}]
    urls += [
        f"/sync/status/?run={world.run.pk}",
        f"/?run={world.run.pk}",
        f"/goals/?team={world.team.pk}",
        "/search/?q=goal",  # the search echoes its query, so it searches for words of the titles
        "/search/?q=action",
        "/search/export.csv?q=goal",
        "/api/v1/sync-runs?limit=500",
        "/api/v1/goals?q=goal&limit=500",
        "/api/v1/work-items?q=task&limit=500",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} answered {response.status_code}"
        if MARKER in body_of(response):
            problems.append(url)
    assert problems == []
    assert len(urls) >= 25


@pytest.mark.parametrize(
    "url",
    ["/api/v1/goals?team={team}", "/api/v1/work-items?goal={goal}", "/api/v1/key-results?goal={goal}", "/api/v1/goals/{goal}"],
)
def test_api_answers_about_another_members_object_exactly_as_about_a_missing_one(world: World, url: str):
    """No existence oracle: Victor's goal or team gets the same 4xx answer as an id that does not exist."""
    theirs = world.mallory_client.get(url.format(team=world.team.pk, goal=world.goal.pk))
    missing = world.mallory_client.get(url.format(team=999_999, goal=999_999))
    assert theirs.status_code in (400, 404) and theirs["Content-Type"].startswith("application/json")
    assert theirs.status_code == missing.status_code

    # The ids as whole numbers only: on a fresh database a pk of 1 would also match the "1" of /api/v1/.
    def without(ids: tuple[int, ...], message: str) -> str:
        return re.sub(r"\b(" + "|".join(str(i) for i in ids) + r")\b", "N", message)

    assert without((world.team.pk, world.goal.pk), theirs.json()["message"]) == without((999_999,), missing.json()["message"])
    assert MARKER not in theirs.content.decode()


def test_the_owner_does_reach_the_same_urls(world: World):
    """The control: the same URLs with Victor signed in do show his things, so the 404s above
    come from the access rules, not from broken URLs."""
    world.mallory_client.force_login(world.victor)
    for url in (
        f"/goals/{world.goal.pk}/",
        f"/api/v1/goals/{world.goal.pk}",
        "/connections/",
        f"/api-tokens/{world.victor_token_id}/revoke/",
    ):
        response = world.mallory_client.get(url)
        assert response.status_code == 200 and MARKER in body_of(response), url


def test_the_admin_site_is_for_staff_only(world: World):
    client = world.mallory_client
    urls = ["/admin/"]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse(f"admin:{info[0]}_{info[1]}_changelist"))
    urls.append(reverse("admin:integrations_credential_change", args=[world.victor_credential.pk]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
        assert MARKER not in body_of(response)


def test_the_single_sign_on_routes_are_open_get_only_and_show_nothing_private(world: World, settings: Any):
    from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, serve

    assert {r.name for r in project_routes() if r.template.startswith("oidc/")} == SIGN_IN_ROUTES
    running = serve()
    try:
        settings.OIDC_ISSUER, settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = running.issuer, CLIENT_ID, CLIENT_SECRET
        for client in (Client(), world.mallory_client):
            start = client.get(reverse("oidc:authenticate"))
            assert start.status_code == 302 and start["Location"].startswith(f"{running.issuer}/authorize?")
            back = client.get(reverse("oidc:callback"), {"code": "guess", "state": "guess"})
            assert back.status_code == 302 and back["Location"] == reverse("accounts:login")
            for name in SIGN_IN_ROUTES:
                assert client.post(reverse(name)).status_code == 405
                assert MARKER not in body_of(client.get(reverse(name), follow=True))
    finally:
        running.stop()
