"""dashboard.core.locks: Redis and file locks, held across processes, dying with their holder."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard.core import locks

HOLDER = """
import os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
import django; django.setup()
from dashboard.core import locks
lock = locks.acquire(sys.argv[1], extra={"run": 7})
print("HELD" if lock else "BUSY", flush=True)
time.sleep(60)
"""


def hold_in_subprocess(name: str, env: dict[str, str]) -> subprocess.Popen[str]:
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-c", HOLDER, name], cwd=root, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "HELD"
    return process


@pytest.fixture
def lock_env(tmp_path) -> dict[str, str]:
    import os

    env = {**os.environ, "SYNC_LOCK_DIR": str(tmp_path / "locks"), "OKRHUB_IGNORE_DOTENV": "1"}
    return env


def test_file_lock_excludes_other_processes_and_dies_with_its_holder(settings, tmp_path, lock_env):
    settings.REDIS_URL = ""
    settings.SYNC_LOCK_DIR = tmp_path / "locks"
    lock_env["REDIS_URL"] = ""
    holder = hold_in_subprocess("sync-credential-1", lock_env)
    try:
        assert locks.acquire("sync-credential-1") is None
        assert locks.holder_of("sync-credential-1").extra == {"run": 7}
        assert locks.acquire("sync-credential-2") is not None  # other names are independent
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    lock = locks.acquire("sync-credential-1")  # the kernel released it with the dead process
    assert lock is not None and lock.backend == "file"
    assert locks.acquire("sync-credential-1") is None  # a second open file in this process too
    lock.release()
    assert locks.acquire("sync-credential-1") is not None


def test_redis_lock_is_exclusive_expires_and_is_taken_over_from_a_dead_holder(settings, redis_url, lock_env):
    settings.REDIS_URL = redis_url
    lock_env["REDIS_URL"] = redis_url
    name = f"sync-credential-test-{time.time_ns()}"
    holder = hold_in_subprocess(name, lock_env)
    try:
        assert locks.acquire(name) is None  # alive elsewhere: refused
        held = locks.holder_of(name)
        assert held is not None and held.pid == holder.pid and held.extra == {"run": 7}
        assert locks.acquire(name, is_abandoned=lambda info: info.extra.get("run") == 7) is not None  # judged abandoned
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()

    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(f"okrhub:lock:{name}")
        holder = hold_in_subprocess(name, lock_env)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        ttl = client.ttl(f"okrhub:lock:{name}")
        assert 0 < ttl <= settings.SYNC_LOCK_TTL  # the expiry is above the hard time limit
        assert settings.SYNC_LOCK_TTL > settings.CELERY_TASK_TIME_LIMIT
        lock = locks.acquire(name)  # SIGKILLed holder on this host: taken over at once
        assert lock is not None and lock.took_over is not None and lock.took_over.pid == holder.pid
        assert json.loads(client.get(f"okrhub:lock:{name}"))["pid"] != holder.pid
        assert locks.acquire(name) is None
        lock.release()
        assert client.get(f"okrhub:lock:{name}") is None
    finally:
        client.delete(f"okrhub:lock:{name}")
        client.close()


def test_a_redis_lock_refreshes_its_expiry_and_never_touches_a_lock_it_lost(settings, redis_url):
    import redis

    settings.REDIS_URL = redis_url
    name = f"sync-credential-lost-{time.time_ns()}"
    key = f"okrhub:lock:{name}"
    client = redis.Redis.from_url(redis_url)
    try:
        lock = locks.acquire(name, ttl=30)
        assert lock is not None and lock.backend == "redis"
        client.expire(key, 5)
        lock.refresh()  # ours: the expiry goes back to the full ttl
        assert 25 < client.ttl(key) <= 30
        client.set(key, "someone else", ex=60)  # ours expired and another holder took it
        lock.refresh()
        assert 30 < client.ttl(key) <= 60  # not extended: not ours any more
        lock.release()
        assert client.get(key) == b"someone else"  # not released either
    finally:
        client.delete(key)
        client.close()


def test_an_unreachable_redis_falls_back_to_the_file_lock(settings, tmp_path):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    settings.SYNC_LOCK_DIR = tmp_path / "locks"
    lock = locks.acquire("sync-credential-99")
    assert lock is not None and lock.backend == "file"
    settings.REDIS_URL = ""
    assert locks.acquire("sync-credential-99") is None  # the same file lock, still held
    lock.release()
