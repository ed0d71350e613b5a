"""The sandbox's WSGI application: Operately's plug chain in its order (CONTRACT.md §1).

1 parsers (malformed JSON 400, unsupported type 415) -> 2 match (405 / 400 / 404 plain text) ->
3 parse inputs (before auth!) -> 4 token (401 plain) -> 5 read-only (403 plain on every POST) ->
6 required fields (400 JSON) -> 7 dispatch (handler result to 200/400/403/404/500 JSON).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from .handlers import Ctx, HandlerError
from .inputs import ApiError, InputParser, bad_request
from .model import State
from .routes import HANDLERS, ROUTES
from .typenames import add_typenames

PREFIX = "/api/external/v1"
log = logging.getLogger("okrhub.sandbox.operately")


def _plain(status: int, text: str) -> ApiError:
    return ApiError(status, text, None)


class OperatelyApp:
    def __init__(self, state: State, profile: str = "2026-03") -> None:
        self.state = state
        self.profile = profile
        self.parser = InputParser(profile)
        self.routes = ROUTES[profile]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            content_type: str | None = "application/json"
            status, body = 200, json.dumps(self.handle(request), ensure_ascii=False, default=str)
        except ApiError as exc:
            status, body, content_type = exc.status, exc.body, exc.content_type
        response = Response(body, status=status)
        if content_type:
            response.headers["Content-Type"] = content_type
        else:
            del response.headers["Content-Type"]  # Operately sets none on these answers
        return response(environ, start_response)

    def handle(self, request: Request) -> dict[str, Any]:
        path = request.path
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            raise _plain(404, "Not Found")
        # 1. Plug.Parsers
        body: dict[str, Any] = {}
        if request.method == "POST":
            body = self._parse_body(request)
        # 2. Match
        if request.method not in ("GET", "POST"):
            raise _plain(405, "Method Not Allowed")
        name = path[len(PREFIX) :].strip("/")
        if not name:
            raise _plain(400, "Missing query name")
        if name.count("/") > 1:
            raise _plain(400, f"Invalid query name: {name}")
        spec = self.parser.endpoint(name)
        if request.method == "GET" and (spec is None or spec["method"] != "GET"):
            raise _plain(404, "Query not found")
        if request.method == "POST" and (spec is None or spec["method"] != "POST"):
            raise _plain(404, "Mutation not found")
        assert spec is not None
        # 3. ParseInputs (before authentication)
        if request.method == "GET":
            inputs = self.parser.parse_query(spec, parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True))
        elif isinstance(body.get("__form__"), list):
            inputs = self.parser.parse_query(spec, body["__form__"])
        else:
            inputs = self.parser.parse_body(spec, body)
        # 4. RequireApiToken
        token = self._token(request)
        # 5. EnforceTokenAccessMode
        if request.method == "POST" and token.read_only:
            raise _plain(403, "Read-only API tokens cannot execute mutations")
        # 6. RequiredFieldValidator
        missing = self.parser.missing_required(spec, inputs)
        if missing:
            raise bad_request(f"Missing required fields: {', '.join(missing)}", "application/json")
        # 7. Dispatch
        handler = HANDLERS.get(self.routes.get(name, ""))
        if handler is None:
            raise ApiError(
                500, {"error": "Internal server error", "message": f"{name} is not simulated by the OKR Hub sandbox"}, "application/json"
            )
        ctx = Ctx(state=self.state, viewer=token.person, namespaced="/" in name)
        try:
            with self.state.lock:
                out = handler(ctx, inputs)
            return add_typenames(self.profile, name, out) if self.profile == "2026-08" else out
        except HandlerError as exc:
            raise ApiError(exc.status, {"error": exc.error, "message": exc.message}, "application/json") from None
        except Exception:
            log.debug("handler %s failed", name, exc_info=True)
            raise ApiError(500, {"error": "Internal server error", "message": "An unexpected error occurred"}, "application/json") from None

    @staticmethod
    def _parse_body(request: Request) -> dict[str, Any]:
        data = request.get_data()
        mimetype = request.mimetype
        if mimetype == "application/json":
            if not data.strip():
                return {}
            try:
                parsed = json.loads(data)
            except ValueError:
                raise ApiError(400, {"errors": {"detail": "Bad Request"}}, "application/json") from None
            return parsed if isinstance(parsed, dict) else {"_json": parsed}
        if mimetype == "application/x-www-form-urlencoded":
            return {"__form__": parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True)}
        if not mimetype and not data:
            return {}
        raise _plain(415, "Unsupported Media Type")

    def _token(self, request: Request) -> Any:
        header = request.headers.get("Authorization", "")
        secret = header[len("Bearer ") :] if header.startswith("Bearer ") else header  # a bare token works too; "bearer" does not
        token = self.state.tokens.get(hashlib.sha256(secret.strip().encode()).hexdigest()) if secret else None
        if token is None or self.state.people[token.person].suspended:
            raise _plain(401, "Unauthorized")
        return token
