"""Response schemas of the read API. Field names are the public contract of issue #9: add
fields freely, never rename or remove one without a new API version."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema

from connectors.base import Health, Outcome, State, WorkItemKind


class ErrorOut(Schema):
    message: str
    status: int
    parameter: str | None = None
    allowed: list[str] | None = None


class HealthCounts(Schema):
    goals: int
    on_track: int
    needs_attention: int
    off_track: int
    unknown: int


class TeamRef(Schema):
    id: int
    external_id: str
    name: str


class GoalRef(Schema):
    id: int
    external_id: str


class TeamOut(Schema):
    id: int
    vendor: str
    connector: str
    external_id: str
    name: str
    parent_id: int | None
    parent_external_id: str | None
    archived: bool
    progress: float | None
    counts: HealthCounts


class PaceOut(Schema):
    """OKR Hub's own reading beside the vendor's health (docs/pace.md): null where pace does not
    apply (no timeframe, no progress, done or archived)."""

    expected: float = Field(description="Expected progress by today, 0-100, linear from start_date to due_date.")
    behind_by: int = Field(description="Whole points of progress behind the expected progress (0 when on or ahead of pace).")
    is_behind: bool = Field(description="At least 10 points behind: the dashboard says 'behind pace by N points'.")


class KeyResultOut(Schema):
    id: int
    vendor: str
    connector: str
    external_id: str
    goal_id: int | None
    goal_external_id: str | None
    title: str
    owners: list[str]
    health: Health
    vendor_status: str
    state: State
    progress: float | None
    start: float | None
    target: float | None
    current: float | None
    unit: str
    url: str | None
    # issue #18: added fields
    start_date: date | None
    due_date: date | None
    pace: PaceOut | None


class AlignedParentOut(Schema):
    """An OKR Hub link (issue #18), never held by a vendor: the goal or team this goal is aligned under."""

    kind: str = Field(..., description="'goal' or 'team'.")
    id: int
    title: str | None = Field(None, description="The parent goal's title (kind 'goal').")
    name: str | None = Field(None, description="The parent team's name (kind 'team').")
    vendor: str
    created_by: str | None = Field(None, description="Username of who linked (null once that user is removed).")
    created_at: datetime
    source: str = Field(..., description="'manual' or 'suggestion' (an accepted suggestion).")


class GoalOut(Schema):
    id: int
    vendor: str
    connector: str
    external_id: str
    title: str
    team: TeamRef | None
    parent: GoalRef | None
    owners: list[str]
    health: Health
    vendor_status: str
    state: State
    outcome: Outcome | None
    progress: float | None
    is_stale: bool
    is_overdue: bool
    last_check_in_at: datetime | None
    start_date: date | None
    due_date: date | None
    url: str | None
    key_results: list[KeyResultOut]
    aligned_parent: AlignedParentOut | None = Field(None, description="Aligned under another vendor's goal or team in OKR Hub.")
    pace: PaceOut | None  # issue #18


class CheckInOut(Schema):
    id: int
    external_id: str
    subject_kind: str
    key_result_id: int | None
    created_at: datetime
    author: str
    value: float | None
    progress: float | None
    health: Health
    vendor_status: str
    comment: str


class SnapshotOut(Schema):
    taken_at: datetime
    progress: float | None
    health: Health


class GoalDetailOut(GoalOut):
    check_ins: list[CheckInOut]
    history: list[SnapshotOut]


class WorkItemOut(Schema):
    id: int
    vendor: str
    connector: str
    external_id: str
    kind: WorkItemKind
    title: str
    team: TeamRef | None
    goal: GoalRef | None
    owners: list[str]
    health: Health
    vendor_status: str
    state: State
    progress: float | None
    start_date: date | None
    due_date: date | None
    is_overdue: bool
    url: str | None
    # issue #16: added fields (the ones above keep their meaning)
    outcome: Outcome | None
    involved: list[str]  # people involved who are not owners (OGSM); never matched by ``owner``
    strategy_ids: list[str]  # the strategies an action serves (OGSM strategy ids)
    is_stale: bool  # only kinds whose vendor checks in can be stale (never an OGSM action)
    is_late_start: bool  # not started and its start date has passed
    last_check_in_at: datetime | None


class WorkItemDetailOut(WorkItemOut):
    check_ins: list[CheckInOut]
    history: list[SnapshotOut]


class PersonOut(Schema):
    id: int
    vendor: str
    connector: str
    external_id: str
    name: str
    email: str


class SyncCounts(Schema):
    fetched: int
    created: int
    updated: int
    unchanged: int
    removed: int


class SyncRunOut(Schema):
    id: int
    credential_id: int
    connector: str
    vendor: str
    requested_by: str | None
    trigger: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    requests_made: int
    percent: int
    current_stream: str
    streams_done: int
    streams_total: int
    items_done: int
    counts: SyncCounts
    error: str
    reason: str = Field(
        description="Why the scheduler queued this run (its interval passed, or an early retry of a partial run); empty for runs people asked for."
    )


class SyncStarted(Schema):
    run_ids: list[int]
    message: str


class AlignmentOut(Schema):
    id: int
    child: GoalRef
    child_title: str
    child_vendor: str
    parent: AlignedParentOut


class _Page(Schema):
    count: int
    next: str | None
    previous: str | None


class TeamPage(_Page):
    results: list[TeamOut]


class GoalPage(_Page):
    results: list[GoalOut]


class KeyResultPage(_Page):
    results: list[KeyResultOut]


class WorkItemPage(_Page):
    results: list[WorkItemOut]


class PersonPage(_Page):
    results: list[PersonOut]


class SyncRunPage(_Page):
    results: list[SyncRunOut]


class AlignmentPage(_Page):
    results: list[AlignmentOut]
