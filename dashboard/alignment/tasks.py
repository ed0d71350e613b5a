"""Celery tasks of the alignment app: they call one service and take no arguments."""

from __future__ import annotations

from celery import shared_task

from dashboard.alignment import suggestions


@shared_task(name="dashboard.alignment.tasks.suggest_alignments")  # type: ignore[untyped-decorator]  # celery ships no py.typed
def suggest_alignments() -> dict[str, int]:
    """Recompute pending alignment suggestions (idempotent: decided ones are kept)."""
    return suggestions.recompute()
