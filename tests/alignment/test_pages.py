"""The goal page's "Align under…" form, the team tree in place, roll-ups and visibility (issue #18)."""

from __future__ import annotations

import re

import pytest

from dashboard.alignment import services
from dashboard.alignment.models import Alignment
from dashboard.integrations.models import Credential

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_owner_sees_the_form_and_aligns_with_a_plain_post(client, world):
    client.force_login(world["member"])
    page = client.get(f"/goals/{world['o_goal'].pk}/").content.decode()
    assert "Align under…" in page
    assert f'value="team:{world["n_team"].pk}"' in page and f'value="goal:{world["n_goal"].pk}"' in page
    assert f'value="team:{world["o_team"].pk}"' not in page  # its own connector is not offered

    response = client.post(f"/goals/{world['o_goal'].pk}/align/", {"parent": f"goal:{world['n_goal'].pk}"})
    assert response.status_code == 303
    alignment = Alignment.objects.get(child_goal=world["o_goal"])
    assert alignment.parent_goal == world["n_goal"] and alignment.created_by == world["member"]

    page = client.get(response["Location"]).content.decode()
    assert "Aligned under" in page and "OKR Hub link" in page and "by mia" in page
    assert "Remove link" in page
    parent_page = client.get(f"/goals/{world['n_goal'].pk}/").content.decode()
    assert "Aligned under this goal" in parent_page and "Ship the new billing" in parent_page


def test_htmx_swaps_the_section_and_bad_input_keeps_the_choice(client, world):
    client.force_login(world["member"])
    url = f"/goals/{world['o_goal'].pk}/align/"
    same = f"team:{world['o_team'].pk}"
    response = client.post(url, {"parent": same}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<section id="alignment"')
    assert "same connector" in body
    plain = client.post(url, {"parent": "goal:999999"})
    assert plain.status_code == 400
    assert "does not exist or is not visible" in plain.content.decode()
    missing = client.post(url, {"parent": ""})
    assert missing.status_code == 400 and "Choose a goal or a team" in missing.content.decode()
    kept = client.post(url, {"parent": f"zzz:{world['n_team'].pk}"}).content.decode()
    assert "<h1>" in kept  # the whole page again
    assert not Alignment.objects.exists()

    ok = client.post(url, {"parent": f"team:{world['n_team'].pk}"}, **HTMX).content.decode()
    assert "Aligned under" in ok and "Platform" in ok and "OKR Hub link" in ok
    assert Alignment.objects.get(child_goal=world["o_goal"]).parent_team == world["n_team"]
    removed = client.post(f"/goals/{world['o_goal'].pk}/unalign/", **HTMX).content.decode()
    assert "Link removed." in removed and not Alignment.objects.exists()


def test_another_member_sees_no_form_and_is_refused(client, world):
    client.force_login(world["other"])
    page = client.get(f"/goals/{world['o_goal'].pk}/").content.decode()
    assert "Align under…" not in page and "An admin or an owner of this goal can align it" in page
    response = client.post(f"/goals/{world['o_goal'].pk}/align/", {"parent": f"goal:{world['n_goal'].pk}"})
    assert response.status_code == 403
    assert "Only an admin or an owner" in response.content.decode()
    assert not Alignment.objects.exists()


def test_the_candidate_search_narrows_the_select(client, world):
    client.force_login(world["admin"])
    region = client.get(f"/goals/{world['o_goal2'].pk}/?align_q=logos", **HTMX).content.decode()
    assert "Win ten logos" in region and "Grow revenue" not in region


def _tree_row(page: str, team_pk: int) -> str:
    match = re.search(rf'<li role="treeitem"[^>]*data-team="{team_pk}".*?</li>', page, re.S)
    assert match, page
    return match.group(0)


def test_the_team_tree_shows_aligned_goals_in_place_and_rolls_them_up(client, world):
    services.align(world["admin"], world["o_goal"], "team", world["n_team"].pk)  # 80 %
    client.force_login(world["member"])
    row = _tree_row(client.get("/teams/").content.decode(), world["n_team"].pk)
    # Platform: its own two North goals (40 %, 20 %) and the aligned Operately goal (80 %).
    assert "3 goals" in row and "47%" in row
    assert "3 goals in this team and its sub-teams: 2 from North, 1 aligned via OKR Hub" in row
    assert "Ship the new billing" in row and "OKR Hub link" in row and "Aligned in OKR Hub by root" in row
    # The North tree's own total is the vendor's: the aligned goal counts in Operately's.
    assert re.search(r"North\s*<span class=\"muted\">· 2 goals", client.get("/teams/").content.decode())
    focus = client.get(f"/teams/?team={world['n_team'].pk}").content.decode()
    assert "Ship the new billing" in focus and "1 via OKR Hub" in focus


def test_aligned_under_a_goal_counts_in_that_goals_team(client, world):
    services.align(world["admin"], world["o_goal2"], "goal", world["n_sub"].pk)  # no progress
    client.force_login(world["member"])
    row = _tree_row(client.get("/teams/").content.decode(), world["n_team"].pk)
    assert "3 goals" in row and "30%" in row  # (40 + 20) / 2: the aligned goal has no progress
    assert "under Win ten logos" in row
    assert "progress is the average of the 2 with progress" in row


def test_a_link_shows_only_to_users_who_see_both_ends(client, world):
    services.align(world["admin"], world["o_goal"], "goal", world["n_goal"].pk)
    Credential.objects.filter(owner=world["other"], connector=world["north"]).delete()  # otto no longer sees North
    client.force_login(world["other"])
    page = client.get(f"/goals/{world['o_goal'].pk}/").content.decode()
    assert "Aligned under" not in page and "Grow revenue" not in page
    tree = client.get("/teams/").content.decode()
    assert "OKR Hub link" not in tree and "via OKR Hub" not in tree
