"""``manage.py`` as an operator runs it: real subprocesses on a database the test can read.

On PostgreSQL the subprocesses share pytest-django's test database (tests use
``transaction=True`` so they see each other's committed rows). On the embedded default the test
database is SQLite in memory, which no other process can open: the subprocesses then get a
SQLite file of their own (migrated once per test) and :meth:`CliSite.rows` reads it directly.
Either way the settings are the embedded defaults unless a test passes ``extra_env`` (Redis).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent  # `python` in the README's lines is the venv's


def shared_test_database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER'] or 'postgres'}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class CliSite:
    env: dict[str, str]
    var_dir: Path
    sqlite_file: Path | None  # None: the subprocesses use the test database (PostgreSQL)

    def environment(self, extra_env: Mapping[str, str] | None = None) -> dict[str, str]:
        return {**self.env, **(extra_env or {})}

    def shell(self, line: str, *, extra_env: Mapping[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """One line of a shell script, run by bash as written (pipes, quotes, comments)."""
        return subprocess.run(
            ["bash", "-c", line],
            capture_output=True,
            text=True,
            env=self.environment(extra_env),
            cwd=ROOT,
            timeout=timeout,
            check=False,
        )

    def manage(
        self, *args: str, stdin: str = "", extra_env: Mapping[str, str] | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.environment(extra_env),
            cwd=ROOT,
            timeout=timeout,
            check=False,
        )

    def start_manage(self, *args: str, output: Path, extra_env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        """``manage.py`` in the background; its stdout and stderr go to ``output``.out / .err."""
        with output.with_suffix(".out").open("wb") as out, output.with_suffix(".err").open("wb") as err:
            return subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), *args], stdout=out, stderr=err, env=self.environment(extra_env), cwd=ROOT
            )

    def create_user(self, username: str) -> None:
        code = f"from django.contrib.auth import get_user_model; get_user_model().objects.create_user({username!r})"
        done = self.manage("shell", "-c", code)
        assert done.returncode == 0, done.stderr

    def rows(self, model: type[Model], *fields: str) -> list[tuple[Any, ...]]:
        """``fields`` of every row of ``model`` in the subprocesses' database, by primary key."""
        if self.sqlite_file is None:
            return [tuple(row) for row in model._default_manager.order_by("pk").values_list(*fields)]
        columns = ", ".join(model._meta.get_field(name).column for name in fields)
        with sqlite3.connect(self.sqlite_file) as db:
            query = f"SELECT {columns} FROM {model._meta.db_table} ORDER BY {model._meta.pk.column}"  # noqa: S608 - our own names
            return [tuple(row) for row in db.execute(query)]


@pytest.fixture
def cli_site(tmp_path: Path) -> Iterator[CliSite]:
    """Needs ``django_db(transaction=True)`` on the test (PostgreSQL: committed rows are shared)."""
    sqlite_file = None if connection.vendor == "postgresql" else tmp_path / "okrhub.sqlite3"
    env = {
        **os.environ,
        "PATH": os.pathsep.join((str(VENV_BIN), os.environ.get("PATH", ""))),
        "OKRHUB_IGNORE_DOTENV": "1",
        "OKRHUB_VAR_DIR": str(tmp_path / "var"),  # the filesystem broker's folders, this test's only
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
        "CONNECTOR_ALLOWED_HOSTS": "127.0.0.1",  # the sandboxes listen on loopback over http
        "DATABASE_URL": f"sqlite:///{sqlite_file}" if sqlite_file else shared_test_database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    site = CliSite(env=env, var_dir=tmp_path / "var", sqlite_file=sqlite_file)
    if sqlite_file is not None:
        migrated = site.manage("migrate", "--noinput", "-v", "0")
        assert migrated.returncode == 0, migrated.stderr
    yield site


class Worker:
    """``celery -A dashboard worker`` on the site's broker, in its own process group."""

    def __init__(self, site: CliSite, log: Path, extra_env: Mapping[str, str] | None = None) -> None:
        self.site, self.log_path, self.extra_env = site, log, dict(extra_env or {})
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Worker:
        env = self.site.environment(self.extra_env)
        queue = env.get("CELERY_TASK_DEFAULT_QUEUE") or "celery"
        cmd = [str(VENV_BIN / "celery"), "-A", "dashboard", "worker", "-Q", queue, "--concurrency=2", "--loglevel=INFO"]
        cmd += ["-n", f"cli-test-{os.getpid()}-{id(self)}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.log():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited at start:\n{self.log()}")
            time.sleep(0.2)
        raise RuntimeError(f"the Celery worker did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def task_result(self, task_id: str) -> str | None:
        """What the task returned (``'succeeded'``, ``'running'``...), once the worker finished it."""
        marker = f"[{task_id}] succeeded in "
        for line in self.log().splitlines():
            if marker in line:
                return line.rsplit(": ", 1)[-1].strip().strip("'")
        return None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def wait_until(condition: Callable[[], Any], what: str, *, timeout: float = 60, log: Callable[[], str] = str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{log()[-4000:]}")
