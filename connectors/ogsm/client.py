"""OGSM API endpoints (vendors/ogsm/002_13548e126a47888e.txt), on connectors.http.HttpSession.

HTTP Basic auth; JSON bodies; every list is one JSON array (no pagination). Objectives and
goals exist on newer tenants only: a 404 there means "not offered", answered as ``None``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from connectors.base import NotFound, PermanentError
from connectors.http import HttpSession, RetryPolicy

ACTIONS = "api/v2/actions.json"
OPTIONAL_RESOURCES = {"objectives": "api/v2/objectives.json", "goals": "api/v2/goals.json"}


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

    def _list(self, path: str, endpoint: str) -> list[Mapping[str, Any]]:
        body = self.session.get_json(path, endpoint=endpoint)
        if not isinstance(body, list):
            # A vendor change (or a proxy page): fail the stream rather than read "nothing".
            raise PermanentError(f"Expected a JSON array, got {type(body).__name__}", endpoint=endpoint)
        return [item for item in body if isinstance(item, Mapping)]

    def list_actions(self) -> list[Mapping[str, Any]]:
        return self._list(ACTIONS, "GET /api/v2/actions.json")

    def list_optional(self, resource: str) -> list[Mapping[str, Any]] | None:
        """Objectives or goals; ``None`` when this tenant does not offer the resource (404)."""
        path = OPTIONAL_RESOURCES[resource]
        try:
            return self._list(path, f"GET /{path}")
        except NotFound:
            return None

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
