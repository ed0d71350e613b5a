"""The North API as a WSGI app: every endpoint of the published page, scopes, visibility, lists.

Errors are Django-REST-style (``NOTES.md``): ``401/403/404 {"detail": ...}``, ``400 {"field": [...]}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connectors.north.sandbox import nql
from connectors.north.sandbox.data import (
    INITIATIVE_STATUSES,
    MEMBERSHIP_TYPES,
    SCOPE_BASIC,
    SCOPE_OKRS,
    SCOPE_ORG,
    STATUSES,
    NorthState,
    TokenInfo,
)
from connectors.sandbox_kit import json_response

PUBLIC_USER_FIELDS = ("first_name", "id", "last_name", "otype", "photo_id")
CURRENT_USER_FIELDS = (*PUBLIC_USER_FIELDS, "has_saved_profile", "referral_details", "referral_sources", "work_function", "work_level")
MEMBER_USER_FIELDS = ("email", "first_name", "id", "last_login", "last_name", "otype", "photo_id", "work_function", "work_level")

_ITEMS = {"goals": "goal", "key_results": "key_result", "initiatives": "initiative"}

URLS = Map(
    [
        Rule("/api/user/", endpoint="current_user", methods=["GET"]),
        Rule("/api/users/<int:user_id>/", endpoint="user", methods=["GET"]),
        Rule("/api/orgs/", endpoint="orgs", methods=["GET"]),
        Rule("/api/orgs/<int:org_id>/", endpoint="org", methods=["GET"]),
        Rule("/api/orgs/<int:org_id>/teams/", endpoint="teams", methods=["GET"]),
        Rule("/api/orgs/<int:org_id>/teams/<int:team_id>/", endpoint="team", methods=["GET"]),
        Rule("/api/orgs/<int:org_id>/teams/<int:team_id>/memberships/", endpoint="memberships", methods=["GET"]),
        Rule(
            "/api/orgs/<int:org_id>/teams/<int:team_id>/memberships/<int:user_id>/",
            endpoint="membership",
            methods=["GET", "PATCH", "DELETE"],
        ),
        *[
            rule
            for path in _ITEMS
            for rule in (
                Rule(f"/api/orgs/<int:org_id>/{path}/", endpoint="item_list", defaults={"path": path}, methods=["GET"]),
                Rule(f"/api/orgs/<int:org_id>/{path}/<int:item_id>/", endpoint="item_detail", defaults={"path": path}, methods=["GET"]),
                Rule(
                    f"/api/orgs/<int:org_id>/{path}/<int:item_id>/events/", endpoint="item_events", defaults={"path": path}, methods=["GET"]
                ),
            )
        ],
    ],
    merge_slashes=False,
)

SCOPE_OF = {
    "current_user": SCOPE_BASIC,
    "user": SCOPE_BASIC,
    "orgs": SCOPE_ORG,
    "org": SCOPE_ORG,
    "teams": SCOPE_ORG,
    "team": SCOPE_ORG,
    "memberships": SCOPE_ORG,
    "membership": SCOPE_ORG,
    "item_list": SCOPE_OKRS,
    "item_detail": SCOPE_OKRS,
    "item_events": SCOPE_OKRS,
}


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def _not_found() -> ApiError:
    return ApiError(404, {"detail": "Not found."})


class NorthApp:
    def __init__(self, state: NorthState) -> None:
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except ApiError as exc:
            response = json_response(exc.body, status=exc.status)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = URLS.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except MethodNotAllowed:
            raise ApiError(405, {"detail": f'Method "{request.method}" not allowed.'}) from None
        except NotFound:
            raise _not_found() from None
        except HTTPException:  # e.g. a redirect for a missing slash: North paths all end in "/"
            raise _not_found() from None
        token = self.authenticate(request)
        scope = SCOPE_OF[endpoint]
        if scope not in token.scopes:
            raise ApiError(403, {"detail": f"This token lacks the '{scope}' scope."})
        with self.state.lock:
            handler = getattr(self, f"do_{endpoint}")
            return handler(request, token, **args)  # type: ignore[no-any-return]

    def authenticate(self, request: Request) -> TokenInfo:
        header = request.headers.get("Authorization", "")
        if not header:
            raise ApiError(401, {"detail": "Authentication credentials were not provided."})
        kind, _, token = header.partition(" ")
        info = self.state.tokens.get(token.strip()) if kind.lower() == "bearer" else None
        if info is None or info.user_id not in self.state.users:
            raise ApiError(401, {"detail": "Invalid token."})
        return info

    # ------------------------------------------------------------------ lists
    def listing(self, request: Request, items: list[dict[str, Any]]) -> Response:
        """A bare array, or (with a page size) a page object with ``next``/``previous`` links."""
        size = self.state.page_size
        if not size:
            return json_response(items)
        raw_page = request.args.get("page", "1")
        try:
            page = int(raw_page)
        except ValueError:
            raise ApiError(404, {"detail": "Invalid page."}) from None
        last = max(1, -(-len(items) // size))
        if page < 1 or page > last:
            raise ApiError(404, {"detail": "Invalid page."})

        def link(number: int) -> str:
            args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
            if number > 1:
                args.append(("page", str(number)))
            return request.base_url + ("?" + urlencode(args) if args else "")

        next_link = link(page + 1) if page < last else None
        if self.state.repeat_next_link and page >= 2:
            next_link = link(page)  # misbehaving vendor: the same page again
        body = {
            "count": len(items),
            "next": next_link,
            "previous": link(page - 1) if page > 1 else None,
            "results": items[(page - 1) * size : page * size],
        }
        return json_response(body)

    # ------------------------------------------------------------------ users
    def do_current_user(self, request: Request, token: TokenInfo) -> Response:
        user = self.state.users[token.user_id]
        return json_response({k: user[k] for k in CURRENT_USER_FIELDS})

    def do_user(self, request: Request, token: TokenInfo, user_id: int) -> Response:
        user = self.state.users.get(user_id)
        if user is None:
            raise _not_found()
        return json_response({k: user[k] for k in PUBLIC_USER_FIELDS})

    # ------------------------------------------------------------------ orgs and teams
    def org_for(self, token: TokenInfo, org_id: int) -> dict[str, Any]:
        org = self.state.org
        if org_id != org["id"] or not self.state.is_org_member(token.user_id):
            raise _not_found()
        return org

    def do_orgs(self, request: Request, token: TokenInfo) -> Response:
        orgs = [dict(self.state.org)] if self.state.is_org_member(token.user_id) else []
        return self.listing(request, orgs)

    def do_org(self, request: Request, token: TokenInfo, org_id: int) -> Response:
        return json_response({**self.org_for(token, org_id), "feature_summary": {"allow_tasks": True}})

    def team_for(self, token: TokenInfo, org_id: int, team_id: int) -> dict[str, Any]:
        self.org_for(token, org_id)
        if team_id not in self.state.visible_team_ids(token.user_id):
            raise _not_found()
        return self.state.teams[team_id]

    def do_teams(self, request: Request, token: TokenInfo, org_id: int) -> Response:
        self.org_for(token, org_id)
        visible = self.state.visible_team_ids(token.user_id)
        teams = sorted((t for t in self.state.teams.values() if t["id"] in visible), key=lambda t: (t["parent_id"] is not None, t["name"]))
        return self.listing(request, teams)

    def do_team(self, request: Request, token: TokenInfo, org_id: int, team_id: int) -> Response:
        return json_response(self.team_for(token, org_id, team_id))

    def membership_json(self, team_id: int, user_id: int) -> dict[str, Any]:
        user = self.state.users[user_id]
        return {"type": self.state.memberships[team_id][user_id], "user": {k: user[k] for k in MEMBER_USER_FIELDS}, "user_id": user_id}

    def do_memberships(self, request: Request, token: TokenInfo, org_id: int, team_id: int) -> Response:
        self.team_for(token, org_id, team_id)
        members = self.state.memberships.get(team_id, {})
        return self.listing(request, [self.membership_json(team_id, uid) for uid in members])

    def do_membership(self, request: Request, token: TokenInfo, org_id: int, team_id: int, user_id: int) -> Response:
        self.team_for(token, org_id, team_id)
        members = self.state.memberships.get(team_id, {})
        if user_id not in members:
            raise _not_found()
        if request.method == "GET":
            return json_response(self.membership_json(team_id, user_id))
        root = self.state.org["root_team_id"]
        may_manage = members.get(token.user_id) == "owner" or self.state.memberships[root].get(token.user_id) == "owner"
        if not may_manage:
            raise ApiError(403, {"detail": "You do not have permission to perform this action."})
        if request.method == "PATCH":
            try:
                body = json.loads(request.get_data(as_text=True) or "null")
            except ValueError:
                raise ApiError(400, {"detail": "JSON parse error."}) from None
            if not isinstance(body, dict) or "type" not in body:
                raise ApiError(400, {"type": ["This field is required."]})
            if body["type"] not in MEMBERSHIP_TYPES:
                raise ApiError(400, {"type": [f'"{body["type"]}" is not a valid choice.']})
            members[user_id] = body["type"]
            self.state.memberships_changed()
            return json_response(self.membership_json(team_id, user_id))
        # DELETE: from the root team it removes the person from every team of the org
        teams = list(self.state.memberships) if team_id == root else [team_id]
        for tid in teams:
            self.state.memberships[tid].pop(user_id, None)
        self.state.memberships_changed()
        return Response(status=204)

    # ------------------------------------------------------------------ goals, KRs, initiatives
    def visible_items(self, token: TokenInfo, path: str) -> list[dict[str, Any]]:
        visible = self.state.visible_team_ids(token.user_id)
        return [i for i in self.state.items_of(_ITEMS[path]).values() if i["team_id"] in visible]

    def do_item_list(self, request: Request, token: TokenInfo, org_id: int, path: str) -> Response:
        self.org_for(token, org_id)
        items = self.visible_items(token, path)
        filters = ITEM_FILTERS[path]
        unknown_ok = {"page"}
        for name, value in request.args.items():
            if name in unknown_ok or name not in filters:
                continue  # unknown query parameters are ignored, as Django REST does
            items = filters[name](self.state, items, value, name)
        if path == "initiatives" and request.args.get("nql"):
            try:
                query = nql.parse(request.args["nql"])
            except nql.NQLError as exc:
                raise ApiError(400, {"nql": [str(exc)]}) from None
            items = query.apply(items)
        return self.listing(request, [self.state.body_style.item(i) for i in items])

    def item_for(self, token: TokenInfo, org_id: int, path: str, item_id: int) -> dict[str, Any]:
        self.org_for(token, org_id)
        item = self.state.items_of(_ITEMS[path]).get(item_id)
        if item is None or item["team_id"] not in self.state.visible_team_ids(token.user_id):
            raise _not_found()
        return item

    def do_item_detail(self, request: Request, token: TokenInfo, org_id: int, path: str, item_id: int) -> Response:
        return json_response(self.state.body_style.item(self.item_for(token, org_id, path, item_id)))

    def do_item_events(self, request: Request, token: TokenInfo, org_id: int, path: str, item_id: int) -> Response:
        self.item_for(token, org_id, path, item_id)
        style = self.state.body_style
        return self.listing(request, [style.event(item_id, e) for e in self.state.events_for(_ITEMS[path], item_id)])


# ---------------------------------------------------------------------- filters

Filter = Callable[[NorthState, list[dict[str, Any]], str, str], list[dict[str, Any]]]


def _int_arg(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, {name: ["A valid integer is required."]}) from None


def _bool_arg(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ApiError(400, {name: ["Must be true or false."]})
    return lowered == "true"


def _owns(item: dict[str, Any], user_id: int, *, primary: bool) -> bool:
    return any(o.get("user_id") == user_id and (o.get("is_primary") or not primary) for o in item.get("owners") or ())


def _by_field(field: str) -> Filter:
    def apply(state: NorthState, items: list[dict[str, Any]], value: str, name: str) -> list[dict[str, Any]]:
        wanted = _int_arg(value, name)
        return [i for i in items if i.get(field) == wanted]

    return apply


def _by_flag(field: str) -> Filter:
    def apply(state: NorthState, items: list[dict[str, Any]], value: str, name: str) -> list[dict[str, Any]]:
        wanted = _bool_arg(value, name)
        return [i for i in items if bool(i.get(field)) == wanted]

    return apply


def _by_status(choices: tuple[str, ...]) -> Filter:
    def apply(state: NorthState, items: list[dict[str, Any]], value: str, name: str) -> list[dict[str, Any]]:
        if value not in choices:
            raise ApiError(400, {name: [f"Select a valid choice. {value} is not one of the available choices."]})
        return [i for i in items if i.get("status") == value]

    return apply


def _goal_owner(*, goals: bool, krs: bool, primary: bool) -> Filter:
    """Goals whose owners (``goals``) or whose KRs' owners (``krs``) include the user."""

    def apply(state: NorthState, items: list[dict[str, Any]], value: str, name: str) -> list[dict[str, Any]]:
        user_id = _int_arg(value, name)

        def match(goal: dict[str, Any]) -> bool:
            if goals and _owns(goal, user_id, primary=primary):
                return True
            return krs and any(_owns(state.key_results[k], user_id, primary=primary) for k in state.krs_by_goal.get(goal["id"], ()))

        return [g for g in items if match(g)]

    return apply


def _kr_owner(*, primary: bool) -> Filter:
    """KRs the user owns, or whose goal the user owns ("owner of goals or KRs")."""

    def apply(state: NorthState, items: list[dict[str, Any]], value: str, name: str) -> list[dict[str, Any]]:
        user_id = _int_arg(value, name)
        return [
            k
            for k in items
            if _owns(k, user_id, primary=primary)
            or (k.get("goal_id") in state.goals and _owns(state.goals[k["goal_id"]], user_id, primary=primary))
        ]

    return apply


def _initiative_owner(state: NorthState, items: list[dict[str, Any]], value: str, name: str) -> list[dict[str, Any]]:
    user_id = _int_arg(value, name)
    return [i for i in items if _owns(i, user_id, primary=False)]


ITEM_FILTERS: dict[str, dict[str, Filter]] = {
    "goals": {
        "team_id": _by_field("team_id"),
        "owner_id": _goal_owner(goals=True, krs=True, primary=False),
        "primary_owner_id": _goal_owner(goals=True, krs=True, primary=True),
        "goal_owner_id": _goal_owner(goals=True, krs=False, primary=False),
        "primary_goal_owner_id": _goal_owner(goals=True, krs=False, primary=True),
        "kr_owner_id": _goal_owner(goals=False, krs=True, primary=False),
        "primary_kr_owner_id": _goal_owner(goals=False, krs=True, primary=True),
        "is_archived": _by_flag("is_archived"),
        "parent_id": _by_field("parent_id"),
    },
    "key_results": {
        "team_id": _by_field("team_id"),
        "owner_id": _kr_owner(primary=False),
        "primary_owner_id": _kr_owner(primary=True),
        "status": _by_status(STATUSES),
        "is_archived": _by_flag("is_archived"),
    },
    "initiatives": {
        "team_id": _by_field("team_id"),
        "owner_id": _initiative_owner,
        "status": _by_status(INITIATIVE_STATUSES),
        "is_archived": _by_flag("is_archived"),
        "is_closed": _by_flag("is_closed"),
    },
}
