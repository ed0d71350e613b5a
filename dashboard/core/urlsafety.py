"""Base URL validation for vendor connectors (server-side request forgery guard).

A connector's base URL is chosen by an admin but fetched by our servers with users' secrets, so
it must not point at internal services:

* ``https`` only, except for hosts listed in ``settings.CONNECTOR_ALLOWED_HOSTS`` (the sandboxes
  and the demo run on loopback over plain http);
* no credentials in the URL (``https://user:pass@host``): secrets live in credentials, encrypted;
* every address the host resolves to (``socket.getaddrinfo``) must be public: private, loopback,
  link-local, multicast, reserved, unspecified and carrier-grade NAT addresses are refused unless
  the host is allowed. Checking after DNS resolution means a name pointing at ``127.0.0.1`` is
  refused just like the literal address.

Forms and the CLI call ``validate_base_url`` when a connector is saved; ``open_connector`` calls
it again before a sync. DNS answers can change between that check and the connection (DNS
rebinding), so the sync's clients also dial only addresses vetted at connect time:
``vetted_addresses`` is their connect guard (``connectors.http.PinnedBackend``). Redirects cannot
escape either: the httpx clients never follow them (``connectors.http.make_client``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from connectors.base import PermanentError

Resolver = Callable[[str, int], Iterable[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class URLRefused(PermanentError):
    """The base URL breaks the safety rules; the message says which rule, for the admin."""


class HostNotResolved(URLRefused):
    """The host name does not resolve (a typo, or DNS is down: at sync time, a transient error)."""


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostNotResolved(f"The host {host!r} could not be resolved ({exc.__class__.__name__}).") from None
    return [str(info[4][0]) for info in infos]


def _normalise_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def allowed_hosts() -> set[str]:
    return {_normalise_host(h) for h in getattr(settings, "CONNECTOR_ALLOWED_HOSTS", []) if h and h.strip()}


def address_problem(address: IPAddress) -> str | None:
    """Why ``address`` is not a public address, or ``None`` when it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for name, hit in checks:
        if hit:
            return name
    if not address.is_global:  # e.g. 100.64.0.0/10 (carrier-grade NAT), documentation ranges
        return "non-public"
    return None


def validate_base_url(url: str, *, resolver: Resolver | None = None) -> str:
    """Return the normalised base URL or raise ``URLRefused`` with a message for the admin."""
    text = (url or "").strip()
    if not text:
        raise URLRefused("Enter the vendor's base URL, e.g. https://okrs.example.com.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise URLRefused("This is not a valid URL (check the port and brackets).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise URLRefused("The base URL must start with https://.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise URLRefused("The base URL must not contain a user name or password; store secrets as credentials instead.")
    if not parts.hostname:
        raise URLRefused("The base URL has no host name.")
    if parts.query or parts.fragment:
        raise URLRefused("The base URL must not contain a query string or fragment.")
    host = _normalise_host(parts.hostname)
    is_allowed = host in allowed_hosts()
    if scheme != "https" and not is_allowed:
        raise URLRefused("The base URL must use https:// (plain http is only allowed for hosts listed in CONNECTOR_ALLOWED_HOSTS).")
    if not is_allowed:
        _public_addresses(host, port or (443 if scheme == "https" else 80), resolver or _resolve)
    netloc = parts.netloc.lower()
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, "", ""))


def _public_addresses(host: str, port: int, resolve: Resolver) -> list[str]:
    """Every address ``host`` resolves to, each checked to be public; ``URLRefused`` otherwise."""
    addresses = list(resolve(host, port))
    if not addresses:
        raise HostNotResolved(f"The host {host!r} could not be resolved.")
    for raw in addresses:
        try:
            address = ipaddress.ip_address(raw.split("%", 1)[0])  # drop an IPv6 zone id
        except ValueError:
            raise URLRefused(f"The host {host!r} resolved to an address that is not an IP address.") from None
        problem = address_problem(address)
        if problem:
            raise URLRefused(
                f"The host {host!r} resolves to a {problem} address ({address}); connectors may only reach public "
                "addresses unless an administrator lists the host in CONNECTOR_ALLOWED_HOSTS."
            )
    return [raw.split("%", 1)[0] for raw in addresses]


def vetted_addresses(host: str, port: int, *, resolver: Resolver | None = None) -> list[str]:
    """The connect guard of the sync's clients: the addresses to dial for ``host``, resolved and
    checked now (raising ``URLRefused`` as :func:`validate_base_url` does). A host listed in
    CONNECTOR_ALLOWED_HOSTS is dialled by name, unchecked."""
    name = _normalise_host(host)
    if name in allowed_hosts():
        return [host]
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:  # a literal address: checked as it is, nothing to resolve
        return _public_addresses(name, port, lambda h, _p: [h])
    return _public_addresses(name, port, resolver or _resolve)
