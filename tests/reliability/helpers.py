"""Shared by the reliability and security tests: a vendor sandbox connected as a real user,
syncs through the real engine, and the product read back the way a user reads it (pages and
the read API through the real URLconf and middleware)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.test import Client

from connectors.base import Kind
from connectors.sandbox_kit import RunningServer, Sandbox
from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.sync import create_runs, run_sync
from dashboard.integrations.sync.store import KIND_MODELS, SPECS
from dashboard.okrs.models import WorkItem
from tests.factories import UserFactory
from tests.sandbox_state import sandbox_titles

# What a user reads to learn how fresh the data is and why the latest sync failed.
FRESHNESS_PAGES = ("/", "/actions/", "/goals/")
WHY_PAGE = "/connections/"
TITLE_FIELDS = {Kind.TEAM: "name", Kind.PERSON: "name", Kind.GOAL: "title", Kind.KEY_RESULT: "title", Kind.WORK_ITEM: "title"}


@dataclass
class Connected:
    sandbox: Sandbox
    server: RunningServer
    connector: Connector
    credential: Credential
    user: Any
    client: Client


def connect(sandbox: Sandbox, server: RunningServer, *, username: str = "owner", credential_index: int = 0) -> Connected:
    """An enabled connector on the sandbox and a member's own credential for it."""
    connector, _ = Connector.objects.get_or_create(
        vendor=sandbox.vendor, name=f"{sandbox.vendor} sandbox", defaults={"base_url": server.url}
    )
    user = UserFactory(username=username)
    credential = Credential(connector=connector, owner=user)
    credential.set_secret(dict(sandbox.credentials[credential_index].secret))
    credential.save()
    client = Client()
    client.force_login(user)
    return Connected(sandbox, server, connector, credential, user, client)


def sync(credential: Credential, **kwargs: Any) -> SyncRun:
    (run,) = create_runs([Credential.objects.get(pk=credential.pk)], trigger="manual")
    return run_sync(run.pk, **kwargs)


def text_of(response: Any) -> str:
    """The page as a user reads it: tags dropped, entities decoded, whitespace collapsed."""
    body = response.content.decode() if not getattr(response, "streaming", False) else b"".join(response.streaming_content).decode()
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", body)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def visible_work_item_titles(client: Client) -> set[str]:
    """Every work item title the API lists for this user (paged through)."""
    titles: set[str] = set()
    url = "/api/v1/work-items?limit=500"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        titles.update(item["title"] for item in body["results"])
        url = body["next"] or ""
        url = url.split("testserver", 1)[-1] if url else ""
    return titles


def work_item_rows(connector: Connector) -> dict[str, str]:
    return dict(WorkItem.objects.filter(connector=connector).values_list("external_id", "title"))


def _stored_rows(credential: Credential, kind: Kind) -> Any:
    rows = KIND_MODELS[kind].objects.filter(connector=credential.connector)
    return rows.filter(seen_by=credential) if SPECS[kind].has_seen_by else rows


def stored_ids(credential: Credential) -> dict[Kind, set[str]]:
    return {kind: set(_stored_rows(credential, kind).values_list("external_id", flat=True)) for kind in KIND_MODELS}


def stored_titles(credential: Credential) -> dict[Kind, dict[str, str]]:
    """``{kind: {external_id: title}}`` of the rows this credential's syncs stored (names for
    teams and people; check-ins have no title)."""
    stored: dict[Kind, dict[str, str]] = {}
    for kind in KIND_MODELS:
        rows = _stored_rows(credential, kind)
        field = TITLE_FIELDS.get(kind)
        stored[kind] = (
            dict(rows.values_list("external_id", field)) if field else dict.fromkeys(rows.values_list("external_id", flat=True), "")
        )
    return stored


def assert_stored_as_the_sandbox_holds(credential: Credential, sandbox: Sandbox) -> None:
    """The rows equal what the vendor holds, read from the sandbox's own state (not through our
    connector): every id of every kind the sandbox keeps, and every title."""
    held, stored = sandbox_titles(sandbox), stored_titles(credential)
    assert held, f"the {sandbox.vendor} sandbox state holds nothing to compare with"
    for kind, titles in held.items():
        rows = stored[kind]
        missing, unknown = sorted(set(titles) - set(rows)), sorted(set(rows) - set(titles))
        assert not missing and not unknown, (
            f"{sandbox.vendor} {kind}: {len(rows)} stored, {len(titles)} at the vendor; missing {missing[:5]}, not at the vendor {unknown[:5]}"
        )
        wrong = {i: (rows[i], t) for i, t in titles.items() if t and rows[i] != t}
        assert not wrong, f"{sandbox.vendor} {kind}: titles differ (stored, vendor's): {dict(list(wrong.items())[:5])}"


def duplicates() -> list[Any]:
    found = []
    for model in KIND_MODELS.values():
        found += list(model.objects.values("connector", "external_id").annotate(n=Count("id")).filter(n__gt=1)[:5])
    return found
