"""The unified vocabulary, record dataclasses, connector protocol and error classes.

Every connector emits these records; ``dashboard.okrs`` stores them. Nothing here imports Django.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx

# --------------------------------------------------------------------------------------------
# Vocabulary: one status vocabulary for every vendor (issue #2).
# --------------------------------------------------------------------------------------------


class Health(enum.StrEnum):
    ON_TRACK = "on_track"
    NEEDS_ATTENTION = "needs_attention"
    OFF_TRACK = "off_track"
    UNKNOWN = "unknown"


class State(enum.StrEnum):
    NOT_STARTED = "not_started"
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"
    ARCHIVED = "archived"


class Outcome(enum.StrEnum):
    ACHIEVED = "achieved"
    PARTIAL = "partial"
    MISSED = "missed"
    DROPPED = "dropped"


class WorkItemKind(enum.StrEnum):
    INITIATIVE = "initiative"  # North
    PROJECT = "project"  # Operately
    MILESTONE = "milestone"  # Operately
    TASK = "task"  # Operately
    ACTION = "action"  # OGSM


class Kind(enum.StrEnum):
    """Kinds of stored records (one table each)."""

    TEAM = "team"
    PERSON = "person"
    GOAL = "goal"
    KEY_RESULT = "key_result"
    WORK_ITEM = "work_item"
    CHECK_IN = "check_in"


HEALTH_LABELS: Mapping[str, str] = {
    Health.ON_TRACK: "On track",
    Health.NEEDS_ATTENTION: "Needs attention",
    Health.OFF_TRACK: "Off track",
    Health.UNKNOWN: "No status",
}
STATE_LABELS: Mapping[str, str] = {
    State.NOT_STARTED: "Not started",
    State.ACTIVE: "Active",
    State.PAUSED: "Paused",
    State.DONE: "Done",
    State.ARCHIVED: "Archived",
}
OUTCOME_LABELS: Mapping[str, str] = {
    Outcome.ACHIEVED: "Achieved",
    Outcome.PARTIAL: "Partial",
    Outcome.MISSED: "Missed",
    Outcome.DROPPED: "Dropped",
}


def resolve_state(state: State | str, *, archived: bool) -> State:
    """``archived`` wins over every other state."""
    return State.ARCHIVED if archived else State(state)


def clamp_progress(value: float | int | None) -> float | None:
    """Clamp to 0..100; ``None`` (and NaN/inf) stay unknown."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    return max(0.0, min(100.0, number))


def progress_between(start: float | None, target: float | None, current: float | None) -> float | None:
    """Progress of ``current`` from ``start`` toward ``target``, 0..100.

    Works for decreasing targets (target < start). ``start == target`` gives 0, as every vendor
    document agrees. Missing numbers give ``None``.
    """
    if start is None or target is None or current is None:
        return None
    try:
        s, t, c = float(start), float(target), float(current)
    except (TypeError, ValueError):
        return None
    if t == s:
        return 0.0
    return clamp_progress((c - s) / (t - s) * 100.0)


# --------------------------------------------------------------------------------------------
# Records: what connectors emit. Parent links are by vendor external id.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamRecord:
    external_id: str
    name: str
    parent_external_id: str | None = None
    archived: bool = False
    private: bool = False
    url: str | None = None
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    kind: ClassVar[Kind] = Kind.TEAM


@dataclass(frozen=True, slots=True)
class PersonRecord:
    external_id: str
    name: str
    email: str | None = None
    url: str | None = None
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    kind: ClassVar[Kind] = Kind.PERSON


@dataclass(frozen=True, slots=True)
class GoalRecord:
    external_id: str
    title: str
    team_external_id: str | None = None
    parent_external_id: str | None = None
    owners: Sequence[str] = ()  # display names, primary owner first
    owner_external_ids: Sequence[str] = ()  # vendor person ids, same order when known
    health: Health = Health.UNKNOWN
    vendor_status: str | None = None
    state: State = State.ACTIVE
    outcome: Outcome | None = None
    progress: float | None = None
    is_stale: bool | None = None  # None: computed from last_check_in_at and STALE_AFTER_DAYS
    last_check_in_at: datetime | None = None
    start_date: date | None = None
    due_date: date | None = None
    description: str = ""  # safe plain text or sanitised HTML
    url: str | None = None
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    kind: ClassVar[Kind] = Kind.GOAL


@dataclass(frozen=True, slots=True)
class KeyResultRecord:
    external_id: str
    goal_external_id: str | None
    title: str
    owners: Sequence[str] = ()
    owner_external_ids: Sequence[str] = ()
    health: Health = Health.UNKNOWN
    vendor_status: str | None = None
    state: State = State.ACTIVE
    progress: float | None = None
    start: float | None = None
    target: float | None = None
    current: float | None = None
    unit: str = ""
    team_external_id: str | None = None
    last_check_in_at: datetime | None = None
    start_date: date | None = None
    due_date: date | None = None
    url: str | None = None
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    kind: ClassVar[Kind] = Kind.KEY_RESULT


@dataclass(frozen=True, slots=True)
class WorkItemRecord:
    external_id: str
    work_kind: WorkItemKind
    title: str
    team_external_ids: Sequence[str] = ()  # an OGSM action on several canvases is one item
    goal_external_id: str | None = None
    key_result_external_id: str | None = None
    parent_external_id: str | None = None  # e.g. an Operately task's project
    owners: Sequence[str] = ()
    owner_external_ids: Sequence[str] = ()
    health: Health = Health.UNKNOWN
    vendor_status: str | None = None
    state: State = State.ACTIVE
    outcome: Outcome | None = None  # for a done item: achieved, missed, dropped (a canceled task)
    progress: float | None = None
    start_date: date | None = None
    due_date: date | None = None
    description: str = ""  # safe plain text or sanitised HTML
    labels: Sequence[str] = ()
    involved: Sequence[str] = ()  # display names of people involved who are not owners (OGSM)
    strategy_external_ids: Sequence[str] = ()  # the strategies an action serves (OGSM)
    is_stale: bool | None = None  # None: computed from last_check_in_at, for kinds that check in
    last_check_in_at: datetime | None = None
    url: str | None = None
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    kind: ClassVar[Kind] = Kind.WORK_ITEM


@dataclass(frozen=True, slots=True)
class CheckInRecord:
    external_id: str
    subject_kind: Kind  # GOAL, KEY_RESULT or WORK_ITEM
    subject_external_id: str
    created_at: datetime
    author: str | None = None
    author_external_id: str | None = None
    value: float | None = None
    progress: float | None = None
    health: Health = Health.UNKNOWN
    vendor_status: str | None = None
    comment: str = ""  # safe plain text
    raw: Mapping[str, Any] = field(default_factory=dict)
    kind: ClassVar[Kind] = Kind.CHECK_IN


Record = TeamRecord | PersonRecord | GoalRecord | KeyResultRecord | WorkItemRecord | CheckInRecord


def item_kind(record: Record) -> str:
    """The kind a vendor checks in on: a work item's own kind (``initiative``), else its record kind."""
    return str(record.work_kind) if isinstance(record, WorkItemRecord) else str(record.kind)


def can_be_stale(record: Record, check_in_kinds: frozenset[str]) -> bool:
    """Only an item whose vendor has check-ins for its kind can be stale (issue #16): OGSM
    objectives have no check-ins at the vendor, so "no check-in for 19 days" would be noise."""
    return item_kind(record) in check_in_kinds


@dataclass(frozen=True, slots=True)
class Page:
    """One batch of records from one stream.

    ``complete`` is set on the last page of a stream when the whole stream was read cleanly:
    only then may the sync remove what vanished. ``cursor`` is saved after the stream completes
    and handed back to ``read`` next time (incremental streams).
    """

    stream: str
    records: Sequence[Record]
    complete: bool = False
    cursor: Mapping[str, Any] | None = None


# --------------------------------------------------------------------------------------------
# Credentials and account checks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CredentialField:
    name: str
    label: str
    secret: bool = False
    help_text: str = ""


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """What ``check()`` found: who the credential belongs to and what it may do."""

    account_name: str
    account_id: str | None = None
    email: str | None = None
    detail: str = ""  # e.g. the company or org name
    can_write: bool = True
    write_disabled_reason: str = ""  # e.g. "read-only token: writes need a full-access token"
    missing_scopes: Sequence[str] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Write-back declarations (issue #19): what a connector can change at its vendor. One
# ``WriteOperation`` per operation; the dashboard builds its forms and checks its preconditions
# from these, so adding a vendor that writes needs no form or view of its own.
# --------------------------------------------------------------------------------------------


class FieldType(enum.StrEnum):
    TEXT = "text"  # one line
    LONG_TEXT = "long_text"  # several lines
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    HIDDEN = "hidden"


class Precondition(enum.StrEnum):
    """What the credential must allow before the operation is offered (the form is disabled otherwise)."""

    CAN_WRITE = "can_write"  # a full-access token: ``AccountInfo.can_write``
    SCOPE = "scope"  # the token has ``WriteOperation.scope`` (not in ``AccountInfo.missing_scopes``)


@dataclass(frozen=True, slots=True)
class WriteField:
    """One field an operation takes. ``choices`` are (value, label) pairs; ``dynamic_choices``
    means the vendor supplies them per item (``choices`` is then the fallback)."""

    name: str
    label: str
    type: FieldType = FieldType.TEXT
    required: bool = True
    choices: Sequence[tuple[str, str]] = ()
    dynamic_choices: bool = False
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    help_text: str = ""
    widget: str = ""  # a hint for the form: "radio"


@dataclass(frozen=True, slots=True)
class WriteOperation:
    """One write a vendor offers on some item kinds (``action``, ``goal``, ``project``, ...)."""

    name: str  # the audit log's ``operation``: "update_action", "goal_check_in", ...
    label: str
    item_kinds: frozenset[str]
    fields: Sequence[WriteField] = ()
    preconditions: frozenset[Precondition] = frozenset({Precondition.CAN_WRITE})
    scope: str = ""  # the token scope ``Precondition.SCOPE`` needs, e.g. "Org management"

    def field(self, name: str) -> WriteField:
        return next(f for f in self.fields if f.name == name)

    def blocked_by(self, account: AccountInfo) -> str:
        """Why ``account`` may not run this operation, in words a user can act on; "" if it may."""
        if Precondition.CAN_WRITE in self.preconditions and not account.can_write:
            return account.write_disabled_reason or "read-only token: writes need a full-access token"
        if Precondition.SCOPE in self.preconditions and self.scope and self.scope in account.missing_scopes:
            return f"the token lacks the “{self.scope}” scope {self.label.lower()} needs"
        return ""


def write_operation(operations: Sequence[WriteOperation], name: str) -> WriteOperation:
    """The declared operation called ``name``; ``KeyError`` when the connector does not offer it."""
    for operation in operations:
        if operation.name == name:
            return operation
    raise KeyError(name)


# --------------------------------------------------------------------------------------------
# Errors: classified once (see connectors/http.py for the status-code table)
# --------------------------------------------------------------------------------------------


class ConnectorError(Exception):
    """Base class. ``endpoint`` names the vendor endpoint; messages never contain secrets."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, endpoint: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.status = status

    def __str__(self) -> str:
        where = f" ({self.endpoint})" if self.endpoint else ""
        code = f" [HTTP {self.status}]" if self.status else ""
        return f"{self.message}{where}{code}"


class AuthError(ConnectorError):
    """401 or an undecryptable secret: the credential needs re-entry. Never retried."""


class ScopeError(ConnectorError):
    """403 because the token lacks a scope or the person lacks access: skip that stream."""

    def __init__(self, message: str, *, scope: str | None = None, endpoint: str | None = None, status: int | None = 403) -> None:
        super().__init__(message, endpoint=endpoint, status=status)
        self.scope = scope


class ReadOnlyError(ScopeError):
    """A write attempted with a read-only credential."""


class RateLimited(ConnectorError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, endpoint: str | None = None, status: int | None = 429) -> None:
        super().__init__(message, endpoint=endpoint, status=status)
        self.retry_after = retry_after


class TransientError(ConnectorError):
    """5xx, timeouts, connection resets: retried within a budget."""

    retryable = True


class PermanentError(ConnectorError):
    """Other 4xx, a body that is not JSON, a vendor change."""


class NotFound(PermanentError):
    """404: a vanished item (not a failed sync) or a resource the tenant does not offer."""


class VendorValidationError(PermanentError):
    """422/400 with field messages, for forms to show next to the field."""

    def __init__(
        self,
        message: str,
        *,
        field_errors: Mapping[str, Sequence[str]] | None = None,
        endpoint: str | None = None,
        status: int | None = 422,
    ) -> None:
        super().__init__(message, endpoint=endpoint, status=status)
        self.field_errors: dict[str, list[str]] = {k: list(v) for k, v in (field_errors or {}).items()}


class ConflictError(ConnectorError):
    """The item changed at the vendor since the page was drawn (write-back)."""

    def __init__(self, message: str, *, current: Mapping[str, Any] | None = None, endpoint: str | None = None) -> None:
        super().__init__(message, endpoint=endpoint)
        self.current = dict(current or {})


# --------------------------------------------------------------------------------------------
# Streams and the kinds they yield (issue #19): the sync engine reads these from the connector
# --------------------------------------------------------------------------------------------


# The six streams of a vendor that has all of them, in dependency order; a connector with fewer
# declares its own (OGSM: teams, goals, work items).
ALL_STREAM_KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        "teams": Kind.TEAM,
        "people": Kind.PERSON,
        "goals": Kind.GOAL,
        "key_results": Kind.KEY_RESULT,
        "work_items": Kind.WORK_ITEM,
        "check_ins": Kind.CHECK_IN,
    }
)


class DeclaresStreams(Protocol):
    """The streams a connector offers, in dependency order, and the kind of record each yields.

    ``stream_kinds`` is the declaration (teams -> people -> goals -> ... -> check-ins);
    ``streams`` is its keys in the same order. The engine tracks the declared kind of a stream
    even when a complete read returns nothing, so what vanished loses its visibility.
    """

    streams: ClassVar[Sequence[str]]
    stream_kinds: ClassVar[Mapping[str, Kind]]


# --------------------------------------------------------------------------------------------
# The connector protocol
# --------------------------------------------------------------------------------------------


@runtime_checkable
class VendorConnector(DeclaresStreams, Protocol):
    """What every vendor connector offers (``NorthConnector``, ``OperatelyConnector``, ...).

    Not to be confused with ``dashboard.integrations.models.Connector``: that is an admin's
    configured connection (vendor, base URL, interval); this is the code that speaks the vendor.

    Constructed with an ``httpx.Client`` whose ``base_url`` is the vendor's base URL, and the
    decrypted secret fields (a mapping named after ``credential_fields``). Tests pass a client
    bound to the sandbox (in-process transport or real HTTP); production passes a network client.
    """

    vendor: ClassVar[str]
    display_name: ClassVar[str]
    credential_fields: ClassVar[Sequence[CredentialField]]
    streams: ClassVar[Sequence[str]]  # dependency order: teams -> people -> goals -> ... -> check-ins
    # The kinds of item this vendor checks in on (``goal``, ``key_result`` or a work item kind such
    # as ``initiative``): only those can be stale. See ``can_be_stale`` and docs/vendors.md.
    check_in_kinds: ClassVar[frozenset[str]]

    def __init__(self, client: httpx.Client, secret: Mapping[str, str], *, options: Mapping[str, Any] | None = None) -> None: ...

    @property
    def requests_made(self) -> int: ...

    def check(self) -> AccountInfo:
        """One cheap "who am I" call. Raises AuthError / ScopeError / TransientError ..."""
        ...

    def read(self, stream: str, cursor: Mapping[str, Any] | None = None) -> Iterator[Page]:
        """Yield pages of normalized records for ``stream``; the last page has ``complete=True``."""
        ...

    # -- write-back (issue #19) --------------------------------------------------------------
    # The operations this vendor offers (empty: read-only). A connector that writes also has
    # ``connectors/<vendor>/writes.py``, which owns every vendor JSON body and field it writes.
    write_operations: ClassVar[Sequence[WriteOperation]]

    def fetch_item(self, kind: str, external_id: str) -> Record:
        """Re-read one item (before a write, to draw its form and detect conflicts). Raises
        ``NotFound`` for a vanished item, ``ValueError`` for a kind the vendor does not have."""
        ...
