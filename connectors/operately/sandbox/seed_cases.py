"""The awkward cases of issue #16, added to the seeded company after everything else.

They use their own random stream, so the rest of the seeded data stays as it was:

- check-ins (2026-08 states): per visible space, on one goal and one project that have
  published check-ins, a draft by Ada and one by Bob (each seen only by its author), a check-in
  scheduled for the future, and the latest published check-in drafted a day before it was
  published (``published_at`` after ``inserted_at``);
- tasks: ``closed_at`` on every closed task; in a project whose kanban lists no task ids, a task
  with no status and one whose status was removed from the project; an overdue canceled task;
- space tasks (``spaces/list_tasks``): an open and a done task in every space, a canceled one in
  the first.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .model import GoalUpdate, Project, ProjectCheckIn, Space, Task

if TYPE_CHECKING:
    from .seed import Seeder

# A status the project once had and removed: its tasks keep it but no kanban column lists them.
REMOVED_STATUS = {"id": "removed-qa-status", "label": "QA review", "color": "blue", "index": 9, "value": "qa_review", "closed": False}


class CaseSeeder:
    def __init__(self, seeder: Seeder, seed: int) -> None:
        self.s = seeder
        self.st = seeder.state
        self.rng = random.Random(f"operately-issue-16-{seed}")

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def build(self) -> None:
        for task in self.st.tasks.values():
            if task.status and task.status.get("closed"):
                task.closed_at = task.updated_at
        spaces = [sp for sp in self.st.spaces.values() if not sp.is_company_space]
        for index, space in enumerate(
            [self.st.spaces[self.st.company.company_space], *spaces] if self.st.company.company_space else spaces
        ):
            self.space_tasks(space, first=index == 0)
        for space in spaces:
            if space.private:
                continue
            self.goal_check_in_states(space)
            self.project_check_in_states(space)
            self.lost_tasks(space)

    # ---- check-in states -----------------------------------------------------------------

    def goal_check_in_states(self, space: Space) -> None:
        st, s = self.st, self.s
        goal = next(
            (g for g in st.goals.values() if g.space == space.uuid and g.last_update and g.closed_at is None and g.company_access_level),
            None,
        )
        if goal is None:
            return
        latest = st.goal_updates[goal.last_update]  # type: ignore[index]
        self._published_later(latest)
        champion = goal.champion or s.ada.uuid
        for author, state, days in ((s.ada.uuid, "draft", 0.8), (s.bob.uuid, "draft", 0.6), (champion, "scheduled", 0.4)):
            update = GoalUpdate(
                uuid=self.uuid(),
                goal=goal.uuid,
                author=author,
                status="off_track" if state == "draft" else "caution",
                message=_doc(f"{state.title()} check-in, not published yet"),
                inserted_at=s.ago(days),
                target_updates=[dict(t) for t in latest.target_updates],
                checklist=[dict(c) for c in latest.checklist],
                timeframe=goal.timeframe,
                state=state,
                scheduled_at=s.now + timedelta(days=2) if state == "scheduled" else None,
            )
            st.goal_updates[update.uuid] = update  # the goal's last check-in stays the published one

    def project_check_in_states(self, space: Space) -> None:
        st, s = self.st, self.s
        project = next(
            (
                p
                for p in st.projects.values()
                if p.space == space.uuid and p.last_check_in and p.state == "active" and p.company_access_level
            ),
            None,
        )
        if project is None:
            return
        self._published_later(st.project_check_ins[project.last_check_in])  # type: ignore[index]
        champion = project.champion or s.ada.uuid
        for author, state, days in ((s.ada.uuid, "draft", 0.8), (s.bob.uuid, "draft", 0.6), (champion, "scheduled", 0.4)):
            check_in = ProjectCheckIn(
                uuid=self.uuid(),
                project=project.uuid,
                author=author,
                status="off_track" if state == "draft" else "caution",
                description=_doc(f"{state.title()} project check-in, not published yet"),
                inserted_at=s.ago(days),
                state=state,
                scheduled_at=s.now + timedelta(days=3) if state == "scheduled" else None,
            )
            st.project_check_ins[check_in.uuid] = check_in

    def _published_later(self, check_in: GoalUpdate | ProjectCheckIn) -> None:
        """Drafted first, published a day later: its time is published_at, not inserted_at."""
        published = min(check_in.inserted_at + timedelta(days=1), self.s.now - timedelta(hours=1))
        check_in.published_at = check_in.updated_at = published

    # ---- tasks -----------------------------------------------------------------------------

    def lost_tasks(self, space: Space) -> None:
        """Tasks the kanban state does not list, in a project whose kanban lists no ids at all."""
        st, s = self.st, self.s
        projects = [p for p in st.projects.values() if p.space == space.uuid]
        empty = next((p for p in projects if p.state == "paused" and not st.tasks_of(p)), None)
        empty = empty or next((p for p in projects if not st.tasks_of(p)), None)
        if empty is not None:
            self.task(empty, f"No status yet — {empty.name}", None)
            self.task(empty, f"Status removed — {empty.name}", dict(REMOVED_STATUS))
        active = next((p for p in projects if p.state == "active" and p.archived_at is None), None)
        canceled = next((st_ for st_ in active.task_statuses if st_["value"] == "canceled"), None) if active else None
        if active is not None and canceled is not None:
            task = self.task(active, f"Canceled and overdue — {active.name}", dict(canceled))
            task.due_date = s.today - timedelta(days=5)
            task.closed_at = s.ago(2)

    def task(self, project: Project, name: str, status: dict[str, Any] | None) -> Task:
        members = sorted(self.st.spaces[project.space].members - {self.s.ada.uuid}, key=str)
        task = Task(
            uuid=self.uuid(),
            project=project.uuid,
            name=name,
            status=status,
            inserted_at=self.s.ago(20),
            updated_at=self.s.ago(1),
            assignees=members[:1],
            creator=project.champion,
            due_date=self.s.today + timedelta(days=9),
        )
        self.st.tasks[task.uuid] = task
        return task

    def space_tasks(self, space: Space, *, first: bool) -> None:
        s = self.s
        by_value = {st_["value"]: st_ for st_ in space.task_statuses}
        members = sorted(space.members - {s.ada.uuid}, key=str)
        cases = [("Triage inbox", "in_progress", 6), ("Write the retro", "done", None)] + ([("Old idea", "canceled", -3)] if first else [])
        for n, (title, value, due) in enumerate(cases):
            status = by_value.get(value)
            closed = bool(status and status["closed"])
            task = Task(
                uuid=self.uuid(),
                project=None,
                space=space.uuid,
                name=f"{title} — {space.name}",
                status=dict(status) if status else None,
                inserted_at=s.ago(15 + n),
                updated_at=s.ago(1 + n),
                assignees=members[n % len(members) : n % len(members) + 1] if members else [],
                creator=s.ada.uuid,
                due_date=s.today + timedelta(days=due) if due is not None else None,
                closed_at=s.ago(1 + n) if closed else None,
            )
            self.st.tasks[task.uuid] = task


def _doc(text: str) -> dict[str, Any]:
    return {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}
