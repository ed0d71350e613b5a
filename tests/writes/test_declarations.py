"""The write operations connectors declare (issue #19): the one form builder makes exactly the
declared fields and choices, and a declared precondition blocks a token that lacks it, with a
clear reason: against the vendors' sandboxes over real HTTP, as the other write tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django import forms

from connectors import registry
from connectors.base import AccountInfo, FieldType, Precondition, WriteOperation
from connectors.http import RetryPolicy, make_client
from connectors.sandbox_kit import RunningServer, Sandbox
from dashboard.okrs.models import KeyResult, Team
from dashboard.writeback.forms import ActionForm, declared, form_class
from tests.factories import UserFactory
from tests.writes.conftest import client_for

FAST_RETRY = RetryPolicy(max_attempts=2, base_delay=0.01, budget_seconds=2)
FIELD_CLASSES = {
    FieldType.TEXT: forms.CharField,
    FieldType.LONG_TEXT: forms.CharField,
    FieldType.INTEGER: forms.IntegerField,
    FieldType.NUMBER: forms.FloatField,
    FieldType.DATE: forms.DateField,
    FieldType.CHOICE: forms.ChoiceField,
    FieldType.HIDDEN: forms.CharField,
}
OPERATIONS = [
    (vendor, op) for vendor, cls in registry.all().items() if vendor in dict(registry.VENDOR_CHOICES) for op in cls.write_operations
]


def _check_of(vendor: str, server: RunningServer, secret: dict[str, str]) -> AccountInfo:
    connector = registry.get(vendor)(make_client(server.url), secret, options={"retry_policy": FAST_RETRY})
    return connector.check()


def test_every_vendor_that_writes_declares_its_operations_once() -> None:
    names = [op.name for _vendor, op in OPERATIONS]
    assert len(names) == len(set(names)), "an operation name is the audit log's: one connector each"
    assert {vendor for vendor, _op in OPERATIONS} == {"north", "ogsm", "operately"}
    for _vendor, op in OPERATIONS:
        assert op.item_kinds and op.label
        assert Precondition.CAN_WRITE in op.preconditions
        assert (Precondition.SCOPE in op.preconditions) == bool(op.scope)


@pytest.mark.parametrize(("vendor", "operation"), OPERATIONS, ids=lambda v: v.name if isinstance(v, WriteOperation) else v)
def test_the_form_builder_makes_the_declared_fields_and_choices(vendor: str, operation: WriteOperation) -> None:
    form = form_class(operation)()
    assert list(form.fields) == [f.name for f in operation.fields]
    for declared_field in operation.fields:
        field = form.fields[declared_field.name]
        assert isinstance(field, FIELD_CLASSES[declared_field.type])
        assert field.required == declared_field.required
        assert field.label == declared_field.label
        if declared_field.type == FieldType.CHOICE:
            assert isinstance(field, forms.ChoiceField)
            assert list(field.choices) == list(declared_field.choices)
        if declared_field.type == FieldType.HIDDEN:
            assert isinstance(field.widget, forms.HiddenInput)
        if declared_field.type == FieldType.INTEGER:
            assert isinstance(field, forms.IntegerField)
            assert (field.min_value, field.max_value) == (declared_field.min_value, declared_field.max_value)


def test_a_choice_the_vendor_has_of_its_own_stays_a_choice_beside_the_declared_ones() -> None:
    operation = declared("update_action")
    form = ActionForm(current_status="blocked", current_light="yellow")
    status = form.fields["status"]
    light = form.fields["traffic_light"]
    assert isinstance(status, forms.ChoiceField) and isinstance(light, forms.ChoiceField)
    assert list(status.choices) == [*operation.field("status").choices, ("blocked", "blocked (custom)")]
    assert list(light.choices) == [*operation.field("traffic_light").choices, ("yellow", "Yellow (as set in OGSM)")]
    assert not form_class(operation)(data={"title": "x", "status": "blocked"}).is_valid()  # only for the item that has it


def test_a_read_only_operately_token_is_blocked_by_the_declared_precondition(
    sandbox_factory: Callable[..., tuple[Sandbox, RunningServer]],
) -> None:
    sandbox, server = sandbox_factory("operately", seed=1, size="small")
    full = _check_of("operately", server, dict(sandbox.credentials[0].secret))
    read_only = _check_of("operately", server, dict(sandbox.credentials[1].secret))
    for name in ("goal_check_in", "project_check_in", "update_target_value", "update_task_status"):
        assert declared(name).blocked_by(full) == ""
        assert declared(name).blocked_by(read_only) == "read-only token: writes need a full-access token"


def test_a_north_token_without_the_declared_scope_is_blocked(sandbox_factory: Callable[..., tuple[Sandbox, RunningServer]]) -> None:
    sandbox, server = sandbox_factory("north", seed=1, size="small")
    full = _check_of("north", server, dict(sandbox.credentials[0].secret))
    limited = _check_of("north", server, dict(sandbox.credentials[2].secret))
    for name in ("update_membership", "remove_membership"):
        operation = declared(name)
        assert operation.scope == "Org management"
        assert operation.blocked_by(full) == ""
        assert operation.blocked_by(limited) == "Membership changes need a token with the Org management scope."
    # the scope alone blocks too, for a token the vendor still calls writable
    scoped = AccountInfo(account_name="x", missing_scopes=["Org management"])
    assert declared("update_membership").blocked_by(scoped) == "the token lacks the “Org management” scope change a membership needs"


def test_the_page_draws_the_declared_fields_disabled_for_a_read_only_token(connect) -> None:
    op = connect("operately")
    kr = KeyResult.objects.filter(vendor="operately").first()
    assert kr is not None
    ada = UserFactory(username="ada-declared")
    op.add_credential(ada, 1, check=True)
    page = client_for(ada).get(f"/key-results/{kr.pk}/value/").content.decode()
    assert "Changes are disabled." in page and "read-only token" in page
    label = declared("update_target_value").field("value").label
    assert f">{label}</label>" in page and 'name="value"' in page and "disabled" in page


def test_the_members_page_asks_for_the_declared_scope(connect) -> None:
    north = connect("north")
    team = Team.objects.get(vendor="north", name="Engineering")
    page = north.client.get(f"/teams/{team.pk}/members/").content.decode()
    assert 'name="type"' in page
    for value, label in declared("update_membership").field("type").choices:
        assert f'value="{value}"' in page and label in page
