"""httpx client factory and the one request path every connector uses.

* one status-code -> error table (``classify``),
* short retries with capped exponential backoff and jitter inside a time budget,
* ``Retry-After`` honoured up to a cap,
* a read answered 2xx with a body that is not JSON (a proxy's HTML page, a cut-off body) retried
  like a 5xx within the same budget (:class:`GarbledBody` once the budget is spent),
* secrets scrubbed from every message,
* a thread-safe count of requests made (reported on sync runs).
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpcore
import httpx

from connectors.base import (
    AuthError,
    ConnectorError,
    NotFound,
    PermanentError,
    RateLimited,
    ScopeError,
    TransientError,
    VendorValidationError,
)

T = TypeVar("T")
R = TypeVar("R")

USER_AGENT = "OKR-Hub/1.0 (+self-hosted dashboard)"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    # Six attempts: against a vendor faulting 18 % of answers (10 % 5xx, 5 % 429, 3 % garbled) a
    # request gives up with probability 0.18**6 = 3e-5, so a ~200-request sync ends partial about
    # once in 150 runs (with four attempts: once in 5). The waits (0.25+0.5+1+2+4 s at most) stay
    # well inside the budget.
    max_attempts: int = 6
    budget_seconds: float = 30.0  # total time one request may spend retrying
    base_delay: float = 0.25
    max_delay: float = 5.0
    retry_after_cap: float = 30.0  # longer waits belong to Celery retries, not to a request


# Methods that only read: a garbled answer to one of these is asked again. A write is never
# retried for a garbled answer: the vendor may have applied it (the caller re-reads instead).
IDEMPOTENT_READS = frozenset({"GET", "HEAD"})
_PARSED = "okrhub.parsed_json"  # response.extensions key: the body parsed while checking it


class GarbledBody(PermanentError):
    """A read answered 2xx with a body that is not JSON, on every attempt the budget allowed.

    Still a :class:`PermanentError` for callers (the stream fails, nothing is removed); inside
    ``HttpSession.send`` it is retried like a 5xx, since a proxy page or a cut-off body is
    usually one bad answer, not the vendor's."""

    def __init__(self, message: str, *, attempts: int, endpoint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, endpoint=endpoint, status=status)
        self.attempts = attempts


ConnectGuard = Callable[[str, int], Sequence[str]]


class PinnedBackend(httpcore.NetworkBackend):
    """httpcore's network backend with every TCP connection vetted at connect time.

    ``guard(host, port)`` resolves the host, checks each address (raising when one is refused)
    and returns the addresses to dial; the socket is opened to one of those, so the name cannot
    be re-resolved to another address between the check and the connection (DNS rebinding).
    TLS still verifies the certificate against the host name: httpcore passes the URL's host as
    ``server_hostname`` when it starts TLS on the returned stream."""

    def __init__(self, guard: ConnectGuard) -> None:
        self._guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = list(self._guard(host, port))
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address to connect to")
        last: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("connectors never use unix sockets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def make_client(
    base_url: str,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    concurrency: int = 8,
    connect_guard: ConnectGuard | None = None,
    on_response: Callable[[httpx.Response], None] | None = None,
) -> httpx.Client:
    """A client for one vendor base URL. Redirects are not followed (a redirect could point a
    connector at an internal address after the URL was validated).

    With ``connect_guard`` (and no injected ``transport``), every connection is dialled to an
    address the guard vetted at that moment (:class:`PinnedBackend`). ``on_response`` sees every
    response as it arrives (e.g. to record the vendor's answers for an audit log)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    if transport is None and connect_guard is not None:
        pinned = httpx.HTTPTransport(limits=limits)
        pool = pinned._pool  # httpx exposes no network_backend option; httpcore's pool has one
        if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
            raise RuntimeError("this httpx/httpcore version cannot pin connections; refusing to connect unpinned")
        pool._network_backend = PinnedBackend(connect_guard)
        transport = pinned
    return httpx.Client(
        base_url=base_url.rstrip("/") + "/",
        transport=transport,
        timeout=timeout,
        limits=limits,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        event_hooks={"response": [on_response]} if on_response is not None else None,
    )


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _short_body(response: httpx.Response) -> str:
    try:
        text = response.text
    except Exception:  # pragma: no cover - undecodable bytes
        return ""
    return " ".join(text.split())[:200]


def _what_the_body_is(response: httpx.Response) -> str:
    """A proxy's HTML page by its title (its first 80 characters say only "<!DOCTYPE html>..."),
    anything else by its first 80 characters."""
    text = _short_body(response)
    title = re.search(r"<title[^>]*>([^<]{1,120})</title>", text, re.IGNORECASE)
    if title and title.group(1).strip():
        return f"an HTML page titled {title.group(1).strip()!r}"
    return repr(text[:80])


def _vendor_message(response: httpx.Response) -> str:
    """The human part of an error body, whichever of the vendors' shapes it has."""
    try:
        body = response.json()
    except ValueError:
        return _short_body(response)
    if isinstance(body, dict):
        for key in ("message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        errors = body.get("errors")
        if isinstance(errors, dict) and isinstance(errors.get("detail"), str):
            return str(errors["detail"])
    return _short_body(response)


def field_errors_of(response: httpx.Response) -> dict[str, list[str]]:
    """``{"field": ["message", ...]}`` bodies (North 400, OGSM 422)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    if isinstance(body.get("errors"), dict):
        body = body["errors"]
    out: dict[str, list[str]] = {}
    for key, value in body.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[str(key)] = [str(v) for v in value]
        elif isinstance(value, str) and key not in ("error", "message", "detail"):
            out[str(key)] = [value]
    return out


def classify(response: httpx.Response, endpoint: str) -> ConnectorError | None:
    """The one status-code -> error table. ``None`` means success."""
    status = response.status_code
    if status < 400:
        return None
    message = _vendor_message(response)
    if status == 401:
        return AuthError(f"The vendor refused the credential: {message or 'unauthorized'}", endpoint=endpoint, status=status)
    if status == 403:
        return ScopeError(f"Access refused: {message or 'forbidden'}", endpoint=endpoint, status=status)
    if status == 404:
        return NotFound(f"Not found: {message or 'not found'}", endpoint=endpoint, status=status)
    if status == 429:
        return RateLimited(
            "Rate limited by the vendor", retry_after=parse_retry_after(response.headers.get("Retry-After")), endpoint=endpoint
        )
    if status in (400, 422):
        return VendorValidationError(
            f"The vendor rejected the input: {message}", field_errors=field_errors_of(response), endpoint=endpoint, status=status
        )
    if status >= 500:
        return TransientError(f"Vendor server error: {message or status}", endpoint=endpoint, status=status)
    return PermanentError(f"Unexpected answer: {message or status}", endpoint=endpoint, status=status)


class HttpSession:
    """Wraps an ``httpx.Client`` with the retry policy, error table and request counting."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        headers: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        concurrency: int = 8,
    ) -> None:
        self.client = client
        self.headers = dict(headers or {})
        self.secrets = tuple(s for s in secrets if s)
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.concurrency = max(1, concurrency)
        self._lock = threading.Lock()
        self._requests = 0

    @property
    def requests_made(self) -> int:
        return self._requests

    def _count(self) -> None:
        with self._lock:
            self._requests += 1

    def _delay(self, attempt: int, error: ConnectorError) -> float:
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return float(min(error.retry_after, self.policy.retry_after_cap))
        backoff: float = min(self.policy.max_delay, self.policy.base_delay * 2.0 ** (attempt - 1))
        return backoff * (0.5 + random.random() / 2)  # jitter

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        endpoint: str | None = None,
        retry: bool | None = None,
    ) -> httpx.Response:
        """Send with retries; returns a successful response or raises a ConnectorError.

        Writes (non-GET) are not retried unless ``retry=True``: a retried POST could act twice.
        A retried read must also answer JSON (or nothing): a 2xx body that does not parse is
        asked again within the budget, then raised as :class:`GarbledBody`.
        """
        name = endpoint or f"{method} {path}"
        may_retry = (method.upper() == "GET") if retry is None else retry
        check_body = may_retry and method.upper() in IDEMPOTENT_READS
        deadline = time.monotonic() + self.policy.budget_seconds
        attempt = 0
        merged = {**self.headers, **(headers or {})}
        while True:
            attempt += 1
            error: ConnectorError | None
            garbled = False
            try:
                self._count()
                response = self.client.request(method, path, params=params, json=json_body, content=content, headers=merged)
                error = classify(response, name)
                if error is None and check_body:
                    error = self._garbled(response, name, attempt)
                    garbled = error is not None
                if error is None:
                    return response
            except httpx.TimeoutException:
                error = TransientError("The vendor did not answer in time", endpoint=name)
            except httpx.TransportError as exc:
                error = TransientError(f"Could not reach the vendor: {type(exc).__name__}", endpoint=name)
            error.message = scrub(error.message, self.secrets)
            if not (may_retry and (error.retryable or garbled)) or attempt >= self.policy.max_attempts:
                raise error
            delay = self._delay(attempt, error)
            if time.monotonic() + delay > deadline:
                raise error
            self.sleep(delay)

    def _garbled(self, response: httpx.Response, endpoint: str, attempt: int) -> GarbledBody | None:
        """``None`` when a 2xx body is JSON or empty (the parsed body is kept for ``decode``)."""
        if not 200 <= response.status_code < 300 or response.status_code == 204 or not response.content:
            return None  # 3xx bodies are not retried: ``decode`` reports them as before
        try:
            response.extensions[_PARSED] = json.loads(response.content)
        except ValueError:
            snippet = scrub(_what_the_body_is(response), self.secrets)
            tries = f"{attempt} attempt{'' if attempt == 1 else 's'}"
            return GarbledBody(
                f"The vendor's answer was garbled (a body that is not JSON: a proxy's page or a cut-off answer) after {tries}: {snippet}",
                attempts=attempt,
                endpoint=endpoint,
                status=response.status_code,
            )
        return None

    def get_json(self, path: str, *, params: Any = None, endpoint: str | None = None) -> Any:
        response = self.send("GET", path, params=params, endpoint=endpoint)
        return self.decode(response, endpoint or f"GET {path}")

    def decode(self, response: httpx.Response, endpoint: str) -> Any:
        if _PARSED in response.extensions:
            # parsed once while ``send`` checked it; handed over, not kept (OGSM re-decodes kept answers)
            return response.extensions.pop(_PARSED)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return json.loads(response.content)
        except ValueError:
            snippet = scrub(_short_body(response)[:80], self.secrets)
            raise PermanentError(
                f"The vendor answered with a body that is not JSON: {snippet!r}", endpoint=endpoint, status=response.status_code
            ) from None

    def map_concurrent(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterable[R]:
        """Run ``fn`` over ``items`` with at most ``concurrency`` requests at once, in order."""
        items = list(items)
        if self.concurrency == 1 or len(items) <= 1:
            yield from (fn(item) for item in items)
            return
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="okrhub-http") as pool:
            yield from pool.map(fn, items)
