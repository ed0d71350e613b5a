"""OGSM API endpoints (vendors/ogsm/002_13548e126a47888e.txt), on connectors.http.HttpSession.

HTTP Basic auth; JSON bodies; every list is one JSON array (no pagination). Objectives and
goals exist on newer tenants only: a 404 there means "not offered", answered as ``None``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from connectors.base import NotFound, PermanentError
from connectors.http import HttpSession, RetryPolicy

ACTIONS = "api/v2/actions.json"
OPTIONAL_RESOURCES = {"objectives": "api/v2/objectives.json", "goals": "api/v2/goals.json"}


@dataclass(frozen=True)
class Listing:
    """A list answer as the vendor sent it. A stream that needs a list another stream of the same
    run already fetched parses these bytes again instead of asking twice; bytes are several times
    smaller than the parsed objects (5,000 actions)."""

    endpoint: str
    response: httpx.Response


def action_path(action_id: str | int) -> str:
    # Quoted so an id can never walk to another path.
    return f"api/v2/actions/{quote(str(action_id), safe='')}.json"


def basic_auth(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class OgsmClient:
    def __init__(
        self, client: httpx.Client, username: str, password: str, *, policy: RetryPolicy | None = None, concurrency: int = 8
    ) -> None:
        auth = basic_auth(username, password)
        self.session = HttpSession(
            client,
            headers={"Authorization": auth},
            secrets=(password, auth, auth.split(" ", 1)[1]),
            policy=policy,
            concurrency=concurrency,
        )

    @property
    def requests_made(self) -> int:
        return self.session.requests_made

    def fetch_listing(self, resource: str) -> Listing | None:
        """GET one list ("actions", "objectives" or "goals") and keep the answer unparsed;
        ``None`` when the tenant does not offer an optional resource (404)."""
        path = ACTIONS if resource == "actions" else OPTIONAL_RESOURCES[resource]
        endpoint = f"GET /{path}"
        try:
            response = self.session.send("GET", path, endpoint=endpoint)
        except NotFound:
            if resource == "actions":
                raise  # actions always exist: a 404 is a wrong base URL, never "no actions"
            return None
        return Listing(endpoint, response)

    def items(self, listing: Listing) -> list[Mapping[str, Any]]:
        """The objects of a list answer (parsed again on every call: the answer is kept as bytes)."""
        body = self.session.decode(listing.response, listing.endpoint)
        if not isinstance(body, list):
            # A vendor change (or a proxy page): fail the stream rather than read "nothing".
            raise PermanentError(f"Expected a JSON array, got {type(body).__name__}", endpoint=listing.endpoint)
        return [item for item in body if isinstance(item, Mapping)]

    def list_actions(self) -> list[Mapping[str, Any]]:
        listing = self.fetch_listing("actions")
        return self.items(listing) if listing is not None else []

    def list_optional(self, resource: str) -> list[Mapping[str, Any]] | None:
        """Objectives or goals; ``None`` when this tenant does not offer the resource (404)."""
        listing = self.fetch_listing(resource)
        return self.items(listing) if listing is not None else None

    def get_action(self, action_id: str) -> Mapping[str, Any] | None:
        """One action through the unpublished single-item endpoint (NOTES.md assumption);
        ``None`` when the tenant answers 404 or 405 there, so callers fall back to the list."""
        path = action_path(action_id)
        try:
            body = self.session.get_json(path, endpoint="GET /api/v2/actions/<id>.json")
        except NotFound:
            return None
        except PermanentError as exc:
            if exc.status == 405:
                return None
            raise
        return body if isinstance(body, Mapping) else None

    def _write(self, method: str, path: str, endpoint: str, body: Mapping[str, Any] | None) -> Any:
        response = self.session.send(method, path, json_body=dict(body) if body is not None else None, endpoint=endpoint)
        return self.session.decode(response, endpoint)

    def create_action(self, body: Mapping[str, Any]) -> Any:
        return self._write("POST", ACTIONS, "POST /api/v2/actions.json", body)

    def update_action(self, action_id: str, body: Mapping[str, Any]) -> Any:
        return self._write("PATCH", action_path(action_id), "PATCH /api/v2/actions/<id>.json", body)

    def delete_action(self, action_id: str) -> Any:
        return self._write("DELETE", action_path(action_id), "DELETE /api/v2/actions/<id>.json", None)
