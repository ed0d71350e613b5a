"""The in-memory North org: state, visibility, lazily generated events (generation: ``generate.py``).

Items are kept as the JSON objects the API serves (shapes from ``NOTES.md``). Events are not
stored: each item keeps a small plan (number of check-ins, age of the newest) and its events are
generated on request from a per-item seed, so a 500-team org stays small in memory. Events added
at run time (tests) live in ``extra_events`` and bump the item's ``updated_at``.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.north.sandbox.styles import BodyStyle

SCOPE_BASIC = "Basic"
SCOPE_ORG = "Org management"
SCOPE_OKRS = "OKRs and initiatives"
ALL_SCOPES = frozenset({SCOPE_BASIC, SCOPE_ORG, SCOPE_OKRS})

MEMBERSHIP_TYPES = ("owner", "regular", "guest", "guest-no-access")
STATUSES = ("on-track", "behind", "at-risk")
INITIATIVE_STATUSES = ("not-started", "on-track", "behind", "at-risk", "done")
OUTCOMES = ("completed", "partial", "missed", "dropped")
PRIORITIES = ("High", "Medium", "Low")
ITEM_KINDS = ("goal", "key_result", "initiative")

ALYSSA, BEN = 2, 3  # the example users of the published page
FIRST_NAMES = ("Louis", "Zoë", "Łukasz", "Amara", "Kenji", "Ingrid", "José", "Priya", "Noah", "Chloé", "Mehmet", "Ana", "Olu")
LAST_NAMES = ("D Fect", "Lu Ator", "Reasoner", "Ødegård", "Żółw", "Okafor", "Tanaka", "Berg", "Muñoz", "Raman", "Smith", "Dubois", "Yildiz")
TEAM_WORDS = ("Engineering", "Design", "HR", "Sales", "Marketing", "Support", "Finance", "Platform", "Data", "Growth", "Legal", "Ops")
GOAL_NAMES = (
    "Grow ARR to {n}M",
    "Reduce churn below {n}%",
    "Launch the partner programme in {n} regions",
    "Hire {n} engineers",
    "Cut p95 latency to {n}0 ms",
    "Réduire le délai de livraison à {n} jours — équipe 🚀",
    "<b>Ship</b> v{n} & <script>alert('x')</script> fixes",
    "提高客户满意度到 {n}0%",
)
KR_NAMES = (
    "Sign {n}0 new enterprise customers",
    "Reduce open incidents from {n}0 to {n}",
    "NPS above {n}0",
    "Close {n} <i>critical</i> bugs",
    "Ticket backlog ≤ {n}0",
)
INITIATIVE_NAMES = (
    "Launch partner portal {n}",
    "Migrate billing to v{n}",
    "Run {n} customer interviews",
    "Refactor <em>search</em> & filters ({n})",
    "Überarbeitung des Onboardings {n}",
)
DESCRIPTIONS = (
    "",
    "Why: customers asked for it.",
    '<p>Why: <strong>customers</strong> asked.</p><script>alert(1)</script><a href="javascript:alert(1)" onclick="x()">see</a>',
)
COMMENTS = ("On plan.", "Two deals slipped", "Blocked by <b>legal</b> review", "Needs help from Platform 🙏", "")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def token_for(seed: int, label: str) -> str:
    return "nt_" + hashlib.sha256(f"north:{seed}:{label}".encode()).hexdigest()[:32]


@dataclass
class TokenInfo:
    user_id: int
    scopes: frozenset[str]


@dataclass
class NorthState:
    """The in-memory org. Handlers hold ``lock`` while they read or change it."""

    seed: int
    now: datetime
    org: dict[str, Any]
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    teams: dict[int, dict[str, Any]] = field(default_factory=dict)
    memberships: dict[int, dict[int, str]] = field(default_factory=dict)  # team -> user -> type
    goals: dict[int, dict[str, Any]] = field(default_factory=dict)
    key_results: dict[int, dict[str, Any]] = field(default_factory=dict)
    initiatives: dict[int, dict[str, Any]] = field(default_factory=dict)
    krs_by_goal: dict[int, list[int]] = field(default_factory=dict)
    event_plans: dict[tuple[str, int], tuple[int, float | None]] = field(default_factory=dict)
    extra_events: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    tokens: dict[str, TokenInfo] = field(default_factory=dict)
    page_size: int | None = None  # None: bare arrays; N: page objects of N results
    body_style: BodyStyle = field(default_factory=BodyStyle)  # how bodies are spelled when served (styles.py)
    slipping: set[tuple[str, int]] = field(default_factory=set)  # items whose older check-ins had more progress
    repeat_next_link: bool = False  # misbehave: page 2 links to itself (tests the client's guard)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _visible_cache: dict[int, frozenset[int]] = field(default_factory=dict)

    # ---------------------------------------------------------------- visibility
    def is_org_member(self, user_id: int) -> bool:
        return user_id in self.memberships.get(self.org["root_team_id"], {})

    def visible_team_ids(self, user_id: int) -> frozenset[int]:
        """A team is hidden when it or an ancestor is private and the user is not a member of it."""
        cached = self._visible_cache.get(user_id)
        if cached is not None:
            return cached
        if not self.is_org_member(user_id):
            visible: frozenset[int] = frozenset()
        else:
            out: set[int] = set()
            for team_id in self.teams:
                node: int | None = team_id
                ok = True
                while node is not None:
                    team = self.teams[node]
                    if team["is_private"] and user_id not in self.memberships.get(node, {}):
                        ok = False
                        break
                    node = team["parent_id"]
                if ok:
                    out.add(team_id)
            visible = frozenset(out)
        self._visible_cache[user_id] = visible
        return visible

    def memberships_changed(self) -> None:
        self._visible_cache.clear()

    # ---------------------------------------------------------------- events
    def items_of(self, kind: str) -> dict[int, dict[str, Any]]:
        return {"goal": self.goals, "key_result": self.key_results, "initiative": self.initiatives}[kind]

    def events_for(self, kind: str, item_id: int) -> list[dict[str, Any]]:
        """All events of one item, newest first."""
        item = self.items_of(kind)[item_id]
        events = list(self.extra_events.get((kind, item_id), ())) + _planned_events(self, kind, item)
        events.sort(key=lambda e: (e["created_at"], e["id"]), reverse=True)
        return events

    def add_check_in(
        self,
        kind: str,
        item_id: int,
        *,
        status: str | None = "on-track",
        progress: float | None = None,
        value: float | None = None,
        comment: str = "",
        user_id: int = ALYSSA,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """A new check-in event (as a person would post it): updates the item and its updated_at."""
        with self.lock:
            item = self.items_of(kind)[item_id]
            moment = at or datetime.now(UTC)
            event_id = 9 * 10**9 + sum(len(v) for v in self.extra_events.values()) + 1
            event = {
                "id": event_id,
                "otype": "event",
                "kind": "check_in",
                "created_at": iso(moment),
                "user_id": user_id,
                "data": {"value": value, "progress": progress, "status": status, "comment": comment},
            }
            self.extra_events.setdefault((kind, item_id), []).append(event)
            if status is not None:
                item["status"] = status
            if progress is not None:
                item["progress"] = progress
            if value is not None and kind == "key_result":
                item["current_value"] = value
            item["updated_at"] = iso(moment)
            return event


def _planned_events(state: NorthState, kind: str, item: dict[str, Any]) -> list[dict[str, Any]]:
    count, newest_days = state.event_plans.get((kind, item["id"]), (0, None))
    rng = random.Random(f"{state.seed}:{kind}:{item['id']}")
    base = {"goal": 1, "key_result": 2, "initiative": 3}[kind] * 10**9 + item["id"] * 100
    created = parse_timestamp(item["created_at"])
    owner = next((o["user_id"] for o in item.get("owners", ()) if o.get("is_primary")), ALYSSA)
    events: list[dict[str, Any]] = [
        {"id": base, "otype": "event", "kind": "edit", "created_at": item["created_at"], "user_id": owner, "data": {"field": "name"}}
    ]
    status = item.get("status")
    progress = item.get("progress")
    for i in range(count):
        assert newest_days is not None
        moment = state.now - timedelta(days=newest_days + 7 * i)
        if moment <= created:
            break
        step = 0.05 if (kind, item["id"]) in state.slipping else -0.05  # slipping: it had more progress before
        event_progress = None if progress is None else round(max(0.0, min(1.0, progress + step * i)), 4)
        data: dict[str, Any] = {
            "progress": event_progress,
            "status": status if i == 0 else rng.choice(STATUSES),
            "comment": rng.choice(COMMENTS),
        }
        if kind == "key_result":
            data["value"] = item.get("current_value") if i == 0 else item.get("start_value")
        events.append({"id": base + 1 + i, "otype": "event", "kind": "check_in", "created_at": iso(moment), "user_id": owner, "data": data})
    if rng.random() < 0.3:  # kinds the client must keep, not reject
        kind_name = rng.choice(("comment", "status_change", "reaction"))
        events.append(
            {
                "id": base + 60,
                "otype": "event",
                "kind": kind_name,
                "created_at": iso(created + timedelta(hours=1)),
                "user_id": owner,
                "data": {"text": "👍"},
            }
        )
    if item.get("closed_at"):
        events.append(
            {
                "id": base + 61,
                "otype": "event",
                "kind": "closed",
                "created_at": item["closed_at"],
                "user_id": owner,
                "data": {"outcome": item.get("outcome")},
            }
        )
    return events


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
