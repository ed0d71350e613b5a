"""The sync engine: connector -> reader -> store (+ links) -> okrs models, one way.

Entry points: :func:`enqueue_sync` (record runs, send their task on commit) and
:func:`run_sync` (what the task runs). ``dashboard.integrations.tasks`` imports this package;
nothing here imports the tasks (the task is sent by name, see ``enqueue.SYNC_TASK``).
"""

from dashboard.integrations.sync.engine import SyncRetry, run_sync, take_over
from dashboard.integrations.sync.enqueue import create_runs, enqueue_sync

__all__ = ["SyncRetry", "create_runs", "enqueue_sync", "run_sync", "take_over"]
