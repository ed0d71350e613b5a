"""North endpoints on top of ``HttpSession``: auth header, both list styles, scope names.

Lists arrive as a bare JSON array or as a page object ``{"count", "next", "previous",
"results"}``; ``iter_list`` follows ``next`` until null and refuses a ``next`` link it has already
followed (a loop) or one that leaves the vendor's origin.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from connectors.base import PermanentError, ReadOnlyError, ScopeError
from connectors.http import HttpSession

SCOPE_BASIC = "Basic"
SCOPE_ORG = "Org management"
SCOPE_OKRS = "OKRs and initiatives"
ITEM_PATHS = {"goal": "goals", "key_result": "key_results", "initiative": "initiatives"}
MAX_PAGES = 100_000  # a sanity stop far above any real org


def scope_of(path: str) -> str:
    """The token scope an API path needs (the published page groups endpoints by scope)."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts[:2] in (["api", "user"], ["api", "users"]):
        return SCOPE_BASIC
    if len(parts) >= 4 and parts[:2] == ["api", "orgs"] and parts[3] in ITEM_PATHS.values():
        return SCOPE_OKRS
    return SCOPE_ORG


class NorthClient:
    def __init__(self, session: HttpSession) -> None:
        self.session = session
        self.origin = _origin(session.client.base_url)

    # ------------------------------------------------------------------ plumbing
    def _scoped(self, error: ScopeError, path: str, *, write: bool = False) -> ScopeError:
        """Name the missing scope. A 403 that is about permission, not scope, on a write is read-only."""
        scope = scope_of(path)
        detail = error.message
        if write and "scope" not in detail.lower():
            return ReadOnlyError(f"North refused the change: {detail}", scope=None, endpoint=error.endpoint)
        return ScopeError(f"The North token lacks the '{scope}' scope or access ({detail})", scope=scope, endpoint=error.endpoint)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        endpoint = f"GET /{path.lstrip('/')}"
        try:
            return self.session.get_json(path, params=params, endpoint=endpoint)
        except ScopeError as exc:
            raise self._scoped(exc, path) from None

    def iter_list(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[Any]]:
        """Yield each page of a list endpoint as a list of items."""
        endpoint = f"GET /{path.lstrip('/')}"
        url: str = path
        query: Mapping[str, Any] | None = params
        followed: set[str] = set()
        for _ in range(MAX_PAGES):
            try:
                body = self.session.get_json(url, params=query, endpoint=endpoint)
            except ScopeError as exc:
                raise self._scoped(exc, path) from None
            if isinstance(body, list):
                yield body
                return
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise PermanentError(
                    f"North answered a list request with {type(body).__name__}, not a list or a page object", endpoint=endpoint
                )
            yield body["results"]
            next_link = body.get("next")
            if not next_link:
                return
            if not isinstance(next_link, str):
                raise PermanentError(f"North sent a next link that is not a URL: {next_link!r}", endpoint=endpoint)
            absolute = str(self.session.client.base_url.join(url if url.startswith("http") else url.lstrip("/")).join(next_link))
            if _origin(httpx.URL(absolute)) != self.origin:
                raise PermanentError("North sent a next link to another host; refusing to follow it", endpoint=endpoint)
            if absolute in followed:
                raise PermanentError(f"North repeated the next link {absolute}; stopping instead of looping", endpoint=endpoint)
            followed.add(absolute)
            url, query = absolute, None
        raise PermanentError(f"More than {MAX_PAGES} pages; stopping", endpoint=endpoint)

    def all(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        return [item for page in self.iter_list(path, params) for item in page]

    def write(self, method: str, path: str, body: Any = None) -> Any:
        endpoint = f"{method} /{path.lstrip('/')}"
        try:
            response = self.session.send(method, path, json_body=body, endpoint=endpoint)
        except ScopeError as exc:
            raise self._scoped(exc, path, write=True) from None
        return self.session.decode(response, endpoint)

    # ------------------------------------------------------------------ endpoints
    def current_user(self) -> Any:
        return self.get("api/user/")

    def user(self, user_id: str) -> Any:
        return self.get(f"api/users/{user_id}/")

    def orgs(self) -> list[Any]:
        return self.all("api/orgs/")

    def org(self, org_id: str) -> Any:
        return self.get(f"api/orgs/{org_id}/")

    def teams(self, org_id: str) -> Iterator[list[Any]]:
        return self.iter_list(f"api/orgs/{org_id}/teams/")

    def memberships(self, org_id: str, team_id: str) -> list[Any]:
        return self.all(f"api/orgs/{org_id}/teams/{team_id}/memberships/")

    def items(self, org_id: str, kind: str, params: Mapping[str, Any] | None = None) -> Iterator[list[Any]]:
        return self.iter_list(f"api/orgs/{org_id}/{ITEM_PATHS[kind]}/", params)

    def item(self, org_id: str, kind: str, item_id: str) -> Any:
        return self.get(f"api/orgs/{org_id}/{ITEM_PATHS[kind]}/{item_id}/")

    def events(self, org_id: str, kind: str, item_id: str) -> list[Any]:
        return self.all(f"api/orgs/{org_id}/{ITEM_PATHS[kind]}/{item_id}/events/")

    def membership_path(self, org_id: str, team_id: str, user_id: str) -> str:
        return f"api/orgs/{org_id}/teams/{team_id}/memberships/{user_id}/"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)
