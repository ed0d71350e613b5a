"""Deterministic seeded company for the sandbox, with the awkward cases the issue names.

``size`` is the number of spaces (besides the company space); each space gets
``goals_per_space`` goals with ``targets_per_goal`` targets, ``projects_per_space`` projects with
milestones and ``tasks_per_space`` tasks, so "large" (500 spaces) gives about 5,000 goals,
15,000 targets and 5,000 projects + tasks. Dates are relative to "now" so outdated and overdue
cases exist whenever the sandbox runs.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from .model import (
    COMMENT,
    EDIT,
    NO_ACCESS,
    VIEW,
    Check,
    Company,
    Goal,
    GoalUpdate,
    Milestone,
    Person,
    Project,
    ProjectCheckIn,
    Space,
    State,
    Target,
    Task,
    Token,
    first_of_next_month,
    next_week,
)
from .seed_cases import CaseSeeder

DEPARTMENTS = ["Product", "Sales", "Engineering", "Marketing", "Support", "Finance", "People", "Design", "Legal", "Data"]
FIRST = ["Grace", "Linus", "Margaret", "Alan", "Zoë", "Søren", "Amara", "Kenji", "Fatima", "Diego", "Ingrid", "Ravi"]
LAST = ["Hopper", "Torvalds", "Hamilton", "Turing", "Ångström", "Kierkegaard", "Okafor", "Watanabe", "Haddad", "Ortega"]
GOAL_TOPICS = [
    "Grow ARR",
    "Reduce churn",
    "Ship v2",
    "Cut support backlog",
    "Raise NPS",
    "Hire engineers",
    "Improve uptime",
    "Launch EU site",
]
UNICODE_HTML_GOAL = "Ünïcode ✓ 🚀 <script>alert('goal')</script> & <b>bold</b> goal"
XSS_DESCRIPTION: dict[str, Any] = {
    "type": "doc",
    "content": [
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "<img src=x onerror=alert(1)> Owner: "},
                {"type": "mention", "attrs": {"id": "PLACEHOLDER", "label": "Ada Lovelace"}},
                {"type": "text", "text": " see ", "marks": []},
                {"type": "text", "text": "this link", "marks": [{"type": "link", "attrs": {"href": "javascript:alert(1)"}}]},
                {"type": "text", "text": " and "},
                {
                    "type": "text",
                    "text": "docs",
                    "marks": [{"type": "link", "attrs": {"href": "https://example.com/docs"}}, {"type": "bold"}],
                },
            ],
        },
        {
            "type": "bulletList",
            "content": [{"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "first point"}]}]}],
        },
    ],
}
DEFAULT_STATUSES = [
    ("pending", "Not started", "gray", False),
    ("in_progress", "In progress", "blue", False),
    ("done", "Done", "green", True),
    ("canceled", "Canceled", "red", True),
]
CUSTOM_STATUSES = [("todo", "To do", "gray", False), ("blocked", "Blocked", "red", False), ("shipped", "Shipped", "green", True)]


def doc(*parts: str | dict[str, Any]) -> dict[str, Any]:
    """A TipTap document: strings become text nodes, dicts are used as nodes."""
    nodes = [{"type": "text", "text": p} if isinstance(p, str) else p for p in parts]
    return {"type": "doc", "content": [{"type": "paragraph", "content": nodes}]}


def mention(person: Person) -> dict[str, Any]:
    from .ids import with_slug

    return {"type": "mention", "attrs": {"id": with_slug(person.full_name, person.uuid), "label": person.full_name}}


def contextual_day(day: date) -> dict[str, Any]:
    return {"date_type": "day", "value": f"{day:%b} {day.day}, {day.year}", "date": day.isoformat()}


def contextual_quarter(day: date) -> dict[str, Any]:
    quarter = (day.month - 1) // 3 + 1
    end_month = quarter * 3
    end = (date(day.year + (end_month == 12), 1 if end_month == 12 else end_month + 1, 1)) - timedelta(days=1)
    return {"date_type": "quarter", "value": f"Q{quarter} {day.year}", "date": end.isoformat()}


def token_for(rng: random.Random) -> str:
    raw = rng.getrandbits(256).to_bytes(32, "big")
    return "opk_" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Seeder:
    def __init__(
        self,
        seed: int,
        spaces: int,
        *,
        goals_per_space: int,
        targets_per_goal: int,
        projects_per_space: int,
        milestones_per_project: int,
        tasks_per_space: int,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.n_spaces = spaces
        self.goals_per_space = goals_per_space
        self.targets_per_goal = targets_per_goal
        self.projects_per_space = projects_per_space
        self.milestones_per_project = milestones_per_project
        self.tasks_per_space = tasks_per_space
        now = datetime.now(UTC).replace(microsecond=0)
        self.now = now
        self.today = now.date()
        self.state = State(now=now, company=Company(uuid=self.uuid(), short_number=1024, name="Acme Rocket Works"))
        self.secrets: dict[str, str] = {}

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def statuses(self, spec: list[tuple[str, str, str, bool]]) -> list[dict[str, Any]]:
        return [
            {"id": str(self.uuid()), "label": label, "color": color, "index": i, "value": value, "closed": closed}
            for i, (value, label, color, closed) in enumerate(spec)
        ]

    # ---- people and tokens ----------------------------------------------------------------

    def person(self, name: str, title: str, *, admin: bool = False) -> Person:
        email_name = "".join(c for c in name.lower().replace(" ", ".") if c.isascii() and (c.isalnum() or c == "."))
        p = Person(
            uuid=self.uuid(),
            full_name=name,
            email=f"{email_name or 'person'}@acme.example",
            title=title,
            inserted_at=self.ago(400),
            admin=admin,
        )
        self.state.people[p.uuid] = p
        return p

    def token(self, person: Person, *, read_only: bool, label: str) -> str:
        secret = token_for(self.rng)
        self.state.tokens[hashlib.sha256(secret.encode()).hexdigest()] = Token(person=person.uuid, read_only=read_only, name=label)
        self.secrets[label] = secret
        return secret

    # ---- the company ----------------------------------------------------------------------

    def build(self) -> State:
        st = self.state
        self.ada = self.person("Ada Lovelace", "CEO", admin=True)
        self.bob = self.person("Bob Builder", "Engineer")
        # The same person as North's Ben Bitdiddle (the sandboxes share his e-mail): one person
        # across vendors in the demo (issue #18). Set after the draw: the seeded sequence is unchanged.
        self.bob.email = "ben@example.com"
        self.carol = self.person("Carol Viewer", "Board observer")
        self.mallory = self.person("<b>Mallory</b> O'Hara", "Contractor")
        extra = max(3, self.n_spaces * 2)
        self.others = [
            self.person(f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}{'' if i < len(FIRST) else f' {i}'}", "Staff")
            for i in range(extra)
        ]
        suspended = self.person("Sam Suspended", "Former staff")
        suspended.suspended = True
        everyone = {p.uuid for p in st.people.values()}
        general = Space(
            uuid=self.uuid(),
            name="General",
            mission="Everything company-wide",
            members=set(everyone),
            is_company_space=True,
            task_statuses=self.statuses(DEFAULT_STATUSES),
        )
        st.spaces[general.uuid] = general
        st.company.company_space = general.uuid
        for i in range(self.n_spaces):
            self.space(i)
        CaseSeeder(self, self.seed).build()  # issue #16's awkward cases, on their own random stream
        return st

    def space(self, i: int) -> None:
        st = self.state
        private = i == 1
        name = (
            "Secret Lab 🔒"
            if private
            else (DEPARTMENTS[i] if i < len(DEPARTMENTS) else f"{DEPARTMENTS[i % len(DEPARTMENTS)]} {i // len(DEPARTMENTS) + 1}")
        )
        members = {self.ada.uuid} | {p.uuid for p in self.rng.sample(self.others, k=min(3, len(self.others)))}
        if not private and i % 2 == 0:
            members.add(self.bob.uuid)
        space = Space(
            uuid=self.uuid(),
            name=name,
            mission=f"The {name} team",
            members=members,
            private=private,
            task_statuses=self.statuses(DEFAULT_STATUSES),
        )
        st.spaces[space.uuid] = space
        member_list = sorted(members - {self.ada.uuid}, key=str)
        goals: list[Goal] = []
        for j in range(self.goals_per_space):
            goals.append(self.goal(space, i, j, member_list, goals))
        for k in range(self.projects_per_space):
            self.project(space, i, k, member_list, goals)
        projects = [p for p in st.projects.values() if p.space == space.uuid and p.state == "active"]
        for t in range(self.tasks_per_space if projects else 0):
            self.task(projects[t % len(projects)], t, member_list)

    # ---- goals ----------------------------------------------------------------------------

    def goal(self, space: Space, i: int, j: int, members: list[UUID], siblings: list[Goal]) -> Goal:
        st = self.state
        kind = j % 10
        topic = GOAL_TOPICS[(i + j) % len(GOAL_TOPICS)]
        name = UNICODE_HTML_GOAL if (i == 0 and j == 0) else f"{topic} — {space.name} #{j + 1}"
        champion = members[j % len(members)] if members else self.ada.uuid
        inserted = self.ago(120 + j)
        start = inserted.date()
        timeframe = {
            "contextual_start_date": contextual_day(start),
            "contextual_end_date": contextual_quarter(self.today + timedelta(days=30)),
        }
        goal = Goal(
            uuid=self.uuid(),
            name=name,
            space=space.uuid,
            champion=champion,
            reviewer=self.ada.uuid,
            inserted_at=inserted,
            updated_at=self.ago(5),
            timeframe=timeframe,
            next_update_scheduled_at=first_of_next_month(self.now),
            description=doc(f"Why {topic.lower()} matters for ", mention(st.people[champion]), "."),
        )
        if i == 0 and j == 0:
            xss = _replace_mention(XSS_DESCRIPTION, self.ada)
            goal.description = xss
        n_targets = self.targets_per_goal
        if kind == 3:
            n_targets = 0
            goal.checklist = [
                Check(
                    uuid=self.uuid(),
                    name=f"Step {c + 1}",
                    completed=c == 0,
                    index=c,
                    inserted_at=inserted,
                    updated_at=inserted,
                    completed_at=inserted if c == 0 else None,
                )
                for c in range(3)
            ]
        elif kind == 0 and self.rng.random() < 0.5:
            goal.checklist = [
                Check(
                    uuid=self.uuid(),
                    name="Kick-off done",
                    completed=True,
                    index=0,
                    inserted_at=inserted,
                    updated_at=inserted,
                    completed_at=inserted,
                )
            ]
        for t in range(n_targets):
            if kind == 1 and t == 0:  # decreasing target
                start_v, to_v, value = 120.0, 20.0, float(self.rng.choice([100, 70, 40]))
                tname, unit = "Open bugs", "bugs"
            elif kind == 2 and t == 0:  # from == to
                start_v = to_v = value = 50.0
                tname, unit = "Keep headcount", "people"
            else:
                start_v = float(self.rng.choice([0, 10, 1000]))
                to_v = start_v + float(self.rng.choice([10, 100, 4_000_000]))
                value = start_v + (to_v - start_v) * self.rng.choice([0.0, 0.25, 0.5, 0.8, 1.0, 1.2])
                tname, unit = f"Metric {t + 1}", self.rng.choice(["%", "USD", "users", ""])
            goal.targets.append(
                Target(
                    uuid=self.uuid(),
                    name=tname,
                    start=start_v,
                    to=to_v,
                    value=value,
                    unit=unit,
                    index=t,
                    inserted_at=inserted,
                    updated_at=inserted,
                )
            )
        if kind == 8 and siblings:
            goal.parent_goal = siblings[0].uuid
        if kind == 9:  # secret: no company or space access
            goal.company_access_level = NO_ACCESS
            goal.space_access_level = NO_ACCESS
            goal.champion = self.ada.uuid
            goal.name = f"Secret acquisition — {space.name}"
        statuses = {0: "on_track", 1: "caution", 2: "off_track", 3: "on_track", 8: "on_track", 9: "caution"}
        st.goals[goal.uuid] = goal
        if kind in statuses or kind in (4, 6, 7):
            n_updates = 1 + self.rng.randrange(3)
            for u in range(n_updates):
                days = (50 + 30 * (n_updates - u)) if kind == 4 else 2 + 25 * (n_updates - 1 - u)
                status = statuses.get(kind, self.rng.choice(["on_track", "caution", "off_track"]))
                self.goal_update(goal, status, self.ago(days), members)
        if kind == 4:  # outdated: the next check-in was due long ago
            goal.next_update_scheduled_at = self.ago(20)
        if kind == 5:  # brand new, nothing yet
            goal.inserted_at = self.ago(3)
        if kind in (6, 7):
            goal.closed_at = self.ago(10)
            goal.closed_by = self.ada.uuid
            goal.success_status = "achieved" if kind == 6 else "missed"
        if i == 1 and j == 5:
            goal.archived_at = self.ago(8)
        if i == 0 and kind == 2:
            goal.access_members[self.carol.uuid] = VIEW  # explicit view-only grant
        return goal

    def goal_update(self, goal: Goal, status: str, when: datetime, members: list[UUID]) -> GoalUpdate:
        author = goal.champion or self.ada.uuid
        updates = [
            {
                "id": str(t.uuid),
                "name": t.name,
                "from": t.start,
                "to": t.to,
                "unit": t.unit,
                "index": t.index,
                "value": t.value,
                "previous_value": t.start,
            }
            for t in goal.targets
        ]
        checklist = [{"id": str(c.uuid), "name": c.name, "index": c.index, "completed": c.completed} for c in goal.checklist]
        update = GoalUpdate(
            uuid=self.uuid(),
            goal=goal.uuid,
            author=author,
            status=status,
            inserted_at=when,
            target_updates=updates,
            checklist=checklist,
            timeframe=goal.timeframe,
            message=doc(f"Status {status.replace('_', ' ')}; thanks ", mention(self.state.people[author]), " <script>x()</script>"),
        )
        self.state.goal_updates[update.uuid] = update
        if goal.last_update is None or self.state.goal_updates[goal.last_update].inserted_at < when:
            goal.last_update, goal.last_update_status = update.uuid, status
            goal.next_update_scheduled_at = first_of_next_month(when)
        return update

    # ---- projects, milestones, tasks ------------------------------------------------------

    def project(self, space: Space, i: int, k: int, members: list[UUID], goals: list[Goal]) -> None:
        st = self.state
        kind = k % 4
        name = f"{['Launch', 'Migrate', 'Rebuild', 'Pilot'][kind]} {space.name} project {k + 1}"
        champion = members[(k + 1) % len(members)] if members else self.ada.uuid
        statuses = self.statuses(CUSTOM_STATUSES if kind == 3 else DEFAULT_STATUSES)
        project = Project(
            uuid=self.uuid(),
            name=name,
            space=space.uuid,
            champion=champion,
            reviewer=self.ada.uuid,
            inserted_at=self.ago(90),
            updated_at=self.ago(2),
            start_date=self.today - timedelta(days=80),
            deadline=self.today + timedelta(days=40 - 30 * (k % 2)),
            next_check_in_scheduled_at=next_week(self.now),
            task_statuses=statuses,
            goal=goals[0].uuid if goals and kind == 0 else None,
            description=doc(f"Project in {space.name}"),
        )
        st.projects[project.uuid] = project
        n_milestones = 0 if kind == 3 else self.milestones_per_project
        for m in range(n_milestones):
            done = m == 0 or (kind == 2)
            ms = Milestone(
                uuid=self.uuid(),
                project=project.uuid,
                title=f"Milestone {m + 1}",
                status="done" if done else "pending",
                inserted_at=self.ago(80),
                due_date=self.today + timedelta(days=15 * m - 10),
                completed_at=self.ago(12) if done else None,
            )
            st.milestones[ms.uuid] = ms
        if kind in (0, 2):
            for c in range(1 + self.rng.randrange(2)):
                self.project_check_in(project, self.rng.choice(["on_track", "caution"]) if kind == 0 else "on_track", self.ago(2 + 7 * c))
        if kind == 1:
            project.state = "paused"
        elif kind == 2:
            project.state = "closed"
            project.closed_at = self.ago(6)
            project.success_status = "missed" if i % 2 else "achieved"
        elif kind == 3:
            if i % 2:  # not started yet: no check-in due
                project.start_date = self.today + timedelta(days=10)
                project.next_check_in_scheduled_at = None
            else:  # started, check-in overdue
                project.next_check_in_scheduled_at = self.ago(10)
        if i == 0 and k == 1:
            project.archived_at = self.ago(3)

    def project_check_in(self, project: Project, status: str, when: datetime) -> None:
        author = project.champion or self.ada.uuid
        check_in = ProjectCheckIn(
            uuid=self.uuid(),
            project=project.uuid,
            author=author,
            status=status,
            inserted_at=when,
            description=doc("Weekly update from ", mention(self.state.people[author])),
        )
        self.state.project_check_ins[check_in.uuid] = check_in
        if project.last_check_in is None or self.state.project_check_ins[project.last_check_in].inserted_at < when:
            project.last_check_in, project.last_check_in_status = check_in.uuid, status
            project.next_check_in_scheduled_at = next_week(when)

    def task(self, project: Project, t: int, members: list[UUID]) -> None:
        milestones = self.state.project_milestones(project)
        status = project.task_statuses[t % len(project.task_statuses)]
        task = Task(
            uuid=self.uuid(),
            project=project.uuid,
            name=f"Task {t + 1} of {project.name}",
            status=dict(status),
            inserted_at=self.ago(30 - t),
            updated_at=self.ago(1),
            milestone=milestones[t % len(milestones)].uuid if milestones else None,
            assignees=[members[t % len(members)]] if members else [],
            creator=project.champion,
            due_date=self.today + timedelta(days=7 * t - 14) if t % 3 else None,
        )
        self.state.tasks[task.uuid] = task


def _replace_mention(document: dict[str, Any], person: Person) -> dict[str, Any]:
    import copy

    from .ids import with_slug

    out = copy.deepcopy(document)
    out["content"][0]["content"][1]["attrs"]["id"] = with_slug(person.full_name, person.uuid)
    return out


__all__ = ["COMMENT", "EDIT", "Seeder"]
