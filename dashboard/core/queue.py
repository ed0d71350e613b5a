"""Is the task queue reachable? Pages say that syncing is paused when it is not."""

from __future__ import annotations

import logging

import redis

from dashboard.celery import app

log = logging.getLogger(__name__)


def queue_reachable(timeout: float = 0.3) -> bool:
    """True when Celery's broker answers. The filesystem broker (one machine) always does.

    One short TCP round trip to Redis per call: cheap on a LAN, bounded by ``timeout`` when the
    broker host is gone.
    """
    url = str(app.conf.broker_url or "")
    if not url.startswith(("redis://", "rediss://")):
        return True
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError) as exc:
        log.warning("task queue unreachable: %s", type(exc).__name__)
        return False
