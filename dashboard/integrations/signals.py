"""Signals of the sync engine, for apps that add OKR Hub's own data after a sync."""

from django.dispatch import Signal

# Sent with ``run`` (the finished SyncRun) when a credential's run succeeded. Receivers run in
# the sync's process after the run is recorded; a failing receiver is logged, never fails the run.
sync_succeeded = Signal()
