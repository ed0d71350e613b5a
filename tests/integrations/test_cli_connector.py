"""manage.py connector add / list [--json] / remove."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from dashboard.integrations.models import Connector
from tests.factories import ConnectorFactory, CredentialFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("connector", *args, stdout=out)
    return out.getvalue()


def test_add_list_json_remove() -> None:
    out = run("add", "--vendor", "north", "--name", "North", "--base-url", "http://127.0.0.1:8001/", "--interval", "15")
    assert "Added connector 'North' (north, http://127.0.0.1:8001, every 15 min)" in out
    run("add", "--vendor", "ogsm", "--name", "OGSM", "--base-url", "http://localhost:8003")
    CredentialFactory(connector=Connector.objects.get(name="OGSM"))

    rows = json.loads(run("list", "--json"))
    assert [(r["name"], r["vendor"], r["base_url"], r["interval_minutes"], r["credentials"]) for r in rows] == [
        ("North", "north", "http://127.0.0.1:8001", 15, 0),
        ("OGSM", "ogsm", "http://localhost:8003", 60, 1),
    ]
    table = run("list")
    assert "North" in table and "ogsm" in table and "enabled" in table

    assert "Removed connector 'OGSM' with 1 credential(s)" in run("remove", "OGSM")
    assert [r["name"] for r in json.loads(run("list", "--json"))] == ["North"]


def test_empty_list() -> None:
    assert json.loads(run("list", "--json")) == []
    assert "No connectors" in run("list")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "--vendor", "jira", "--name", "X", "--base-url", "https://x.example"], "invalid choice: 'jira'"),
        (["add", "--vendor", "north", "--name", "X"], "the following arguments are required: --base-url"),
        (["add", "--vendor", "north", "--name", "X", "--base-url", "http://okrs.example.com"], "must use https://"),
        (["add", "--vendor", "north", "--name", "X", "--base-url", "https://u:p@okrs.example.com"], "user name or password"),
        (["add", "--vendor", "north", "--name", "X", "--base-url", "https://10.0.0.1"], "private address"),
        (["add", "--vendor", "north", "--name", "X", "--base-url", "https://localhost"], "loopback"),
        (["add", "--vendor", "north", "--name", "X", "--base-url", "https://93.184.216.34", "--interval", "abc"], "whole minutes"),
        (["add", "--vendor", "north", "--name", "X", "--base-url", "https://93.184.216.34", "--interval", "0"], "between 5 and"),
        (["add", "--vendor", "north", "--name", "  ", "--base-url", "https://93.184.216.34"], "--name must not be empty"),
        (["remove", "Nope"], "No connector named 'Nope'"),
        ([], "{add,list,remove}"),
    ],
)
def test_bad_input_gives_clear_errors(args: list[str], message: str) -> None:
    with override_settings(CONNECTOR_ALLOWED_HOSTS=[]), pytest.raises(CommandError) as info:
        call_command("connector", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert message in str(info.value)
    assert not Connector.objects.filter(name="X").exists()


def test_duplicate_name_is_refused() -> None:
    ConnectorFactory(name="North")
    with pytest.raises(CommandError, match="already exists"):
        run("add", "--vendor", "north", "--name", "North", "--base-url", "http://127.0.0.1:9")
