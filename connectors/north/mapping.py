"""Pure functions: North JSON -> unified records (``connectors.base``). Tested on fixtures.

Tolerant reader: ids may be numbers or strings, any optional field may be missing or null, and
unknown fields stay in ``raw``. A bad value degrades that one field, never the record. Events
-> check-ins: ``event_mapping.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.base import (
    GoalRecord,
    Health,
    KeyResultRecord,
    Outcome,
    PersonRecord,
    State,
    TeamRecord,
    WorkItemKind,
    WorkItemRecord,
    clamp_progress,
    progress_between,
    resolve_state,
)
from connectors.text import sanitise_html

HEALTH = {"on-track": Health.ON_TRACK, "behind": Health.NEEDS_ATTENTION, "at-risk": Health.OFF_TRACK}
OUTCOME = {"completed": Outcome.ACHIEVED, "partial": Outcome.PARTIAL, "missed": Outcome.MISSED, "dropped": Outcome.DROPPED}


# ---------------------------------------------------------------------------- scalars


def as_id(value: Any) -> str | None:
    """A vendor id as a string: ``12``, ``"12"`` and ``12.0`` are all ``"12"``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    text = str(value).strip()
    return text or None


def as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 timestamp -> aware UTC datetime (naive values are taken as UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def health_of(status: Any) -> Health:
    return HEALTH.get(status, Health.UNKNOWN) if isinstance(status, str) else Health.UNKNOWN


def outcome_of(value: Any) -> Outcome | None:
    return OUTCOME.get(value) if isinstance(value, str) else None


def progress_percent(
    value: Any, *, expected: float | None = None, percent_scale: bool | None = None, peers: Iterable[Any] = ()
) -> float | None:
    """North's ``progress`` as 0..100: the one place where it is read (docs/vendors.md, North).

    North does not publish its object bodies. NOTES.md assumes a 0..1 fraction; some orgs send
    percentages. So:

    * above 1 is a percentage: ``42`` is 42 %, ``140`` is clamped to 100 %;
    * from 0 to 1 is a fraction (``0.42`` is 42 %, ``1`` is 100 %) unless the same item shows the
      percentage scale, where ``1`` is 1 % and ``0.5`` is 0.5 %. Evidence, strongest first:
      ``expected``, a key result's progress computed from its start, current and target values,
      nearer the value read as a percentage than as a fraction; ``percent_scale``, what the
      item's own body said (``percent_scale_of``; its check-ins follow it); one of ``peers`` (the
      item's other check-ins) above 1. Without evidence it is a fraction, the documented scale on
      which ``1`` is a finished item: a lone ``1`` on a goal or initiative reads as 100 %;
    * negative is 0 %; anything that is not a number is unknown (``None``).
    """
    number = as_float(value)
    if number is None:
        return None
    if number <= 1.0 and not _percent_scale(number, expected, percent_scale, peers):
        number *= 100.0
    percent = clamp_progress(number)
    return None if percent is None else round(percent, 4)  # no float noise such as 74.53999999999999


def _percent_scale(number: float, expected: float | None, percent_scale: bool | None, peers: Iterable[Any]) -> bool:
    """For a progress from 0 to 1: the evidence of ``progress_percent``, strongest first."""
    if expected is not None and number > 0:
        return abs(expected - number) < abs(expected - number * 100.0)
    if percent_scale is not None:
        return percent_scale
    return any((peer := as_float(p)) is not None and peer > 1.0 for p in peers)


def values_progress(raw: Mapping[str, Any]) -> float | None:
    """A key result's progress from its values; ``None`` when they cannot say (start == target)."""
    start, target = as_float(raw.get("start_value")), as_float(raw.get("target_value"))
    if start is None or target is None or start == target:
        return None
    return progress_between(start, target, as_float(raw.get("current_value")))


def percent_scale_of(raw: Mapping[str, Any]) -> bool | None:
    """Whether an item's body shows the percentage scale (True), the fraction (False), or cannot
    tell (None): its progress is above 1, or (a key result) its values say which reading fits."""
    number = as_float(raw.get("progress"))
    if number is None or number <= 0:
        return None
    if number > 1.0:
        return True
    expected = values_progress(raw)
    return None if expected is None else _percent_scale(number, expected, None, ())


def title_of(raw: Mapping[str, Any], fallback: str) -> str:
    """``name`` (NOTES.md) or ``title`` (seen in some bodies); a blank one falls back."""
    for key in ("name", "title"):
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return fallback


def person_name(user: Mapping[str, Any]) -> str:
    name = " ".join(str(user.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    if name:
        return name
    email = user.get("email")
    if isinstance(email, str) and email:
        return email
    return f"User {as_id(user.get('id')) or '?'}"


def ordered_owners(owners: Any, names: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(display names, vendor ids): the primary owner first, then co-owners by name."""
    if not isinstance(owners, list):
        return (), ()
    entries: list[tuple[bool, str, str, str]] = []
    seen: set[str] = set()
    for owner in owners:
        if not isinstance(owner, Mapping):
            continue
        user_id = as_id(owner.get("user_id", owner.get("id")))
        if user_id is None or user_id in seen:
            continue
        seen.add(user_id)
        embedded = owner.get("user")
        name = names.get(user_id) or (person_name(embedded) if isinstance(embedded, Mapping) else f"User {user_id}")
        entries.append((not bool(owner.get("is_primary")), name.casefold(), user_id, name))
    entries.sort(key=lambda e: e[:3])
    return tuple(e[3] for e in entries), tuple(e[2] for e in entries)


# ---------------------------------------------------------------------------- links


@dataclass(frozen=True, slots=True)
class WebLinks:
    """Links into North's web app. Assumed paths (the API page shows none), see NOTES.md."""

    base_url: str
    org_id: str

    def of(self, kind: str, item_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/orgs/{self.org_id}/{kind}/{item_id}/"


# ---------------------------------------------------------------------------- records


def map_team(raw: Mapping[str, Any], links: WebLinks | None = None) -> TeamRecord | None:
    team_id = as_id(raw.get("id"))
    if team_id is None:
        return None
    return TeamRecord(
        external_id=team_id,
        name=str(raw.get("name") or f"Team {team_id}"),
        parent_external_id=as_id(raw.get("parent_id")),
        archived=bool(raw.get("is_archived")),
        private=bool(raw.get("is_private")),
        url=links.of("teams", team_id) if links else None,
        updated_at=parse_datetime(raw.get("updated_at")),
        raw=dict(raw),
    )


def map_person(user: Mapping[str, Any]) -> PersonRecord | None:
    user_id = as_id(user.get("id"))
    if user_id is None:
        return None
    email = user.get("email")
    return PersonRecord(
        external_id=user_id,
        name=person_name(user),
        email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
        raw=dict(user),
    )


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    """A team membership as North answers it (returned by the membership writes)."""

    team_external_id: str
    person: PersonRecord
    type: str
    raw: Mapping[str, Any] = field(default_factory=dict)


def map_membership(raw: Mapping[str, Any], team_id: str) -> MembershipRecord | None:
    embedded = raw.get("user")
    user: Mapping[str, Any] = embedded if isinstance(embedded, Mapping) else {}
    person = map_person({**user, "id": user.get("id", raw.get("user_id"))})
    if person is None:
        return None
    return MembershipRecord(team_external_id=team_id, person=person, type=str(raw.get("type") or ""), raw=dict(raw))


def goal_is_stale(state: State, last_check_in_at: datetime | None, *, now: datetime, stale_after_days: int) -> bool:
    """The issue's rule: an active goal whose newest check-in is too old, or that has none."""
    if state != State.ACTIVE:
        return False
    return last_check_in_at is None or last_check_in_at < now - timedelta(days=stale_after_days)


def map_goal(
    raw: Mapping[str, Any],
    names: Mapping[str, str],
    links: WebLinks | None = None,
    *,
    check_ins_known: bool = False,
    last_check_in_at: datetime | None = None,
    now: datetime | None = None,
    stale_after_days: int = 10,
) -> GoalRecord | None:
    goal_id = as_id(raw.get("id"))
    if goal_id is None:
        return None
    state = resolve_state(State.DONE if raw.get("closed_at") else State.ACTIVE, archived=bool(raw.get("is_archived")))
    owners, owner_ids = ordered_owners(raw.get("owners"), names)
    status = raw.get("status") if isinstance(raw.get("status"), str) else None
    return GoalRecord(
        external_id=goal_id,
        title=title_of(raw, f"Goal {goal_id}"),
        team_external_id=as_id(raw.get("team_id")),
        parent_external_id=as_id(raw.get("parent_id")),
        owners=owners,
        owner_external_ids=owner_ids,
        health=health_of(status),
        vendor_status=status,
        state=state,
        outcome=outcome_of(raw.get("outcome")) if raw.get("closed_at") or raw.get("outcome") else None,
        progress=progress_percent(raw.get("progress")),
        is_stale=goal_is_stale(state, last_check_in_at, now=now or datetime.now(UTC), stale_after_days=stale_after_days)
        if check_ins_known
        else None,
        last_check_in_at=last_check_in_at,
        start_date=parse_date(raw.get("start_date")),
        due_date=parse_date(raw.get("end_date", raw.get("due_date"))),
        description=sanitise_html(raw.get("description")),
        url=links.of("goals", goal_id) if links else None,
        updated_at=parse_datetime(raw.get("updated_at")),
        raw=dict(raw),
    )


def key_result_progress(raw: Mapping[str, Any]) -> float | None:
    """``progress`` (see ``progress_percent``; the values settle its scale); without it, from the
    values (start == target gives 0)."""
    given = progress_percent(raw.get("progress"), expected=values_progress(raw))
    if given is not None:
        return given
    return progress_between(as_float(raw.get("start_value")), as_float(raw.get("target_value")), as_float(raw.get("current_value")))


def map_key_result(raw: Mapping[str, Any], names: Mapping[str, str], links: WebLinks | None = None) -> KeyResultRecord | None:
    kr_id = as_id(raw.get("id"))
    if kr_id is None:
        return None
    owners, owner_ids = ordered_owners(raw.get("owners"), names)
    status = raw.get("status") if isinstance(raw.get("status"), str) else None
    return KeyResultRecord(
        external_id=kr_id,
        goal_external_id=as_id(raw.get("goal_id")),
        title=title_of(raw, f"Key result {kr_id}"),
        owners=owners,
        owner_external_ids=owner_ids,
        health=health_of(status),
        vendor_status=status,
        state=resolve_state(State.DONE if raw.get("closed_at") else State.ACTIVE, archived=bool(raw.get("is_archived"))),
        progress=key_result_progress(raw),
        start=as_float(raw.get("start_value")),
        target=as_float(raw.get("target_value")),
        current=as_float(raw.get("current_value")),
        unit=str(raw.get("unit") or ""),
        team_external_id=as_id(raw.get("team_id")),
        start_date=parse_date(raw.get("start_date")),
        due_date=parse_date(raw.get("end_date", raw.get("due_date"))),
        url=links.of("key_results", kr_id) if links else None,
        updated_at=parse_datetime(raw.get("updated_at")),
        raw=dict(raw),
    )


def initiative_state(raw: Mapping[str, Any]) -> State:
    status = raw.get("status")
    if status == "done" or raw.get("is_closed"):
        state = State.DONE
    elif status == "not-started":
        state = State.NOT_STARTED
    else:
        state = State.ACTIVE
    return resolve_state(state, archived=bool(raw.get("is_archived")))


def map_initiative(
    raw: Mapping[str, Any],
    names: Mapping[str, str],
    links: WebLinks | None = None,
    *,
    last_check_in_at: datetime | None = None,
) -> WorkItemRecord | None:
    """An initiative; ``last_check_in_at`` (from its events) lets the store compute staleness."""
    init_id = as_id(raw.get("id"))
    if init_id is None:
        return None
    owners, owner_ids = ordered_owners(raw.get("owners"), names)
    status = raw.get("status") if isinstance(raw.get("status"), str) else None
    team_id = as_id(raw.get("team_id"))
    priority = raw.get("priority")
    return WorkItemRecord(
        external_id=init_id,
        work_kind=WorkItemKind.INITIATIVE,
        title=title_of(raw, f"Initiative {init_id}"),
        team_external_ids=(team_id,) if team_id else (),
        goal_external_id=as_id(raw.get("goal_id")),
        key_result_external_id=as_id(raw.get("key_result_id")),
        owners=owners,
        owner_external_ids=owner_ids,
        health=health_of(status),  # not-started and done have no health word: unknown
        vendor_status=status,
        state=initiative_state(raw),
        progress=progress_percent(raw.get("progress")),
        start_date=parse_date(raw.get("start_date")),
        due_date=parse_date(raw.get("due_date", raw.get("end_date"))),
        description=sanitise_html(raw.get("description")),
        labels=(f"priority:{priority}",) if isinstance(priority, str) and priority else (),
        last_check_in_at=last_check_in_at,
        url=links.of("initiatives", init_id) if links else None,
        updated_at=parse_datetime(raw.get("updated_at")),
        raw=dict(raw),
    )
