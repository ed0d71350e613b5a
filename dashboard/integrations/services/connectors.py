"""Open a vendor connector for a stored credential: decrypt the secret, build the httpx client.

Views never call a vendor directly; they call services, which use this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx
from django.conf import settings

from connectors import registry
from connectors.base import AuthError, TransientError, VendorConnector
from connectors.http import make_client
from dashboard.core import crypto
from dashboard.core.logging import register_secret
from dashboard.core.urlsafety import HostNotResolved, validate_base_url, vetted_addresses
from dashboard.integrations.models import Credential


def connector_options(credential: Credential, **extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"concurrency": settings.SYNC_CONCURRENCY, "stale_after_days": settings.STALE_AFTER_DAYS}
    options.update(credential.connector.options or {})
    options.update(extra)
    return options


@contextmanager
def open_connector(
    credential: Credential,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float | httpx.Timeout | None = None,
    on_response: Callable[[httpx.Response], None] | None = None,
    **options: Any,
) -> Iterator[VendorConnector]:
    """Yield a ready connector for ``credential``; closes the client afterwards.

    An undecryptable secret marks the credential for re-entry and raises ``AuthError``: it never
    becomes an empty secret. The base URL is checked again here (``URLRefused``), because DNS
    answers change after the connector was saved; an injected ``transport`` (tests, in-process
    sandboxes) reaches no network, so it skips that check.
    """
    if transport is None:
        try:
            validate_base_url(credential.connector.base_url)
        except HostNotResolved as exc:
            raise TransientError(f"Could not reach the vendor: {exc.message}") from None
    try:
        secret = credential.get_secret()
    except crypto.DecryptionFailed as exc:
        credential.mark_needs_reentry(str(exc))
        raise AuthError("The stored secret cannot be decrypted; enter it again.") from None
    for value in secret.values():
        register_secret(value)
    cls = registry.get(credential.connector.vendor)
    opts = connector_options(credential, **options)
    client_kwargs: dict[str, Any] = {"transport": transport, "concurrency": opts["concurrency"], "on_response": on_response}
    if transport is None:
        client_kwargs["connect_guard"] = _connect_guard
    if timeout is not None:
        client_kwargs["timeout"] = timeout
    client = make_client(credential.connector.base_url, **client_kwargs)
    try:
        yield cls(client, secret, options=opts)
    finally:
        client.close()


def _connect_guard(host: str, port: int) -> list[str]:
    """Each connection dials addresses checked at that moment (DNS rebinding guard). A name
    that stops resolving is a connection error, retried and reported like any other by
    ``HttpSession``; a refused address (``URLRefused``) is permanent and reaches the caller."""
    try:
        return vetted_addresses(host, port)
    except HostNotResolved as exc:
        raise httpcore.ConnectError(exc.message) from None
