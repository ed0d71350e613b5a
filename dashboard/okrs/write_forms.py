"""Forms of the write-back pages (issue #10). Our own checks run first; the vendor's field
errors are added to the same forms by ``add_vendor_errors``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from django import forms

from dashboard.integrations.services.writes_ops import CHECK_IN_STATUSES, MEMBERSHIP_TYPES, OGSM_STATUSES, TRAFFIC_LIGHTS

# Vendor field names that mean one of our form fields.
VENDOR_FIELD_ALIASES = {"due": "due_date", "content": "message", "description": "message", "new_target_values": "targets"}


class ActionForm(forms.Form):
    title = forms.CharField(max_length=500)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="Plain text or basic HTML.")
    progress = forms.IntegerField(required=False, min_value=0, max_value=100, help_text="0 to 100 %")
    status = forms.ChoiceField(choices=OGSM_STATUSES)
    traffic_light = forms.ChoiceField(choices=TRAFFIC_LIGHTS, required=False, label="Traffic light")
    due_date = forms.DateField(required=False, label="Due date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args: Any, current_status: str = "", current_light: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = list(OGSM_STATUSES)
        if current_status and current_status not in dict(choices):
            choices.append((current_status, f"{current_status} (custom)"))  # keep a tenant's own status
        cast(forms.ChoiceField, self.fields["status"]).choices = choices
        lights = list(TRAFFIC_LIGHTS)
        if current_light and current_light not in dict(lights):
            lights.append((current_light, f"{current_light.title()} (as set in OGSM)"))  # e.g. "yellow", "amber"
        cast(forms.ChoiceField, self.fields["traffic_light"]).choices = lights


class ActionCreateForm(ActionForm):
    canvas = forms.ChoiceField(label="Canvas")

    field_order = ["canvas", "title", "description", "progress", "status", "traffic_light", "due_date"]

    def __init__(self, *args: Any, canvases: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["canvas"]).choices = list(canvases)


class GoalCheckInForm(forms.Form):
    status = forms.ChoiceField(choices=CHECK_IN_STATUSES, widget=forms.RadioSelect)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), help_text="What happened since the last check-in.")

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


class ProjectCheckInForm(forms.Form):
    status = forms.ChoiceField(choices=CHECK_IN_STATUSES, widget=forms.RadioSelect)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))


class TargetValueForm(forms.Form):
    value = forms.FloatField(label="New value")


class TaskStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status")

    def __init__(self, *args: Any, choices: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = list(choices)


class MembershipForm(forms.Form):
    user_id = forms.CharField(widget=forms.HiddenInput)
    type = forms.ChoiceField(choices=MEMBERSHIP_TYPES, label="Membership")


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
