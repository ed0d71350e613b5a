"""Running one sync (issue #6): run it safely, record everything.

``run_sync`` is what the task (and tests, the benchmark) calls; ``take_over`` is ``manage.py
sync --wait``. Enqueueing lives in :mod:`dashboard.integrations.sync.enqueue`.

A run holds a per-credential lock (``dashboard.core.locks``) plus a database backstop (at most
one running SyncRun per credential, checked under ``select_for_update`` of the credential).
Streams are read in dependency order; each page is upserted in its own transaction (see
``store``) and visibility is reconciled only after a complete read (``links``), so a
crash at any point leaves no duplicates and no half-applied removals, and a redelivered run
resumes: streams that already succeeded in this run are not read again.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from connectors.base import AuthError, ConnectorError, Kind, RateLimited, ScopeError
from connectors.http import scrub
from dashboard.core import locks
from dashboard.core.logging import scrub_text
from dashboard.integrations.models import Connector, Credential, StreamResult, SyncCursor, SyncRun
from dashboard.integrations.services.connectors import open_connector
from dashboard.integrations.signals import sync_succeeded
from dashboard.integrations.sync.enqueue import ACTIVE, blocked_reason
from dashboard.integrations.sync.links import MassRemovalHeldBack, fix_forward_links, reconcile_visibility
from dashboard.integrations.sync.reader import StreamReader
from dashboard.integrations.sync.store import KIND_MODELS, SPECS, StoreContext, upsert_page

logger = logging.getLogger(__name__)


class SyncRetry(Exception):
    """The run hit a 429 or transient failure and should be retried after ``countdown`` seconds."""

    def __init__(self, run_id: int, countdown: float, reason: str) -> None:
        super().__init__(reason)
        self.run_id = run_id
        self.countdown = countdown
        self.reason = reason


# -- running ------------------------------------------------------------------------------------


def retry_countdown(retries: int, retry_after: float | None) -> float:
    """Capped exponential backoff with jitter; a vendor's Retry-After is honoured up to a cap."""
    backoff: float = min(settings.SYNC_RETRY_MAX_DELAY, settings.SYNC_RETRY_BASE_DELAY * (2**retries))
    backoff *= 0.5 + random.random() / 2
    if retry_after is not None:
        return max(backoff, min(float(retry_after), settings.SYNC_RETRY_AFTER_CAP))
    return backoff


def _clean(text: str, secrets: Iterable[str] = ()) -> str:
    return scrub_text(scrub(text, secrets))[:2000]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectorError):
        return str(exc)  # message (endpoint) [HTTP status]
    return f"{type(exc).__name__}: {exc}"


@dataclass
class RunState:
    run: SyncRun
    credential: Credential
    secrets: tuple[str, ...] = ()
    retryable: ConnectorError | None = None
    auth_error: AuthError | None = None
    fatal: str = ""
    missing_scopes: set[str] = field(default_factory=set)
    streams: list[str] = field(default_factory=list)
    stream_kinds: Mapping[str, Kind] = field(default_factory=dict)


def _heartbeat_stopped(holder: locks.HolderInfo) -> bool:
    run_id = holder.extra.get("run")
    if run_id is None:
        return False
    row = SyncRun.objects.filter(pk=run_id).values("status", "heartbeat_at").first()
    if row is None or row["status"] in SyncRun.FINISHED:
        return True  # the holder's run is over: the lock was leaked by a crash
    last = row["heartbeat_at"]
    return last is not None and last < timezone.now() - timedelta(seconds=settings.SYNC_HEARTBEAT_TIMEOUT)


def _skip(run: SyncRun, reason: str) -> SyncRun:
    now = timezone.now()
    SyncRun.objects.filter(pk=run.pk, status__in=ACTIVE).update(
        status=SyncRun.Status.SKIPPED, error=reason, finished_at=now, duration_seconds=0.0
    )
    run.refresh_from_db()
    return run


def _claim(run: SyncRun) -> tuple[bool, str]:
    """The database backstop: mark ``run`` running unless another live run of its credential is."""
    now = timezone.now()
    with transaction.atomic():
        credential = Credential.objects.select_for_update().select_related("connector").get(pk=run.credential_id)
        others = SyncRun.objects.filter(credential=credential, status=SyncRun.Status.RUNNING).exclude(pk=run.pk)
        alive = others.filter(heartbeat_at__gte=now - timedelta(seconds=settings.SYNC_HEARTBEAT_TIMEOUT))
        if alive.exists():
            return False, f"Another sync of this credential is running (run {alive.first().pk})."  # type: ignore[union-attr]
        # We hold the credential's lock, so any other "running" run lost its worker.
        others.update(status=SyncRun.Status.FAILED, finished_at=now, error="The worker running this sync stopped; a later run took over.")
        reason = blocked_reason(credential, run.trigger)
        if reason:
            return False, reason
        claimed = SyncRun.objects.filter(pk=run.pk, status__in=ACTIVE).update(
            status=SyncRun.Status.RUNNING,
            started_at=Coalesce("started_at", now),
            heartbeat_at=now,
            attempt=F("attempt") + 1,
        )
    return bool(claimed), "" if claimed else "finished"


def run_sync(run_id: int, *, allow_retry: bool = False, retries: int = 0, transport: httpx.BaseTransport | None = None) -> SyncRun:
    """Run (or resume) the sync ``run_id``; idempotent, safe to call twice for one run.

    ``allow_retry``: on a 429 or transient failure leave the run queued and raise
    :class:`SyncRetry` (the Celery task retries it); otherwise finish it as partial/failed.
    """
    run = SyncRun.objects.select_related("credential__connector").get(pk=run_id)
    if run.is_finished:
        return run
    lock = locks.acquire(f"sync-credential-{run.credential_id}", extra={"run": run.pk}, is_abandoned=_heartbeat_stopped)
    if lock is None:
        holder = locks.holder_of(f"sync-credential-{run.credential_id}")
        if holder is not None and holder.extra.get("run") == run.pk:
            return run  # a second delivery of a run that is being worked on right now
        return _skip(run, "Another sync of this credential is running; not run twice.")
    try:
        claimed, reason = _claim(run)
        if not claimed:
            if reason != "finished":
                return _skip(run, reason)
            run.refresh_from_db()
            return run
        if lock.took_over is not None:
            logger.warning("sync run %s: took over the lock of a dead worker %s", run.pk, lock.took_over.dumps())
        run.refresh_from_db()
        return _execute(run, lock, allow_retry=allow_retry, retries=retries, transport=transport)
    finally:
        lock.release()


def take_over(run_id: int, *, transport: httpx.BaseTransport | None = None) -> tuple[SyncRun, bool] | None:
    """Run ``run_id`` in this process (``manage.py sync --wait``) unless someone is working on it.

    The same claim as :func:`run_sync` (the credential's lock, then the database backstop), so a
    worker that receives the run's task later finds it claimed or finished and leaves it alone.
    Returns ``(run, ran_here)`` once the run is finished, or ``None`` while another process holds
    the lock or runs the run: the caller waits and asks again, never skips. No Celery retries
    here: a 429 or transient failure finishes the run as partial or failed.
    """
    run = SyncRun.objects.select_related("credential__connector").get(pk=run_id)
    if run.is_finished:
        return run, False
    lock = locks.acquire(f"sync-credential-{run.credential_id}", extra={"run": run.pk}, is_abandoned=_heartbeat_stopped)
    if lock is None:
        return None
    try:
        run.refresh_from_db()
        fresh = timezone.now() - timedelta(seconds=settings.SYNC_HEARTBEAT_TIMEOUT)
        running = SyncRun.objects.filter(credential_id=run.credential_id, status=SyncRun.Status.RUNNING, heartbeat_at__gte=fresh)
        if lock.took_over is None and running.exists():
            # A live run without our lock (another host on another lock backend): wait for its
            # heartbeat to stop rather than run one credential twice.
            return None
        claimed, reason = _claim(run)
        if not claimed:
            run = _skip(run, reason) if reason != "finished" else SyncRun.objects.get(pk=run.pk)
            return run, False
        run.refresh_from_db()
        return _execute(run, lock, allow_retry=False, retries=0, transport=transport), True
    finally:
        lock.release()


def _execute(run: SyncRun, lock: locks.HeldLock, *, allow_retry: bool, retries: int, transport: httpx.BaseTransport | None) -> SyncRun:
    credential = run.credential
    state = RunState(run=run, credential=credential)
    started = time.monotonic()
    requests = 0
    try:
        with open_connector(credential, transport=transport) as connector:
            state.secrets = tuple(v for v in credential.get_secret().values() if v)
            streams = state.streams = list(connector.streams)
            state.stream_kinds = dict(connector.stream_kinds)
            done_before = dict(StreamResult.objects.filter(run=run).values_list("stream", "status"))
            finished = sum(1 for stream in streams if done_before.get(stream) in ("succeeded", "skipped"))
            SyncRun.objects.filter(pk=run.pk).update(streams_total=len(streams), streams_done=finished)
            todo = [stream for stream in streams if done_before.get(stream) not in ("succeeded", "skipped")]
            cursors = dict(SyncCursor.objects.filter(credential=credential, stream__in=todo).values_list("stream", "value"))
            plan = [(stream, cursors.get(stream) or None) for stream in todo]  # resumed run: finished streams are not read again
            try:
                with StreamReader(connector, plan, depth=settings.SYNC_READ_AHEAD_PAGES) as reader:
                    for stream in todo:
                        if state.retryable is not None and isinstance(state.retryable, RateLimited):
                            break  # the vendor asked us to slow down: do not hammer the other streams
                        _sync_stream(state, reader, stream, lock)
                        if state.auth_error is not None:
                            break
            finally:
                requests = connector.requests_made
    except AuthError as exc:  # raised by open_connector when the secret cannot be decrypted
        state.auth_error = exc
    except SoftTimeLimitExceeded:
        state.fatal = "The sync exceeded its time limit and was stopped."
    except Exception as exc:  # never leave a run "running": record what broke
        logger.exception("sync run %s crashed", run.pk)
        state.fatal = _clean(f"The sync stopped unexpectedly: {_describe(exc)}", state.secrets)
    return _finish(state, requests, time.monotonic() - started, allow_retry=allow_retry, retries=retries)


def _sync_stream(state: RunState, reader: StreamReader, stream: str, lock: locks.HeldLock) -> None:
    run, credential = state.run, state.credential
    SyncRun.objects.filter(pk=run.pk).update(current_stream=stream, heartbeat_at=timezone.now())
    result, _ = StreamResult.objects.update_or_create(
        run=run,
        stream=stream,
        defaults={
            "status": "running",
            "complete": False,
            "fetched": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "removed": 0,
            "error": "",
            "held_back": False,
        },
    )
    ctx = StoreContext(connector=credential.connector, credential=credential)
    seen: dict[Kind, set[int]] = {}
    # The kind the connector declares for this stream is tracked even when a complete read returns
    # nothing, so what vanished loses this credential's visibility.
    declared = state.stream_kinds.get(stream)
    if declared is not None:
        seen[declared] = set()
    complete, new_cursor = False, None
    progress = _Progress(run, result, lock)
    try:
        for page in reader.pages(stream):
            counts = upsert_page(ctx, page.records, seen)
            result.fetched += len(page.records)
            result.created += counts.created
            result.updated += counts.updated
            result.unchanged += counts.unchanged
            progress.add(len(page.records))
            if page.complete:
                complete, new_cursor = True, page.cursor
        progress.flush()
        for kind in seen:
            fix_forward_links(credential.connector, kind)
        # ``complete`` means the whole stream was listed (even when a cursor saved other requests,
        # e.g. North's events): only then may what vanished lose this credential's visibility.
        if complete:
            # A mass removal is held back once; the next complete read that agrees confirms it.
            previous = StreamResult.objects.filter(run__credential=credential, stream=stream).exclude(run=run).order_by("-run_id").first()
            confirmed = previous is not None and previous.held_back
            for kind, pks in seen.items():
                if SPECS[kind].has_seen_by:
                    result.removed += reconcile_visibility(KIND_MODELS[kind], credential.connector, credential, pks, guard=not confirmed)
        if complete and new_cursor is not None:
            SyncCursor.objects.update_or_create(credential=credential, stream=stream, defaults={"value": dict(new_cursor)})
        result.complete = complete
        result.status = "succeeded" if complete else "failed"
        if not complete:
            result.error = "The stream ended without its last page; nothing was removed."
    except AuthError as exc:
        state.auth_error = exc
        result.status, result.error = "failed", _clean(str(exc), state.secrets)
    except MassRemovalHeldBack as exc:
        result.status, result.error, result.held_back = "failed", str(exc), True
    except ScopeError as exc:
        scope = exc.scope or "a permission this credential lacks"
        state.missing_scopes.add(exc.scope or stream)
        result.status = "skipped"
        result.error = _clean(f"Skipped {stream}: the credential lacks the scope {scope} ({exc.endpoint or stream}).", state.secrets)
    except ConnectorError as exc:
        if exc.retryable:
            state.retryable = exc
        result.status, result.error = "failed", _clean(str(exc), state.secrets)
    except SoftTimeLimitExceeded:
        result.status, result.error = "failed", "Stopped by the time limit."
        result.save()
        raise
    except Exception as exc:
        logger.exception("sync run %s: stream %s failed", run.pk, stream)
        result.status, result.error = "failed", _clean(f"{_describe(exc)} (while storing {stream})", state.secrets)
    result.save()
    SyncRun.objects.filter(pk=run.pk).update(
        items_done=F("items_done") + progress.pending, streams_done=F("streams_done") + 1, heartbeat_at=timezone.now()
    )


class _Progress:
    """Progress of one stream for pages (items done, counts, heartbeat), written at most every
    ``PROGRESS_EVERY`` seconds instead of after every page: the run's own rows stay few."""

    PROGRESS_EVERY = 1.0

    def __init__(self, run: SyncRun, result: StreamResult, lock: locks.HeldLock) -> None:
        self.run, self.result, self.lock = run, result, lock
        self.pending = 0  # items stored since the last write of the run's progress
        self.last = time.monotonic()

    def add(self, items: int) -> None:
        self.pending += items
        if time.monotonic() - self.last >= self.PROGRESS_EVERY:
            self.flush()

    def flush(self) -> None:
        result = self.result
        StreamResult.objects.filter(pk=result.pk).update(
            fetched=result.fetched, created=result.created, updated=result.updated, unchanged=result.unchanged
        )
        SyncRun.objects.filter(pk=self.run.pk).update(items_done=F("items_done") + self.pending, heartbeat_at=timezone.now())
        self.lock.refresh()
        self.pending, self.last = 0, time.monotonic()


def _finish(state: RunState, requests: int, elapsed: float, *, allow_retry: bool, retries: int) -> SyncRun:
    run = state.run
    run.refresh_from_db()
    now = timezone.now()
    total_requests = run.requests_made + requests
    duration = (run.duration_seconds or 0.0) + elapsed
    results = list(StreamResult.objects.filter(run=run))
    errors = [f"{r.stream}: {r.error}" for r in results if r.error]
    if state.fatal:
        errors.insert(0, state.fatal)
    if state.auth_error is not None and not any(str(state.auth_error.message) in e for e in errors):
        errors.insert(0, _clean(str(state.auth_error), state.secrets))

    if state.auth_error is None and not state.fatal and state.retryable is not None and allow_retry:
        countdown = retry_countdown(retries, getattr(state.retryable, "retry_after", None))
        message = _clean(f"Retrying in {countdown:.0f}s: {'; '.join(errors)}", state.secrets)
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.QUEUED,
            error=message,
            requests_made=total_requests,
            duration_seconds=duration,
            heartbeat_at=now,
            current_stream="",
        )
        Connector.bump_data_version(state.credential.connector_id)  # pages written before the pause show at once
        raise SyncRetry(run.pk, countdown, message)

    # Streams never reached (rate limited, auth refused) are recorded so the page can say so.
    read = {r.stream for r in results}
    not_read = [s for s in state.streams if s not in read]
    if not_read and (state.retryable is not None or state.auth_error is not None or state.fatal):
        why = "the vendor refused the credential" if state.auth_error else "the run stopped early"
        if isinstance(state.retryable, RateLimited):
            why = "the vendor rate-limited this run"
        StreamResult.objects.bulk_create([StreamResult(run=run, stream=s, status="skipped", error=f"Not read: {why}.") for s in not_read])

    succeeded = sum(1 for r in results if r.status == "succeeded")
    if state.auth_error is not None or state.fatal:
        status = SyncRun.Status.FAILED
    elif succeeded == len(results) and not not_read:
        status = SyncRun.Status.SUCCEEDED
    elif succeeded:
        status = SyncRun.Status.PARTIAL
    else:
        status = SyncRun.Status.FAILED
    error = _clean("; ".join(errors), state.secrets)
    # The run's outcome and the credential's state change together: a reader that sees the run
    # finished also sees the credential marked (needs re-entry, paused, last success). The
    # credential row is locked first, as _claim locks it before touching runs: one lock order.
    with transaction.atomic():
        credential = Credential.objects.select_for_update().get(pk=state.credential.pk)
        SyncRun.objects.filter(pk=run.pk).update(
            status=status,
            finished_at=now,
            duration_seconds=duration,
            requests_made=total_requests,
            error=error,
            current_stream="",
            heartbeat_at=now,
        )
        _update_credential(credential, state, status, error, now)
    # Every finished run may have written, removed or newly exposed items (a first sync of a
    # second credential adds visibility without counting as a change): cached pages go stale.
    # Outside the credential's row lock, so lock order never mixes credential and connector rows.
    Connector.bump_data_version(state.credential.connector_id)
    run.refresh_from_db()
    logger.info("sync run %s %s: %s requests in %.1fs", run.pk, status, total_requests, duration)
    if status == SyncRun.Status.SUCCEEDED:
        # OKR Hub's own data derived from a clean read (people across vendors); never fails the run.
        for receiver, outcome in sync_succeeded.send_robust(sender=SyncRun, run=run):
            if isinstance(outcome, Exception):
                logger.error("sync run %s: after-sync step %s failed: %s", run.pk, getattr(receiver, "__name__", receiver), outcome)
    return run


def _update_credential(credential: Credential, state: RunState, status: str, error: str, now: Any) -> None:
    """Record the run's outcome on ``credential`` (locked by the caller's transaction)."""
    credential.last_sync_at = now
    fields = ["last_sync_at", "last_error", "consecutive_failures", "status", "status_reason", "status_changed_at", "missing_scopes"]
    if state.missing_scopes:
        credential.missing_scopes = sorted(set(credential.missing_scopes or []) | state.missing_scopes)
    elif status == SyncRun.Status.SUCCEEDED:
        credential.missing_scopes = []
    if state.auth_error is not None:
        credential.status = Credential.Status.NEEDS_REENTRY
        credential.status_reason = _clean(f"The vendor refused the credential: {state.auth_error}", state.secrets)[:500]
        credential.status_changed_at = now
    if status == SyncRun.Status.FAILED:
        credential.consecutive_failures += 1
        credential.last_error = error
        limit = settings.SYNC_PAUSE_AFTER_FAILURES
        if credential.status == Credential.Status.ACTIVE and limit and credential.consecutive_failures >= limit:
            credential.status = Credential.Status.PAUSED
            reason = f"Paused after {credential.consecutive_failures} failed syncs in a row. Last error: {error}"
            credential.status_reason = reason[:500]
            credential.status_changed_at = now
    else:
        credential.consecutive_failures = 0
        credential.last_error = error if status == SyncRun.Status.PARTIAL else ""
        credential.last_success_at = now
        fields.append("last_success_at")
        if credential.status == Credential.Status.PAUSED:  # the owner's override run worked
            credential.status, credential.status_reason, credential.status_changed_at = Credential.Status.ACTIVE, "", now
    credential.save(update_fields=fields)
