"""Pure functions: North JSON -> unified records (``connectors.base``). Tested on fixtures.

Tolerant reader: ids may be numbers or strings, any optional field may be missing or null, and
unknown fields stay in ``raw``. A bad value degrades that one field, never the record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.base import (
    CheckInRecord,
    GoalRecord,
    Health,
    KeyResultRecord,
    Kind,
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
from connectors.text import plain_text, sanitise_html

HEALTH = {"on-track": Health.ON_TRACK, "behind": Health.NEEDS_ATTENTION, "at-risk": Health.OFF_TRACK}
OUTCOME = {"completed": Outcome.ACHIEVED, "partial": Outcome.PARTIAL, "missed": Outcome.MISSED, "dropped": Outcome.DROPPED}
SUBJECT_PREFIX = {Kind.GOAL: "goal", Kind.KEY_RESULT: "key_result", Kind.WORK_ITEM: "initiative"}


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


def fraction_to_percent(value: Any) -> float | None:
    number = as_float(value)
    percent = None if number is None else clamp_progress(number * 100.0)
    return None if percent is None else round(percent, 4)  # no float noise such as 74.53999999999999


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
        title=str(raw.get("name") or f"Goal {goal_id}"),
        team_external_id=as_id(raw.get("team_id")),
        parent_external_id=as_id(raw.get("parent_id")),
        owners=owners,
        owner_external_ids=owner_ids,
        health=health_of(status),
        vendor_status=status,
        state=state,
        outcome=outcome_of(raw.get("outcome")) if raw.get("closed_at") or raw.get("outcome") else None,
        progress=fraction_to_percent(raw.get("progress")),
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
    """``progress`` x 100; without it, from the values (start == target gives 0)."""
    given = fraction_to_percent(raw.get("progress"))
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
        title=str(raw.get("name") or f"Key result {kr_id}"),
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


def map_initiative(raw: Mapping[str, Any], names: Mapping[str, str], links: WebLinks | None = None) -> WorkItemRecord | None:
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
        title=str(raw.get("name") or f"Initiative {init_id}"),
        team_external_ids=(team_id,) if team_id else (),
        goal_external_id=as_id(raw.get("goal_id")),
        key_result_external_id=as_id(raw.get("key_result_id")),
        owners=owners,
        owner_external_ids=owner_ids,
        health=health_of(status),  # not-started and done have no health word: unknown
        vendor_status=status,
        state=initiative_state(raw),
        progress=fraction_to_percent(raw.get("progress")),
        start_date=parse_date(raw.get("start_date")),
        due_date=parse_date(raw.get("due_date", raw.get("end_date"))),
        description=sanitise_html(raw.get("description")),
        labels=(f"priority:{priority}",) if isinstance(priority, str) and priority else (),
        url=links.of("initiatives", init_id) if links else None,
        updated_at=parse_datetime(raw.get("updated_at")),
        raw=dict(raw),
    )


def map_check_in(raw: Mapping[str, Any], subject_kind: Kind, subject_id: str, names: Mapping[str, str]) -> CheckInRecord | None:
    """A ``check_in`` event -> CheckInRecord; every other event kind -> None (kept raw by callers)."""
    if raw.get("kind") != "check_in":
        return None
    event_id = as_id(raw.get("id"))
    created = parse_datetime(raw.get("created_at"))
    if event_id is None or created is None:
        return None
    payload = raw.get("data")
    data: Mapping[str, Any] = payload if isinstance(payload, Mapping) else {}
    status = data.get("status") if isinstance(data.get("status"), str) else None
    author_id = as_id(raw.get("user_id"))
    return CheckInRecord(
        external_id=f"{SUBJECT_PREFIX[subject_kind]}-{subject_id}-{event_id}",  # event ids may repeat across items
        subject_kind=subject_kind,
        subject_external_id=subject_id,
        created_at=created,
        author=names.get(author_id) if author_id else None,
        author_external_id=author_id,
        value=as_float(data.get("value")),
        progress=fraction_to_percent(data.get("progress")),
        health=health_of(status),
        vendor_status=status,
        comment=plain_text(data.get("comment")),
        raw=dict(raw),
    )


def newest_check_in(events: Iterable[Mapping[str, Any]]) -> datetime | None:
    """The newest ``check_in`` event's time (events usually come newest first; not relied on)."""
    times = (parse_datetime(e.get("created_at")) for e in events if isinstance(e, Mapping) and e.get("kind") == "check_in")
    return max((t for t in times if t is not None), default=None)
