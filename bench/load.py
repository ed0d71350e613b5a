"""Load benchmark (issue #12): N signed-in clients against gunicorn with the production settings.

The org of the chosen size is stored in the bench PostgreSQL database; gunicorn runs
``dashboard.wsgi`` exactly as the Procfile does (2 workers x 4 threads) with
``DJANGO_ENV=production`` (fresh SECRET_KEY and encryption key, HTTPS redirect off because the
test speaks plain HTTP on loopback). Each client signs in through /accounts/login/ with its CSRF
token, then requests the dashboard pages in turn for ``duration`` seconds. Reports throughput,
p50/p99 latency and errors (anything but 200, or no answer); the target is zero errors.
Traffic goes to 127.0.0.1 only; every loop is bounded by time and by count.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, BenchError, Section, django_env, median, percentile, python_executable
from bench.fixtures import BENCH_PASSWORD, BENCH_USER
from bench.orgs import page_org

MAX_REQUESTS_PER_CLIENT = 100_000  # a bound besides the duration
REQUEST_TIMEOUT = 60.0
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_env(url: str, var_dir: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return django_env(
        url,
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1",
        OKRHUB_VAR_DIR=str(var_dir),
        LOG_LEVEL="WARNING",
    )


def ensure_org(size: str) -> dict[str, Any]:
    """The pages benchmark's org at ``size``: reused when it is already stored, else populated."""
    from bench.fixtures import bench_user, wipe
    from bench.populate import populate
    from dashboard.integrations.models import Connector
    from dashboard.okrs.models import Goal, Team

    org = page_org(size)
    user = bench_user()
    stored = Connector.objects.filter(name__endswith="(bench pages)").count() == 3 and Goal.objects.count() == org.goals
    if stored:
        root = Team.objects.filter(depth=0).order_by("id").first()
        goal = Goal.objects.order_by("id").first()
        return {"team_with_children": root.id if root else 1, "goal": goal.id if goal else 1, "search": "revenue"}
    wipe()
    return populate(org, user)


def start_gunicorn(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    collect = subprocess.run(
        [python_executable(), "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if collect.returncode != 0:
        raise BenchError(f"collectstatic with the production settings failed:\n{collect.stderr[-2000:]}")
    log = log_path.open("wb")
    # The Procfile's web command, on a free loopback port.
    cmd = [
        python_executable(),
        "-m",
        "gunicorn",
        "dashboard.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        env.get("WEB_WORKERS", "2"),
        "--threads",
        "4",
        "--access-logfile",
        "-",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {proc.returncode}; see {log_path}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop(proc)
    raise BenchError(f"gunicorn did not answer /healthz within 60 s; see {log_path}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


async def sign_in(base: str) -> str:
    """A session cookie, obtained as a browser would: login form, CSRF token, POST."""
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, follow_redirects=False) as client:
        form = await client.get("/accounts/login/")
        token = _CSRF_INPUT.search(form.text)
        csrf_cookie = form.cookies.get("csrftoken")
        if form.status_code != 200 or not token or not csrf_cookie:
            raise BenchError(f"the login page did not offer a form with a CSRF token (status {form.status_code})")
        # Production cookies are Secure; this loopback test speaks HTTP, so cookies are sent by hand.
        answer = await client.post(
            "/accounts/login/",
            data={"username": BENCH_USER, "password": BENCH_PASSWORD, "csrfmiddlewaretoken": token.group(1)},
            headers={"Cookie": f"csrftoken={csrf_cookie}", "Referer": f"{base}/accounts/login/"},
        )
        session = answer.cookies.get("sessionid")
        if answer.status_code != 302 or not session:
            raise BenchError(f"signing in failed (status {answer.status_code}): {answer.text[:300]}")
        return session


async def client_loop(base: str, session: str, paths: list[str], offset: int, deadline: float, out: dict[str, Any]) -> None:
    headers = {"Cookie": f"sessionid={session}"}
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, follow_redirects=False, limits=limits, headers=headers) as client:
        for n in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                break
            path = paths[(offset + n) % len(paths)]
            started = time.perf_counter()
            try:
                response = await client.get(path)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            out["latencies"].append((time.perf_counter() - started) * 1000)
            out["statuses"][status] += 1
            if status != "200":
                out["errors"][f"{status} {path}"] += 1


async def drive(base: str, clients: int, duration: float, paths: list[str]) -> dict[str, Any]:
    sessions = await asyncio.gather(*(sign_in(base) for _ in range(clients)))
    out: dict[str, Any] = {"latencies": [], "statuses": Counter(), "errors": Counter()}
    started = time.monotonic()
    deadline = started + duration
    await asyncio.gather(*(client_loop(base, s, paths, i, deadline, out) for i, s in enumerate(sessions)))
    out["seconds"] = time.monotonic() - started
    return out


def run(url: str, size: str, *, clients: int, duration: float, results_dir: Path) -> Section:
    ids = ensure_org(size)
    paths = [
        "/",
        "/teams/",
        "/goals/",
        f"/goals/{ids['goal']}/",
        "/actions/",
        "/review/",
        f"/search/?q={ids['search']}",
        f"/teams/{ids['team_with_children']}/children/",
    ]
    var_dir = results_dir / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = production_env(url, var_dir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_gunicorn(env, port, results_dir / "gunicorn.log")
    try:
        result = asyncio.run(drive(base, clients, duration, paths))
    finally:
        stop(proc)
    latencies = result["latencies"]
    total = len(latencies)
    errors = sum(result["errors"].values())
    throughput = total / result["seconds"] if result["seconds"] else 0.0
    section = Section(
        title=f"Load (issue #12): {clients} signed-in clients for {duration:g} s against gunicorn, production settings, PostgreSQL",
        headers=["org", "clients", "seconds", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors"],
    )
    label = page_org(size).label
    section.rows.append(
        [
            label,
            str(clients),
            f"{result['seconds']:.1f}",
            f"{total:,}",
            f"{throughput:.1f}",
            f"{median(latencies):.0f}",
            f"{percentile(latencies, 99):.0f}",
            f"{max(latencies, default=0):.0f}",
            str(errors),
        ]
    )
    section.notes.append(
        "gunicorn as in the Procfile (2 workers x 4 threads, access log on), DJANGO_ENV=production, "
        "SECURE_SSL_REDIRECT=false (plain HTTP on loopback); the clients (asyncio + httpx) run on the same 2 cores."
    )
    section.notes.append("Pages in turn: " + ", ".join(paths))
    if result["errors"]:
        section.notes.append("Errors: " + ", ".join(f"{k}: {v}" for k, v in result["errors"].most_common(10)))
    section.data.append(
        {
            "size": size,
            "clients": clients,
            "duration": duration,
            "seconds": result["seconds"],
            "requests": total,
            "throughput": throughput,
            "p50_ms": median(latencies),
            "p99_ms": percentile(latencies, 99),
            "statuses": dict(result["statuses"]),
            "errors": dict(result["errors"]),
        }
    )
    section.check("#12", "requests were served", f"{total:,}", "> 0", total > 0)
    section.check("#12", "errors under load", f"{errors}", "0", errors == 0)
    return section
