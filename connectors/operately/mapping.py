"""Pure functions: Operately JSON -> OKR Hub records (the issue's mapping, CONTRACT.md §5-§6).

A missing or odd field degrades that field only. ``Links`` carries what a record needs from
outside the object itself (the web app address and the company path for ``url``).
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
    clamp_progress,
    progress_between,
    resolve_state,
)

from . import richtext
from .ids import short_of

# The 2026-08 check-in states (CONTRACT §11); 2026-03 check-ins have no state: all are published.
PUBLISHED = "published"
HEALTH = {"on_track": Health.ON_TRACK, "caution": Health.NEEDS_ATTENTION, "off_track": Health.OFF_TRACK, "pending": Health.UNKNOWN}
# These statuses say nothing about health: the last check-in's status decides (else unknown).
FROM_LAST_CHECK_IN = {"outdated", "achieved", "missed", "paused"}


@dataclass(frozen=True, slots=True)
class Links:
    base_url: str  # the Operately web app, e.g. https://app.operately.com
    company_path: str | None = None  # e.g. "acme-0baa"

    def url(self, kind: str, vendor_id: str | None) -> str | None:
        if not vendor_id or not self.company_path:
            return None
        return f"{self.base_url}/{self.company_path}/{kind}/{vendor_id}"


# ---- scalars ---------------------------------------------------------------------------------


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def contextual_date(value: Any) -> date | None:
    return parse_date(value.get("date")) if isinstance(value, Mapping) else None


def timeframe_dates(timeframe: Any) -> tuple[date | None, date | None]:
    if not isinstance(timeframe, Mapping):
        return None, None
    return contextual_date(timeframe.get("contextual_start_date")), contextual_date(timeframe.get("contextual_end_date"))


def number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def health_of(status: Any, last_check_in_status: Any = None) -> Health:
    """on_track/caution/off_track/pending map directly; outdated, achieved, missed (and paused)
    take the health of the last check-in, else unknown."""
    if status in HEALTH:
        return HEALTH[status]
    if status in FROM_LAST_CHECK_IN or status is None:
        return HEALTH.get(last_check_in_status, Health.UNKNOWN) if last_check_in_status else Health.UNKNOWN
    return Health.UNKNOWN


def person_of(value: Any) -> tuple[list[str], list[str]]:
    if not isinstance(value, Mapping) or not value.get("full_name"):
        return [], []
    ident = short_of(value.get("id"))
    return [str(value["full_name"])], [ident] if ident else []


def people_of(values: Any) -> tuple[list[str], list[str]]:
    names: list[str] = []
    ids: list[str] = []
    for value in values if isinstance(values, list) else []:
        n, i = person_of(value)
        names += n
        ids += i
    return names, ids


def is_published(check_in: Mapping[str, Any]) -> bool:
    """Drafts and scheduled check-ins (2026-08) are not check-ins yet: only published ones count.
    A check-in without ``state`` (2026-03, which had neither drafts nor scheduling) is published."""
    state = check_in.get("state")
    return state is None or state == PUBLISHED


def check_in_time(check_in: Mapping[str, Any]) -> datetime | None:
    """When it was published (a draft published later has ``published_at`` after ``inserted_at``)."""
    return parse_datetime(check_in.get("published_at")) or parse_datetime(check_in.get("inserted_at"))


def last_check_in(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The embedded latest check-in of a goal or project, if it is a published one."""
    last = obj.get("last_check_in")
    return last if isinstance(last, Mapping) and is_published(last) else None


def last_status(obj: Mapping[str, Any]) -> Any:
    last = last_check_in(obj)
    return last.get("status") if last else None


# ---- teams and people ------------------------------------------------------------------------


def map_company(company: Mapping[str, Any], links: Links) -> TeamRecord:
    vendor_id = str(company.get("id") or "")
    return TeamRecord(
        external_id=short_of(vendor_id) or vendor_id,
        name=str(company.get("name") or "Company"),
        url=f"{links.base_url}/{vendor_id}" if vendor_id else None,
        raw=dict(company),
    )


def map_space(space: Mapping[str, Any], company_external_id: str | None, links: Links) -> TeamRecord:
    vendor_id = str(space["id"])
    return TeamRecord(
        external_id=short_of(vendor_id) or vendor_id,
        name=str(space.get("name") or ""),
        parent_external_id=company_external_id,
        private=bool(space.get("private_space")),
        url=links.url("spaces", vendor_id),
        raw=dict(space),
    )


def map_person(person: Mapping[str, Any], links: Links) -> PersonRecord:
    vendor_id = str(person["id"])
    return PersonRecord(
        external_id=short_of(vendor_id) or vendor_id,
        name=str(person.get("full_name") or ""),
        email=person.get("email") or None,
        url=links.url("people", vendor_id),
        raw=dict(person),
    )


# ---- goals and targets -----------------------------------------------------------------------


def checklist_html(checklist: Any) -> str:
    items = [c for c in checklist if isinstance(c, Mapping)] if isinstance(checklist, list) else []
    if not items:
        return ""
    rows = "".join(
        f"<li>{'☑' if c.get('completed') else '☐'} {html.escape(str(c.get('name') or ''))}</li>"
        for c in sorted(items, key=lambda c: c.get("index") or 0)
    )
    return richtext.sanitise(f"<p><strong>Checklist</strong></p><ul>{rows}</ul>")


def goal_state(goal: Mapping[str, Any]) -> tuple[State, Outcome | None]:
    outcome: Outcome | None = None
    state = State.ACTIVE
    if goal.get("is_closed"):
        state = State.DONE
        status = goal.get("status")
        if status in ("achieved", "missed"):
            outcome = Outcome(status)
        else:
            outcome = Outcome.ACHIEVED if goal.get("success") else Outcome.MISSED
    return resolve_state(state, archived=bool(goal.get("is_archived"))), outcome


def map_goal(goal: Mapping[str, Any], links: Links) -> GoalRecord:
    vendor_id = str(goal["id"])
    owners, owner_ids = person_of(goal.get("champion"))
    state, outcome = goal_state(goal)
    start, due = timeframe_dates(goal.get("timeframe"))
    last = last_check_in(goal)
    space = goal.get("space") if isinstance(goal.get("space"), Mapping) else None
    description = richtext.to_html(goal.get("description")) + checklist_html(goal.get("checklist"))
    return GoalRecord(
        external_id=short_of(vendor_id) or vendor_id,
        title=str(goal.get("name") or ""),
        team_external_id=short_of(space.get("id")) if space else None,
        parent_external_id=short_of(goal.get("parent_goal_id")),
        owners=owners,
        owner_external_ids=owner_ids,
        health=health_of(goal.get("status"), last_status(goal)),
        vendor_status=goal.get("status"),
        state=state,
        outcome=outcome,
        progress=clamp_progress(goal.get("progress_percentage")),
        is_stale=goal.get("is_outdated") if isinstance(goal.get("is_outdated"), bool) else None,
        last_check_in_at=check_in_time(last) if last else None,
        start_date=start,
        due_date=due,
        description=description,
        url=links.url("goals", vendor_id),
        updated_at=parse_datetime(goal.get("updated_at")),
        raw=dict(goal),
    )


def map_target(target: Mapping[str, Any], goal: GoalRecord) -> KeyResultRecord:
    """A target has no status of its own in Operately: its health is unknown (the goal's status
    is the goal's, and pages show it as such), its lifecycle and dates are the goal's."""
    start, to, value = number(target.get("from")), number(target.get("to")), number(target.get("value"))
    return KeyResultRecord(
        external_id=short_of(str(target["id"])) or str(target["id"]),
        goal_external_id=goal.external_id,
        title=str(target.get("name") or ""),
        owners=goal.owners,
        owner_external_ids=goal.owner_external_ids,
        health=Health.UNKNOWN,
        vendor_status=None,
        state=goal.state,
        progress=progress_between(start, to, value),
        start=start,
        target=to,
        current=value,
        unit=str(target.get("unit") or ""),
        team_external_id=goal.team_external_id,
        last_check_in_at=goal.last_check_in_at,
        start_date=goal.start_date,
        due_date=goal.due_date,
        url=goal.url,
        updated_at=parse_datetime(target.get("updated_at")),
        raw=dict(target),
    )


def map_targets(goal: Mapping[str, Any], links: Links) -> Iterator[KeyResultRecord]:
    parent = map_goal(goal, links)
    for target in goal.get("targets") or []:
        if isinstance(target, Mapping) and target.get("id"):
            yield map_target(target, parent)


# ---- check-ins -------------------------------------------------------------------------------


def map_goal_check_ins(update: Mapping[str, Any], goal_external_id: str) -> Iterator[CheckInRecord]:
    """The goal check-in, then one key-result check-in per target it reported (target ids in a
    check-in are raw UUIDs: ``short_of`` turns them into the targets' short ids)."""
    ident = short_of(str(update["id"])) or str(update["id"])
    created = check_in_time(update) or datetime.fromtimestamp(0, UTC)
    authors, author_ids = person_of(update.get("author"))
    health = health_of(update.get("status"))
    yield CheckInRecord(
        external_id=ident,
        subject_kind=Kind.GOAL,
        subject_external_id=goal_external_id,
        created_at=created,
        author=authors[0] if authors else None,
        author_external_id=author_ids[0] if author_ids else None,
        health=health,
        vendor_status=update.get("status"),
        comment=richtext.to_text(update.get("message")),
        raw=dict(update),
    )
    for change in update.get("goal_target_updates") or []:
        if not isinstance(change, Mapping) or not change.get("id"):
            continue
        target = short_of(str(change["id"]))
        if not target:
            continue
        value = number(change.get("value"))
        yield CheckInRecord(
            external_id=f"{ident}.{target}",
            subject_kind=Kind.KEY_RESULT,
            subject_external_id=target,
            created_at=created,
            author=authors[0] if authors else None,
            author_external_id=author_ids[0] if author_ids else None,
            value=value,
            progress=progress_between(number(change.get("from")), number(change.get("to")), value),
            health=health,
            vendor_status=update.get("status"),
            raw=dict(change),
        )


def map_project_check_in(check_in: Mapping[str, Any], project_external_id: str) -> CheckInRecord:
    ident = short_of(str(check_in["id"])) or str(check_in["id"])
    authors, author_ids = person_of(check_in.get("author"))
    return CheckInRecord(
        external_id=ident,
        subject_kind=Kind.WORK_ITEM,
        subject_external_id=project_external_id,
        created_at=check_in_time(check_in) or datetime.fromtimestamp(0, UTC),
        author=authors[0] if authors else None,
        author_external_id=author_ids[0] if author_ids else None,
        health=health_of(check_in.get("status")),
        vendor_status=check_in.get("status"),
        comment=richtext.to_text(check_in.get("description")),
        raw=dict(check_in),
    )
