"""Sync runs (the caller's own; admins see everyone's) and starting a sync of own credentials."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.params import functions as param  # typed param functions: ninja.Query is an Annotated alias to mypy

from dashboard.accounts.roles import is_admin
from dashboard.integrations.models import SyncRun
from dashboard.okrs import selectors
from dashboard.okrs.api import schemas
from dashboard.okrs.api.auth import SessionAuth, TokenAuth
from dashboard.okrs.api.errors import ApiError, bad_parameter
from dashboard.okrs.api.params import SyncRunParams, connector_q, paginate

router = Router(tags=["Sync"])
ERRORS: dict[int, Any] = {400: schemas.ErrorOut, 401: schemas.ErrorOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut, 429: schemas.ErrorOut}


def _run(run: SyncRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "credential_id": run.credential_id,
        "connector": run.credential.connector.name,
        "vendor": run.credential.connector.vendor,
        "requested_by": run.requested_by.get_username() if run.requested_by else None,
        "trigger": run.trigger,
        "status": run.status,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_seconds": run.duration_seconds,
        "requests_made": run.requests_made,
        "percent": run.percent,
        "current_stream": run.current_stream,
        "streams_done": run.streams_done,
        "streams_total": run.streams_total,
        "items_done": run.items_done,
        "counts": run.counts(),  # sums the prefetched stream results: no query per run
        "error": run.error,  # scrubbed when recorded
        "reason": run.reason,
    }


@router.get(
    "/sync-runs",
    response={200: schemas.SyncRunPage, **ERRORS},
    summary="Sync runs: your own; admins see all",
    auth=[TokenAuth(scopes=("read", "sync")), SessionAuth()],  # a sync-only token can follow its runs
)
def list_sync_runs(request: HttpRequest, filters: Query[SyncRunParams]) -> dict[str, Any]:
    qs = SyncRun.objects.select_related("credential__connector", "requested_by").prefetch_related("stream_results")
    if not is_admin(request.user):
        qs = qs.filter(Q(credential__owner=request.user) | Q(requested_by=request.user))
    if filters.vendor:
        qs = qs.filter(credential__connector__vendor=filters.vendor.value)
    if filters.connector:
        qs = qs.filter(connector_q(filters.connector, field="credential__connector"))
    if filters.status:
        qs = qs.filter(status=filters.status.value)
    qs = qs.order_by("-created_at", "-id")

    def serialize(runs: Iterable[SyncRun]) -> list[dict[str, Any]]:
        return [_run(run) for run in runs]

    return paginate(request, qs, filters, serialize)


@router.post(
    "/sync",
    response={202: schemas.SyncStarted, **ERRORS},
    summary="Start a sync of your own credentials (tokens need the 'sync' scope)",
    auth=[TokenAuth(scopes=("sync",)), SessionAuth()],
)
def start_sync(
    request: HttpRequest,
    connector: str | None = param.Query(None, max_length=100, description="Only credentials of this connector (name or id)."),
) -> Status[dict[str, Any]]:
    if connector is not None and "\x00" in connector:
        raise bad_parameter("connector", connector, "must not contain NUL characters")
    # What the pages' "Sync now" syncs: own credentials on enabled connectors, not awaiting re-entry.
    credentials = selectors.own_sync_credentials(request.user).select_related("connector").order_by("id")
    if connector:
        credentials = credentials.filter(connector_q(connector))
    credential_list = list(credentials)
    if not credential_list:
        where = f" for connector {connector!r}" if connector else ""
        raise ApiError(
            400, f"You have no credentials{where} to sync. Add one on the Connections page.", parameter="connector" if connector else None
        )

    # Imported here: the sync service lives in integrations and pulls in Celery and connectors.
    from dashboard.integrations.sync import enqueue_sync

    runs = enqueue_sync(credential_list, trigger="api", requested_by=request.user)
    queued = [run for run in runs if run.status == SyncRun.Status.QUEUED]
    message = f"Queued {len(queued)} sync{'' if len(queued) == 1 else 's'}"
    if len(queued) < len(runs):
        message += f"; {len(runs) - len(queued)} skipped (already running or paused: see each run's error)"
    return Status(202, {"run_ids": [run.pk for run in runs], "message": message + ". Follow them at /api/v1/sync-runs."})
