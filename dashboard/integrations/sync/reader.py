"""Read a run's streams ahead of the writer, in one background thread (issue #6 speed).

The vendor's latency is the floor of a sync; writing a page is database and CPU time. With the
reader one page ahead only, every slower page write (or a stream that only writes, such as
North's key results) left the connection pool idle. ``StreamReader`` reads *all* the run's
streams in dependency order, one after the other, up to ``depth`` pages ahead of the writer, so
the next stream's requests (North's check-in events) are already running while the previous
stream is still being stored. Memory stays bounded by ``depth`` pages.

Ordering and failure semantics match reading the streams one by one: a connector reads its
streams in order in this one thread (a stream may depend on what earlier streams published in
the connector instance); an error ends only its stream and reading goes on with the next, except
after a refused credential or a rate limit (nothing more is requested then, as before). The
reader never touches the database.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from connectors.base import AuthError, Page, RateLimited

__all__ = ["StreamReader"]

_PAGE, _END, _ERROR = "page", "end", "error"


class StreamReader:
    """``with StreamReader(connector, [(stream, cursor), ...]) as reader: reader.pages(stream)``."""

    def __init__(self, connector: Any, plan: Sequence[tuple[str, Mapping[str, Any] | None]], depth: int = 32) -> None:
        self.connector = connector
        self.plan = list(plan)
        self._slots: queue.Queue[tuple[str, str, Any]] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="okrhub-sync-reader", daemon=True)
        self._current: str | None = None  # the stream whose items the writer is taking
        self._finished: set[str] = set()  # streams whose end (or error) the writer has taken

    def __enter__(self) -> StreamReader:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the reader (a writer that stopped early: error, time limit, rate limit)."""
        self._stop.set()

    # -- reader thread ---------------------------------------------------------------------
    def _put(self, item: tuple[str, str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._slots.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        for stream, cursor in self.plan:
            try:
                for page in self.connector.read(stream, cursor):
                    if not self._put((_PAGE, stream, page)):
                        return
            except BaseException as exc:  # handed to the writer, which decides what it means
                if not self._put((_ERROR, stream, exc)):
                    return
                if isinstance(exc, AuthError | RateLimited) or not isinstance(exc, Exception):
                    return  # refused or asked to slow down: request nothing more in this run
                continue
            if not self._put((_END, stream, None)):
                return

    # -- writer side -----------------------------------------------------------------------
    def _take(self, stream: str) -> tuple[str, Any]:
        while True:
            try:
                kind, of, value = self._slots.get(timeout=1.0)
            except queue.Empty:
                if not self._thread.is_alive() and self._slots.empty():
                    raise RuntimeError(f"the sync reader stopped before the stream {stream} ended") from None
                continue
            if of == stream:
                return kind, value
            # Items of a stream the writer gave up on (it failed while storing): drop them.
            if of not in self._finished and of != self._current:
                raise RuntimeError(f"the sync reader sent the stream {of} while {stream} was expected")
            if kind != _PAGE:
                self._finished.add(of)

    def pages(self, stream: str) -> Iterator[Page]:
        """The pages of ``stream`` in order; re-raises the connector's error for that stream."""
        previous, self._current = self._current, stream
        if previous is not None and previous != stream:
            self._finished.add(previous)  # anything still queued for it is dropped by _take
        if stream in self._finished:
            return
        while True:
            kind, value = self._take(stream)
            if kind == _PAGE:
                yield value
                continue
            self._finished.add(stream)
            if kind == _ERROR:
                raise value
            return
