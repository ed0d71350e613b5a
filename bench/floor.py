"""The floor of a sync: the same HTTP requests, the same concurrency, nothing else.

``RequestLog`` wraps a sandbox's WSGI app (outside its fault injector, so the 20 ms latency is
part of what both the sync and the floor wait for) and records every request a sync makes:
method, path with query, the headers that matter and the body. ``replay`` then sends exactly
that list with a plain ``httpx.Client`` and a thread pool bounded like the sync's connectors;
``replay_in_subprocess`` does so from a process of its own (``bench.floor_worker``), like the sync.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
FLOOR_TIMEOUT = 1800  # seconds
_SKIPPED_HEADERS = {"HTTP_HOST", "HTTP_CONNECTION", "HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING", "HTTP_ACCEPT_ENCODING"}


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    target: str  # path + "?" + query
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    started: float = field(default=0.0, compare=False)  # time.monotonic() when it arrived
    finished: float = field(default=0.0, compare=False)  # ... and when the sandbox had answered

    @property
    def key(self) -> tuple[str, str, bytes]:
        """What makes two requests the same request (for the "only the requests needed" check)."""
        return (self.method, self.target, self.body)


@dataclass
class RequestLog:
    """WSGI middleware recording requests into ``entries`` (thread-safe; the server is threaded)."""

    app: Callable[..., Iterable[bytes]]
    entries: list[LoggedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__sandbox__/"):
            return self.app(environ, start_response)
        started = time.monotonic()
        body = b""
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > 0:
            body = environ["wsgi.input"].read(int(length))
            environ["wsgi.input"] = io.BytesIO(body)  # the sandbox reads it again
        headers = [
            (key[5:].replace("_", "-").title(), str(value))
            for key, value in environ.items()
            if key.startswith("HTTP_") and key not in _SKIPPED_HEADERS
        ]
        if environ.get("CONTENT_TYPE"):
            headers.append(("Content-Type", environ["CONTENT_TYPE"]))
        query = environ.get("QUERY_STRING", "")
        answer = self.app(environ, start_response)
        target = path + (f"?{query}" if query else "")
        entry = LoggedRequest(environ.get("REQUEST_METHOD", "GET"), target, tuple(sorted(headers)), body, started, time.monotonic())
        with self._lock:
            self.entries.append(entry)
        return answer

    def take(self) -> list[LoggedRequest]:
        """The requests recorded so far; the log starts empty again."""
        with self._lock:
            taken, self.entries = self.entries, []
        return taken


def duplicates(requests: list[LoggedRequest]) -> int:
    """Requests made more than once in one run (identical method, URL and body)."""
    return sum(count - 1 for count in Counter(r.key for r in requests).values() if count > 1)


def in_flight(requests: list[LoggedRequest], start: float, end: float) -> dict[str, float]:
    """Where a sync's wall time went: seconds with at least one request at the vendor, the mean
    number in flight then, and seconds with none (the sync's own work: mapping, SQL, waiting)."""
    intervals = sorted((max(r.started, start), min(r.finished, end)) for r in requests if r.finished > start and r.started < end)
    busy = 0.0
    current_start = current_end = None
    for lo, hi in intervals:
        if current_end is None or lo > current_end:
            if current_end is not None:
                busy += current_end - current_start  # type: ignore[operator]
            current_start, current_end = lo, hi
        else:
            current_end = max(current_end, hi)
    if current_end is not None:
        busy += current_end - current_start  # type: ignore[operator]
    total = sum(hi - lo for lo, hi in intervals)
    return {"busy_seconds": busy, "idle_seconds": max(0.0, (end - start) - busy), "mean_in_flight": total / busy if busy else 0.0}


def repeated(requests: list[LoggedRequest], limit: int = 3) -> str:
    """The most repeated requests, for the report ("GET /api/x x3")."""
    counts = Counter(r.key for r in requests)
    top = [(key, n) for key, n in counts.most_common(limit) if n > 1]
    return ", ".join(f"{method} {target} x{n}" for (method, target, _body), n in top)


@dataclass
class FloorResult:
    requests: int
    seconds: float
    statuses: dict[int, int]


def replay(base_url: str, requests: list[LoggedRequest], concurrency: int) -> FloorResult:
    """Send ``requests`` with at most ``concurrency`` in flight; read each body, parse nothing."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=base_url, limits=limits, timeout=60.0, follow_redirects=False) as client:

        def send(request: LoggedRequest) -> None:
            response = client.request(request.method, request.target, headers=list(request.headers), content=request.body or None)
            response.read()
            with lock:
                statuses[response.status_code] += 1

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="bench-floor") as pool:
            for _ in pool.map(send, requests):
                pass
        seconds = time.perf_counter() - started
    return FloorResult(requests=len(requests), seconds=seconds, statuses=dict(statuses))


def dump_requests(requests: list[LoggedRequest], path: Path) -> None:
    """Write ``requests`` for ``bench.floor_worker`` (bodies base64, timings dropped)."""
    rows = [{"method": r.method, "target": r.target, "headers": r.headers, "body": base64.b64encode(r.body).decode()} for r in requests]
    path.write_text(json.dumps(rows))


def load_requests(path: Path) -> list[LoggedRequest]:
    rows = json.loads(path.read_text())
    return [
        LoggedRequest(row["method"], row["target"], tuple((k, v) for k, v in row["headers"]), base64.b64decode(row["body"])) for row in rows
    ]


class FloorError(Exception):
    """The floor worker failed or printed no result."""


def replay_in_subprocess(base_url: str, requests: list[LoggedRequest], concurrency: int) -> FloorResult:
    """``replay`` in a fresh Python process, so the floor does not share the sandbox's GIL."""
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        path = Path(tmp) / "requests.json"
        dump_requests(requests, path)
        cmd = [sys.executable, "-m", "bench.floor_worker", str(path), "--base-url", base_url, "--concurrency", str(concurrency)]
        try:
            done = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=FLOOR_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise FloorError(f"the floor worker did not finish within {FLOOR_TIMEOUT} s") from None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise FloorError(f"the floor worker failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    found = json.loads(lines[-1])
    return FloorResult(requests=found["requests"], seconds=found["seconds"], statuses={int(k): v for k, v in found["statuses"].items()})
