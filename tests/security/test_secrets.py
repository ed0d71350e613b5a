"""No secret in logs, pages, API answers, exception reports or the database in clear.

A full run with known secrets: three vendor accounts connected through the real "connect" form
(their sandboxes over HTTP), full syncs, a vendor that echoes the token back in its error
bodies, an API token in use, and a crash while a secret is being saved. Then everything the
product emitted is searched for every secret: the log output (the configured handler, at
DEBUG), every page and API answer, the exception reports Django would mail or show, every
text value of every table (plus decoded sessions), and the sync runs' errors."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from django.core.signals import got_request_exception
from django.db import connection
from django.test import Client
from django.views.debug import ExceptionReporter

from dashboard.accounts.tokens import create_token
from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.integrations.sync import run_sync
from tests.factories import UserFactory
from tests.reliability.helpers import sync
from tests.security.test_access import ACTING_ROUTES, body_of
from tests.security.urls import project_routes

pytestmark = pytest.mark.django_db

# Secrets the vendors will accept, chosen here so they are easy to find anywhere.
NEW_OGSM_PASSWORD = "Ogsm-Replaced-Password-7731"


@pytest.fixture
def captured_log(settings: Any) -> Iterator[io.StringIO]:
    """The product's own log output: the configured root handler(s), switched to a buffer, at DEBUG."""
    buffer = io.StringIO()
    root = logging.getLogger()
    handlers = [h for h in root.handlers if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]
    assert handlers, "no configured log handler to capture"
    streams = [h.setStream(buffer) for h in handlers]
    level = root.level
    root.setLevel(logging.DEBUG)
    yield buffer
    root.setLevel(level)
    for handler, stream in zip(handlers, streams, strict=True):
        handler.setStream(stream)


@pytest.fixture
def exception_reports() -> Iterator[list[str]]:
    """What Django's exception reporting (the DEBUG page, the admin e-mail) would contain."""
    reports: list[str] = []

    def on_exception(sender: Any, request: Any = None, **kwargs: Any) -> None:
        import sys

        reporter = ExceptionReporter(request, *sys.exc_info())
        reports.append(reporter.get_traceback_text())
        reports.append(reporter.get_traceback_html())

    got_request_exception.connect(on_exception)
    yield reports
    got_request_exception.disconnect(on_exception)


class EchoingVendor:
    """A vendor that puts the caller's credentials into its error bodies (it happens)."""

    def __init__(self, app: Any, secrets: Callable[[], Iterable[str]]) -> None:
        self.app, self.secrets = app, secrets

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        leaked = " ".join(self.secrets())
        body = json.dumps({"error": f"backend exploded while handling {leaked} ({environ.get('HTTP_AUTHORIZATION', '')})"})
        start_response("500 Internal Server Error", [("Content-Type", "application/json")])
        return [body.encode()]


def as_text(value: Any) -> str | None:
    """A stored value as text, whatever the engine hands back: text, bytes, or parsed JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return None  # numbers, dates, booleans: no secret fits in them


def every_text_in_the_database() -> Iterator[tuple[str, str]]:
    """Every text-like value of every column of every table, as stored: the tables are listed from
    the database's own catalogue (not from the models), so a table no model knows is searched too.
    On PostgreSQL and on the embedded SQLite alike."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        assert "integrations_credential" in tables and "django_session" in tables, tables
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from the catalogue
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = as_text(value)
                    if text:
                        yield f"{table}.{column}", text
    from django.contrib.sessions.models import Session

    for session in Session.objects.all():
        yield "django_session (decoded)", json.dumps(session.get_decoded(), default=str)


def test_no_secret_leaks_anywhere_during_a_full_run(sandbox_factory, settings, captured_log, exception_reports):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    ogsm, ogsm_server = sandbox_factory("ogsm", seed=1, size="small")
    operately, operately_server = sandbox_factory("operately", seed=1, size=1)
    north, north_server = sandbox_factory("north", seed=1, size="small")
    secrets = {
        "ogsm": dict(ogsm.credentials[0].secret),
        "operately": dict(operately.credentials[0].secret),
        "north": dict(north.credentials[0].secret),
    }
    known = [secrets["ogsm"]["password"], secrets["operately"]["token"], secrets["north"]["token"], NEW_OGSM_PASSWORD]
    keyring = list(settings.FIELD_ENCRYPTION_KEYS)
    known += [*keyring, settings.SECRET_KEY]
    user_client = Client(raise_request_exception=False)
    keeper = UserFactory(username="keeper")
    user_client.force_login(keeper)
    responses: list[tuple[str, str]] = []

    # 1. connect three accounts through the real form (the secret travels in a POST)
    for vendor, server in (("ogsm", ogsm_server), ("operately", operately_server), ("north", north_server)):
        connector = Connector.objects.create(vendor=vendor, name=f"{vendor} vault", base_url=server.url)
        response = user_client.post(f"/connections/connect/{connector.pk}/", secrets[vendor])
        assert response.status_code in (200, 302), body_of(response)[:500]
        responses.append((f"connect {vendor}", body_of(response)))
    credentials = {c.connector.vendor: c for c in Credential.objects.filter(owner=keeper).select_related("connector")}
    assert set(credentials) == {"ogsm", "operately", "north"}

    # 2. full syncs (the runs "connect" queued, or new ones)
    for credential in credentials.values():
        queued = SyncRun.objects.filter(credential=credential, status="queued").first()
        run = run_sync(queued.pk) if queued else sync(credential)
        assert run.status in ("succeeded", "partial"), run.error

    # 3. a vendor that echoes the credentials in its error bodies; a revoked token (401)
    operately.app.app = EchoingVendor(operately.app.app, lambda: [secrets["operately"]["token"]])
    ogsm.app.app = EchoingVendor(ogsm.app.app, lambda: secrets["ogsm"].values())
    for credential in (credentials["operately"], credentials["ogsm"]):
        failed = sync(credential)
        assert failed.status == "failed" and "backend exploded" in failed.error
    responses.append(("test connection", body_of(user_client.post(f"/connections/{credentials['ogsm'].pk}/test/"))))

    # 4. a crash while a new secret is being saved (a broken keyring): the exception report
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-valid-fernet-key"]
    crashed = user_client.post(f"/connections/{credentials['ogsm'].pk}/replace/", {"username": "api-acme", "password": NEW_OGSM_PASSWORD})
    assert crashed.status_code == 500
    assert exception_reports, "the crash produced no exception report"
    settings.FIELD_ENCRYPTION_KEYS = keyring

    # 5. every page and API answer the owner can get, and the API with a token
    token = create_token(keeper, "vault")
    for route in project_routes():
        if route.params or route.name in ACTING_ROUTES:
            continue
        url = route.url({"rest": "probe"})
        responses.append((url, body_of(user_client.get(url))))
        responses.append((f"{url} (htmx)", body_of(user_client.get(url, HTTP_HX_REQUEST="true"))))
    for credential in credentials.values():
        for url in (f"/connections/{credential.pk}/replace/", f"/connections/{credential.pk}/disconnect/"):
            responses.append((url, body_of(user_client.get(url))))
    api = Client()
    for url in ("/api/v1/sync-runs?limit=500", "/api/v1/goals?limit=500", "/api/v1/people?limit=500", "/api/v1/teams"):
        responses.append((url, body_of(api.get(url, HTTP_AUTHORIZATION=f"Bearer {token.raw}"))))
    known.append(token.raw)

    # 6. search everything
    places: list[tuple[str, str]] = [("log output", captured_log.getvalue())]
    places += [(f"response {name}", text) for name, text in responses]
    places += [(f"exception report {i}", text) for i, text in enumerate(exception_reports)]
    places += list(every_text_in_the_database())
    places += [(f"sync run {r.pk} error", r.error) for r in SyncRun.objects.all()]
    # controls: the search reaches what it claims to (the echoed error, the crash, the stored secret)
    assert any("backend exploded" in t for _, t in places)
    assert any("not a valid Fernet key" in text and "encrypt" in text for _, text in places if _.startswith("exception report"))
    assert any(where == "integrations_credential.secret_encrypted" for where, _ in places)
    assert any("[redacted]" in text for _, text in places), "nothing was ever scrubbed: the echoing vendor was not exercised"
    leaks = sorted({f"{where}: …{secret[:6]}…" for where, text in places for secret in known if secret and secret in text})
    assert leaks == [], "secrets found in clear:\n" + "\n".join(leaks)
