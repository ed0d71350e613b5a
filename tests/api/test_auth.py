"""Authentication: Bearer tokens (revoked, malformed, inactive user), the browser session with
CSRF for unsafe methods, and the per-token rate limit (local cache and Redis)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from dashboard.accounts.models import ApiToken
from dashboard.accounts.tokens import create_token
from tests.api.conftest import World, api_get, ids
from tests.conftest import port_open, require


def test_no_credentials_is_a_json_401_not_a_login_redirect(world: World) -> None:
    response = Client().get("/api/v1/goals")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {
        "message": "Authentication required: send 'Authorization: Bearer <token>' (create one on the API tokens page) or sign in.",
        "status": 401,
    }


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer okh_not-a-real-token-at-all", "Invalid or revoked API token."),
        ("Bearer not-even-our-format", "Invalid or revoked API token."),
        ("Token abc", "The Authorization header must be 'Bearer <token>'."),
        ("Bearer ", "The Authorization header must be 'Bearer <token>'."),
    ],
)
def test_bad_tokens_are_401_with_a_reason(world: World, header: str, message: str) -> None:
    response = Client().get("/api/v1/teams", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == {"message": message, "status": 401}


def test_a_revoked_token_stops_working_at_once(world: World) -> None:
    assert api_get(world.alice_token, "goals").status_code == 200
    ApiToken.objects.get(user=world.alice).revoke()
    response = api_get(world.alice_token, "goals")
    assert response.status_code == 401 and response.json()["message"] == "Invalid or revoked API token."
    # Bob's token is untouched.
    assert api_get(world.bob_token, "goals").status_code == 200


def test_a_token_of_a_deactivated_user_is_refused(world: World) -> None:
    world.alice.is_active = False
    world.alice.save(update_fields=["is_active"])
    assert api_get(world.alice_token, "goals").status_code == 401


def test_a_bad_token_is_refused_even_with_a_valid_session(world: World) -> None:
    client = Client()
    client.force_login(world.alice)
    assert client.get("/api/v1/goals", headers={"Authorization": "Bearer okh_revoked-or-wrong"}).status_code == 401


def test_token_use_is_recorded(world: World) -> None:
    token = ApiToken.objects.get(user=world.alice)
    assert token.last_used_at is None
    api_get(world.alice_token, "teams")
    token.refresh_from_db()
    assert token.last_used_at is not None and (timezone.now() - token.last_used_at).total_seconds() < 60


def test_session_auth_reads_with_the_same_visibility(world: World) -> None:
    client = Client()
    client.force_login(world.bob)
    response = client.get("/api/v1/goals")
    assert response.status_code == 200
    assert ids(response) == {world.g_bob.pk, world.g_both.pk, world.g_hidden_in_child.pk}


def test_session_post_needs_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    refused = client.post("/api/v1/sync")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]

    client.get("/api-tokens/")  # any page sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    accepted = client.post("/api/v1/sync", headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 202, accepted.content


def test_token_post_needs_no_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/sync", headers={"Authorization": f"Bearer {world.alice_token}"})
    assert response.status_code == 202, response.content


def _exhaust(token: str, limit: int) -> list[Any]:
    return [api_get(token, "teams") for _ in range(limit + 1)]


def test_a_token_over_the_rate_limit_gets_429_with_retry_after(world: World, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    responses = _exhaust(world.alice_token, 3)
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    limited = responses[-1]
    retry_after = int(limited["Retry-After"])
    assert 1 <= retry_after <= 60
    # The body names the limit and the same wait as the header, and nothing else.
    assert limited.json() == {
        "message": f"Rate limit exceeded: at most 3 requests per minute per token. Retry in {retry_after} s.",
        "status": 429,
    }
    # The limit is per token: Bob, and another token of Alice's, are not affected.
    assert api_get(world.bob_token, "teams").status_code == 200
    assert api_get(create_token(world.alice, "second").raw, "teams").status_code == 200


def test_the_rate_limit_is_shared_through_redis(world: World, settings: Any, redis_url: str) -> None:
    require(port_open("127.0.0.1", 6379), "Redis")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": "api-rate-test"}
    }
    caches["default"].clear()
    try:
        settings.API_RATE_LIMIT_PER_MINUTE = 2
        assert [r.status_code for r in _exhaust(world.alice_token, 2)] == [200, 200, 429]
        token_id = ApiToken.objects.get(user=world.alice, name="alice script").pk
        # The counter lives in Redis, where every web worker sees it.
        keys = caches["default"]._cache.get_client().keys(f"api-rate-test:*api-rate:{token_id}:*")  # type: ignore[attr-defined]
        assert len(keys) == 1
    finally:
        caches["default"].clear()
