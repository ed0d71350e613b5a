"""The digest's settings page and this week's preview (issue #18)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.digest.models import DigestSubscription
from dashboard.integrations.models import Connector, Credential
from tests.factories import CredentialFactory, GoalFactory, UserFactory, see

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(client, settings):
    settings.SITE_URL = "https://okr.example.com"
    user = UserFactory(username="ann", email="ann@example.com")
    client.force_login(user)
    cred = CredentialFactory(owner=user, connector__vendor="north")
    see(cred, GoalFactory(connector=cred.connector, title="Fix onboarding", health="off_track"))
    hidden = CredentialFactory(owner=UserFactory(username="otto"), connector=cred.connector)
    see(hidden, GoalFactory(connector=cred.connector, title="Secret merger", health="off_track"))
    return user


def test_settings_page_opts_in_and_out(client, ann):
    page = client.get("/digest/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="enabled"' in html and 'name="weekday"' in html and 'name="hour"' in html
    assert '<option value="Asia/Tokyo">Asia/Tokyo</option>' in html and "ann@example.com" in html
    assert 'href="/digest/"' in html  # linked from the user menu
    assert "not switched on" not in html  # the sender runs (dashboard/digest/tasks.py)
    saved = client.post("/digest/", {"enabled": "on", "weekday": "0", "hour": "8", "timezone": "Asia/Tokyo"}, follow=True)
    assert saved.status_code == 200
    assert "set for Mondays at 08:00 (Asia/Tokyo)" in saved.content.decode()
    sub = DigestSubscription.objects.get(user=ann)
    assert (sub.enabled, sub.weekday, sub.hour, sub.timezone) == (True, 0, 8, "Asia/Tokyo")
    off = client.post("/digest/", {"weekday": "4", "hour": "17", "timezone": "Europe/Berlin"}, follow=True)
    assert "You will not get the weekly digest" in off.content.decode()
    sub.refresh_from_db()
    assert (sub.enabled, sub.weekday, sub.hour, sub.timezone) == (False, 4, 17, "Europe/Berlin")
    assert DigestSubscription.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"), [("timezone", "Mars/Olympus"), ("hour", "24"), ("weekday", "7"), ("hour", "x")], ids=["zone", "hour", "day", "junk"]
)
def test_settings_page_rejects_bad_values(client, ann, field, value):
    data = {"enabled": "on", "weekday": "0", "hour": "8", "timezone": "UTC", field: value}
    response = client.post("/digest/", data)
    assert response.status_code == 400
    assert "Not saved" in response.content.decode()
    assert not DigestSubscription.objects.filter(user=ann).exists()


def test_preview_shows_this_weeks_digest_in_the_page(client, ann):
    response = client.get("/digest/preview/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="digest-mail"' in html and "<iframe" not in html
    assert "Fix onboarding" in html and "Secret merger" not in html
    assert 'href="https://okr.example.com/goals/' in html  # the e-mail's absolute links, as sent
    assert 'href="/digest/preview.txt"' in html and "need attention" in html  # the subject
    text = client.get("/digest/preview.txt")
    assert text.status_code == 200 and text["Content-Type"].startswith("text/plain")
    body = text.content.decode()
    assert "Fix onboarding" in body and "Secret merger" not in body and "NEEDS ATTENTION" in body


def test_preview_of_an_empty_digest_says_so(client, db):
    client.force_login(UserFactory(username="nobody"))
    html = client.get("/digest/preview/").content.decode()
    assert "Nothing changed; nothing needs attention." in html and 'data-empty="digest"' in html


def test_digest_pages_need_sign_in(client, db):
    for url in ("/digest/", "/digest/preview/", "/digest/preview.txt"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_preview_is_cached_until_the_data_changes(client, ann, one_cache_minute):
    """A repeat preview is served from the page-data cache (fewer queries, same page); a change
    to the user's data (its connector's data version) shows at once."""
    with CaptureQueriesContext(connection) as first:
        assert "Fix onboarding" in client.get("/digest/preview/").content.decode()
    cred = Credential.objects.get(owner=ann)
    GoalFactory(connector=cred.connector, title="Ship billing v2", health="off_track").seen_by.add(cred)  # no version bump yet
    with CaptureQueriesContext(connection) as repeat:
        html = client.get("/digest/preview/").content.decode()
    assert "Ship billing v2" not in html and len(repeat.captured_queries) < len(first.captured_queries)
    Connector.bump_data_version(cred.connector_id)  # what a finished sync or a write-back does
    assert "Ship billing v2" in client.get("/digest/preview/").content.decode()
    assert "Ship billing v2" in client.get("/digest/preview.txt").content.decode()
