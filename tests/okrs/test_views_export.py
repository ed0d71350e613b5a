"""CSV export of whatever list is on screen, with the same GET filters; formula injection is
neutralised; only what the user may see is exported."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import CredentialFactory, GoalFactory, TeamFactory, UserFactory, WorkItemFactory, see

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def data(client):
    user = UserFactory(username="mia")
    client.force_login(user)
    cred = CredentialFactory(owner=user, connector__vendor="north")
    c = cred.connector
    root = TeamFactory(connector=c, name='=HYPERLINK("http://evil")')
    child = TeamFactory(connector=c, name="Child", parent=root)
    g1 = GoalFactory(connector=c, team=child, title="=1+2", health="off_track", owners=["@admin"], progress=10.0)
    g2 = GoalFactory(connector=c, team=root, title="Plain goal", health="on_track", owners=["Ada"], progress=None)
    g3 = GoalFactory(connector=c, team=root, title="-cmd", health="needs_attention", stale_at=timezone.now() - timedelta(days=1))
    w1 = WorkItemFactory(connector=c, title="+SUM(A1)", state="active", due_date=timezone.localdate() - timedelta(days=2))
    w1.teams.add(child)
    w2 = WorkItemFactory(connector=c, title="Later", state="not_started")
    see(cred, root, child, g1, g2, g3, w1, w2)
    other = CredentialFactory(owner=UserFactory(username="otto"))
    hidden = GoalFactory(connector=other.connector, title="Otto only", health="off_track")
    see(other, hidden)
    return {"root": root, "child": child}


def test_goals_export_follows_the_filters_and_neutralises_formulas(client, data):
    rows = read_csv(client.get("/goals/export.csv"))
    titles = {r["title"] for r in rows}
    assert titles == {"'=1+2", "Plain goal", "'-cmd"}  # never Otto's goal
    bad = next(r for r in rows if r["title"] == "'=1+2")
    assert bad["owners"] == "'@admin" and bad["team"] == "Child" and bad["health"] == "off_track" and bad["progress"] == "10.0"
    assert next(r for r in rows if r["title"] == "Plain goal")["progress"] == ""  # unknown stays unknown
    assert [r["title"] for r in read_csv(client.get("/goals/export.csv?health=off_track"))] == ["'=1+2"]
    assert [r["title"] for r in read_csv(client.get("/goals/export.csv?stale=1"))] == ["'-cmd"]
    subtree = read_csv(client.get(f"/goals/export.csv?team={data['child'].pk}"))
    assert [r["title"] for r in subtree] == ["'=1+2"]


def test_the_page_links_to_the_export_with_its_filters(client, data):
    html = client.get("/goals/?health=off_track&owner=ada").content.decode()
    assert 'href="/goals/export.csv?health=off_track&amp;owner=ada"' in html
    html = client.get("/actions/?due=overdue&view=board").content.decode()
    assert 'href="/actions/export.csv?due=overdue"' in html


def test_actions_teams_review_and_search_exports(client, data):
    actions = read_csv(client.get("/actions/export.csv?due=overdue"))
    assert [(r["title"], r["teams"], r["overdue"]) for r in actions] == [("'+SUM(A1)", "Child", "yes")]
    teams = read_csv(client.get("/teams/export.csv"))
    by_name = {r["team"]: r for r in teams}
    assert by_name['\'=HYPERLINK("http://evil")']["goals"] == "3" and by_name["Child"]["goals"] == "1"
    assert by_name['\'=HYPERLINK("http://evil")']["off_track"] == "1"
    review = read_csv(client.get("/review/export.csv"))
    assert {r["title"] for r in review} == {"'=1+2", "'-cmd", "'+SUM(A1)"}
    assert next(r for r in review if r["title"] == "'-cmd")["reasons"] == "needs attention; stale"
    search = read_csv(client.get("/search/export.csv?q=plain"))
    assert [r["title"] for r in search] == ["Plain goal"]
    assert read_csv(client.get("/search/export.csv?q=")) == []
