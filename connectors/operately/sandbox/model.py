"""The sandbox's in-memory Operately company and the rules the server derives (CONTRACT.md §5).

``State`` is what tests reach as ``sandbox.state``: plain dataclasses keyed by UUID, guarded by
one lock because the server is threaded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

# Access levels (§5): 0 no_access, 10 view, 40 comment, 70 edit, 100 full.
NO_ACCESS, VIEW, COMMENT, EDIT, FULL = 0, 10, 40, 70, 100
OUTDATED_AFTER = timedelta(days=3)


@dataclass
class Person:
    uuid: UUID
    full_name: str
    email: str
    title: str
    inserted_at: datetime
    admin: bool = False
    type: str = "human"
    suspended: bool = False


@dataclass
class Company:
    uuid: UUID
    short_number: int
    name: str
    company_space: UUID | None = None


@dataclass
class Space:
    uuid: UUID
    name: str
    mission: str
    members: set[UUID]
    private: bool = False
    is_company_space: bool = False
    task_statuses: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Target:
    uuid: UUID
    name: str
    start: float
    to: float
    value: float
    unit: str
    index: int
    inserted_at: datetime
    updated_at: datetime


@dataclass
class Check:
    uuid: UUID
    name: str
    completed: bool
    index: int
    inserted_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None


@dataclass
class GoalUpdate:
    uuid: UUID
    goal: UUID
    author: UUID
    status: str
    message: dict[str, Any]
    inserted_at: datetime
    target_updates: list[dict[str, Any]]
    checklist: list[dict[str, Any]]
    timeframe: dict[str, Any] | None
    acknowledged_at: datetime | None = None
    # 2026-08 (CONTRACT §11): draft | scheduled | published. A draft is seen by its author only;
    # a check-in drafted earlier and published later has published_at after inserted_at.
    state: str = "published"
    published_at: datetime | None = None  # None on a published check-in: inserted_at
    scheduled_at: datetime | None = None
    updated_at: datetime | None = None  # None: inserted_at


@dataclass
class Goal:
    uuid: UUID
    name: str
    space: UUID
    champion: UUID | None
    reviewer: UUID | None
    inserted_at: datetime
    updated_at: datetime
    timeframe: dict[str, Any] | None
    next_update_scheduled_at: datetime | None
    description: dict[str, Any] | None = None
    parent_goal: UUID | None = None
    targets: list[Target] = field(default_factory=list)
    checklist: list[Check] = field(default_factory=list)
    last_update: UUID | None = None
    last_update_status: str | None = None
    closed_at: datetime | None = None
    closed_by: UUID | None = None
    success_status: str | None = None
    archived_at: datetime | None = None
    company_access_level: int = COMMENT
    space_access_level: int = EDIT
    access_members: dict[UUID, int] = field(default_factory=dict)


@dataclass
class Milestone:
    uuid: UUID
    project: UUID
    title: str
    status: str  # pending | done
    inserted_at: datetime
    due_date: date | None = None
    completed_at: datetime | None = None


@dataclass
class Task:
    uuid: UUID
    project: UUID | None  # None for a space task (type "space")
    name: str
    status: dict[str, Any] | None  # None: a task with no status (not in any kanban column)
    inserted_at: datetime
    updated_at: datetime
    milestone: UUID | None = None
    assignees: list[UUID] = field(default_factory=list)
    creator: UUID | None = None
    due_date: date | None = None
    space: UUID | None = None  # the space of a space task
    closed_at: datetime | None = None  # 2026-08: when it entered a closed status

    @property
    def type(self) -> str:
        return "project" if self.project is not None else "space"


@dataclass
class ProjectCheckIn:
    uuid: UUID
    project: UUID
    author: UUID
    status: str
    description: dict[str, Any]
    inserted_at: datetime
    acknowledged_at: datetime | None = None
    state: str = "published"  # as GoalUpdate
    published_at: datetime | None = None
    scheduled_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class Project:
    uuid: UUID
    name: str
    space: UUID
    champion: UUID | None
    reviewer: UUID | None
    inserted_at: datetime
    updated_at: datetime
    start_date: date | None
    deadline: date | None
    next_check_in_scheduled_at: datetime | None
    task_statuses: list[dict[str, Any]]
    goal: UUID | None = None
    state: str = "active"  # active | paused | closed
    description: dict[str, Any] | None = None
    last_check_in: UUID | None = None
    last_check_in_status: str | None = None
    closed_at: datetime | None = None
    success_status: str | None = None
    archived_at: datetime | None = None
    company_access_level: int = COMMENT
    space_access_level: int = EDIT
    access_members: dict[UUID, int] = field(default_factory=dict)


@dataclass
class Token:
    person: UUID
    read_only: bool
    name: str


def first_of_next_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def next_week(moment: datetime) -> datetime:
    day = (moment + timedelta(days=7)).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass
class State:
    """Everything the sandbox serves. Mutate under ``lock``; tests may read and change it."""

    now: datetime
    company: Company
    profile: str = "2026-03"  # the API version served: 2026-03 has no drafts, states or closed_at
    people: dict[UUID, Person] = field(default_factory=dict)
    spaces: dict[UUID, Space] = field(default_factory=dict)
    goals: dict[UUID, Goal] = field(default_factory=dict)
    goal_updates: dict[UUID, GoalUpdate] = field(default_factory=dict)
    projects: dict[UUID, Project] = field(default_factory=dict)
    milestones: dict[UUID, Milestone] = field(default_factory=dict)
    tasks: dict[UUID, Task] = field(default_factory=dict)
    project_check_ins: dict[UUID, ProjectCheckIn] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)  # sha256 hex -> token
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @staticmethod
    def now_func() -> datetime:
        """Wall-clock time for writes (``now`` stays fixed so derived fields are stable)."""
        return datetime.now(UTC).replace(microsecond=0)

    # ---- lookups used by tests -----------------------------------------------------------

    def goal_named(self, name: str) -> Goal:
        return next(g for g in self.goals.values() if g.name == name)

    def project_named(self, name: str) -> Project:
        return next(p for p in self.projects.values() if p.name == name)

    def person_named(self, name: str) -> Person:
        return next(p for p in self.people.values() if p.full_name == name)

    # ---- access (§5 access levels; existence is hidden behind 404) ------------------------

    def access_level(self, person: UUID, item: Goal | Project) -> int:
        who = self.people[person]
        if who.admin or person in (item.champion, item.reviewer):
            return FULL
        if person in item.access_members:
            return item.access_members[person]
        space = self.spaces[item.space]
        member = person in space.members
        if space.private and not member:
            return NO_ACCESS
        return max(item.company_access_level, item.space_access_level if member else NO_ACCESS)

    def can_see_space(self, person: UUID, space: Space) -> bool:
        return self.people[person].admin or not space.private or person in space.members

    # ---- derived fields -------------------------------------------------------------------

    def goal_is_outdated(self, goal: Goal) -> bool:
        if goal.closed_at is not None:
            return False
        nxt = goal.next_update_scheduled_at
        return nxt is None or nxt < self.now - OUTDATED_AFTER

    def goal_status(self, goal: Goal) -> str:
        if goal.closed_at is not None and goal.success_status:
            return goal.success_status
        if self.goal_is_outdated(goal):
            return "outdated"
        if goal.last_update_status:
            return goal.last_update_status
        return "pending"

    def project_is_outdated(self, project: Project) -> bool:
        if project.state != "active":
            return False
        if project.start_date is not None and project.start_date > self.now.date():
            return False
        nxt = project.next_check_in_scheduled_at
        return nxt is None or nxt < self.now - OUTDATED_AFTER

    def project_status(self, project: Project) -> str:
        if project.state == "closed" and project.success_status:
            return project.success_status
        if project.state == "paused":
            return "paused"
        if self.project_is_outdated(project):
            return "outdated"
        return project.last_check_in_status or "pending"

    @staticmethod
    def target_progress(target: Target) -> float:
        if target.to == target.start:
            return 0.0
        raw = (target.value - target.start) / (target.to - target.start) * 100.0
        return max(0.0, min(100.0, raw))

    def goal_progress(self, goal: Goal) -> float | int:
        parts = [self.target_progress(t) for t in goal.targets]
        if goal.checklist:
            parts.append(sum(1 for c in goal.checklist if c.completed) / len(goal.checklist) * 100.0)
        if not parts:
            return 0  # the integer 0 when there is nothing to measure (§4)
        return sum(parts) / len(parts)

    def project_milestones(self, project: Project) -> list[Milestone]:
        return sorted((m for m in self.milestones.values() if m.project == project.uuid), key=lambda m: (m.due_date or date.max, m.title))

    def project_progress(self, project: Project) -> float:
        milestones = self.project_milestones(project)
        if not milestones:
            return 0.0
        return sum(1 for m in milestones if m.status == "done") / len(milestones) * 100.0

    def check_in_visible(self, check_in: GoalUpdate | ProjectCheckIn, viewer: UUID | None) -> bool:
        """A draft only to its author; at 2026-03 (no drafts or scheduling in that version) only
        published check-ins exist. Scheduled ones are listed to everyone (our choice, docs/vendors.md)."""
        if check_in.state == "published":
            return True
        if self.profile == "2026-03":
            return False
        return check_in.state != "draft" or check_in.author == viewer

    def goal_updates_of(self, goal: Goal, viewer: UUID | None = None) -> list[GoalUpdate]:
        mine = (u for u in self.goal_updates.values() if u.goal == goal.uuid and self.check_in_visible(u, viewer))
        return sorted(mine, key=lambda u: u.inserted_at, reverse=True)

    def project_check_ins_of(self, project: Project, viewer: UUID | None = None) -> list[ProjectCheckIn]:
        mine = (c for c in self.project_check_ins.values() if c.project == project.uuid and self.check_in_visible(c, viewer))
        return sorted(mine, key=lambda c: c.inserted_at, reverse=True)

    def tasks_of(self, project: Project) -> list[Task]:
        return sorted((t for t in self.tasks.values() if t.project == project.uuid), key=lambda t: (t.inserted_at, t.name))

    def tasks_of_space(self, space: Space) -> list[Task]:
        return sorted(
            (t for t in self.tasks.values() if t.project is None and t.space == space.uuid), key=lambda t: (t.inserted_at, t.name)
        )
