"""The README's "The same from a script" lines, run by bash one by one as written (only the two
vendor URLs become the sandboxes'), each a real ``manage.py`` process, against the North and OGSM
sandboxes over real HTTP: without a worker (``sync --wait`` takes the queued first syncs over), with
a Celery worker on Redis (the worker and the command never both run one credential), and the exit
statuses of a refused token (1) and of a stream the vendor breaks (2).

"Nobody ran a credential twice" is measured at the vendor: the requests each sandbox received
equal the requests the credential's one run recorded.
"""

# ruff: noqa: F811 - the cli_site fixture imported from cli_site is redefined as an argument
from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.sandbox_kit import RunningServer, Sandbox
from dashboard.integrations.models import Connector, Credential, SyncRun
from dashboard.okrs.models import Goal, WorkItem
from tests.integrations.cli_site import ROOT, CliSite, Worker, cli_site, wait_until  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)

NORTH_URL_IN_README = "https://to.thenorth.io/"
OGSM_URL_IN_README = "https://acme.ogsm.example/"


def readme_script() -> list[str]:
    """The command lines of the README's script block, exactly as the README prints them."""
    text = (ROOT / "README.md").read_text()
    block = text.split("The same from a script:", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.strip().splitlines() if line.strip()]


@dataclass
class Vendors:
    north: Sandbox
    north_server: RunningServer
    ogsm: Sandbox
    ogsm_server: RunningServer

    def script(self) -> list[str]:
        lines = readme_script()
        text = "\n".join(lines)
        assert NORTH_URL_IN_README in text and OGSM_URL_IN_README in text, "the README's script no longer names the vendor URLs"
        return [
            line.replace(NORTH_URL_IN_README, self.north_server.url).replace(OGSM_URL_IN_README, self.ogsm_server.url) for line in lines
        ]

    def secrets(self, *, token: str | None = None, password: str | None = None) -> dict[str, str]:
        """$TOKEN and $PASSWORD of the README: Alyssa's North token, the OGSM tenant's API user."""
        admin = self.ogsm.credential("api-acme").secret
        assert admin["username"] == "api-acme"  # the user name the README's line passes
        return {
            "TOKEN": token if token is not None else self.north.credential("alyssa (full access)").secret["token"],
            "PASSWORD": password if password is not None else admin["password"],
        }


@pytest.fixture
def vendors(sandbox_factory: Callable[..., tuple[Sandbox, RunningServer]]) -> Vendors:
    north, north_server = sandbox_factory("north", seed=3, size="small")
    ogsm, ogsm_server = sandbox_factory("ogsm", seed=3, size="small", tenant="acme")
    return Vendors(north, north_server, ogsm, ogsm_server)


@pytest.fixture
def redis_env(redis_url: str) -> dict[str, str]:
    """Broker, locks and a queue of this test's own on the test Redis."""
    return {"CELERY_BROKER_URL": redis_url, "REDIS_URL": redis_url, "CELERY_TASK_DEFAULT_QUEUE": f"okrhub-cli-{uuid.uuid4().hex[:8]}"}


@pytest.fixture
def workers(cli_site: CliSite, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(extra_env: dict[str, str] | None = None) -> Worker:
        worker = Worker(cli_site, tmp_path / f"worker{len(started)}.log", extra_env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def run_setup_lines(site: CliSite, lines: list[str], env: dict[str, str]) -> list[str]:
    """Every line but the last (``sync --wait``); each must succeed. Returns their stdout."""
    assert lines[-1].startswith("python manage.py sync --wait"), lines[-1]
    outputs = []
    for line in lines[:-1]:
        done = site.shell(line, extra_env=env)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        assert env["TOKEN"] not in done.stdout + done.stderr and env["PASSWORD"] not in done.stdout + done.stderr
        outputs.append(done.stdout)
    return outputs


def runs_by_connector(site: CliSite) -> dict[str, list[dict[str, Any]]]:
    names = dict(site.rows(Connector, "id", "name"))
    connector_of = {pk: names[connector_id] for pk, connector_id in site.rows(Credential, "id", "connector")}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names.values()}
    fields = ("id", "credential", "status", "trigger", "requests_made", "task_id", "error")
    for row in site.rows(SyncRun, *fields):
        run = dict(zip(fields, row, strict=True))
        runs[connector_of[run["credential"]]].append(run)
    return runs


def assert_each_credential_ran_once(site: CliSite, vendors: Vendors) -> dict[str, dict[str, Any]]:
    """One run per credential, succeeded, and the vendor saw exactly that run's requests."""
    runs = runs_by_connector(site)
    assert [len(runs["North"]), len(runs["OGSM"])] == [1, 1], runs
    north, ogsm = runs["North"][0], runs["OGSM"][0]
    assert (north["status"], ogsm["status"]) == ("succeeded", "succeeded"), runs
    assert north["requests_made"] > 0 and vendors.north.app.requests_seen == north["requests_made"]
    assert ogsm["requests_made"] > 0 and vendors.ogsm.app.requests_seen == ogsm["requests_made"]
    return {"North": north, "OGSM": ogsm}


def assert_no_run_ran_twice(site: CliSite, vendors: Vendors) -> dict[str, list[dict[str, Any]]]:
    """Every run succeeded, and each vendor saw exactly the requests the runs recorded."""
    runs = runs_by_connector(site)
    assert {r["status"] for r in runs["North"] + runs["OGSM"]} == {"succeeded"}, runs
    assert vendors.north.app.requests_seen == sum(r["requests_made"] for r in runs["North"]) > 0
    assert vendors.ogsm.app.requests_seen == sum(r["requests_made"] for r in runs["OGSM"]) > 0
    return runs


def assert_everything_stored(site: CliSite, vendors: Vendors) -> None:
    connectors = {name: pk for pk, name in site.rows(Connector, "id", "name")}
    goals = [connector for (connector,) in site.rows(Goal, "connector")]
    work_items = [connector for (connector,) in site.rows(WorkItem, "connector")]
    assert goals.count(connectors["North"]) == len(vendors.north.state.goals) > 0
    assert work_items.count(connectors["North"]) == len(vendors.north.state.initiatives) > 0
    assert work_items.count(connectors["OGSM"]) == len(vendors.ogsm.state.actions) > 0


def sync_lines(stdout: str) -> dict[str, str]:
    """``sync --wait`` prints one line per run, starting with the credential ("North / alice")."""
    return {line.split(" ", 1)[0]: line for line in stdout.strip().splitlines()}


def test_without_a_worker_sync_wait_takes_the_queued_first_syncs_over(cli_site: CliSite, vendors: Vendors, workers) -> None:
    env = vendors.secrets()
    cli_site.create_user("alice")
    lines = vendors.script()

    added = run_setup_lines(cli_site, lines, env)

    assert re.search(r"sync queued \(run \d+\)", added[2]) and re.search(r"sync queued \(run \d+\)", added[3]), added
    queued = runs_by_connector(cli_site)
    assert [r["status"] for r in queued["North"] + queued["OGSM"]] == ["queued", "queued"]
    assert vendors.north.app.requests_seen == vendors.ogsm.app.requests_seen == 0  # adding calls no vendor

    synced = cli_site.shell(lines[-1], extra_env=env)

    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "skipped" not in synced.stdout + synced.stderr
    reported = sync_lines(synced.stdout)
    assert set(reported) == {"North", "OGSM"}, synced.stdout
    for line in reported.values():
        assert " succeeded " in line and "(took over the queued run and ran it here)" in line, line
    runs = assert_each_credential_ran_once(cli_site, vendors)
    assert [runs["North"]["id"], runs["OGSM"]["id"]] == [queued["North"][0]["id"], queued["OGSM"][0]["id"]]  # the same runs
    assert f"run {runs['North']['id']}  succeeded" in reported["North"]
    assert_everything_stored(cli_site, vendors)

    # The embedded default's worker now receives the two queued tasks: both runs are claimed and
    # finished, so it leaves them alone and the vendors hear nothing more.
    worker = workers()
    for run in runs.values():
        result = wait_until(
            lambda run=run: worker.task_result(run["task_id"]), f"the worker to finish task {run['task_id']}", log=worker.log
        )
        assert result == "succeeded"
    assert_each_credential_ran_once(cli_site, vendors)


@pytest.mark.parametrize(
    ("case", "faults", "exit_status", "north_status", "why"),
    [
        ("refused token", None, 1, "failed", "HTTP 401"),
        ("a stream the vendor breaks", "badjson=1,match=/initiatives/", 2, "partial", "work_items"),
    ],
)
def test_the_exit_status_says_what_happened(cli_site: CliSite, vendors: Vendors, case, faults, exit_status, north_status, why) -> None:
    env = vendors.secrets(token="nt_0000000000000000000000000000dead" if case == "refused token" else None)
    if faults:
        vendors.north.faults = faults
    cli_site.create_user("alice")
    lines = vendors.script()
    run_setup_lines(cli_site, lines, env)

    synced = cli_site.shell(lines[-1], extra_env=env)

    assert synced.returncode == exit_status, synced.stdout + synced.stderr
    reported = sync_lines(synced.stdout)
    assert f" {north_status} " in reported["North"] and why in reported["North"], reported["North"]
    assert " succeeded " in reported["OGSM"]
    assert f"exit {exit_status}" in synced.stderr
    statuses = {name: [r["status"] for r in runs] for name, runs in runs_by_connector(cli_site).items()}
    assert statuses == {"North": [north_status], "OGSM": ["succeeded"]}


def run_of(site: CliSite, connector: str) -> dict[str, Any]:
    (run,) = runs_by_connector(site)[connector]
    return run


@pytest.mark.celery
@pytest.mark.redis
def test_with_a_worker_running_the_script_never_runs_a_credential_twice(cli_site: CliSite, vendors: Vendors, workers, redis_env) -> None:
    """The script back to back while a worker takes the first syncs: whoever claims a run first
    runs it, the other waits (the command) or leaves it (the worker)."""
    env = {**vendors.secrets(), **redis_env}
    vendors.north.faults = vendors.ogsm.faults = "latency=20ms"
    worker = workers(redis_env)
    cli_site.create_user("alice")
    lines = vendors.script()
    run_setup_lines(cli_site, lines, env)

    synced = cli_site.shell(lines[-1], extra_env=env)

    assert synced.returncode == 0, synced.stdout + synced.stderr + worker.log()[-3000:]
    assert "skipped" not in synced.stdout + synced.stderr
    # Each line: the worker's run waited for or taken over, or (the worker was quicker) a new run.
    handled = ("(waited for the worker running it)", "(took over the queued run and ran it here)", "(ran here)")
    for line in sync_lines(synced.stdout).values():
        assert " succeeded " in line and any(h in line for h in handled), line
    runs = assert_no_run_ran_twice(cli_site, vendors)
    for connector_runs in runs.values():
        first_sync = connector_runs[0]
        answer = wait_until(lambda run=first_sync: worker.task_result(run["task_id"]), "the worker's answer", log=worker.log)
        assert answer in ("succeeded", "running")
    assert_no_run_ran_twice(cli_site, vendors)
    assert_everything_stored(cli_site, vendors)


@pytest.mark.celery
@pytest.mark.redis
def test_sync_wait_waits_for_the_run_a_worker_is_running(cli_site: CliSite, vendors: Vendors, workers, redis_env, tmp_path) -> None:
    env = {**vendors.secrets(), **redis_env}
    vendors.north.faults = "latency=0.5"  # the worker's North run lasts until the test lifts this
    worker = workers(redis_env)
    cli_site.create_user("alice")
    lines = vendors.script()
    run_setup_lines(cli_site, lines, env)
    wait_until(lambda: run_of(cli_site, "North")["status"] == "running", "the worker to claim the North run", log=worker.log)

    # North only: the worker finished OGSM's first sync long ago, so --wait would run a new one.
    command = cli_site.start_manage("sync", "--wait", "--connector", "North", output=tmp_path / "sync", extra_env=env)
    north = run_of(cli_site, "North")
    progress = f"North / alice: run {north['id']} running on a worker"
    wait_until(lambda: progress in (tmp_path / "sync.err").read_text(), "a progress line on stderr", log=worker.log)
    vendors.north.faults = ""
    command.wait(timeout=120)

    out, err = (tmp_path / "sync.out").read_text(), (tmp_path / "sync.err").read_text()
    assert command.returncode == 0, out + err
    reported = sync_lines(out)
    assert list(reported) == ["North"], out
    assert f"run {north['id']}  succeeded  (waited for the worker running it)" in reported["North"]
    runs = assert_each_credential_ran_once(cli_site, vendors)
    assert [worker.task_result(run["task_id"]) for run in runs.values()] == ["succeeded", "succeeded"]
    assert_everything_stored(cli_site, vendors)


@pytest.mark.celery
@pytest.mark.redis
def test_a_worker_leaves_a_run_that_sync_wait_took_over(cli_site: CliSite, vendors: Vendors, workers, redis_env, tmp_path) -> None:
    env = {**vendors.secrets(), **redis_env}
    vendors.north.faults = "latency=0.5"  # the command's North run lasts until the test lifts this
    cli_site.create_user("alice")
    lines = vendors.script()
    run_setup_lines(cli_site, lines, env)  # the first syncs wait in Redis: no worker yet

    command = cli_site.start_manage("sync", "--wait", output=tmp_path / "sync", extra_env=env)
    wait_until(lambda: run_of(cli_site, "North")["status"] == "running", "the command to claim the North run")
    worker = workers(redis_env)  # now it receives both first syncs
    north_task = run_of(cli_site, "North")["task_id"]
    assert wait_until(lambda: worker.task_result(north_task), "the worker to answer North's task", log=worker.log) == "running"
    vendors.north.faults = ""
    command.wait(timeout=120)

    out, err = (tmp_path / "sync.out").read_text(), (tmp_path / "sync.err").read_text()
    assert command.returncode == 0, out + err + worker.log()[-3000:]
    reported = sync_lines(out)
    assert " succeeded " in reported["North"] and "(took over the queued run and ran it here)" in reported["North"]
    assert " succeeded " in reported["OGSM"]  # the command or the worker ran it, one of the two
    runs = assert_each_credential_ran_once(cli_site, vendors)
    ogsm_answer = wait_until(lambda: worker.task_result(runs["OGSM"]["task_id"]), "the worker's answer for OGSM", log=worker.log)
    assert ogsm_answer in ("succeeded", "running")
    assert_each_credential_ran_once(cli_site, vendors)
    assert_everything_stored(cli_site, vendors)
