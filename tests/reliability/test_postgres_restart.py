"""PostgreSQL restarted under a running web server: the app recovers without a restart.

Destructive, so it never touches the shared server on 5432: a throwaway cluster is created
with ``initdb`` in a temporary directory, started on port 5440 (as the ``postgres`` user, since
initdb refuses root), and removed afterwards. The web server is the real gunicorn serving the
project with persistent connections (``CONN_MAX_AGE``) and ``CONN_HEALTH_CHECKS`` on.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import port_open, require

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT = 5440
PYTHON = sys.executable


def as_postgres(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    command = list(args)
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)


@pytest.fixture(scope="module")
def throwaway_postgres() -> Iterator[dict[str, str]]:
    require((PG_BIN / "initdb").exists(), f"PostgreSQL server binaries in {PG_BIN}")
    require(not port_open("127.0.0.1", PG_PORT), f"a free port {PG_PORT} for a throwaway PostgreSQL")
    if os.geteuid() == 0:
        require(shutil.which("runuser") is not None, "runuser (to run initdb as postgres)")
    base = Path(tempfile.mkdtemp(prefix="okrhub-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data)]
    try:
        as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", timeout=120)
        as_postgres(
            *ctl, "-o", f"-p {PG_PORT} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "-l", str(base / "log"), "-w", "start"
        )
        as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "okrhub")
        yield {"url": f"postgres://postgres@127.0.0.1:{PG_PORT}/okrhub", "base": str(base), "data": str(data)}
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *ctl, "-m", "immediate", "stop"] if os.geteuid() == 0 else [*ctl, "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def web(throwaway_postgres: dict[str, str]) -> Iterator[dict[str, str]]:
    """gunicorn on the throwaway database, with a user, a goal and an API token."""
    var = Path(throwaway_postgres["base"]) / "var"
    env = {
        **os.environ,
        "DATABASE_URL": throwaway_postgres["url"],
        "OKRHUB_VAR_DIR": str(var),
        "OKRHUB_IGNORE_DOTENV": "1",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "CONN_MAX_AGE": "600",  # keep the connection across requests, so the restart breaks it
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
    }
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    setup = (
        "from tests.factories import UserFactory, ConnectorFactory, CredentialFactory, GoalFactory, see\n"
        "from dashboard.accounts.tokens import create_token\n"
        "u = UserFactory(username='pg-restart')\n"
        "cred = CredentialFactory(owner=u)\n"
        "see(cred, GoalFactory(connector=cred.connector, title='Survives the database restart'))\n"
        "print(create_token(u, 'restart test').raw)\n"
    )
    token = subprocess.run([*manage, "shell", "-c", setup], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=120)
    port = free_port()
    log = (var / "gunicorn.log").open("w")
    gunicorn = [str(Path(PYTHON).with_name("gunicorn")), "dashboard.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--threads", "2"]
    process = subprocess.Popen(gunicorn, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", port):
            assert process.poll() is None and time.monotonic() < deadline, (var / "gunicorn.log").read_text()
            time.sleep(0.2)
        yield {"url": f"http://127.0.0.1:{port}", "token": token.stdout.strip().splitlines()[-1], "log": str(var / "gunicorn.log")}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def test_the_app_recovers_from_a_postgresql_restart_without_being_restarted(throwaway_postgres, web):
    """Must survive: every request after PostgreSQL comes back (API and pages), served by the same
    gunicorn process whose pooled connection the restart broke. During the outage requests fail
    with an error status, never hang."""
    with httpx.Client(base_url=web["url"], headers={"Authorization": f"Bearer {web['token']}"}, timeout=10) as api:
        before = api.get("/api/v1/goals")
        assert before.status_code == 200 and before.json()["results"][0]["title"] == "Survives the database restart"

        ctl = [str(PG_BIN / "pg_ctl"), "-D", throwaway_postgres["data"]]
        as_postgres(*ctl, "-m", "fast", "-w", "stop")
        down = api.get("/api/v1/goals")
        assert down.status_code >= 500, f"during the outage: {down.status_code} {down.text[:300]}"  # an error, not a hang or stale data
        as_postgres(
            *ctl,
            "-o",
            f"-p {PG_PORT} -k {throwaway_postgres['base']} -c listen_addresses=127.0.0.1 -c fsync=off",
            "-l",
            str(Path(throwaway_postgres["base"]) / "log"),
            "-w",
            "start",
        )

        statuses = [api.get("/api/v1/goals").status_code for _ in range(5)]
        assert statuses == [200] * 5, Path(web["log"]).read_text()[-3000:]

    with httpx.Client(base_url=web["url"], timeout=10) as browser:
        # the sign-in page, a real sign-in (session row) and a dashboard page, all after the restart
        login = browser.get("/accounts/login/")
        assert login.status_code == 200
        signed_in = browser.post(
            "/accounts/login/",
            data={"username": "pg-restart", "password": "pw-Secret-123", "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            headers={"Referer": f"{web['url']}/accounts/login/"},
        )
        assert signed_in.status_code == 302, signed_in.text[:500]
        page = browser.get("/goals/")
        assert page.status_code == 200 and "Survives the database restart" in page.text
