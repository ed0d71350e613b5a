"""Issue #11: `make demo` shows the whole product. The demo script runs in a scratch data
directory, prints its URL, and a member signs in and finds goals from all three vendors."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    yield from run_demo(tmp_path)


@pytest.fixture
def demo_sso(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """``make demo-sso``: the demo beside the tests' OpenID provider."""
    yield from run_demo(tmp_path, OKRHUB_DEMO_SSO="1", DEMO_SSO_PORT=str(free_port()))


def as_a_background_job() -> None:
    """Start the demo as ``make demo &`` from a script would: a non-interactive shell starts its
    background jobs with SIGINT ignored, and Ctrl-C (SIGINT) must still stop the demo (CI
    once started the suite that way and the demo never stopped)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_demo(tmp_path: Path, **extra: str) -> Iterator[tuple[str, list[str]]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL") and not k.startswith("OIDC_")}
    env.update(
        OKRHUB_VAR_DIR=str(tmp_path / "var"),
        OKRHUB_IGNORE_DOTENV="1",
        DEMO_PORT=str(free_port()),
        DEMO_SANDBOX_PORTS=",".join(str(free_port()) for _ in range(3)),
        **extra,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.demo"],
        cwd=ROOT,
        env=env,
        text=True,
        encoding="utf-8",
        errors="replace",  # a stray byte in a child's log must not end the reader (the demo would block on a full pipe)
        stdout=subprocess.PIPE,
        preexec_fn=as_a_background_job,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lines: list[str] = []
    url: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            match = re.search(r"running at (http://\S+)", line)
            if match:
                url.append(match.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        assert ready.wait(180), "the demo did not print its URL in 3 minutes:\n" + "\n".join(lines[-40:])
        assert url, "the demo stopped before printing its URL:\n" + "\n".join(lines[-40:])
        yield url[0], lines
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        stopped_in_time = True
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stopped_in_time = False
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    tail = "\n".join(lines[-30:])
    assert stopped_in_time, f"the demo did not stop within 30 s of Ctrl-C:\n{tail}"
    assert proc.returncode == 0, f"the demo ended with {proc.returncode} after Ctrl-C:\n{tail}"
    # Ctrl-C stops everything it started: nothing listens on the demo's ports any more.
    for port in [env["DEMO_PORT"], *env["DEMO_SANDBOX_PORTS"].split(","), *([env["DEMO_SSO_PORT"]] if "DEMO_SSO_PORT" in env else [])]:
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", int(port))) != 0, f"port {port} still answers after Ctrl-C:\n{tail}"


def test_demo_member_sees_goals_from_all_three_vendors(demo: tuple[str, list[str]], page, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    url, lines = demo
    output = "\n".join(lines)
    assert "alice" in output and "bob" in output and "admin" in output, output
    assert "single sign-on" not in output  # make demo: local logins only (make demo-sso adds SSO)
    page.goto(url)
    assert page.get_by_role("link", name=re.compile("Sign in with")).count() == 0
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-demo-pass")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    deadline = time.monotonic() + 180
    seen: set[str] = set()
    while time.monotonic() < deadline:
        for vendor in ("north", "operately", "ogsm"):
            if vendor in seen:
                continue
            # The CSV export of the goal list carries exactly what the member can see.
            export = page.request.get(f"{url}goals/export.csv?vendor={vendor}")
            assert export.ok, export.status
            if len(export.text().strip().splitlines()) > 1:
                seen.add(vendor)
        if len(seen) == 3:
            break
        time.sleep(3)
    assert seen == {"north", "operately", "ogsm"}, f"goals seen only from {sorted(seen)}\n" + output[-3000:]
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{url}goals/")
    assert page.locator("table.goals-table").count() == 1
    page.goto(url)
    assert page.get_by_role("heading", name="Overview").count() == 1
    page.screenshot(path=str(artifacts_dir / "demo-overview.png"), full_page=True)

    # After its first syncs the demo computes alignment suggestions across the vendors (issue #18).
    assert page.context.browser is not None
    admin_context = page.context.browser.new_context()
    admin = admin_context.new_page()
    admin.goto(url)
    admin.fill("input[name=username]", "admin")
    admin.fill("input[name=password]", "admin-demo-pass")
    admin.click("button[type=submit]")
    admin.wait_for_url(re.compile(r".*/$"))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        admin.goto(f"{url}alignment/suggestions/")
        if admin.locator("tr[data-suggestion]").count():
            break
        time.sleep(3)
    assert admin.locator("tr[data-suggestion]").count() > 0, "no alignment suggestions in the demo\n" + output[-3000:]
    admin.screenshot(path=str(artifacts_dir / "demo-alignment-suggestions.png"), full_page=True)
    admin_context.close()


def test_demo_sso_signs_in_through_the_test_provider(demo_sso: tuple[str, list[str]], page, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    url, lines = demo_sso
    output = "\n".join(lines)
    assert "single sign-on" in output and "alice" in output, output
    page.goto(url)
    page.get_by_role("link", name="Sign in with the test provider").click()
    page.get_by_label("Ada Lovelace (ada@example.com)").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/$"))
    assert page.get_by_role("heading", name="Overview").count() == 1
    assert page.get_by_role("link", name="Admin", exact=True).count() == 1  # Ada is in okrhub-admins
