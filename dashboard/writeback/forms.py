"""Forms of the write-back pages (issue #10), built from the connectors' declared write
operations (issue #19) by ``form_class``. Our own checks run first; the vendor's field errors
are added to the same forms by ``add_vendor_errors``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from django import forms

from connectors import registry
from connectors.base import FieldType, WriteField, WriteOperation

# Vendor field names that mean one of our form fields.
VENDOR_FIELD_ALIASES = {"due": "due_date", "content": "message", "description": "message", "new_target_values": "targets"}


def declared(name: str) -> WriteOperation:
    """The write operation called ``name`` as a registered connector declares it."""
    for connector in registry.all().values():
        operations: Sequence[WriteOperation] = getattr(connector, "write_operations", ())
        for operation in operations:
            if operation.name == name:
                return operation
    raise KeyError(f"No connector declares the write operation {name!r}")


def vendors_offering(name: str) -> list[str]:
    """The vendors whose connector declares the write operation ``name`` (what a page may offer)."""
    return [
        vendor for vendor, connector in registry.all().items() if any(op.name == name for op in getattr(connector, "write_operations", ()))
    ]


@lru_cache(maxsize=256)
def offers(vendor: str, kind: str, name: str) -> bool:
    """Whether ``vendor`` declares the write operation ``name`` on items of ``kind`` (the entry
    links on rows ask this once per row, hence the cache: declarations are class constants)."""
    try:
        operations = getattr(registry.get(vendor), "write_operations", ())
    except KeyError:
        return False
    return any(op.name == name and kind in op.item_kinds for op in operations)


def form_field(declared_field: WriteField) -> forms.Field:
    """One declared field as a Django form field (our own checks run before the vendor's)."""
    f = declared_field
    common: dict[str, Any] = {"required": f.required, "label": f.label, "help_text": f.help_text}
    if f.type == FieldType.LONG_TEXT:
        return forms.CharField(max_length=f.max_length, widget=forms.Textarea(attrs={"rows": 4}), **common)
    if f.type == FieldType.INTEGER:
        low, high = (None if v is None else int(v) for v in (f.min_value, f.max_value))
        return forms.IntegerField(min_value=low, max_value=high, **common)
    if f.type == FieldType.NUMBER:
        return forms.FloatField(min_value=f.min_value, max_value=f.max_value, **common)
    if f.type == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if f.type == FieldType.CHOICE:
        widget = forms.RadioSelect if f.widget == "radio" else None
        return forms.ChoiceField(choices=list(f.choices), widget=widget, **common)
    if f.type == FieldType.HIDDEN:
        return forms.CharField(widget=forms.HiddenInput, **common)
    return forms.CharField(max_length=f.max_length, **common)


def form_class(operation: WriteOperation, base: type[forms.Form] = forms.Form) -> type[forms.Form]:
    """The one form builder: a form class with the operation's declared fields, in order."""
    fields: dict[str, Any] = {f.name: form_field(f) for f in operation.fields}
    fields["field_order"] = [f.name for f in operation.fields]
    name = "".join(part.title() for part in operation.name.split("_")) + "Form"
    return type(name, (base,), fields)


def _with_current(choices: Sequence[tuple[str, str]], current: str, label: str) -> list[tuple[str, str]]:
    """Declared choices, plus the item's current value when the vendor has one of its own."""
    found = list(choices)
    if current and current not in dict(found):
        found.append((current, label))
    return found


class ActionForm(form_class(declared("update_action"))):  # type: ignore[misc]
    def __init__(self, *args: Any, current_status: str = "", current_light: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        operation = declared("update_action")
        status = cast(forms.ChoiceField, self.fields["status"])
        status.choices = _with_current(operation.field("status").choices, current_status, f"{current_status} (custom)")  # a tenant's own
        light = cast(forms.ChoiceField, self.fields["traffic_light"])
        vendor = self.vendor_name(operation)
        light.choices = _with_current(
            operation.field("traffic_light").choices, current_light, f"{current_light.title()} (as set in {vendor})"
        )  # e.g. "yellow", "amber"

    @staticmethod
    def vendor_name(operation: WriteOperation) -> str:
        return next(c.display_name for c in registry.all().values() if operation in getattr(c, "write_operations", ()))


class ActionCreateForm(form_class(declared("create_action"), base=ActionForm)):  # type: ignore[misc]
    def __init__(self, *args: Any, canvases: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["canvas"]).choices = list(canvases)


class GoalCheckInForm(form_class(declared("goal_check_in"))):  # type: ignore[misc]
    def __init__(self, *args: Any, targets: Sequence[Mapping[str, Any]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.target_fields: list[tuple[str, Mapping[str, Any]]] = []
        for target in targets:
            name = f"target_{target['id']}"
            label = f"{target.get('name') or 'Target'} ({target.get('from', '')} → {target.get('to', '')} {target.get('unit') or ''})"
            self.fields[name] = forms.FloatField(required=False, label=label.strip())
            self.target_fields.append((name, target))

    def new_target_values(self) -> dict[str, float]:
        """Only the targets whose value the user changed."""
        values: dict[str, float] = {}
        for name, target in self.target_fields:
            value = self.cleaned_data.get(name)
            if value is not None and value != target.get("value"):
                values[str(target["id"])] = float(value)
        return values


ProjectCheckInForm = form_class(declared("project_check_in"))
TargetValueForm = form_class(declared("update_target_value"))


class TaskStatusForm(form_class(declared("update_task_status"))):  # type: ignore[misc]
    def __init__(self, *args: Any, choices: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = list(choices)


MembershipForm = form_class(declared("update_membership"))


def add_vendor_errors(form: forms.Form, field_errors: Mapping[str, Sequence[str]]) -> None:
    """Put each vendor message next to its field; messages for fields the form lacks go on top."""
    for key, messages in field_errors.items():
        name = VENDOR_FIELD_ALIASES.get(key, key)
        for message in messages:
            text = message if name in form.fields else f"{key}: {message}"
            form.add_error(name if name in form.fields else None, text)


def disable_all(form: forms.Form) -> None:
    for bound in form.fields.values():
        bound.disabled = True
