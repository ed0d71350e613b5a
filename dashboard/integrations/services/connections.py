"""Connection services: test a credential, connect, replace the secret, disconnect, share.

Views and management commands call these; nothing here renders a secret back. Functions that
hold a decrypted or pasted secret in a local variable are marked ``sensitive_variables`` so
Django's error reports (the debug page, admin e-mails) never show it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from connectors import registry
from connectors.base import (
    AccountInfo,
    AuthError,
    ConnectorError,
    CredentialField,
    ReadOnlyError,
    ScopeError,
    TransientError,
)
from dashboard.core.logging import register_secret, scrub_text
from dashboard.core.urlsafety import URLRefused
from dashboard.integrations.models import Connector, Credential
from dashboard.integrations.services.connectors import open_connector

logger = logging.getLogger(__name__)

# What each vendor's secret looks like when its connector package is not importable yet; the
# connector's own ``credential_fields`` win when it is registered.
TOKEN_FIELDS = (CredentialField("token", "API token", secret=True, help_text="Paste the personal API token."),)
PASSWORD_FIELDS = (
    CredentialField("username", "User name"),
    CredentialField("password", "Password", secret=True),
)
DEFAULT_FIELDS: Mapping[str, Sequence[CredentialField]] = {
    "north": TOKEN_FIELDS,
    "operately": TOKEN_FIELDS,
    "ogsm": PASSWORD_FIELDS,
}


class ConnectionProblem(Exception):
    """Bad input for a connection service (shown to the user as is; never contains a secret)."""


def credential_fields(vendor: str) -> Sequence[CredentialField]:
    try:
        fields = registry.get(vendor).credential_fields
    except KeyError:
        fields = ()
    return tuple(fields) or tuple(DEFAULT_FIELDS.get(vendor, TOKEN_FIELDS))


def uses_password(vendor: str) -> bool:
    return any(f.name == "password" for f in credential_fields(vendor))


@sensitive_variables("secret", "cleaned", "value")
def clean_secret(vendor: str, secret: Mapping[str, str]) -> dict[str, str]:
    """Check the secret has exactly the vendor's fields, each non-empty."""
    cleaned: dict[str, str] = {}
    for spec in credential_fields(vendor):
        value = (secret.get(spec.name) or "").strip() if spec.name != "password" else (secret.get(spec.name) or "")
        if not value:
            raise ConnectionProblem(f"{spec.label} is required.")
        cleaned[spec.name] = value
    return cleaned


# --------------------------------------------------------------------------------------------
# Testing a connection
# --------------------------------------------------------------------------------------------


CHECK_OUTCOME_LABELS = {
    "ok": "Works",
    "read_only": "Read-only",
    "missing_scope": "Missing scope",
    "auth": "Refused",
    "scope": "Missing scope",
    "unreachable": "Unreachable",
    "url_refused": "URL refused",
    "error": "Failed",
}


@dataclass(frozen=True)
class CheckOutcome:
    """What a connection test found, in words for the member. ``kind`` drives the styling."""

    kind: str  # ok, read_only, missing_scope, auth, scope, unreachable, url_refused, error
    message: str
    account: AccountInfo | None = None
    missing_scopes: Sequence[str] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return CHECK_OUTCOME_LABELS.get(self.kind, "Failed")

    @property
    def css(self) -> str:
        """A health chip class: green works, amber works with a limit, red does not work."""
        if self.kind == "ok":
            return "on_track"
        return "needs_attention" if self.ok else "off_track"

    @property
    def ok(self) -> bool:
        """The credential works for reading (a read-only token is still a working connection)."""
        return self.kind in ("ok", "read_only", "missing_scope")


def describe_account(info: AccountInfo) -> CheckOutcome:
    who = info.account_name + (f" ({info.email})" if info.email else "") + (f", {info.detail}" if info.detail else "")
    if info.missing_scopes:
        scopes = ", ".join(info.missing_scopes)
        return CheckOutcome(
            "missing_scope",
            f"Connected as {who}, but the token is missing the scope {scopes}: data that needs it will not sync. "
            "Create a token with that scope and replace this one.",
            info,
            tuple(info.missing_scopes),
        )
    if not info.can_write:
        reason = info.write_disabled_reason or "writes need a token with write access"
        return CheckOutcome("read_only", f"Connected as {who}. Read-only token: {reason}.", info)
    return CheckOutcome("ok", f"Connected as {who}.", info)


def describe_error(exc: BaseException, *, password: bool = False) -> CheckOutcome:
    """One clear sentence per failure class; connector messages are already scrubbed."""
    if isinstance(exc, URLRefused):
        return CheckOutcome("url_refused", f"The connector's base URL is refused: {exc.message} Ask an administrator to fix it.")
    if isinstance(exc, AuthError):
        if password:
            return CheckOutcome("auth", "Wrong user name or password: the vendor refused them. Check both and try again.")
        return CheckOutcome("auth", "Wrong token: the vendor refused it. Check it was copied whole, or create a new one.")
    if isinstance(exc, ReadOnlyError):
        return CheckOutcome("read_only", "The token is read-only.")
    if isinstance(exc, ScopeError):
        scope = f" ({exc.scope})" if exc.scope else ""
        return CheckOutcome(
            "scope",
            f"Missing scope{scope}: the token may not read the account. Create a token with read access and try again.",
            missing_scopes=(exc.scope,) if exc.scope else (),
        )
    if isinstance(exc, TransientError):
        return CheckOutcome("unreachable", f"Unreachable host: the vendor did not answer ({exc.message}). Try again later.")
    if isinstance(exc, ConnectorError):
        return CheckOutcome("error", f"The vendor gave an unexpected answer: {exc.message}")
    return CheckOutcome("error", "The test failed unexpectedly; the error was logged for an administrator.")


def run_check(credential: Credential, *, transport: httpx.BaseTransport | None = None, timeout: float | None = 10.0) -> CheckOutcome:
    """Call ``check()`` for ``credential`` (saved or not) and describe the answer; never raises."""
    password = uses_password(credential.connector.vendor)
    try:
        with open_connector(credential, transport=transport, timeout=timeout) as connector:
            info = connector.check()
    except (ConnectorError, httpx.HTTPError) as exc:
        if isinstance(exc, httpx.HTTPError):  # a connector that let a raw transport error through
            exc = TransientError(f"{type(exc).__name__}")
        return describe_error(exc, password=password)
    except Exception as exc:  # the member sees a sentence; the admin finds the traceback in the log
        logger.exception("connection test failed for credential %s: %s", credential.pk, scrub_text(str(exc)))
        return describe_error(exc, password=password)
    return describe_account(info)


def store_account(credential: Credential, info: AccountInfo) -> None:
    credential.account_name = info.account_name[:200]
    credential.account_detail = ", ".join(x for x in (info.email or "", info.detail) if x)[:300]
    credential.can_write = info.can_write
    credential.write_disabled_reason = (info.write_disabled_reason or "")[:300]
    credential.missing_scopes = list(info.missing_scopes)


def test_connection(credential: Credential, *, transport: httpx.BaseTransport | None = None, timeout: float | None = 10.0) -> CheckOutcome:
    """Test a stored credential and record what was learnt (account, write access, status)."""
    outcome = run_check(credential, transport=transport, timeout=timeout)
    credential.refresh_from_db(fields=["status", "status_reason"])  # open_connector may have marked it
    if outcome.account is not None:
        store_account(credential, outcome.account)
        if credential.status == Credential.Status.NEEDS_REENTRY:
            credential.status, credential.status_reason = Credential.Status.ACTIVE, ""
        credential.save()
    elif outcome.kind == "auth":
        credential.mark_needs_reentry(outcome.message)
    return outcome


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite the name


# --------------------------------------------------------------------------------------------
# Connect, replace, disconnect
# --------------------------------------------------------------------------------------------


@dataclass
class ConnectResult:
    outcome: CheckOutcome
    credential: Credential | None = None  # None when the secret was refused and nothing was saved
    sync_enqueued: bool = False


def enqueue_first_sync(credential: Credential, user: User | None = None, *, trigger: str = "manual") -> bool:
    """Queue a first sync (the sync engine dispatches it when the transaction commits)."""
    try:
        from dashboard.integrations.sync import enqueue_sync  # the sync engine (issue #6)
    except ImportError:  # pragma: no cover - an installation without the sync engine
        return False
    try:
        with transaction.atomic():  # a savepoint: a failure here must not undo the saved credential
            runs = enqueue_sync([credential], trigger=trigger, requested_by=user)
    except Exception:
        logger.exception("could not enqueue the first sync of credential %s", credential.pk)
        return False
    return any(run.status == "queued" for run in runs)


@sensitive_variables("secret", "cleaned", "value")
def connect(
    user: User,
    connector: Connector,
    secret: Mapping[str, str],
    *,
    label: str = "",
    transport: httpx.BaseTransport | None = None,
) -> ConnectResult:
    """Store ``user``'s credential for ``connector`` when the vendor accepts it.

    The secret is tested first (``check()``): a refused or unreachable one is not saved, so a
    member never ends up with a connection that silently fails every sync.
    """
    if not connector.enabled:
        raise ConnectionProblem(f"{connector.name} is disabled by an administrator.")
    if Credential.objects.filter(connector=connector, owner=user, is_shared=False).exists():
        raise ConnectionProblem(f"You are already connected to {connector.name}; replace the secret instead.")
    cleaned = clean_secret(connector.vendor, secret)
    for value in cleaned.values():
        register_secret(value)
    credential = Credential(connector=connector, owner=user, is_shared=False, label=label[:100])
    credential.set_secret(cleaned)
    outcome = run_check(credential, transport=transport)
    if not outcome.ok or outcome.account is None:
        return ConnectResult(outcome)
    store_account(credential, outcome.account)
    with transaction.atomic():
        credential.save()
        enqueued = enqueue_first_sync(credential, user)
    return ConnectResult(outcome, credential, enqueued)


@sensitive_variables("secret", "cleaned", "value")
def replace_secret(
    credential: Credential,
    secret: Mapping[str, str],
    *,
    user: User | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ConnectResult:
    """Swap in a new secret after the vendor accepted it; the old one stays when it is refused."""
    cleaned = clean_secret(credential.connector.vendor, secret)
    for value in cleaned.values():
        register_secret(value)
    candidate = Credential(connector=credential.connector, owner=credential.owner, is_shared=credential.is_shared)
    candidate.set_secret(cleaned)
    outcome = run_check(candidate, transport=transport)
    if not outcome.ok or outcome.account is None:
        return ConnectResult(outcome, None)
    credential.set_secret(cleaned)
    store_account(credential, outcome.account)
    credential.last_error = ""
    if credential.status == Credential.Status.PAUSED:
        credential.status, credential.status_reason = Credential.Status.ACTIVE, ""
    with transaction.atomic():
        credential.save()
        enqueued = enqueue_first_sync(credential, user)
    return ConnectResult(outcome, credential, enqueued)


def disconnect(credential: Credential) -> None:
    """Delete the credential. Visibility is per credential (``seen_by``), so everything only it
    returned leaves the owner's views in the same transaction."""
    connector_id = credential.connector_id
    credential.delete()
    Connector.bump_data_version(connector_id)  # items shared with sibling credentials may have changed hands


# --------------------------------------------------------------------------------------------
# Stored without a test (CLI scripting, admin shared credentials)
# --------------------------------------------------------------------------------------------


@sensitive_variables("secret", "cleaned", "value")
def store_credential(
    connector: Connector,
    secret: Mapping[str, str],
    *,
    owner: User | None = None,
    share_with_everyone: bool = True,
    groups: Iterable[Group] = (),
    label: str = "",
    queue_first_sync: bool = True,
) -> tuple[Credential, bool]:
    """Create (or, for a user who already has one, update) a credential without calling the
    vendor; returns ``(credential, created)``. Used by ``manage.py credential add`` (``--no-sync``
    passes ``queue_first_sync=False``)."""
    cleaned = clean_secret(connector.vendor, secret)
    with transaction.atomic():
        existing = None
        if owner is not None:
            existing = Credential.objects.select_for_update().filter(connector=connector, owner=owner, is_shared=False).first()
        credential = existing or Credential(connector=connector, owner=owner, is_shared=owner is None)
        if owner is None:
            credential.share_with_everyone = share_with_everyone
        if label:
            credential.label = label[:100]
        credential.set_secret(cleaned)
        credential.save()
        if owner is None:
            credential.groups.set(list(groups))
        if queue_first_sync:
            enqueue_first_sync(credential, owner, trigger="cli")
    return credential, existing is None


@sensitive_variables("secret", "cleaned", "value")
def add_shared_credential(
    connector: Connector,
    secret: Mapping[str, str],
    *,
    share_with_everyone: bool,
    groups: Iterable[Group] = (),
    label: str = "",
    transport: httpx.BaseTransport | None = None,
) -> ConnectResult:
    """An admin's shared credential (e.g. an OGSM service account), tested like a member's."""
    cleaned = clean_secret(connector.vendor, secret)
    for value in cleaned.values():
        register_secret(value)
    credential = Credential(connector=connector, owner=None, is_shared=True, share_with_everyone=share_with_everyone, label=label[:100])
    credential.set_secret(cleaned)
    outcome = run_check(credential, transport=transport)
    if not outcome.ok or outcome.account is None:
        return ConnectResult(outcome)
    store_account(credential, outcome.account)
    with transaction.atomic():
        credential.save()
        credential.groups.set(list(groups))
        enqueued = enqueue_first_sync(credential)
    return ConnectResult(outcome, credential, enqueued)
