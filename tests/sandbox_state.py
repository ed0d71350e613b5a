"""What a vendor sandbox holds, read from its own state object (``sandbox.state``), in the ids and
titles our records use. Never through a connector: tests compare what we stored, or what a
connector read, with this, so a bug in the connector's read cannot hide in both sides.

The ids follow each vendor's documented encoding, computed with the sandbox's own helpers
(Operately's short ids come from ``connectors/operately/sandbox/ids.py``, not from the
connector's decoder). Only what the first sandbox credential (the full-access one) may see.
Check-ins are listed where the vendor keeps them as objects (Operately); North's come from its
event log and OGSM has none.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from connectors.base import Kind
from connectors.operately.sandbox.ids import company_short, short_id

# OGSM objectives and goals share an id space; their external ids are prefixed (NOTES.md).
OGSM_OBJECTIVE_PREFIX, OGSM_GOAL_PREFIX = "objective-", "goal-"


def ogsm_titles(state: Any) -> dict[Kind, dict[str, str]]:
    with state.lock:
        titles: dict[Kind, dict[str, str]] = {
            Kind.TEAM: {str(c): "" for c in state.canvases},
            Kind.WORK_ITEM: {str(i): a["title"] for i, a in state.actions.items()},
        }
        if state.objectives is not None:
            goals = {f"{OGSM_OBJECTIVE_PREFIX}{i}": o["title"] for i, o in state.objectives.items()}
            goals |= {f"{OGSM_GOAL_PREFIX}{i}": g["title"] for i, g in (state.goals or {}).items()}
            titles[Kind.GOAL] = goals
    return titles


def operately_titles(state: Any) -> dict[Kind, dict[str, str]]:
    with state.lock:
        company = state.company
        teams = {company_short(company.short_number): company.name}
        teams |= {short_id(s.uuid): s.name for s in state.spaces.values()}  # the company space too
        goals = {short_id(g.uuid): g.name for g in state.goals.values()}
        targets = {short_id(t.uuid): t.name for g in state.goals.values() for t in g.targets}
        work = {short_id(p.uuid): p.name for p in state.projects.values()}
        work |= {short_id(m.uuid): m.title for m in state.milestones.values()}
        work |= {short_id(t.uuid): t.name for t in state.tasks.values()}
        # The people list leaves suspended people out unless asked (include_suspended).
        people = {short_id(p.uuid): p.full_name for p in state.people.values() if not p.suspended}
        # A goal check-in, one key-result check-in per target it reported, project check-ins;
        # published ones only (drafts and scheduled check-ins are not synced).
        updates = [u for u in state.goal_updates.values() if u.state == "published"]
        check_ins = {short_id(u.uuid): "" for u in updates}
        check_ins |= {f"{short_id(u.uuid)}.{short_id(UUID(str(t['id'])))}": "" for u in updates for t in u.target_updates}
        check_ins |= {short_id(c.uuid): "" for c in state.project_check_ins.values() if c.state == "published"}
    return {
        Kind.TEAM: teams,
        Kind.PERSON: people,
        Kind.GOAL: goals,
        Kind.KEY_RESULT: targets,
        Kind.WORK_ITEM: work,
        Kind.CHECK_IN: check_ins,
    }


def north_titles(state: Any) -> dict[Kind, dict[str, str]]:
    with state.lock:
        return {
            Kind.TEAM: {str(i): t["name"] for i, t in state.teams.items()},
            Kind.PERSON: {str(i): u.get("name", "") for i, u in state.users.items()},
            Kind.GOAL: {str(i): g.get("title", "") for i, g in state.goals.items()},
            Kind.KEY_RESULT: {str(i): k.get("title", "") for i, k in state.key_results.items()},
            Kind.WORK_ITEM: {str(i): w.get("title", "") for i, w in state.initiatives.items()},
        }


READERS = {"ogsm": ogsm_titles, "operately": operately_titles, "north": north_titles}


def sandbox_titles(sandbox: Any) -> dict[Kind, dict[str, str]]:
    """``{kind: {external_id: title}}`` of what the sandbox holds (team titles may be blank)."""
    return READERS[sandbox.vendor](sandbox.state)


def sandbox_ids(sandbox: Any) -> dict[Kind, set[str]]:
    return {kind: set(titles) for kind, titles in sandbox_titles(sandbox).items()}
