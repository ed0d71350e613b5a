"""The read API (``/api/v1/alignments``, ``aligned_parent`` on goals) and the CSV carry the links."""

from __future__ import annotations

import csv
import io

import pytest

from dashboard.alignment import services
from dashboard.integrations.models import Credential

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(world):
    services.align(world["member"], world["o_goal"], "goal", world["n_goal"].pk)
    services.align(world["admin"], world["o_goal2"], "team", world["n_team"].pk)
    return world


def test_goals_carry_their_aligned_parent(client, linked):
    client.force_login(linked["member"])
    results = {g["title"]: g for g in client.get("/api/v1/goals?limit=50").json()["results"]}
    parent = results["Ship the new billing"]["aligned_parent"]
    assert parent["kind"] == "goal" and parent["id"] == linked["n_goal"].pk and parent["title"] == "Grow revenue"
    assert parent["created_by"] == "mia" and parent["source"] == "manual" and parent["created_at"]
    team = results["Hire two engineers"]["aligned_parent"]
    assert (team["kind"], team["name"], team["created_by"]) == ("team", "Platform", "root")
    assert results["Grow revenue"]["aligned_parent"] is None
    detail = client.get(f"/api/v1/goals/{linked['o_goal'].pk}").json()
    assert detail["aligned_parent"]["title"] == "Grow revenue"


def test_the_alignments_endpoint_pages_and_filters(client, linked):
    client.force_login(linked["member"])
    page = client.get("/api/v1/alignments?limit=1").json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    under_team = client.get(f"/api/v1/alignments?parent_team={linked['n_team'].pk}").json()["results"]
    assert [a["child_title"] for a in under_team] == ["Hire two engineers"]
    by_child = client.get(f"/api/v1/alignments?child={linked['o_goal'].pk}").json()["results"]
    assert by_child[0]["parent"]["kind"] == "goal" and by_child[0]["child_vendor"] == "operately"


def test_links_with_a_hidden_end_are_left_out(client, linked):
    Credential.objects.filter(owner=linked["other"], connector=linked["north"]).delete()
    client.force_login(linked["other"])
    assert client.get("/api/v1/alignments").json()["count"] == 0
    goals = {g["title"]: g for g in client.get("/api/v1/goals").json()["results"]}
    assert goals["Ship the new billing"]["aligned_parent"] is None


def test_the_goals_csv_has_the_aligned_parent(client, linked):
    client.force_login(linked["member"])
    response = client.get("/goals/export.csv")
    rows = {r["title"]: r for r in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))}
    assert (rows["Ship the new billing"]["aligned_parent_kind"], rows["Ship the new billing"]["aligned_parent"]) == ("goal", "Grow revenue")
    assert (rows["Hire two engineers"]["aligned_parent_kind"], rows["Hire two engineers"]["aligned_parent"]) == ("team", "Platform")
    assert rows["Grow revenue"]["aligned_parent"] == ""
    teams = {
        r["team"]: r for r in csv.DictReader(io.StringIO(b"".join(client.get("/teams/export.csv").streaming_content).decode("utf-8-sig")))
    }
    # Both links land in Platform: one under the team, one under its goal "Grow revenue".
    assert teams["Platform"]["goals"] == "4" and teams["Platform"]["aligned_goals"] == "2"


def test_team_roll_ups_in_the_api_count_aligned_goals(client, linked):
    client.force_login(linked["member"])
    teams = {t["name"]: t for t in client.get("/api/v1/teams").json()["results"]}
    # Platform: Grow revenue (40 %), Win ten logos (20 %), billing (80 %, under Grow revenue), Hire (no progress, under the team).
    assert teams["Platform"]["counts"]["goals"] == 4
    assert round(teams["Platform"]["progress"]) == round((40 + 20 + 80) / 3)
    assert teams["Engineering space"]["counts"]["goals"] == 2  # the Operately space keeps its own goals
