"""Load benchmark (issues #12, #20): N distinct signed-in users against gunicorn, production settings.

The org of the chosen size is stored in the bench PostgreSQL database. Each virtual user is a user
of its own (``load-user-NN``) holding its own credentials: one per connector of a vendor mix that
depends on the user, and each credential "saw" only part of its connector's org (every team but
one slice of teams, ``team id % users``, and what hangs off them), so no two users see the same
data and the per-user page caches are all distinct. gunicorn runs ``dashboard.wsgi`` as the
Procfile does (``WEB_WORKERS`` x ``WEB_THREADS``, default 2 x 4 for 2 cores) with
``DJANGO_ENV=production`` (fresh SECRET_KEY and encryption key, HTTPS redirect off because the
test speaks plain HTTP on loopback). Each user signs in through /accounts/login/ with its CSRF
token, then walks the pages in turn for ``duration`` seconds, pausing a think time between pages
(0 for a closed loop). Reports throughput, p50/p95/p99 latency and errors (anything but 200, or no
answer); the targets are zero errors and p95 < 300 ms. Traffic goes to 127.0.0.1 only; every loop
is bounded by time and by count.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
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
from bench.fixtures import BENCH_PASSWORD
from bench.orgs import page_org

MAX_REQUESTS_PER_CLIENT = 100_000  # a bound besides the duration
REQUEST_TIMEOUT = 60.0
P95_TARGET_MS = 300.0
SIGN_IN_AT_ONCE = 4
LOAD_USER_PREFIX = "load-user-"
VENDOR_MIXES = [m for n in (1, 2, 3) for m in itertools.combinations(("north", "operately", "ogsm"), n)]
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
        env.get("WEB_THREADS", "4"),
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


def ensure_users(count: int) -> list[dict[str, Any]]:
    """``count`` users, each with own credentials and own slice of the org (see the module docstring).

    Replaces the load users of an earlier run; returns, per user, its username and the ids of a
    goal and a top team it may see (for the detail pages of its walk)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.fixtures import BENCH_PASSWORD
    from dashboard.integrations.models import Connector, Credential
    from dashboard.okrs.models import Goal, KeyResult, Person, Team, WorkItem

    user_model = get_user_model()
    connectors = {c.vendor: c for c in Connector.objects.filter(name__endswith="(bench pages)")}
    now = timezone.now()
    with transaction.atomic():
        # An earlier run's load users: credentials first (with their seen_by rows), then the users.
        Credential.objects.filter(owner__username__startswith=LOAD_USER_PREFIX).delete()
        user_model.objects.filter(username__startswith=LOAD_USER_PREFIX).delete()
        users = []
        template = user_model(username="template")
        template.set_password(BENCH_PASSWORD)  # one hash for all: hashing 50 passwords would take seconds
        for k in range(count):
            users.append(user_model(username=f"{LOAD_USER_PREFIX}{k:02d}", email=f"load{k}@example.com", password=template.password))
        user_model.objects.bulk_create(users)
        plan = []
        for k, user in enumerate(users):
            for vendor in VENDOR_MIXES[k % len(VENDOR_MIXES)]:
                credential = Credential(
                    connector=connectors[vendor], owner=user, label=f"{vendor} {user.username}", account_name="Bench Org"
                )
                credential.set_secret(
                    {"token": f"load-{vendor}-{k:04d}"} if vendor != "ogsm" else {"username": f"u{k}", "password": f"p-{k:04d}"}
                )
                credential.last_sync_at = credential.last_success_at = now
                credential.save()
                plan.append((credential.id, credential.connector_id, k))
        # What each credential "saw": every item of its connector except those of its user's slice
        # of non-root teams (team id % users = the user's number) and what hangs off them.
        hidden = "SELECT t.id FROM okrs_team t WHERE t.depth > 0 AND MOD(t.id, %(n)s) = %(k)s"
        conditions = {
            Team: f"x.id IN ({hidden})",
            Goal: f"COALESCE(x.team_id, 0) IN ({hidden})",
            KeyResult: f"COALESCE(x.team_id, 0) IN ({hidden})",
            WorkItem: f"x.goal_id IN (SELECT g.id FROM okrs_goal g WHERE g.team_id IN ({hidden}))",  # noqa: S608 - our own SQL
            Person: "FALSE",
        }
        with connection.cursor() as cursor:
            for model, condition in conditions.items():
                through = model.seen_by.through._meta.db_table  # type: ignore[attr-defined]
                fk = f"{model._meta.model_name}_id"
                for credential_id, connector_id, k in plan:
                    cursor.execute(
                        f"INSERT INTO {through} ({fk}, credential_id) SELECT x.id, %(cred)s FROM {model._meta.db_table} x "  # noqa: S608 - our own table names
                        f"WHERE x.connector_id = %(conn)s AND NOT ({condition})",
                        {"cred": credential_id, "conn": connector_id, "n": count, "k": k},
                    )
    walks = []
    for k, user in enumerate(users):
        credential_ids = [c for c, _, owner in plan if owner == k]
        goal = Goal.objects.filter(seen_by__in=credential_ids).order_by("id").values_list("id", flat=True).first()
        team = Team.objects.filter(seen_by__in=credential_ids, depth=0).order_by("id").values_list("id", flat=True).first()
        walks.append({"username": user.username, "goal": goal, "team": team, "vendors": VENDOR_MIXES[k % len(VENDOR_MIXES)]})
    return walks


def walk_paths(user: dict[str, Any], search: str) -> list[str]:
    """The main pages, as a user goes through them: overview, goals, a goal, teams, actions, the API."""
    paths = ["/", "/goals/", "/teams/", "/actions/", "/api/v1/goals", "/review/", f"/search/?q={search}", "/api/v1/work-items"]
    if user["goal"]:
        paths.insert(2, f"/goals/{user['goal']}/")
    if user["team"]:
        paths.insert(paths.index("/actions/"), f"/teams/{user['team']}/children/")
    return paths


async def sign_in(base: str, username: str) -> str:
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
            data={"username": username, "password": BENCH_PASSWORD, "csrfmiddlewaretoken": token.group(1)},
            headers={"Cookie": f"csrftoken={csrf_cookie}", "Referer": f"{base}/accounts/login/"},
        )
        session = answer.cookies.get("sessionid")
        if answer.status_code != 302 or not session:
            raise BenchError(f"signing in as {username} failed (status {answer.status_code}): {answer.text[:300]}")
        return session


async def what_user_sees(base: str, session: str) -> dict[str, Any]:
    """The user's view through the read API: goal count and first goal ids (to tell users apart)."""
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, headers={"Cookie": f"sessionid={session}"}) as client:
        answer = await client.get("/api/v1/goals")
        if answer.status_code != 200:
            raise BenchError(f"/api/v1/goals answered {answer.status_code} to a signed-in user")
        body = answer.json()
        return {"goals": body["count"], "first_ids": [item["id"] for item in body["results"][:20]]}


async def client_loop(
    base: str, session: str, paths: list[str], offset: int, deadline: float, think: float, rng: random.Random, out: dict[str, Any]
) -> None:
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
            if think > 0:
                await asyncio.sleep(min(think * rng.uniform(0.5, 1.5), max(0.0, deadline - time.monotonic())))


async def drive(base: str, walks: list[dict[str, Any]], duration: float, think: float, search: str) -> dict[str, Any]:
    # Sign-ins (untimed) a few at a time: each hashes a password for a CPU-second, and 50 at
    # once on 2 shared cores would outwait the request timeout.
    gate = asyncio.Semaphore(SIGN_IN_AT_ONCE)

    async def gated_sign_in(username: str) -> str:
        async with gate:
            return await sign_in(base, username)

    sessions = await asyncio.gather(*(gated_sign_in(w["username"]) for w in walks))
    views = await asyncio.gather(*(what_user_sees(base, s) for s in sessions))
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, headers={"Cookie": f"sessionid={sessions[0]}"}) as warm:
        for path in walk_paths(walks[0], search):  # untimed: the workers' first requests load templates and code
            await warm.get(path)
    out: dict[str, Any] = {"latencies": [], "statuses": Counter(), "errors": Counter(), "views": views}
    started = time.monotonic()
    deadline = started + duration
    rng = random.Random(12)
    await asyncio.gather(
        *(
            client_loop(base, s, walk_paths(w, search), i, deadline, think, random.Random(rng.random()), out)
            for i, (w, s) in enumerate(zip(walks, sessions, strict=True))
        )
    )
    out["seconds"] = time.monotonic() - started
    return out


def run(url: str, size: str, *, clients: int, duration: float, results_dir: Path, think: float = 1.0) -> Section:
    ids = ensure_org(size)
    walks = ensure_users(clients)
    var_dir = results_dir / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = production_env(url, var_dir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_gunicorn(env, port, results_dir / "gunicorn.log")
    try:
        result = asyncio.run(drive(base, walks, duration, think, ids["search"]))
    finally:
        stop(proc)
    latencies = result["latencies"]
    total = len(latencies)
    errors = sum(result["errors"].values())
    throughput = total / result["seconds"] if result["seconds"] else 0.0
    distinct = len({(v["goals"], tuple(v["first_ids"])) for v in result["views"]})
    goal_counts = [v["goals"] for v in result["views"]]
    workers, threads = env.get("WEB_WORKERS", "2"), env.get("WEB_THREADS", "4")
    section = Section(
        title=f"Load (issues #12, #20): {clients} distinct signed-in users for {duration:g} s against gunicorn, production settings, PostgreSQL",
        headers=["org", "users", "think s", "seconds", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"],
    )
    p50, p95, p99 = median(latencies), percentile(latencies, 95), percentile(latencies, 99)
    section.rows.append(
        [
            page_org(size).label,
            str(clients),
            f"{think:g}",
            f"{result['seconds']:.1f}",
            f"{total:,}",
            f"{throughput:.1f}",
            f"{p50:.0f}",
            f"{p95:.0f}",
            f"{p99:.0f}",
            f"{max(latencies, default=0):.0f}",
            str(errors),
        ]
    )
    section.notes.append(
        f"gunicorn as in the Procfile ({workers} workers x {threads} threads, access log on), DJANGO_ENV=production, "
        "SECURE_SSL_REDIRECT=false (plain HTTP on loopback); the clients (asyncio + httpx) run on the same cores."
    )
    section.notes.append(
        f"Each user ({LOAD_USER_PREFIX}00..{clients - 1:02d}) owns one credential per connector of its vendor mix "
        f"(the {len(VENDOR_MIXES)} non-empty mixes of north, operately, ogsm in turn), and its credentials saw every team of their "
        f"connector but the non-root teams with team id % {clients} = its number (and their goals, KRs and work items): "
        f"{distinct} distinct views among {clients} users; goals visible per user: {min(goal_counts, default=0):,} to {max(goal_counts, default=0):,}."
    )
    section.notes.append(
        f"Each user signs in (login form, CSRF, session cookie), then walks its pages in turn with a think time of "
        f"{think:g} s x uniform(0.5, 1.5) between requests: " + ", ".join(walk_paths(walks[0], ids["search"])) + " (ids per user); "
        "one untimed walk by the first user warms the gunicorn workers first."
    )
    if result["errors"]:
        section.notes.append("Errors: " + ", ".join(f"{k}: {v}" for k, v in result["errors"].most_common(10)))
    section.data.append(
        {
            "size": size,
            "clients": clients,
            "think": think,
            "duration": duration,
            "seconds": result["seconds"],
            "requests": total,
            "throughput": throughput,
            "p50_ms": p50,
            "p95_ms": p95,
            "p99_ms": p99,
            "statuses": dict(result["statuses"]),
            "errors": dict(result["errors"]),
            "views": result["views"],
            "distinct_views": distinct,
            "gunicorn": {"workers": workers, "threads": threads},
        }
    )
    section.check("#12", "requests were served", f"{total:,}", "> 0", total > 0)
    section.check("#12", "errors under load", f"{errors}", "0", errors == 0)
    section.check("#20", "every user sees a different subset", f"{distinct} distinct of {clients}", f"{clients}", distinct == clients)
    section.check("#20", "p95 latency under load", f"{p95:.0f} ms", f"< {P95_TARGET_MS:.0f} ms", p95 < P95_TARGET_MS)
    return section
