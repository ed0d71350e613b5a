"""The OGSM API as a WSGI app (werkzeug), served from an OgsmState.

Routes (vendors/ogsm/002_13548e126a47888e.txt and NOTES.md):
    GET    /api/v2/actions.json          every action, one JSON array
    POST   /api/v2/actions.json          create; answers the created action (201)
    GET    /api/v2/actions/<id>.json     one action (an assumption: not published)
    PATCH  /api/v2/actions/<id>.json     partial update; answers the whole action
    DELETE /api/v2/actions/<id>.json     answers the deleted action
    GET    /api/v2/objectives.json       newer tenants only (404 elsewhere)
    GET    /api/v2/goals.json            newer tenants only (404 elsewhere)
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.ogsm.sandbox.data import OgsmState, OgsmUser, RecordedRequest
from connectors.ogsm.sandbox.validation import validate_action
from connectors.sandbox_kit import json_response

ACTION_PATH = re.compile(r"^/api/v2/actions/(?P<id>[^/]+)\.json$")
OWNER_ONLY = "Only the team admin or the action owner may edit this action"


class Refusal(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _not_found() -> Refusal:
    return Refusal(404, {"error": "Not found"})


class OgsmApp:
    def __init__(self, state: OgsmState) -> None:
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            username=None,
            content_type=request.headers.get("Content-Type", ""),
            body=_recorded_body(request),
        )
        try:
            user = self._authenticate(request)
            record.username = user.username
            response = self._route(request, user)
        except Refusal as refusal:
            response = json_response(refusal.body, status=refusal.status, headers=refusal.headers)
        record.status = response.status_code
        with self.state.lock:
            self.state.requests.append(record)
        return response(environ, start_response)

    # ------------------------------------------------------------------ plumbing

    def _authenticate(self, request: Request) -> OgsmUser:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "basic" and token:
            try:
                username, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                username, password = "", ""
            user = self.state.users.get(username)
            if user is not None and user.password == password:
                return user
        raise Refusal(401, {"error": "Invalid username or password"}, {"WWW-Authenticate": 'Basic realm="OGSM API"'})

    def _json_body(self, request: Request) -> dict[str, Any]:
        mimetype = request.mimetype
        if mimetype != "application/json":
            shown = mimetype or "none"
            raise Refusal(
                415,
                {"error": f"Unsupported Content-Type {shown!r}: send the action as a JSON object with Content-Type: application/json"},
            )
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError as exc:
            raise Refusal(400, {"error": f"The body is not valid JSON: {exc}"}) from None
        if not isinstance(body, dict):
            raise Refusal(400, {"error": "The body must be a JSON object (an action)"})
        return body

    def _route(self, request: Request, user: OgsmUser) -> Response:
        path, method = request.path, request.method
        if path == "/api/v2/actions.json":
            if method == "GET":
                with self.state.lock:
                    return json_response(list(self.state.actions.values()))
            if method == "POST":
                return self._create(request, user)
            raise Refusal(405, {"error": f"Method {method} not allowed here"}, {"Allow": "GET, POST"})
        if path in ("/api/v2/objectives.json", "/api/v2/goals.json"):
            items = self.state.objectives if "objectives" in path else self.state.goals
            if items is None:
                raise _not_found()  # an older tenant: the resource does not exist
            if method != "GET":
                raise Refusal(405, {"error": "This resource is read-only"}, {"Allow": "GET"})
            with self.state.lock:
                return json_response(list(items.values()))
        match = ACTION_PATH.match(path)
        if match:
            action_id = int(match["id"]) if match["id"].isdigit() else -1
            if method == "GET":
                with self.state.lock:
                    return json_response(self._existing(action_id))
            if method == "PATCH":
                return self._update(request, user, action_id)
            if method == "DELETE":
                return self._delete(user, action_id)
            raise Refusal(405, {"error": f"Method {method} not allowed here"}, {"Allow": "GET, PATCH, DELETE"})
        raise _not_found()

    def _existing(self, action_id: int) -> dict[str, Any]:
        action = self.state.actions.get(action_id)
        if action is None:
            raise _not_found()
        return action

    def _may_edit(self, user: OgsmUser, action: dict[str, Any]) -> None:
        assignee = action.get("assignee") or {}
        if not user.admin and assignee.get("name") != user.name:
            raise Refusal(403, {"error": OWNER_ONLY})

    # ------------------------------------------------------------------ writes

    def _create(self, request: Request, user: OgsmUser) -> Response:
        body = self._json_body(request)
        with self.state.lock:
            clean, errors = validate_action(body, creating=True, current=None, statuses=self.state.statuses, canvases=self.state.canvases)
            if errors:
                raise Refusal(422, errors)
            action_id = self.state.next_action_id
            self.state.next_action_id += 1
            action: dict[str, Any] = {
                "id": action_id,
                "title": clean["title"],
                "labels": [],
                "strategies": [],
                "description": None,
                "assignee": {"name": user.name} if not user.admin else None,
                "involved": [],
                "start": None,
                "due": None,
                "status": clean["status"],
                "ogsm_canvases": clean["ogsm_canvases"],
                "traffic_light": None,
                "progress": 0,
                "archived": False,
            }
            action.update(clean)
            self.state.actions[action_id] = action
            return json_response(copy.deepcopy(action), status=201)

    def _update(self, request: Request, user: OgsmUser, action_id: int) -> Response:
        with self.state.lock:
            action = self._existing(action_id)
            self._may_edit(user, action)
        body = self._json_body(request)
        with self.state.lock:
            action = self._existing(action_id)
            clean, errors = validate_action(
                body, creating=False, current=action, statuses=self.state.statuses, canvases=self.state.canvases
            )
            if errors:
                raise Refusal(422, errors)
            action.update(clean)
            return json_response(copy.deepcopy(action))

    def _delete(self, user: OgsmUser, action_id: int) -> Response:
        with self.state.lock:
            action = self._existing(action_id)
            self._may_edit(user, action)
            del self.state.actions[action_id]
            return json_response(action)


def _recorded_body(request: Request) -> Any:
    raw = request.get_data(cache=True, as_text=True)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw
