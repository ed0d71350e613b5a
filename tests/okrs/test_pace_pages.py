"""Pace on the pages (issue #18): "behind pace by N points" beside the vendor's health on goal
and key-result rows, the Behind pace filter on Overview, Goals and Review, Review's reasons and
the CSV column. Pace never changes the default attention lists (Overview, Review): only the
filter lists goals for being behind pace alone. Dates are offsets from today (the pinned clock,
shifted in CI)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.okrs.selectors import attention_q, visible_goals_base
from tests.factories import CredentialFactory, GoalFactory, KeyResultFactory, TeamFactory, UserFactory, see

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def short(day) -> str:
    return f"{day:%b} {day.day}, {day.year}"


@pytest.fixture
def goals(client):
    """Halfway through a 100-day timeframe (expected 50 %): one goal at 20 % (30 points behind),
    one off track at 35 % (15 behind), one at 45 % (5 behind: noise), one done at 0 %, one
    without a timeframe at 0 %; a key result of the on-pace goal at 10 % (40 behind)."""
    user = UserFactory(username="pia")
    client.force_login(user)
    credential = CredentialFactory(owner=user, connector__vendor="north", connector__name="North")
    c = credential.connector
    today = timezone.localdate()
    start, due = today - timedelta(days=50), today + timedelta(days=50)
    team = TeamFactory(connector=c, name="Sales")
    timeframe = {"connector": c, "team": team, "start_date": start, "due_date": due}
    behind = GoalFactory(title="Open the Nordics office", health="on_track", vendor_status="on-track", progress=20.0, **timeframe)
    behind_off = GoalFactory(title="Win three banks", health="off_track", progress=35.0, **timeframe)
    near = GoalFactory(title="Renew the top ten", health="on_track", progress=45.0, **timeframe)
    done = GoalFactory(title="Close the old CRM", health="on_track", state="done", progress=0.0, **timeframe)
    undated = GoalFactory(connector=c, team=team, title="Be kind to customers", health="on_track", progress=0.0)
    kr = KeyResultFactory(
        connector=c, goal=near, title="Sign 40 renewals", health="on_track", progress=10.0, start_date=start, due_date=due
    )
    kr_on = KeyResultFactory(
        connector=c, goal=near, title="Keep churn low", health="on_track", progress=60.0, start_date=start, due_date=due
    )
    see(credential, team, behind, behind_off, near, done, undated, kr, kr_on)
    now = timezone.now()
    credential.last_success_at = credential.last_sync_at = now
    credential.save()
    return {"start": start, "due": due, "behind": behind, "behind_off": behind_off, "near": near, "done": done, "undated": undated,
            "kr": kr}  # fmt: skip


def row_of(html: str, title: str) -> str:
    """The table row (``<tr>...</tr>``) holding ``title``."""
    for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S):
        if title in row:
            return row
    raise AssertionError(f"no row with {title!r}")


def test_goal_list_shows_the_chip_with_the_right_number_beside_the_vendor_health(client, goals):
    response = client.get("/goals/")
    assert response.status_code == 200
    html = response.content.decode()
    row = row_of(html, "Open the Nordics office")
    assert "Behind pace by 30 points" in row
    assert "chip-on_track" in row and "North: on-track" in row  # the vendor's health stays
    title = f"Expected about 50 % by today (linear from {short(goals['start'])} to {short(goals['due'])}), at 20 %; OKR Hub's reading, not the vendor's"
    assert f'title="{title}"'.replace("'", "&#x27;") in row
    assert "Behind pace by 15 points" in row_of(html, "Win three banks")
    for on_pace in ("Renew the top ten", "Close the old CRM", "Be kind to customers"):
        assert "Behind pace" not in row_of(html, on_pace), on_pace
    assert "Behind pace by 40 points" in row_of(html, "Sign 40 renewals")  # a key-result row
    assert "Behind pace" not in row_of(html, "Keep churn low")


def test_goal_page_shows_pace_for_the_goal_and_its_key_results(client, goals):
    response = client.get(f"/goals/{goals['behind'].pk}/")
    assert response.status_code == 200
    assert "Behind pace by 30 points" in response.content.decode()
    near = client.get(f"/goals/{goals['near'].pk}/")
    assert near.status_code == 200
    html = near.content.decode()
    assert "Behind pace by 40 points" in row_of(html, "Sign 40 renewals")
    assert "Behind pace" not in row_of(html, "Keep churn low")
    assert html.count("Behind pace by") == 1  # the goal itself is 5 points behind: noise
    for quiet in ("done", "undated"):
        page = client.get(f"/goals/{goals[quiet].pk}/")
        assert page.status_code == 200 and "Behind pace" not in page.content.decode()


def main_attention_titles(user) -> set[str]:
    """The goals main's Review lists (off track, needs attention, stale, overdue; open): pace
    must not change that set."""
    return set(visible_goals_base(user).filter(attention_q()).values_list("title", flat=True))


def review_goal_titles(html: str, goals) -> set[str]:
    titles = ("Open the Nordics office", "Win three banks", "Renew the top ten", "Close the old CRM", "Be kind to customers")
    return {t for t in titles if t in html}


def test_review_default_list_is_as_without_pace_and_says_pace_in_why(client, goals):
    response = client.get("/review/")
    assert response.status_code == 200
    html = response.content.decode()
    user = response.wsgi_request.user
    assert review_goal_titles(html, goals) == main_attention_titles(user) == {"Win three banks"}
    assert "Open the Nordics office" not in html  # on track at the vendor, behind pace only: not listed by default
    row = row_of(html, "Win three banks")  # listed anyway (off track): pace is one more reason
    why = re.search(r'<td data-label="Why" class="why">(.*?)</td>', row, flags=re.S)
    assert why and "Behind pace by 15 points" in why.group(1)
    assert "Behind pace by 15 points" in row and "chip-off_track" in row  # the chip beside the vendor's health


def test_overview_default_attention_list_is_as_without_pace(client, goals):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert review_goal_titles(html, goals) == main_attention_titles(response.wsgi_request.user) == {"Win three banks"}
    assert "Behind pace by 15 points" in row_of(html, "Win three banks")


@pytest.mark.parametrize("path", ["/", "/review/", "/goals/"])
def test_behind_pace_filter_returns_exactly_the_goals_behind_pace(client, goals, path):
    response = client.get(f"{path}?pace=behind")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Open the Nordics office" in html and "Win three banks" in html
    for absent in ("Renew the top ten", "Close the old CRM", "Be kind to customers"):
        assert absent not in html, absent
    assert "Pace: Behind pace" in html  # the active filter as a removable chip
    assert re.search(r'<option value="behind" selected>Behind pace</option>', html)
    partial = client.get(f"{path}?pace=behind", **HX).content.decode()
    assert not partial.lstrip().lower().startswith("<!doctype") and "Open the Nordics office" in partial


def test_overview_counts_goals_behind_pace_and_links_to_the_filter(client, goals):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    stat = re.search(r'<a class="stat" href="/\?pace=behind".*?<strong>(\d+)</strong>', html, flags=re.S)
    assert stat and stat.group(1) == "2"
    assert "Open the Nordics office" not in html  # counted, but not in the default "Needs attention" list
    filtered = client.get("/?pace=behind").content.decode()
    assert "Open the Nordics office" in filtered and "Win three banks" in filtered  # the two it counts
    assert 'href="/review/?pace=behind"' in filtered  # "everything that needs attention" keeps the filter
    assert 'hx-get="/?pace=behind"' in filtered  # a finished sync reloads the filtered summary


def test_review_with_the_pace_filter_explains_the_empty_work_items(client, goals):
    html = client.get("/review/?pace=behind").content.decode()
    assert "Pace is read on goals and key results only" in html


def test_bad_pace_value_is_dropped_with_a_message(client, goals):
    response = client.get("/goals/?pace=ahead")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown pace" in html and "Renew the top ten" in html


def test_goals_and_review_exports_carry_pace(client, goals):
    def read(url: str) -> list[dict[str, str]]:
        response = client.get(url)
        assert response.status_code == 200
        return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))

    by_title = {r["title"]: r for r in read("/goals/export.csv")}
    assert by_title["Open the Nordics office"]["behind_pace_points"] == "30"
    assert by_title["Renew the top ten"]["behind_pace_points"] == "5"
    assert by_title["Close the old CRM"]["behind_pace_points"] == ""
    assert by_title["Be kind to customers"]["behind_pace_points"] == ""
    review = {r["title"]: r for r in read("/review/export.csv")}
    assert set(review) == {"Win three banks"}  # as without pace
    assert review["Win three banks"]["reasons"] == "off track; behind pace by 15 points"
    assert [r["title"] for r in read("/review/export.csv?pace=behind")] == ["Win three banks", "Open the Nordics office"]
