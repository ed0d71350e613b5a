"""Shared by the reliability and security tests: a vendor sandbox connected as a real user,
syncs through the real engine, and the product read back the way a user reads it (pages and
the read API through the real URLconf and middleware)."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.test import Client

from connectors.base import Kind
from connectors.sandbox_kit import RunningServer, Sandbox
from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.services.connectors import open_connector
from dashboard.integrations.services.sync import create_runs, run_sync
from dashboard.integrations.services.sync_store import KIND_MODELS, SPECS
from dashboard.okrs.models import WorkItem
from tests.factories import UserFactory

# What a user reads to learn how fresh the data is and why the latest sync failed.
FRESHNESS_PAGES = ("/", "/actions/", "/goals/")
WHY_PAGE = "/connections/"


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


def vendor_ids(credential: Credential) -> dict[Kind, set[str]]:
    """What the vendor serves this credential right now: one clean read of every stream."""
    served: dict[Kind, set[str]] = defaultdict(set)
    with open_connector(credential) as connector:
        for stream in connector.streams:
            for page in connector.read(stream, None):
                for record in page.records:
                    served[record.kind].add(record.external_id)
    return served


def stored_ids(credential: Credential) -> dict[Kind, set[str]]:
    stored: dict[Kind, set[str]] = {}
    for kind, model in KIND_MODELS.items():
        rows = model.objects.filter(connector=credential.connector)
        if SPECS[kind].has_seen_by:
            rows = rows.filter(seen_by=credential)
        stored[kind] = set(rows.values_list("external_id", flat=True))
    return stored


def duplicates() -> list[Any]:
    found = []
    for model in KIND_MODELS.values():
        found += list(model.objects.values("connector", "external_id").annotate(n=Count("id")).filter(n__gt=1)[:5])
    return found
