"""Write-back (issue #10): the one path every dashboard write takes to a vendor.

``perform`` does, in order:

1. choose the credential (``write_access``): the signed-in user's own credential for the item's
   connector; a shared one only when the admin set ``Connector.allow_shared_writes``. A missing,
   read-only or under-scoped credential is refused with the same reason the form shows;
2. re-read the item from the vendor and compare it with the version the page was drawn from
   (a signed snapshot of the relevant vendor fields, embedded in the form): a difference raises
   ``WriteConflict`` carrying both versions, and nothing is sent;
3. call the connector's write method (never retried: a retried POST could act twice);
4. update the local copy at once from the vendor's answer (the sync engine's upsert, which also
   records a ProgressSnapshot when progress or health change);
5. record an ``AuditLog`` row for every attempt, whatever its outcome.

Vendor-specific operations (what to snapshot, which connector method to call) live in
``operations``; this module knows no vendor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx
from django.conf import settings
from django.core import signing
from django.db import transaction

from connectors.base import (
    AuthError,
    ConnectorError,
    NotFound,
    RateLimited,
    ReadOnlyError,
    Record,
    ScopeError,
    TransientError,
    VendorValidationError,
)
from connectors.http import RetryPolicy
from dashboard.core.logging import scrub_text
from dashboard.core.urlsafety import HostNotResolved, validate_base_url
from dashboard.integrations.models import Connector, Credential
from dashboard.integrations.services.connectors import open_connector
from dashboard.integrations.sync.store import StoreContext, upsert_records
from dashboard.integrations.visibility import shared_credentials_for
from dashboard.writeback.models import AuditLog

logger = logging.getLogger(__name__)

VERSION_SALT = "okrhub.writes.version"
# Reads before a write may retry once, briefly: the user is waiting for the form.
WRITE_RETRY_POLICY = RetryPolicy(max_attempts=2, base_delay=0.2, max_delay=1.0, budget_seconds=5.0, retry_after_cap=2.0)
# Scopes a 403 may name that are about one item, not about what the token may do.
ITEM_PERMISSION_SCOPES = ("", "edit", "write")


def write_timeout() -> float:
    return float(getattr(settings, "WRITES_TIMEOUT_SECONDS", 15.0))


# -- who may write, through which credential -----------------------------------------------------


@dataclass(frozen=True)
class WriteAccess:
    """The credential a write would use, or why there is none (shown on the disabled form)."""

    connector: Connector
    credential: Credential | None
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.credential is not None and not self.reason


def _blocked_reason(credential: Credential, scope: str | None) -> str:
    name = credential.connector.name
    if credential.status == Credential.Status.NEEDS_REENTRY:
        return f"Your {name} connection needs its secret entered again (Connections) before you can make changes."
    if not credential.can_write:
        why = credential.write_disabled_reason or "this credential is read-only"
        return f"Changes are disabled for your {name} connection: {why}."
    if scope and scope in (credential.missing_scopes or []):
        return (
            f"Your {name} token lacks the “{scope}” scope this change needs. "
            "Create a token with that scope and replace the secret under Connections."
        )
    return ""


def write_access(user: Any, connector: Connector, *, scope: str | None = None) -> WriteAccess:
    """Which credential a write by ``user`` to ``connector`` goes through (never a shared one
    unless the admin allowed writes through shared credentials)."""
    if not connector.enabled:
        return WriteAccess(connector, None, f"The {connector.name} connector is disabled by an admin.")
    if not getattr(user, "is_authenticated", False):
        return WriteAccess(connector, None, "Sign in to make changes.")
    # visibility: which shared credentials a write may go through (issue #19: being unified into one
    # selector elsewhere; moved as-is, logic unchanged).
    own = list(Credential.objects.filter(connector=connector, owner=user).select_related("connector").order_by("id"))
    candidates = own
    if not own and connector.allow_shared_writes:
        candidates = list(shared_credentials_for(user).filter(connector=connector).select_related("connector").order_by("id"))
    if not candidates:
        if not own and Credential.objects.filter(connector=connector, is_shared=True).exists():
            return WriteAccess(
                connector,
                None,
                f"Changes go through your own {connector.name} account; the shared connection is read-only. "
                "Connect your account under Connections to make changes.",
            )
        return WriteAccess(connector, None, f"Connect your own {connector.name} account under Connections to make changes here.")
    for credential in candidates:
        if not _blocked_reason(credential, scope):
            return WriteAccess(connector, credential)
    first = candidates[0]
    return WriteAccess(connector, first, _blocked_reason(first, scope))


# -- versions: what the page was drawn from ------------------------------------------------------


def plain(value: Any) -> Any:
    """Snapshot values as JSON-friendly, comparable values."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def version_token(snapshot: Mapping[str, Any]) -> str:
    """A signed copy of the vendor fields the page showed (tamper-evident, so a forged token
    cannot skip the conflict check; it holds no secrets)."""
    return signing.dumps(plain(snapshot), salt=VERSION_SALT, compress=True)


def read_version(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        value = signing.loads(token, salt=VERSION_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) else None


# -- outcomes ------------------------------------------------------------------------------------


class WriteFailed(Exception):
    """A write that did not happen. ``field_errors`` go next to their fields; ``retryable`` means
    the vendor was down or slow and the same form may simply be sent again."""

    def __init__(
        self,
        message: str,
        *,
        outcome: str = AuditLog.Outcome.FAILED,
        field_errors: Mapping[str, Sequence[str]] | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.outcome = outcome
        self.field_errors = {k: list(v) for k, v in (field_errors or {}).items()}
        self.retryable = retryable


class WriteConflict(Exception):
    """The item changed at the vendor since the page was drawn; nothing was sent."""

    def __init__(self, base: Mapping[str, Any] | None, theirs: Mapping[str, Any]) -> None:
        super().__init__("The item changed at the vendor since you opened this form.")
        self.base = dict(base or {})
        self.theirs = dict(theirs)
        self.token = version_token(theirs)  # submitting with this token means "mine over theirs"


@dataclass
class WriteResult:
    answer: Any
    audit: AuditLog
    summary: str


@dataclass
class ItemRef:
    """What the audit log names: the item's kind, vendor id and title."""

    kind: str
    external_id: str = ""
    title: str = ""


@dataclass
class WriteSpec:
    """One write: how to read the current version (``current``), what to send (``call``), how
    to store the answer locally (``store``) and how to describe it (``describe``)."""

    operation: str
    item: ItemRef
    sent: dict[str, Any]
    call: Callable[[Any, dict[str, Any] | None], Any]
    current: Callable[[Any], Mapping[str, Any]] | None = None
    store: Callable[[Credential, Any], None] | None = None
    describe: Callable[[Any], str] = field(default=lambda answer: "accepted")


class _Exchanges:
    """The client's response hook: keeps (method, path, status) of every exchange, so the audit
    names the vendor's answer. A hook, not a transport, so the write's client is the pinned one
    every connector client is (``open_connector``)."""

    def __init__(self) -> None:
        self.exchanges: list[tuple[str, str, int]] = []

    def __call__(self, response: httpx.Response) -> None:
        self.exchanges.append((response.request.method, response.request.url.path, response.status_code))

    def last_write_status(self) -> int | None:
        writes = [status for method, _path, status in self.exchanges if method != "GET"]
        return writes[-1] if writes else None


def _audit(user: Any, access: WriteAccess, spec: WriteSpec, outcome: str, summary: str, status: int | None) -> AuditLog:
    return AuditLog.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        username=getattr(user, "get_username", lambda: "")() or "",
        connector=access.connector,
        connector_name=access.connector.name,
        vendor=access.connector.vendor,
        credential=access.credential,
        operation=spec.operation,
        item_kind=spec.item.kind,
        item_external_id=spec.item.external_id[:255],
        item_title=spec.item.title[:500],
        sent=plain(spec.sent),
        outcome=outcome,
        vendor_status=status,
        vendor_summary=scrub_text(summary)[:2000],
    )


def _remember_refusal(credential: Credential, exc: ScopeError) -> None:
    """A 403 that says the token cannot write (not just this item) disables the form next time."""
    if isinstance(exc, ReadOnlyError) and exc.scope == "write":
        credential.can_write = False
        credential.write_disabled_reason = exc.message[:300]
        credential.save(update_fields=["can_write", "write_disabled_reason"])
    elif exc.scope and exc.scope not in ITEM_PERMISSION_SCOPES and exc.scope not in (credential.missing_scopes or []):
        credential.missing_scopes = [*(credential.missing_scopes or []), exc.scope]
        credential.save(update_fields=["missing_scopes"])


def _failure(exc: ConnectorError, vendor_name: str) -> WriteFailed:
    """A connector error in words a user can act on."""
    detail = scrub_text(str(exc))
    if isinstance(exc, VendorValidationError):
        return WriteFailed(
            f"{vendor_name} did not accept the change: {scrub_text(exc.message)}",
            outcome=AuditLog.Outcome.REJECTED,
            field_errors={k: [scrub_text(m) for m in v] for k, v in exc.field_errors.items()},
        )
    if isinstance(exc, AuthError):
        return WriteFailed(
            f"{vendor_name} refused your credential ({detail}). Enter the secret again under Connections.",
            outcome=AuditLog.Outcome.REFUSED,
        )
    if isinstance(exc, ScopeError):
        return WriteFailed(
            f"{vendor_name} does not allow this change with your account: {scrub_text(exc.message)}", outcome=AuditLog.Outcome.REFUSED
        )
    if isinstance(exc, NotFound):
        return WriteFailed(f"{vendor_name} no longer has this item ({detail}). It will disappear here after the next sync.")
    if isinstance(exc, TransientError | RateLimited):
        return WriteFailed(
            f"{vendor_name} is not answering right now ({detail}). Nothing was changed here; your entries are kept, so you can try again.",
            retryable=True,
        )
    return WriteFailed(f"{vendor_name} answered in a way we did not expect ({detail}). Nothing was changed here.")


def perform(user: Any, access: WriteAccess, spec: WriteSpec, *, version: str | None = None) -> WriteResult:
    """Run one write (see the module docstring). Raises ``WriteFailed`` or ``WriteConflict``."""
    vendor_name = access.connector.get_vendor_display()
    if not access.allowed:
        reason = access.reason or "You cannot make changes through this connection."
        _audit(user, access, spec, AuditLog.Outcome.REFUSED, reason, None)
        raise WriteFailed(reason, outcome=AuditLog.Outcome.REFUSED)
    credential = access.credential
    assert credential is not None
    exchanges = _Exchanges()
    try:
        validate_base_url(credential.connector.base_url)
    except HostNotResolved as exc:
        _audit(user, access, spec, AuditLog.Outcome.FAILED, exc.message, None)
        raise WriteFailed(f"Could not reach {vendor_name}: {exc.message}. Try again.", retryable=True) from None
    except ConnectorError as exc:
        _audit(user, access, spec, AuditLog.Outcome.FAILED, exc.message, None)
        raise WriteFailed(f"The {access.connector.name} address is refused: {exc.message}") from None
    theirs: dict[str, Any] | None = None
    try:
        with open_connector(credential, on_response=exchanges, timeout=write_timeout(), retry_policy=WRITE_RETRY_POLICY) as connector:
            if spec.current is not None:
                theirs = plain(dict(spec.current(connector)))
                base = read_version(version)
                if base != theirs:
                    conflict = WriteConflict(base, theirs)
                    _audit(
                        user, access, spec, AuditLog.Outcome.CONFLICT, "changed at the vendor since the form was drawn; nothing sent", None
                    )
                    raise conflict
            answer = spec.call(connector, theirs)
    except WriteConflict:
        raise
    except ConnectorError as exc:
        failure = _failure(exc, vendor_name)
        _audit(user, access, spec, failure.outcome, str(exc), exc.status or exchanges.last_write_status())
        if isinstance(exc, ScopeError):
            _remember_refusal(credential, exc)
        if isinstance(exc, AuthError) and exc.status == 401:
            credential.mark_needs_reentry(scrub_text(exc.message))
        raise failure from None
    except httpx.HTTPError as exc:  # a transport error the session did not classify
        _audit(user, access, spec, AuditLog.Outcome.FAILED, f"{type(exc).__name__}: {exc}", None)
        raise WriteFailed(f"{vendor_name} is not answering right now. Your entries are kept; try again.", retryable=True) from None
    summary = spec.describe(answer)
    with transaction.atomic():
        if spec.store is not None:
            spec.store(credential, answer)
        audit = _audit(user, access, spec, AuditLog.Outcome.SUCCEEDED, summary, exchanges.last_write_status())
        # The local copy (or what a later read shows) changed: cached dashboard data must not outlive it.
        Connector.bump_data_version(credential.connector_id)
    return WriteResult(answer=answer, audit=audit, summary=summary)


# -- the local copy ------------------------------------------------------------------------------


def store_records(credential: Credential, records: Sequence[Record]) -> None:
    """Upsert the vendor's answer with the sync engine's own upsert (same fingerprint, links,
    snapshots on progress/health change, ``seen_by`` for the writing credential)."""
    ctx = StoreContext(connector=credential.connector, credential=credential)
    by_kind: dict[Any, list[Record]] = {}
    for record in records:
        by_kind.setdefault(record.kind, []).append(record)
    for kind, items in by_kind.items():
        upsert_records(ctx, kind, items, set())


def read_current(credential: Credential, read: Callable[[Any], Any]) -> Any:
    """Read something fresh from the vendor for a form (same timeout and retry as writes)."""
    with open_connector(credential, timeout=write_timeout(), retry_policy=WRITE_RETRY_POLICY) as connector:
        return read(connector)
