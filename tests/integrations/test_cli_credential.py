"""manage.py credential add / list [--json]: secrets from stdin only, never printed."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection

from dashboard.integrations.models import Credential, SyncRun
from tests.factories import ConnectorFactory, UserFactory

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


@pytest.mark.django_db(transaction=True)
def test_real_cli_reads_the_token_from_a_pipe(tmp_path: Path) -> None:
    """The commands as an operator runs them: a separate process, the token piped in."""
    ConnectorFactory(vendor="north", name="North")
    UserFactory(username="alice")
    root = Path(__file__).resolve().parents[2]
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "OKRHUB_IGNORE_DOTENV": "1",
        # The queued first sync goes to a throw-away broker folder, not to a running worker.
        "OKRHUB_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "",
    }
    manage = [sys.executable, str(root / "manage.py")]
    added = subprocess.run(
        [*manage, "credential", "add", "--connector", "North", "--user", "alice", "--token-stdin"],
        input=TOKEN + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=60,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    assert TOKEN not in added.stdout + added.stderr
    listed = subprocess.run(
        [*manage, "credential", "list", "--json"], capture_output=True, text=True, env=env, cwd=root, timeout=60, check=False
    )
    assert listed.returncode == 0, listed.stderr
    assert [r["owner"] for r in json.loads(listed.stdout)] == ["alice"] and TOKEN not in listed.stdout
    failed = subprocess.run(
        [*manage, "credential", "add", "--connector", "North", "--user", "alice", "--token-stdin"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=60,
        check=False,
    )
    assert failed.returncode == 1 and "stdin was empty" in failed.stderr
    assert Credential.objects.get().get_secret() == {"token": TOKEN}
    assert len(list((tmp_path / "broker" / "out").glob("*.msg"))) == 1  # the first sync was queued
