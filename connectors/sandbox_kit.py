"""Shared pieces of the vendor sandboxes: fault injection, serving over HTTP, descriptions.

A sandbox is a WSGI application that speaks one vendor's API from its documents. It runs
in-process for tests (``httpx.WSGITransport(app=sandbox.app)``) or over real HTTP
(``serve(sandbox)``, or ``python manage.py sandbox --vendor V --port P``).

Fault spec (``--faults``), comma separated, every part optional::

    latency=20ms            sleep before every answer (also ``latency=0.02``)
    500=0.1                 rate of HTTP 500 answers
    429=0.05                rate of HTTP 429 answers (with Retry-After, see retry_after)
    retry_after=1           seconds sent in Retry-After
    timeout=0.01            rate of requests that hang for ``hang`` seconds (a client timeout)
    hang=20                 how long a "timeout" request hangs over HTTP
    badjson=0.01            rate of 200 answers whose body is a proxy's HTML page, not JSON
    truncated=0.01          rate of answers whose JSON body is cut in half
    seed=7                  random seed for the rates (deterministic runs)
    script=ok|500|429|ok    a deterministic sequence, one entry per request, consumed first
    match=/api/orgs         apply faults (latency too) only to paths containing this text

Rates combine: ``500=0.10,429=0.05,badjson=0.015,truncated=0.015`` faults 18 % of requests
(one roll per request, so the rates add up and may not exceed 1).

Script entries: ``ok``, ``500``, ``502``, ``503``, ``429``, ``timeout``, ``badjson``, ``truncated``.
Faults can be changed at run time: ``sandbox.faults = FaultSpec.parse("...")`` or through the
control endpoint ``POST /__sandbox__/faults`` with the spec as the body (loopback only).
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_FAULT_KINDS = ("500", "502", "503", "429", "timeout", "badjson", "truncated")

# What a proxy or load balancer in front of a vendor serves with status 200 when it cannot
# reach the vendor: a whole HTML page (doctype, head, body), never JSON.
PROXY_PAGE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    "<title>Service temporarily unavailable</title>\n</head>\n<body>\n"
    "<h1>Service temporarily unavailable</h1>\n"
    "<p>The server is temporarily unable to service your request. Please try again later.</p>\n"
    "<hr>\n<address>gateway proxy</address>\n</body>\n</html>\n"
)


class FaultSpecError(ValueError):
    pass


@dataclass
class FaultSpec:
    latency: float = 0.0
    rates: dict[str, float] = field(default_factory=dict)
    retry_after: float = 1.0
    hang: float = 20.0
    seed: int | None = None
    script: deque[str] = field(default_factory=deque)
    match: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        spec = cls()
        if not text:
            return spec
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            if "=" not in part:
                raise FaultSpecError(f"fault spec part {part!r} is not key=value")
            key, value = (s.strip() for s in part.split("=", 1))
            try:
                if key == "latency":
                    spec.latency = _seconds(value)
                elif key in _FAULT_KINDS:
                    rate = float(value)
                    if not 0 <= rate <= 1:
                        raise FaultSpecError(f"rate for {key} must be between 0 and 1, got {value}")
                    spec.rates[key] = rate
                elif key == "retry_after":
                    spec.retry_after = float(value)
                elif key == "hang":
                    spec.hang = _seconds(value)
                elif key == "seed":
                    spec.seed = int(value)
                elif key == "match":
                    spec.match = value
                elif key == "script":
                    entries = [e.strip() for e in re.split(r"[|;\s]+", value) if e.strip()]
                    for entry in entries:
                        if entry != "ok" and entry not in _FAULT_KINDS:
                            raise FaultSpecError(f"unknown script entry {entry!r}; use ok or one of {', '.join(_FAULT_KINDS)}")
                    spec.script.extend(entries)
                else:
                    raise FaultSpecError(
                        f"unknown fault {key!r}; known: latency, {', '.join(_FAULT_KINDS)}, retry_after, hang, seed, script, match"
                    )
            except ValueError as exc:
                if isinstance(exc, FaultSpecError):
                    raise
                raise FaultSpecError(f"bad value for {key}: {value!r}") from None
        if sum(spec.rates.values()) > 1 + 1e-9:
            raise FaultSpecError(f"the fault rates add up to {sum(spec.rates.values()):g}; together they may not exceed 1")
        return spec


def _seconds(value: str) -> float:
    value = value.strip().lower()
    if value.endswith("ms"):
        return float(value[:-2]) / 1000.0
    if value.endswith("s"):
        return float(value[:-1])
    return float(value)


class FaultInjector:
    """WSGI middleware that applies a FaultSpec before (and after) the vendor app answers."""

    def __init__(self, app: WSGIApp, spec: FaultSpec | None = None, *, in_process: bool = False) -> None:
        self.app = app
        self.in_process = in_process
        self._lock = threading.Lock()
        self.spec = spec or FaultSpec()
        self.requests_seen = 0
        self.faults_served: dict[str, int] = {}

    @property
    def spec(self) -> FaultSpec:
        return self._spec

    @spec.setter
    def spec(self, value: FaultSpec) -> None:
        with self._lock:
            self._spec = value
            self._random = random.Random(value.seed)

    def _choose(self, path: str) -> str:
        with self._lock:
            self.requests_seen += 1
            spec = self._spec
            if spec.match and spec.match not in path:
                return "ok"
            if spec.script:
                choice = spec.script.popleft()
            else:
                choice = "ok"
                roll = self._random.random()
                acc = 0.0
                for kind in _FAULT_KINDS:
                    acc += spec.rates.get(kind, 0.0)
                    if roll < acc:
                        choice = kind
                        break
            if choice != "ok":
                self.faults_served[choice] = self.faults_served.get(choice, 0) + 1
            return choice

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__sandbox__/"):
            return self._control(environ, start_response)
        spec = self._spec
        if spec.latency and (not spec.match or spec.match in path):
            time.sleep(spec.latency)
        choice = self._choose(path)
        if choice == "ok":
            return self.app(environ, start_response)
        if choice in ("500", "502", "503"):
            return Response('{"error": "Internal server error"}', status=int(choice), mimetype="application/json")(environ, start_response)
        if choice == "429":
            resp = Response('{"detail": "Request was throttled."}', status=429, mimetype="application/json")
            resp.headers["Retry-After"] = f"{spec.retry_after:g}"
            return resp(environ, start_response)
        if choice == "timeout":
            if self.in_process:
                raise httpx.ReadTimeout("sandbox: injected timeout")
            time.sleep(spec.hang)
            return Response("", status=504)(environ, start_response)
        if choice == "badjson":
            page = Response(PROXY_PAGE, status=200, mimetype="text/html")  # text/html; charset=utf-8
            page.headers["Server"] = "nginx"
            page.headers["Cache-Control"] = "no-store"
            return page(environ, start_response)
        # truncated: the real answer, cut in half
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        body = b"".join(self.app(environ, capture))
        cut = body[: max(1, len(body) // 2)]
        headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(cut))))
        start_response(captured.get("status", "200 OK"), headers)
        return [cut]

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == "/__sandbox__/faults" and request.method == "POST":
            try:
                self.spec = FaultSpec.parse(request.get_data(as_text=True))
            except FaultSpecError as exc:
                return Response(str(exc), status=400)(environ, start_response)
            return Response("ok\n")(environ, start_response)
        if request.path == "/__sandbox__/stats":
            import json

            body = json.dumps({"requests": self.requests_seen, "faults": self.faults_served})
            return Response(body, mimetype="application/json")(environ, start_response)
        return Response("unknown sandbox control\n", status=404)(environ, start_response)


@dataclass
class SandboxCredential:
    """A credential the sandbox accepts, printed at start and used by tests and the demo."""

    label: str  # e.g. "alice (full access)"
    person: str  # who it belongs to at the vendor
    secret: Mapping[str, str]  # {"token": ...} or {"username": ..., "password": ...}
    note: str = ""


@dataclass
class Sandbox:
    """A built sandbox: the WSGI app (with fault injection) plus its credentials."""

    vendor: str
    app: FaultInjector
    credentials: list[SandboxCredential]
    state: Any = None  # the vendor-specific in-memory data, for tests to inspect

    @property
    def faults(self) -> FaultSpec:
        return self.app.spec

    @faults.setter
    def faults(self, spec: FaultSpec | str) -> None:
        self.app.spec = FaultSpec.parse(spec) if isinstance(spec, str) else spec

    def credential(self, label_prefix: str) -> SandboxCredential:
        for cred in self.credentials:
            if cred.label.startswith(label_prefix):
                return cred
        raise KeyError(label_prefix)

    def transport(self) -> httpx.WSGITransport:
        """An in-process transport (timeouts raise instead of hanging)."""
        self.app.in_process = True
        return httpx.WSGITransport(app=self.app)  # type: ignore[arg-type]


class RunningServer:
    def __init__(self, server: BaseWSGIServer, thread: threading.Thread) -> None:
        self.server = server
        self.thread = thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host_text}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class QuietRequestHandler(WSGIRequestHandler):
    """No access log per request: sandboxes serve thousands of requests in tests and benchmarks."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def serve(app: WSGIApp, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve ``app`` over real HTTP in a background thread (threaded: concurrent requests)."""
    server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"sandbox-{server.server_port}", daemon=True)
    thread.start()
    return RunningServer(server, thread)


def size_of(size: int | str | None, default: int = 3) -> int:
    """The size knob: a number of teams, or small (3) / medium (50) / large (500)."""
    named = {"tiny": 3, "small": 3, "medium": 50, "large": 500}
    if size is None:
        return default
    if isinstance(size, int):
        return size
    if size.isdigit():
        return int(size)
    if size in named:
        return named[size]
    raise ValueError(f"size must be a number of teams or one of {', '.join(named)}")


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None) -> Response:
    import json

    resp = Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")
    if headers:
        for key, value in dict(headers).items():
            resp.headers[key] = value
    return resp
