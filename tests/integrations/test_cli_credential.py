"""manage.py credential add [--no-sync] / list [--json]: secrets from stdin only, never printed."""

# ruff: noqa: F811 - the cli_site fixture imported from cli_site is redefined as an argument
from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from dashboard.integrations.models import Credential, SyncRun
from tests.factories import ConnectorFactory, UserFactory
from tests.integrations.cli_site import CliSite, cli_site  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

TOKEN = "cli-token-Abcdef123456"
PASSWORD = "cli Password 9876 "  # a password may end in a space; only the newline goes


def run(*args: str, stdin: str = "") -> str:
    out = io.StringIO()
    call_command("credential", *args, stdout=out, stdin=io.StringIO(stdin))
    return out.getvalue()


@pytest.fixture
def connectors() -> None:
    ConnectorFactory(vendor="north", name="North")
    ConnectorFactory(vendor="ogsm", name="OGSM")
    UserFactory(username="alice")


def test_add_token_for_a_user_and_list_without_secrets(connectors: None) -> None:
    out = run("add", "--connector", "North", "--user", "alice", "--token-stdin", stdin=TOKEN + "\n")
    assert out.startswith("Added credential") and "alice" in out and TOKEN not in out
    credential = Credential.objects.get(owner__username="alice")
    assert credential.get_secret() == {"token": TOKEN}
    assert TOKEN not in credential.secret_encrypted
    assert [(run.trigger, run.status) for run in SyncRun.objects.filter(credential=credential)] == [("cli", "queued")]

    # Same user and connector again: the secret is replaced, not duplicated (idempotent scripts).
    out = run("add", "--connector", "North", "--user", "alice", "--token-stdin", stdin="cli-token-Second99999")
    assert out.startswith("Replaced the secret of credential")
    assert Credential.objects.filter(owner__username="alice").count() == 1
    credential.refresh_from_db()
    assert credential.get_secret() == {"token": "cli-token-Second99999"}

    listed = run("list", "--json")
    rows = json.loads(listed)
    assert rows == [
        {
            **rows[0],
            "connector": "North",
            "vendor": "north",
            "owner": "alice",
            "shared": False,
            "status": "active",
            "secret_hint": "9999",
        }
    ]
    assert "secret_encrypted" not in rows[0] and "cli-token-Second99999" not in listed and TOKEN not in listed
    assert "alice" in run("list")


def test_add_shared_password_credential(connectors: None) -> None:
    out = run(
        "add", "--connector", "OGSM", "--shared", "--username", "svc-ogsm", "--password-stdin", "--label", "Service", stdin=PASSWORD + "\n"
    )
    assert "Shared with everyone" in out and PASSWORD.strip() not in out
    credential = Credential.objects.get(is_shared=True)
    assert credential.owner is None and credential.share_with_everyone and credential.label == "Service"
    assert credential.get_secret() == {"username": "svc-ogsm", "password": PASSWORD}

    Group.objects.create(name="Leads")
    run("add", "--connector", "North", "--shared", "--group", "Leads", "--token-stdin", stdin=TOKEN)
    grouped = Credential.objects.get(is_shared=True, connector__name="North")
    assert not grouped.share_with_everyone and [g.name for g in grouped.groups.all()] == ["Leads"]
    rows = {r["connector"]: r for r in json.loads(run("list", "--json"))}
    assert rows["North"]["groups"] == ["Leads"] and rows["OGSM"]["share_with_everyone"] is True


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "--connector", "Nope", "--user", "alice", "--token-stdin"], TOKEN, "No connector named 'Nope' (known: North, OGSM)"),
        (["add", "--connector", "North", "--user", "nobody", "--token-stdin"], TOKEN, "No user named 'nobody'"),
        (["add", "--connector", "North", "--user", "alice", "--token-stdin"], "", "stdin was empty"),
        (["add", "--connector", "North", "--user", "alice", "--token-stdin"], "  \n", "stdin was empty"),
        (["add", "--connector", "OGSM", "--shared", "--username", "svc", "--password-stdin"], "\n", "stdin was empty"),
        (
            ["add", "--connector", "North", "--user", "alice", "--password-stdin", "--username", "a"],
            "pw",
            "uses an API token: use --token-stdin",
        ),
        (
            ["add", "--connector", "OGSM", "--user", "alice", "--token-stdin"],
            TOKEN,
            "user name and password: use --username USER --password-stdin",
        ),
        (["add", "--connector", "OGSM", "--user", "alice", "--password-stdin"], "pw", "--username USER --password-stdin"),
        (["add", "--connector", "North", "--user", "alice", "--token-stdin", "--username", "x"], TOKEN, "--username does not apply"),
        (["add", "--connector", "North", "--user", "alice", "--shared", "--token-stdin"], TOKEN, "not allowed with argument"),
        (["add", "--connector", "North", "--token-stdin"], TOKEN, "one of the arguments --user --shared is required"),
        (["add", "--connector", "North", "--user", "alice"], TOKEN, "one of the arguments --token-stdin --password-stdin is required"),
        (
            ["add", "--connector", "North", "--user", "alice", "--group", "Leads", "--token-stdin"],
            TOKEN,
            "--group only applies to --shared",
        ),
        (["add", "--connector", "North", "--shared", "--group", "Ghosts", "--token-stdin"], TOKEN, "No group named 'Ghosts'"),
    ],
)
def test_bad_input_gives_clear_errors(connectors: None, args: list[str], stdin: str, message: str) -> None:
    with pytest.raises(CommandError) as info:
        call_command("credential", *args, stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(stdin))
    assert message in str(info.value)
    assert TOKEN not in str(info.value)
    assert not Credential.objects.exists()


def test_empty_list(connectors: None) -> None:
    assert json.loads(run("list", "--json")) == []
    assert "No credentials" in run("list")


def test_no_sync_adds_the_credential_without_queueing_a_run(connectors: None, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        out = run("add", "--connector", "North", "--user", "alice", "--token-stdin", "--no-sync", stdin=TOKEN)
    assert "no sync queued (--no-sync); run: manage.py sync --wait" in out and TOKEN not in out
    credential = Credential.objects.get(owner__username="alice")
    assert credential.get_secret() == {"token": TOKEN}
    assert not SyncRun.objects.exists() and callbacks == []

    # The default still queues the first sync (on commit, for the workers).
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        out = run("add", "--connector", "North", "--user", "alice", "--token-stdin", stdin="cli-token-Second99999")
    (queued,) = SyncRun.objects.filter(credential=credential)
    assert queued.status == "queued" and f"sync queued (run {queued.pk})" in out and len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_real_cli_reads_the_token_from_a_pipe(cli_site: CliSite) -> None:
    """The commands as an operator runs them: separate processes, the token piped in; the first
    sync goes to this test's own filesystem broker folder, where no worker listens."""
    assert cli_site.manage("connector", "add", "--vendor", "north", "--name", "North", "--base-url", "http://127.0.0.1:9").returncode == 0
    cli_site.create_user("alice")
    cli_site.create_user("bob")
    add = ("credential", "add", "--connector", "North", "--token-stdin")
    queued_messages = cli_site.var_dir / "broker" / "out"

    added = cli_site.manage(*add, "--user", "alice", stdin=TOKEN + "\n")
    assert added.returncode == 0, added.stderr
    assert TOKEN not in added.stdout + added.stderr and "sync queued" in added.stdout
    listed = cli_site.manage("credential", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["owner"] for r in json.loads(listed.stdout)] == ["alice"] and TOKEN not in listed.stdout
    failed = cli_site.manage(*add, "--user", "alice", stdin="")
    assert failed.returncode == 1 and "stdin was empty" in failed.stderr
    (stored,) = cli_site.rows(Credential, "secret_encrypted")
    assert Credential(secret_encrypted=stored[0]).get_secret() == {"token": TOKEN}
    assert len(list(queued_messages.glob("*.msg"))) == 1  # alice's first sync was queued

    quiet = cli_site.manage(*add, "--user", "bob", "--no-sync", stdin="cli-token-Bob000000000")
    assert quiet.returncode == 0 and "no sync queued (--no-sync)" in quiet.stdout, quiet.stderr
    owners = dict(cli_site.rows(Credential, "id", "owner"))
    assert len(owners) == 2
    assert [credential for (credential,) in cli_site.rows(SyncRun, "credential")] == [min(owners)]  # none for bob
    assert len(list(queued_messages.glob("*.msg"))) == 1
