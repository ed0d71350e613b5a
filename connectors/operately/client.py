"""Operately external API client: endpoint names per profile, GET queries, POST mutations.

Two API profiles exist (vendor CONTRACT.md §0 and §11): ``2026-03`` with flat names
(``get_goals``) and ``2026-08`` with namespaced names (``goals/list``). The client detects the
profile from the answer to "who am I" (``get_me``, then ``people/get_me`` on 404
"Query not found") unless it is given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

from connectors.base import (
    ConnectorError,
    NotFound,
    PermanentError,
    ReadOnlyError,
    ScopeError,
    VendorValidationError,
)
from connectors.http import HttpSession, RetryPolicy

API_PREFIX = "api/external/v1/"
PROFILES = ("2026-03", "2026-08")

# Logical operation -> endpoint name, per profile. Add a profile by adding a column.
ENDPOINTS: dict[str, dict[str, str]] = {
    "2026-03": {
        "me": "get_me",
        "companies": "get_companies",
        "company": "get_company",
        "people": "get_people",
        "spaces": "get_spaces",
        "goals": "get_goals",
        "goal": "get_goal",
        "goal_check_ins": "goals/get_check_ins",
        "projects": "get_projects",
        "project": "get_project",
        "project_check_ins": "get_project_check_ins",
        "project_tasks": "tasks/list",
        "space_tasks": "spaces/list_tasks",
        "task": "get_task",
        "milestone": "get_milestone",
        "flat_work_map": "get_flat_work_map",
        "post_goal_check_in": "post_goal_progress_update",
        "post_project_check_in": "post_project_check_in",
        "update_target_value": "goals/update_target_value",
        "update_task_status": "tasks/update_status",
    },
    "2026-08": {
        "me": "people/get_me",
        "companies": "companies/list",
        "company": "companies/get",
        "people": "people/list",
        "spaces": "spaces/list",
        "goals": "goals/list",
        "goal": "goals/get",
        "goal_check_ins": "goals/list_check_ins",
        "projects": "projects/list",
        "project": "projects/get",
        "project_check_ins": "projects/list_check_ins",
        "project_tasks": "tasks/list",
        "space_tasks": "spaces/list_tasks",
        "task": "tasks/get",
        "milestone": "projects/get_milestone",
        "flat_work_map": "companies/get_flat_work_map",
        "post_goal_check_in": "goals/create_check_in",
        "post_project_check_in": "projects/create_check_in",
        "update_target_value": "goals/update_target_value",
        "update_task_status": "tasks/update_status",
    },
}

READ_ONLY_TEXT = "Read-only API tokens cannot execute mutations"
_FIELD_MESSAGES = (
    (re.compile(r"Missing required fields: (?P<fields>[\w, ]+)"), "is required"),
    (re.compile(r"Unknown input field: (?P<fields>\w+)"), "is not a field this Operately version accepts"),
    (re.compile(r"Field '(?P<fields>\w+)' cannot be null"), "cannot be empty"),
)


def field_errors_from(message: str) -> dict[str, list[str]]:
    """Operately's 400 bodies carry one message; turn the known shapes into per-field errors."""
    for pattern, text in _FIELD_MESSAGES:
        match = pattern.search(message)
        if match:
            return {name.strip(): [text] for name in match.group("fields").split(",") if name.strip()}
    return {}


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"  # only these exact strings parse (§1)
    return value


class OperatelyClient:
    def __init__(
        self, client: httpx.Client, token: str, *, policy: RetryPolicy | None = None, concurrency: int = 8, profile: str | None = None
    ) -> None:
        if profile is not None and profile not in PROFILES:
            raise ValueError(f"unknown Operately API profile {profile!r}; use one of {', '.join(PROFILES)}")
        token = token.strip()
        self.http = HttpSession(
            client, headers={"Authorization": f"Bearer {token}"}, secrets=[token], policy=policy, concurrency=concurrency
        )
        self.profile = profile
        self.me: dict[str, Any] | None = None

    @property
    def base_url(self) -> str:
        return str(self.http.client.base_url).rstrip("/")

    def name(self, operation: str) -> str:
        return ENDPOINTS[self.ensure_profile()][operation]

    # ---- profile detection ----------------------------------------------------------------

    def ensure_profile(self) -> str:
        if self.profile is None:
            self.me = self._detect()
        return self.profile or PROFILES[0]

    def _detect(self) -> dict[str, Any]:
        last: NotFound | None = None
        for profile in PROFILES:
            name = ENDPOINTS[profile]["me"]
            try:
                body = self._get(name, {})
            except NotFound as exc:
                if "Query not found" not in exc.message:
                    raise
                last = exc
                continue
            self.profile = profile
            me: dict[str, Any] = body.get("me") or {}
            return me
        raise PermanentError(
            "This server does not answer get_me or people/get_me: is the URL the Operately app address (e.g. https://app.operately.com)?",
            endpoint=last.endpoint if last else None,
            status=404,
        )

    def get_me(self) -> dict[str, Any]:
        if self.me is None:
            self.ensure_profile()
        if self.me is None:
            self.me = self.query("me").get("me") or {}
        return self.me

    # ---- requests -------------------------------------------------------------------------

    def query(self, operation: str, **params: Any) -> dict[str, Any]:
        return self._get(self.name(operation), params)

    def _get(self, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        endpoint = f"GET {name}"
        query = [(k, _query_value(v)) for k, v in params.items() if v is not None]  # never send key=null (§1)
        attempts = max(1, self.http.policy.max_attempts)
        for attempt in range(1, attempts + 1):
            response = self.http.send("GET", API_PREFIX + name, params=query, endpoint=endpoint)
            try:
                body = self.http.decode(response, endpoint)
            except PermanentError:
                # an HTML error page or a cut-off body from a proxy: read again, it is harmless
                if attempt == attempts:
                    raise
                self.http.sleep(self.http.policy.base_delay * attempt)
                continue
            if not isinstance(body, dict):
                raise PermanentError(
                    "Operately answered with something other than a JSON object", endpoint=endpoint, status=response.status_code
                )
            return body
        raise AssertionError("unreachable")  # pragma: no cover

    def mutate(self, operation: str, body: Mapping[str, Any]) -> dict[str, Any]:
        name = self.name(operation)
        endpoint = f"POST {name}"
        try:
            response = self.http.send("POST", API_PREFIX + name, json_body=dict(body), endpoint=endpoint)
        except ConnectorError as exc:
            raise self._refine(exc) from None
        decoded = self.http.decode(response, endpoint)
        if not isinstance(decoded, dict):
            raise PermanentError(
                "Operately answered with something other than a JSON object", endpoint=endpoint, status=response.status_code
            )
        return decoded

    @staticmethod
    def _refine(exc: ConnectorError) -> ConnectorError:
        """Operately-specific meaning of a refused mutation."""
        if isinstance(exc, ScopeError) and READ_ONLY_TEXT in exc.message:
            return ReadOnlyError(
                "This is a read-only API token: writes need a full-access token", scope="write", endpoint=exc.endpoint, status=403
            )
        if isinstance(exc, ScopeError):
            return ScopeError("You may view this item in Operately but not edit it", scope="edit", endpoint=exc.endpoint, status=403)
        if isinstance(exc, VendorValidationError) and not exc.field_errors:
            exc.field_errors = field_errors_from(exc.message)
        return exc

    def probe_write_access(self) -> bool:
        """True if the token may write. Sends a check-in with no fields: read-only tokens are
        refused (403) before the required-field check, full tokens get 400 (§1 order). Nothing
        is written either way."""
        try:
            self.mutate("post_goal_check_in", {})
        except ReadOnlyError:
            return False
        except VendorValidationError:
            return True
        return True

    @staticmethod
    def json_list(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))
