"""``make demo``: the whole product on one machine, with the three vendor sandboxes.

Migrates the embedded database (SQLite under ./var), starts the North, Operately and OGSM
sandboxes on loopback, creates demo users (an admin and two members whose vendor credentials see
different things), registers connectors and credentials, starts the web server, a Celery worker
and beat on the filesystem broker, runs the first syncs and prints the URL and the logins.
Ctrl-C stops everything it started. Running it again reuses what exists.

Options (environment): DEMO_PORT (8000), DEMO_SANDBOX_PORTS ("8101,8102,8103"), DEMO_SIZE
(small), DEMO_HOST (127.0.0.1). ``OKRHUB_DEMO_SSO=1`` (``make demo-sso``) also starts the tests'
OpenID provider (tests/oidc_provider.py) on DEMO_SSO_PORT (8110) and signs in through it; without
it the demo uses local logins only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from connectors.registry import VENDOR_CHOICES

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
VENDORS = tuple(vendor for vendor, _label in VENDOR_CHOICES)
DEMO_PASSWORDS = {"admin": "admin-demo-pass", "alice": "alice-demo-pass", "bob": "bob-demo-pass"}


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


class Demo:
    def __init__(self) -> None:
        self.host = os.environ.get("DEMO_HOST", "127.0.0.1")
        self.port = int(os.environ.get("DEMO_PORT", "8000"))
        ports = os.environ.get("DEMO_SANDBOX_PORTS", "8101,8102,8103").split(",")
        self.sandbox_ports = dict(zip(VENDORS, (int(p) for p in ports), strict=True))
        self.size = os.environ.get("DEMO_SIZE", "small")
        self.procs: list[tuple[str, subprocess.Popen[str]]] = []
        self.one_shot: set[str] = set()  # processes that end by themselves (stopped with the rest when not)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "dashboard.settings"}
        self.env.setdefault("CONNECTOR_ALLOWED_HOSTS", "127.0.0.1,localhost")
        self.sso = os.environ.get("OKRHUB_DEMO_SSO", "") == "1"
        self.sso_port = int(os.environ.get("DEMO_SSO_PORT", "8110"))

    # -- processes ---------------------------------------------------------------------------
    def start(self, name: str, args: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env, text=True, start_new_session=True, **kwargs)
        self.procs.append((name, proc))
        return proc

    def stop_all(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                say(f"stopping {name}")
                # The process itself first (Celery then shuts its pool down warmly).
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            if proc.poll() is None:
                say(f"{name} did not stop within 15 s; killing it")
            with contextlib.suppress(ProcessLookupError):  # whatever is left of the process group
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()  # reaped, so its ports are closed before the demo says it stopped
        for _name, proc in self.procs:
            group_gone(proc.pid)

    def manage(self, *args: str, input_text: str | None = None) -> str:
        result = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self.env, text=True, capture_output=True, input=input_text)
        if result.returncode != 0:
            raise SystemExit(f"[demo] manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    # -- steps -------------------------------------------------------------------------------
    def start_sandboxes(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for vendor in VENDORS:
            args = [
                PY,
                "manage.py",
                "sandbox",
                "--vendor",
                vendor,
                "--port",
                str(self.sandbox_ports[vendor]),
                "--size",
                self.size,
                "--json",
            ]
            proc = self.start(f"{vendor} sandbox", args, stdout=subprocess.PIPE)
            assert proc.stdout is not None
            ready = proc.stdout.readline().strip()
            info_line = proc.stdout.readline().strip()
            if not ready.startswith("READY") or not info_line:
                raise SystemExit(f"[demo] the {vendor} sandbox did not start (is port {self.sandbox_ports[vendor]} free?)")
            found[vendor] = json.loads(info_line)
            say(f"{vendor} sandbox at {found[vendor]['url']}")
        return found

    def start_identity_provider(self) -> str:
        """The tests' OpenID provider (a test helper, for the demo only) and the OIDC_* settings."""
        args = [PY, "-m", "tests.oidc_provider", "--host", self.host, "--port", str(self.sso_port)]
        proc = self.start("OpenID provider", args, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("{"):
            raise SystemExit(f"[demo] the test OpenID provider did not start (is port {self.sso_port} free?)")
        info = json.loads(line)
        self.env.update(OIDC_ISSUER=info["issuer"], OIDC_CLIENT_ID=info["client_id"], OIDC_CLIENT_SECRET=info["client_secret"])
        self.env.setdefault("OIDC_ADMIN_GROUP", "okrhub-admins")
        self.env.setdefault("OIDC_BUTTON_LABEL", "Sign in with the test provider")
        say(f"test OpenID provider at {info['issuer']}/")
        return str(info["issuer"])

    def setup_data(self, sandboxes: dict[str, dict[str, Any]]) -> None:
        spec = json.dumps({v: {"url": s["url"], "credentials": s["credentials"]} for v, s in sandboxes.items()})
        self.manage("migrate", "--noinput")
        self.manage("demo_setup", "--stdin", input_text=spec)

    def run(self) -> int:
        os.chdir(ROOT)
        try:
            say("migrating the embedded database (./var/okrhub.sqlite3)")
            issuer = self.start_identity_provider() if self.sso else ""
            sandboxes = self.start_sandboxes()
            self.setup_data(sandboxes)
            self.start("worker", [PY, "-m", "celery", "-A", "dashboard", "worker", "--loglevel", "WARNING", "--concurrency", "2"])
            self.start(
                "beat",
                [
                    PY,
                    "-m",
                    "celery",
                    "-A",
                    "dashboard",
                    "beat",
                    "--loglevel",
                    "WARNING",
                    "--scheduler",
                    "django_celery_beat.schedulers:DatabaseScheduler",
                ],
            )
            bind = f"{self.host}:{self.port}"
            self.start("web", [PY, "manage.py", "runserver", bind, "--noreload", "--insecure"])
            self.wait_for_web()
            # The first syncs, queued for the worker; each successful run links people across vendors
            # (dashboard.people.hooks runs link_people() after it), so the People pages fill as they finish.
            self.manage("sync", "--json")
            # Alignment suggestions across the vendors once those syncs are done (in the background:
            # the URL is printed right away; Ctrl-C stops it with the rest).
            self.one_shot.add("suggestions")
            self.start("suggestions", [PY, "manage.py", "alignment", "suggest", "--after-syncs", "300"], stdout=subprocess.DEVNULL)
            url = f"http://{bind}/"
            print("", flush=True)
            print(f"OKR Hub demo is running at {url}", flush=True)
            print(f"  admin: admin / {DEMO_PASSWORDS['admin']}   (configures connectors, sees every sync)", flush=True)
            print(f"  member: alice / {DEMO_PASSWORDS['alice']}   (sees everything at every vendor)", flush=True)
            print(f"  member: bob / {DEMO_PASSWORDS['bob']}   (sees less: no private teams or secret goals)", flush=True)
            if issuer:
                print(f"  single sign-on: '{self.env['OIDC_BUTTON_LABEL']}' on the sign-in page ({issuer}/):", flush=True)
                print("    pick Ada (group okrhub-admins: an admin), Grace or Linus (members)", flush=True)
            print("Press Ctrl-C to stop.", flush=True)
            while True:
                for name, proc in self.procs:
                    if proc.poll() is not None and name not in self.one_shot:
                        say(f"{name} exited with {proc.returncode}; stopping the demo")
                        return 1
                time.sleep(1)
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop_all()

    def wait_for_web(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 60
        url = f"http://{self.host}:{self.port}/healthz"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise SystemExit(f"[demo] the web server did not answer at {url}")


def group_gone(pgid: int, seconds: float = 5.0) -> bool:
    """Wait (bounded) until no process of the group ``pgid`` is left: a SIGKILL is delivered
    asynchronously, and a port closes only once its process is gone."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return True
        time.sleep(0.05)
    return False


def main() -> int:
    # Ctrl-C stops the demo even when it was started from a shell that ignores SIGINT for its
    # background jobs (a non-interactive `cmd &` does, and Python then keeps it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    return Demo().run()


if __name__ == "__main__":
    sys.exit(main())
