"""Likely alignments across connectors (issue #18), for admins to accept or dismiss.

Scoring is a pure function of two goals' titles, owners and dates, in 0-100:

- title similarity, weight 0.7: ``difflib.SequenceMatcher`` ratio of the normalised titles
  (lowercased, punctuation and filler words dropped). The standard library is enough for short
  titles, so no fuzzy-matching dependency is needed;
- same owner, weight 0.2: an owner name or e-mail in common (case-insensitive);
- overlapping timeframes, weight 0.1: the start..due ranges overlap (an open end counts as
  open; two goals without any date earn nothing).

A pair is suggested when it scores at least ``THRESHOLD`` and its titles are at least
``MIN_TITLE`` similar (an owner and dates alone say nothing about meaning). Candidates are
found by blocking on title tokens, so the work grows with the goals that share a word, not with
every pair; each child keeps its ``PER_CHILD`` best. Each pair is suggested once, the more
specific goal (longer title; on a tie the newer) under the more general one; suggestions are
goal-to-goal (a team has no owner or dates to score on).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher

from django.db import transaction

from dashboard.alignment.models import Alignment, AlignmentSuggestion
from dashboard.okrs.models import Goal, Person

WEIGHT_TITLE, WEIGHT_OWNER, WEIGHT_DATES = 0.7, 0.2, 0.1
THRESHOLD = 50.0  # a title alone must be ~72 % alike; a shared owner or dates let a weaker title through
MIN_TITLE = 0.6
PER_CHILD = 3
MAX_BLOCK = 200  # a token shared by more goals than this ("q3") is too common to block on
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "for",
        "to",
        "in",
        "on",
        "by",
        "with",
        "our",
        "we",
        "is",
        "be",
        "at",
        "from",
        "q1",
        "q2",
        "q3",
        "q4",
        "h1",
        "h2",
        "okr",
        "goal",
        "goals",
    ]
)


@dataclass(frozen=True)
class Candidate:
    """What the scoring needs of a goal."""

    pk: int
    connector_id: int
    title: str
    owners: frozenset[str] = field(default_factory=frozenset)  # lowercased names and e-mails
    start: date | None = None
    due: date | None = None


def normalise(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return " ".join(w for w in words if w not in STOP_WORDS)


def tokens(title: str) -> set[str]:
    return {w for w in normalise(title).split() if len(w) > 2}


def overlaps(a: Candidate, b: Candidate) -> bool:
    if not (a.start or a.due) or not (b.start or b.due):
        return False
    a_start, a_end = a.start or date.min, a.due or date.max
    b_start, b_end = b.start or date.min, b.due or date.max
    return a_start <= b_end and b_start <= a_end


def score(a: Candidate, b: Candidate) -> tuple[float, list[str]]:
    """(0-100, the reasons in words)."""
    similarity = SequenceMatcher(None, normalise(a.title), normalise(b.title)).ratio()
    reasons = [f"similar title ({similarity * 100:.0f} %)"]
    total = WEIGHT_TITLE * similarity
    shared = sorted(a.owners & b.owners)
    if shared:
        total += WEIGHT_OWNER
        reasons.append(f"same owner ({shared[0]})")
    if overlaps(a, b):
        total += WEIGHT_DATES
        reasons.append("overlapping dates")
    return round(total * 100, 1), reasons


def _candidates() -> list[Candidate]:
    emails = {
        (connector_id, external_id): email.lower()
        for connector_id, external_id, email in Person.objects.exclude(email="").values_list("connector_id", "external_id", "email")
    }
    rows = Goal.objects.exclude(state="archived").values_list(
        "pk", "connector_id", "title", "owners", "owner_external_ids", "start_date", "due_date"
    )
    found = []
    for pk, connector_id, title, owners, owner_ids, start, due in rows.iterator(chunk_size=2000):
        names = {str(o).strip().lower() for o in owners or [] if str(o).strip()}
        names |= {emails[(connector_id, str(i))] for i in owner_ids or [] if (connector_id, str(i)) in emails}
        found.append(Candidate(pk, connector_id, title, frozenset(names), start, due))
    return found


def find(candidates: list[Candidate]) -> dict[int, list[tuple[int, float, list[str]]]]:
    """Per child goal, its best parent goals of other connectors: (parent, score, reasons)."""
    by_token: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        for t in tokens(c.title):
            by_token[t].append(c)
    pairs: set[tuple[int, int]] = set()
    by_pk = {c.pk: c for c in candidates}
    for block in by_token.values():
        if len(block) > MAX_BLOCK:
            continue
        for i, a in enumerate(block):
            for b in block[i + 1 :]:
                if a.connector_id != b.connector_id:
                    pairs.add((min(a.pk, b.pk), max(a.pk, b.pk)))
    best: dict[int, list[tuple[int, float, list[str]]]] = defaultdict(list)
    for low, high in pairs:
        a, b = by_pk[low], by_pk[high]
        if SequenceMatcher(None, normalise(a.title), normalise(b.title)).ratio() < MIN_TITLE:
            continue
        value, reasons = score(a, b)
        if value >= THRESHOLD:
            # One suggestion per pair: the more specific goal (the longer title; on a tie the
            # newer one) under the more general one.
            child, parent = (a, b) if len(normalise(a.title)) > len(normalise(b.title)) else (b, a)
            best[child.pk].append((parent.pk, value, reasons))
    return {child: sorted(found, key=lambda f: -f[1])[:PER_CHILD] for child, found in best.items()}


def recompute() -> dict[str, int]:
    """Store pending suggestions for every goal not aligned yet. Decided ones stay as they are
    (a dismissed pair is never suggested again); pending ones no longer found are dropped."""
    found = find(_candidates())
    aligned = set(Alignment.objects.values_list("child_goal_id", flat=True))
    wanted = {
        (child, parent): (value, reasons) for child, parents in found.items() if child not in aligned for parent, value, reasons in parents
    }
    existing = {(s.child_goal_id, s.parent_goal_id): s for s in AlignmentSuggestion.objects.filter(parent_goal__isnull=False)}
    counts = {"created": 0, "updated": 0, "dropped": 0}
    with transaction.atomic():
        new = []
        for (child, parent), (value, reasons) in wanted.items():
            old = existing.get((child, parent))
            if old is None:
                new.append(AlignmentSuggestion(child_goal_id=child, parent_goal_id=parent, score=value, reasons=reasons))
            elif old.status == AlignmentSuggestion.Status.PENDING and (old.score, old.reasons) != (value, reasons):
                old.score, old.reasons = value, reasons
                old.save(update_fields=["score", "reasons"])
                counts["updated"] += 1
        AlignmentSuggestion.objects.bulk_create(new, ignore_conflicts=True)
        counts["created"] = len(new)
        gone = [s.pk for key, s in existing.items() if s.status == AlignmentSuggestion.Status.PENDING and key not in wanted]
        counts["dropped"] = AlignmentSuggestion.objects.filter(pk__in=gone).delete()[0]
    return counts
