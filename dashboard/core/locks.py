"""Named, non-blocking locks that die with their holder.

* Redis (when ``REDIS_URL`` is set): redis-py's ``Lock`` (``SET key value NX PX ttl``) with the
  holder's host, pid and a random token as the value; its release and reacquire compare the
  value first, so a process never releases or extends a lock it lost. The expiry (``SYNC_LOCK_TTL``) is above the Celery hard time limit.
  A holder that died without releasing (SIGKILL) is detected either directly (same host, its
  pid is gone) or through the caller's ``is_abandoned`` check (e.g. a stopped heartbeat), and
  the lock is then taken over atomically.
* Otherwise a file under ``SYNC_LOCK_DIR`` locked with ``fcntl.flock``: the kernel releases it
  when the holding process dies, so a crash never leaves a stale lock.

Both are used through :func:`named_lock` / :class:`HeldLock`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# Take over only if the value is still the one we judged abandoned (no race with a new holder).
_TAKE_OVER_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  return 1
end
return 0
"""

HOSTNAME = socket.gethostname()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@dataclass
class HolderInfo:
    """Who holds a lock (stored as the lock's value)."""

    host: str
    pid: int
    token: str
    extra: dict[str, Any] = field(default_factory=dict)

    def dumps(self) -> str:
        return json.dumps({"host": self.host, "pid": self.pid, "token": self.token, **self.extra}, sort_keys=True)

    @classmethod
    def loads(cls, raw: str | bytes | None) -> HolderInfo | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            extra = {k: v for k, v in data.items() if k not in ("host", "pid", "token")}
            return cls(host=str(data["host"]), pid=int(data["pid"]), token=str(data["token"]), extra=extra)
        except (ValueError, KeyError, TypeError):
            return None

    @property
    def dead_on_this_host(self) -> bool:
        return self.host == HOSTNAME and self.pid != os.getpid() and not pid_alive(self.pid)


class HeldLock:
    """A lock this process holds; release it with :meth:`release` (or use :func:`named_lock`)."""

    def __init__(
        self, name: str, backend: str, release: Callable[[], None], refresh: Callable[[], None], took_over: HolderInfo | None
    ) -> None:
        self.name = name
        self.backend = backend
        self._release = release
        self._refresh = refresh
        self.took_over = took_over  # the dead holder we replaced, if any
        self.released = False

    def refresh(self) -> None:
        """Extend the expiry (Redis); a no-op for file locks."""
        if not self.released:
            self._refresh()

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._release()


AbandonedCheck = Callable[[HolderInfo], bool]


def _redis_client() -> Any:
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=10, socket_connect_timeout=5)


def _acquire_redis(name: str, info: HolderInfo, ttl: int, is_abandoned: AbandonedCheck | None) -> HeldLock | None:
    """redis-py's :class:`redis.lock.Lock` (``SET NX PX``, token-checked release and
    reacquire in Lua) with the holder's JSON as its token; only the take-over of a dead
    holder's lock is our own script."""
    client = _redis_client()
    key = f"okrhub:lock:{name}"
    value = info.dumps()
    lock = client.lock(key, timeout=ttl, blocking=False, thread_local=False)
    took_over: HolderInfo | None = None
    if not lock.acquire(token=value):
        current_raw = client.get(key)
        holder = HolderInfo.loads(current_raw)
        if current_raw is None:  # expired between the two calls: try once more
            if not lock.acquire(token=value):
                return None
        elif holder is not None and (holder.dead_on_this_host or (is_abandoned is not None and is_abandoned(holder))):
            if not client.eval(_TAKE_OVER_SCRIPT, 1, key, current_raw, value, ttl):
                return None
            lock.local.token = value.encode()  # as Lock.acquire stores it: release and reacquire check it
            took_over = holder
        else:
            return None

    def release() -> None:
        with contextlib.suppress(Exception):  # lost, or Redis unreachable: must not hide the real error
            lock.release()
        client.close()

    def refresh() -> None:
        with contextlib.suppress(Exception):  # a lock we no longer own is not extended
            lock.reacquire()

    return HeldLock(name, "redis", release, refresh, took_over)


def _acquire_file(name: str, info: HolderInfo) -> HeldLock | None:
    directory = Path(settings.SYNC_LOCK_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name.replace(':', '-').replace('/', '-')}.lock"
    handle = open(path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(info.dumps())
    handle.flush()

    def release() -> None:
        with contextlib.suppress(OSError):
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()

    return HeldLock(name, "file", release, lambda: None, None)


def acquire(
    name: str,
    *,
    ttl: int | None = None,
    extra: Mapping[str, Any] | None = None,
    is_abandoned: AbandonedCheck | None = None,
) -> HeldLock | None:
    """Try to take the lock ``name`` without waiting; ``None`` when someone alive holds it."""
    info = HolderInfo(host=HOSTNAME, pid=os.getpid(), token=secrets.token_hex(8), extra=dict(extra or {}))
    if settings.REDIS_URL:
        import redis

        try:
            return _acquire_redis(name, info, int(ttl or settings.SYNC_LOCK_TTL), is_abandoned)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            # Redis down: the file lock still excludes this host's workers, and callers keep
            # their database backstop for other hosts. Better than failing every sync.
            logger.warning("lock %s: Redis unreachable (%s); using a file lock", name, type(exc).__name__)
    return _acquire_file(name, info)


def holder_of(name: str) -> HolderInfo | None:
    """Who holds ``name`` right now (diagnostics and tests)."""
    if settings.REDIS_URL:
        client = _redis_client()
        try:
            return HolderInfo.loads(client.get(f"okrhub:lock:{name}"))
        finally:
            client.close()
    path = Path(settings.SYNC_LOCK_DIR) / f"{name.replace(':', '-').replace('/', '-')}.lock"
    try:
        return HolderInfo.loads(path.read_text())
    except OSError:
        return None
