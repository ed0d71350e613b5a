"""Suggested links: the scoring, the recomputation, and the admins' accept/dismiss page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from dashboard.alignment import suggestions
from dashboard.alignment.models import Alignment, AlignmentSuggestion
from dashboard.alignment.suggestions import Candidate, score
from dashboard.alignment.tasks import suggest_alignments
from dashboard.integrations.models import Credential
from tests.factories import GoalFactory, see

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_similar_titles_score_high_and_owner_and_dates_add_up():
    today = timezone.localdate()
    a = Candidate(1, 1, "Q3: Ship the new billing system!", frozenset({"mia@example.com"}), today, today + timedelta(days=90))
    b = Candidate(2, 2, "Ship new billing system", frozenset({"mia@example.com", "otto"}), today + timedelta(days=30), None)
    value, reasons = score(a, b)
    assert value == pytest.approx(100.0)  # same normalised words, same owner, overlapping dates
    assert reasons == ["similar title (100 %)", "same owner (mia@example.com)", "overlapping dates"]
    far = Candidate(3, 2, "Ship new billing system", frozenset(), today + timedelta(days=200), today + timedelta(days=300))
    value_far, reasons_far = score(a, far)
    assert value_far == pytest.approx(70.0) and reasons_far == ["similar title (100 %)"]
    unrelated = Candidate(4, 2, "Hire two engineers", frozenset({"mia@example.com"}), today, None)
    # Owner and dates alone do not make a suggestion: the titles must be alike (MIN_TITLE).
    assert suggestions.find([a, unrelated]) == {}


def test_find_pairs_only_across_connectors_and_caps_per_child():
    same_connector = [Candidate(1, 1, "Reduce churn in Europe"), Candidate(2, 1, "Reduce churn in Europe")]
    assert suggestions.find(same_connector) == {}
    many = [Candidate(10, 1, "Reduce churn in Europe")] + [Candidate(20 + n, 2, "Reduce churn in Europe") for n in range(5)]
    found = suggestions.find(many)
    assert set(found) == {20, 21, 22, 23, 24} and all(parent == 10 for parents in found.values() for parent, _, _ in parents)
    crowd = [Candidate(100, 1, "Alpha plan")] + [Candidate(200 + n, 2, "Alpha plan") for n in range(2)] + [Candidate(300, 3, "Alpha plan")]
    assert all(len(parents) <= suggestions.PER_CHILD for parents in suggestions.find(crowd).values())


@pytest.fixture
def look_alikes(world):
    twin = GoalFactory(connector=world["operately"], title="Grow revenue in 2026", owners=["Mia"], owner_external_ids=["p-mia"])
    for credential in Credential.objects.filter(connector=world["operately"]):
        see(credential, twin)
    return {**world, "twin": twin}


@pytest.mark.django_db
def test_recompute_suggests_and_dismissed_stays_dismissed(look_alikes, client):
    counts = suggestions.recompute()
    suggestion = AlignmentSuggestion.objects.get(child_goal=look_alikes["twin"])
    assert counts["created"] >= 1
    assert suggestion.parent_goal == look_alikes["n_goal"] and suggestion.status == "pending" and suggestion.score >= suggestions.THRESHOLD
    assert any(r.startswith("similar title") for r in suggestion.reasons)

    client.force_login(look_alikes["admin"])
    page = client.get("/alignment/suggestions/").content.decode()
    assert "Grow revenue in 2026" in page and "Accept" in page and "Dismiss" in page
    response = client.post(f"/alignment/suggestions/{suggestion.pk}/dismiss/", **HTMX)
    assert response.status_code == 200 and response.content == b""  # the row swaps out
    suggestion.refresh_from_db()
    assert suggestion.status == "dismissed" and suggestion.decided_by == look_alikes["admin"] and suggestion.decided_at

    call_command("alignment", "suggest")
    suggest_alignments()  # the Celery task runs the same service
    assert AlignmentSuggestion.objects.filter(child_goal=look_alikes["twin"]).count() == 1
    assert AlignmentSuggestion.objects.get(child_goal=look_alikes["twin"]).status == "dismissed"
    assert "Grow revenue in 2026" not in client.get("/alignment/suggestions/").content.decode()
    assert "No suggestions waiting" in client.get("/alignment/suggestions/").content.decode()


@pytest.mark.django_db
def test_accept_makes_the_link_in_one_click(look_alikes, client):
    suggestions.recompute()
    suggestion = AlignmentSuggestion.objects.get(child_goal=look_alikes["twin"])
    client.force_login(look_alikes["admin"])
    response = client.post(f"/alignment/suggestions/{suggestion.pk}/accept/")  # a plain POST works too
    assert response.status_code == 303
    alignment = Alignment.objects.get(child_goal=look_alikes["twin"])
    assert (
        alignment.parent_goal == look_alikes["n_goal"] and alignment.source == "suggestion" and alignment.created_by == look_alikes["admin"]
    )
    assert AlignmentSuggestion.objects.get(pk=suggestion.pk).status == "accepted"
    again = client.post(f"/alignment/suggestions/{suggestion.pk}/accept/", **HTMX).content.decode()
    assert "already accepted" in again


@pytest.mark.django_db
def test_members_do_not_get_the_suggestions_page(look_alikes, client):
    suggestions.recompute()
    suggestion = AlignmentSuggestion.objects.get(child_goal=look_alikes["twin"])
    client.force_login(look_alikes["member"])
    assert client.get("/alignment/suggestions/").status_code == 404
    assert client.post(f"/alignment/suggestions/{suggestion.pk}/accept/").status_code == 404
    assert not Alignment.objects.exists()


@pytest.mark.django_db
def test_beat_recomputes_suggestions_hourly():
    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    # The data migration creates the beat entry; a transactional test may have flushed it, so re-run it.
    migration = __import__("dashboard.alignment.migrations.0002_suggest_beat_schedule", fromlist=["create_schedule"])
    migration.create_schedule(apps, None)
    entry = PeriodicTask.objects.get(name="okrhub: alignment suggestions")
    assert entry.task == "dashboard.alignment.tasks.suggest_alignments" and entry.enabled
    assert (entry.interval.every, entry.interval.period) == (1, "hours")
