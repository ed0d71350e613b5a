"""A tiny test-only vendor ("fake") and its sandbox, for testing the sync engine on its own.

The sandbox is a werkzeug app wrapped in ``FaultInjector`` and served over real HTTP, so faults
(500, 429 + Retry-After, latency, timeouts) are real HTTP faults. The connector is built on
``connectors.http.HttpSession`` like the real ones. Importing this module registers it, which is
how a Celery worker started by the tests learns about it (``celery worker --include ...``).

API: ``GET /api/me``; ``GET /api/<stream>?page=N`` -> ``{"items": [...], "next": N+1 | null}``.
Tokens: ``tok-alice`` sees everything, ``tok-bob`` only team t1, ``tok-noscope`` lacks the
``key_results:read`` scope (403 on that stream).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
import pytest
from werkzeug.wrappers import Request, Response

from connectors.base import (
    AccountInfo,
    CheckInRecord,
    CredentialField,
    GoalRecord,
    Health,
    KeyResultRecord,
    Kind,
    Page,
    PersonRecord,
    ScopeError,
    State,
    TeamRecord,
    WorkItemKind,
    WorkItemRecord,
)
from connectors.http import HttpSession, RetryPolicy
from connectors.registry import register
from connectors.sandbox_kit import FaultInjector, FaultSpec, RunningServer, Sandbox, SandboxCredential, json_response, serve

STREAMS = ("teams", "people", "goals", "key_results", "work_items", "check_ins")
TOKENS: dict[str, dict[str, Any]] = {
    "tok-alice": {"name": "Alice", "teams": None, "missing": set()},
    "tok-bob": {"name": "Bob", "teams": {"t1"}, "missing": set()},
    "tok-noscope": {"name": "Nora", "teams": None, "missing": {"key_results"}},
}
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class FakeState:
    """The vendor's data; tests mutate it between syncs. Every list is keyed by id."""

    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    goals: dict[str, dict[str, Any]] = field(default_factory=dict)
    key_results: dict[str, dict[str, Any]] = field(default_factory=dict)
    work_items: dict[str, dict[str, Any]] = field(default_factory=dict)
    check_ins: dict[str, dict[str, Any]] = field(default_factory=dict)
    page_size: int = 3
    requests: list[tuple[float, str, int]] = field(default_factory=list)  # (time, path, status)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def team_of(self, stream: str, item: dict[str, Any]) -> str | None:
        if stream == "teams":
            return str(item["id"])
        if stream == "goals":
            return item.get("team")
        if stream == "key_results":
            return self.goals.get(item["goal"], {}).get("team")
        if stream == "work_items":
            return (item.get("teams") or [None])[0]
        if stream == "check_ins":
            return self.goals.get(item["goal"], {}).get("team")
        return None

    def visible(self, stream: str, token: str) -> list[dict[str, Any]]:
        allowed = TOKENS[token]["teams"]
        items = list(getattr(self, stream).values())
        if allowed is None or stream == "people":
            return items
        return [i for i in items if self.team_of(stream, i) in allowed]


def build(*, teams: int = 3, goals_per_team: int = 2, krs_per_goal: int = 2, page_size: int = 3, faults: str | None = None) -> Sandbox:
    state = FakeState(page_size=page_size)
    for t in range(1, teams + 1):
        state.teams[f"t{t}"] = {"id": f"t{t}", "name": f"Team {t}", "parent": "t1" if t > 1 else None}
        state.people[f"p{t}"] = {"id": f"p{t}", "name": f"Person {t}", "email": f"person{t}@example.com"}
        for g in range(1, goals_per_team + 1):
            gid = f"g{t}-{g}"
            state.goals[gid] = {
                "id": gid,
                "title": f"Goal {t}.{g}",
                "team": f"t{t}",
                "parent": None,
                "progress": 10.0 * g,
                "health": "on_track",
                "state": "active",
                "last_check_in": (NOW - timedelta(days=g)).isoformat(),
                "owner": f"p{t}",
            }
            state.check_ins[f"c-{gid}"] = {"id": f"c-{gid}", "goal": gid, "at": (NOW - timedelta(days=g)).isoformat(), "progress": 10.0 * g}
            for k in range(1, krs_per_goal + 1):
                kid = f"k{t}-{g}-{k}"
                state.key_results[kid] = {"id": kid, "goal": gid, "title": f"KR {t}.{g}.{k}", "current": 5.0 * k, "target": 100.0}
        state.work_items[f"w{t}"] = {"id": f"w{t}", "title": f"Initiative {t}", "teams": [f"t{t}"], "goal": f"g{t}-1"}
    app = FaultInjector(FakeApi(state), FaultSpec.parse(faults))
    creds = [SandboxCredential(label=f"{info['name'].lower()}", person=info["name"], secret={"token": tok}) for tok, info in TOKENS.items()]
    return Sandbox(vendor="fake", app=app, credentials=creds, state=state)


class FakeApi:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.answer(Request(environ))(environ, start_response)

    def answer(self, request: Request) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token not in TOKENS:
            return json_response({"message": "invalid token"}, status=401)
        if request.path == "/api/me":
            return json_response({"name": TOKENS[token]["name"]})
        stream = request.path.removeprefix("/api/")
        if stream not in STREAMS:
            return json_response({"message": "no such endpoint"}, status=404)
        if stream in TOKENS[token]["missing"]:
            return json_response({"message": f"missing scope {stream}:read"}, status=403)
        with self.state.lock:
            items = sorted(self.state.visible(stream, token), key=lambda i: str(i["id"]))
        page = int(request.args.get("page", "1"))
        size = self.state.page_size
        chunk = items[(page - 1) * size : page * size]
        more = page * size < len(items)
        return json_response({"items": chunk, "next": page + 1 if more else None})


class RequestLog:
    """Outermost middleware: records every request with the status it got, faults included."""

    def __init__(self, app: Any, state: FakeState) -> None:
        self.app, self.state = app, state

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        arrived, path = time.monotonic(), environ.get("PATH_INFO", "")

        def record(status: str, headers: Any, exc_info: Any = None) -> Any:
            with self.state.lock:
                self.state.requests.append((arrived, path, int(status.split()[0])))
            return start_response(status, headers, exc_info)

        return self.app(environ, record)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def to_record(stream: str, item: dict[str, Any]) -> Any:
    if stream == "teams":
        return TeamRecord(external_id=item["id"], name=item["name"], parent_external_id=item.get("parent"), raw=item)
    if stream == "people":
        return PersonRecord(external_id=item["id"], name=item["name"], email=item.get("email"), raw=item)
    if stream == "goals":
        return GoalRecord(
            external_id=item["id"],
            title=item["title"],
            team_external_id=item.get("team"),
            parent_external_id=item.get("parent"),
            owner_external_ids=[item["owner"]] if item.get("owner") else [],
            health=Health(item.get("health", "unknown")),
            state=State(item.get("state", "active")),
            progress=item.get("progress"),
            last_check_in_at=_when(item.get("last_check_in")),
            raw=item,
        )
    if stream == "key_results":
        progress = 100.0 * item["current"] / item["target"] if item.get("target") else None
        return KeyResultRecord(
            external_id=item["id"], goal_external_id=item["goal"], title=item["title"], current=item["current"], target=item["target"],
            start=0.0, progress=progress, raw=item,
        )  # fmt: skip
    if stream == "work_items":
        return WorkItemRecord(
            external_id=item["id"], work_kind=WorkItemKind.INITIATIVE, title=item["title"], team_external_ids=item.get("teams", []),
            goal_external_id=item.get("goal"), raw=item,
        )  # fmt: skip
    return CheckInRecord(
        external_id=item["id"], subject_kind=Kind.GOAL, subject_external_id=item["goal"], created_at=_when(item["at"]) or NOW,
        progress=item.get("progress"), raw=item,
    )  # fmt: skip


@register
class FakeConnector:
    vendor: ClassVar[str] = "fake"
    display_name: ClassVar[str] = "Fake (tests)"
    credential_fields: ClassVar[tuple[CredentialField, ...]] = (CredentialField("token", "API token", secret=True),)
    stream_kinds: ClassVar[Mapping[str, Kind]] = {
        "teams": Kind.TEAM,
        "people": Kind.PERSON,
        "goals": Kind.GOAL,
        "key_results": Kind.KEY_RESULT,
        "work_items": Kind.WORK_ITEM,
        "check_ins": Kind.CHECK_IN,
    }
    streams: ClassVar[tuple[str, ...]] = tuple(stream_kinds)
    check_in_kinds: ClassVar[frozenset[str]] = frozenset({"goal"})

    def __init__(self, client: httpx.Client, secret: Mapping[str, str], *, options: Mapping[str, Any] | None = None) -> None:
        options = options or {}
        token = secret.get("token", "")
        # One attempt per request by default: the sync engine's Celery retries are under test.
        policy = RetryPolicy(max_attempts=int(options.get("max_attempts", 1)), base_delay=0.01, budget_seconds=5, retry_after_cap=1)
        self.http = HttpSession(client, headers={"Authorization": f"Bearer {token}"}, secrets=[token], policy=policy)

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def check(self) -> AccountInfo:
        return AccountInfo(account_name=self.http.get_json("api/me")["name"])

    def read(self, stream: str, cursor: Mapping[str, Any] | None = None) -> Iterator[Page]:
        page = 1
        while True:
            try:
                data = self.http.get_json(f"api/{stream}", params={"page": page}, endpoint=f"GET /api/{stream}")
            except ScopeError as exc:
                raise ScopeError(exc.message, scope=f"{stream}:read", endpoint=exc.endpoint) from None
            records = [to_record(stream, item) for item in data["items"]]
            done = data["next"] is None
            yield Page(stream=stream, records=records, complete=done)
            if done:
                return
            page = data["next"]


# -- pytest fixtures (imported by the test modules; Django is imported lazily so a Celery
#    worker can import this module for the connector alone) ------------------------------------


@pytest.fixture
def fake_sandbox() -> Iterator[Callable[..., tuple[Sandbox, RunningServer]]]:
    """``sandbox, server = fake_sandbox(teams=3, ...)``: the fake vendor over real HTTP."""
    servers: list[RunningServer] = []

    def make(**options: Any) -> tuple[Sandbox, RunningServer]:
        sandbox = build(**options)
        server = serve(RequestLog(sandbox.app, sandbox.state))
        servers.append(server)
        return sandbox, server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def make_credential() -> Callable[..., Any]:
    """``make_credential(server, "tok-bob")``: a personal credential of the fake connector."""
    from dashboard.integrations.models import Connector, Credential
    from tests.factories import UserFactory

    def make(server_or_url: RunningServer | str, token: str = "tok-alice", *, username: str | None = None) -> Credential:  # noqa: S107
        url = server_or_url if isinstance(server_or_url, str) else server_or_url.url
        connector, _ = Connector.objects.get_or_create(name=f"Fake {url}", defaults={"vendor": "fake", "base_url": url})
        credential = Credential(connector=connector, owner=UserFactory(username=username or token.removeprefix("tok-")))
        credential.set_secret({"token": token})
        credential.save()
        return credential

    return make
