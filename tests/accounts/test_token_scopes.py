"""API token scopes (read, sync), expiry, and the admins' list of every token (issue #21)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from dashboard.accounts.models import ApiToken
from dashboard.accounts.tokens import DEFAULT_EXPIRY_DAYS, create_token
from dashboard.integrations.models import SyncRun
from tests.factories import AdminFactory, CredentialFactory, GoalFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _get(raw: str, path: str) -> Any:
    return Client().get(f"/api/v1/{path}", headers={"Authorization": f"Bearer {raw}"})


def _post_sync(raw: str) -> Any:
    return Client().post("/api/v1/sync", headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def carol(db: None) -> Any:
    user = UserFactory(username="carol")
    credential = CredentialFactory(owner=user)
    goal = GoalFactory(connector=credential.connector, title="Carol's visible goal")
    goal.seen_by.add(credential)
    return user


def test_a_read_token_reads_but_cannot_start_a_sync(carol: Any) -> None:
    raw = create_token(carol, "report").raw
    goals = _get(raw, "goals")
    assert goals.status_code == 200
    assert [g["title"] for g in goals.json()["results"]] == ["Carol's visible goal"]

    refused = _post_sync(raw)
    assert refused.status_code == 403
    assert "lacks the 'sync' scope" in refused.json()["message"] and "it has: read" in refused.json()["message"]
    assert not SyncRun.objects.exists()


def test_a_sync_token_starts_syncs_and_follows_them_but_reads_no_okr_data(carol: Any, django_capture_on_commit_callbacks: Any) -> None:
    raw = create_token(carol, "cron", scopes=["sync"]).raw
    with django_capture_on_commit_callbacks(execute=False):
        started = _post_sync(raw)
    assert started.status_code == 202, started.content
    [run] = SyncRun.objects.all()
    assert started.json()["run_ids"] == [run.pk] and run.requested_by == carol

    runs = _get(raw, "sync-runs")
    assert runs.status_code == 200 and [r["id"] for r in runs.json()["results"]] == [run.pk]

    refused = _get(raw, "goals")
    assert refused.status_code == 403 and "lacks the 'read' scope" in refused.json()["message"]
    assert "Carol's visible goal" not in refused.content.decode()


def test_an_expired_token_is_refused_with_the_reason(carol: Any) -> None:
    new = create_token(carol, "short", expires_in_days=7)
    assert new.token.expires_at is not None
    assert abs((new.token.expires_at - timezone.now()) - timedelta(days=7)) < timedelta(minutes=1)
    assert _get(new.raw, "goals").status_code == 200

    ApiToken.objects.filter(pk=new.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = _get(new.raw, "goals")
    assert refused.status_code == 401
    assert "expired on" in refused.json()["message"] and "create a new one" in refused.json()["message"]
    assert ApiToken.objects.active().count() == 0
    assert ApiToken.objects.get().status == "expired"


def test_a_token_that_never_expires(carol: Any) -> None:
    new = create_token(carol, "forever", expires_in_days=0)
    assert new.token.expires_at is None and new.token.status == "active"
    assert _get(new.raw, "goals").status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scopes": []}, "at least one scope"),
        ({"scopes": ["admin"]}, "Unknown scope 'admin'"),
        ({"expires_in_days": -1}, "1 to 3650 days"),
    ],
)
def test_bad_token_settings_are_refused_clearly(carol: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_token(carol, "bad", **kwargs)
    assert not ApiToken.objects.exists()


def test_the_page_creates_a_token_with_the_chosen_scopes_and_lifetime(carol: Any) -> None:
    client = Client()
    client.force_login(carol)
    page = client.get("/api-tokens/").content.decode()
    assert 'name="scopes" value="read" checked' in page and 'name="scopes" value="sync" >' in page
    assert f'<option value="{DEFAULT_EXPIRY_DAYS}" selected>' in page

    response = client.post(
        "/api-tokens/", {"name": "deploy hook", "scopes_offered": "1", "scopes": ["read", "sync"], "expires_in_days": "30"}
    )
    assert response.status_code == 201
    token = ApiToken.objects.get()
    assert token.scopes == ["read", "sync"] and token.expires_at is not None
    assert abs((token.expires_at - timezone.now()) - timedelta(days=30)) < timedelta(minutes=1)
    html = response.content.decode()
    assert f"{token.expires_at:%Y-%m-%d}</time>" in html
    assert '<span class="chip chip-scope">read</span> <span class="chip chip-scope">sync</span>' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"scopes_offered": "1", "expires_in_days": "90"}, "at least one scope"),
        ({"scopes_offered": "1", "scopes": ["read"], "expires_in_days": "13"}, "Choose how long the token lives"),
        ({"scopes_offered": "1", "scopes": ["read"], "expires_in_days": "soon"}, "Choose how long the token lives"),
    ],
)
def test_the_page_explains_bad_choices_and_keeps_the_name(carol: Any, data: dict[str, Any], message: str) -> None:
    client = Client()
    client.force_login(carol)
    response = client.post("/api-tokens/", {"name": "my script", **data})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'value="my script"' in html
    assert not ApiToken.objects.exists()


def test_admins_see_every_token_without_secrets_and_can_revoke_any(db: None) -> None:
    dave_token = create_token(UserFactory(username="dave"), "dave's export")
    erin_token = create_token(UserFactory(username="erin"), "erin's cron", scopes=["sync"])
    ApiToken.objects.filter(pk=erin_token.token.pk).update(revoked_at=timezone.now())

    member = Client()
    member.force_login(UserFactory(username="mallory"))
    assert member.get("/api-tokens/all/").status_code == 404
    assert member.get(f"/api-tokens/{dave_token.token.pk}/revoke/").status_code == 404  # not theirs

    admin = Client()
    admin.force_login(AdminFactory(username="boss"))
    response = admin.get("/api-tokens/all/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "dave&#x27;s export" in html and "erin&#x27;s cron" in html
    for new in (dave_token, erin_token):
        assert new.raw not in html and new.token.token_hash not in html
    assert dave_token.raw[:12] in html  # the prefix tells tokens apart

    revoked_only = admin.get("/api-tokens/all/", {"status": "revoked"}).content.decode()
    assert "erin&#x27;s cron" in revoked_only and "dave&#x27;s export" not in revoked_only
    by_user = admin.get("/api-tokens/all/", {"user": "dav"}).content.decode()
    assert "dave&#x27;s export" in by_user and "erin&#x27;s cron" not in by_user
    nothing = admin.get("/api-tokens/all/", {"user": "nobody"})
    assert nothing.status_code == 200 and "No tokens match these filters" in nothing.content.decode()

    confirm = admin.get(f"/api-tokens/{dave_token.token.pk}/revoke/")
    assert confirm.status_code == 200 and "of <strong>dave</strong>" in confirm.content.decode()
    done = admin.post(f"/api-tokens/{dave_token.token.pk}/revoke/")
    assert done.status_code == 302 and done["Location"] == "/api-tokens/all/"
    assert _get(dave_token.raw, "teams").status_code == 401


def test_the_command_sets_scopes_and_lifetime(db: None) -> None:
    UserFactory(username="ops")
    out, err = StringIO(), StringIO()
    call_command(
        "apitoken",
        "create",
        "--user",
        "ops",
        "--name",
        "sync bot",
        "--scope",
        "sync",
        "--scope",
        "read",
        "--expires-days",
        "0",
        stdout=out,
        stderr=err,
    )
    token = ApiToken.objects.get()
    assert token.scopes == ["read", "sync"] and token.expires_at is None
    assert "scopes: read, sync; never expires" in err.getvalue()

    listing = StringIO()
    call_command("apitoken", "list", stdout=listing)
    assert "\tread,sync\tactive, never expires\t" in listing.getvalue()
    with pytest.raises(CommandError, match="1 to 3650 days"):
        call_command("apitoken", "create", "--user", "ops", "--expires-days", "-3")


@pytest.mark.django_db(transaction=True)
def test_tokens_made_before_scopes_keep_reading_and_syncing() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0001_api_tokens")])
    old_apps = executor.loader.project_state([("accounts", "0001_api_tokens")]).apps
    user = old_apps.get_model("auth", "User").objects.create(username="old-timer")
    old_apps.get_model("accounts", "ApiToken").objects.create(user_id=user.pk, name="legacy", prefix="okh_legacy", token_hash="0" * 64)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    token = ApiToken.objects.get(name="legacy")
    assert token.scopes == ["read", "sync"] and token.expires_at is None
