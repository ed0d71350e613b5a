"""Forms for connectors and credentials. Secret inputs never render a value back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.models import Group

from connectors.registry import VENDOR_CHOICES
from dashboard.core.urlsafety import URLRefused, validate_base_url
from dashboard.integrations.models import Connector
from dashboard.integrations.services.connections import credential_fields

SECRET_FIELD_NAMES = ("token", "password")  # for sensitive_post_parameters

MAX_INTERVAL_MINUTES = 7 * 24 * 60

# ModelForm is generic only in django-stubs (no runtime __class_getitem__ without django_stubs_ext).
if TYPE_CHECKING:
    _ConnectorFormBase = forms.ModelForm[Connector]
else:
    _ConnectorFormBase = forms.ModelForm


class ConnectorForm(_ConnectorFormBase):
    base_url = forms.CharField(
        label="Base URL",
        max_length=500,
        help_text="The vendor's API address, https only (e.g. https://okrs.example.com).",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    interval_minutes = forms.IntegerField(
        label="Sync interval (minutes)",
        min_value=5,
        max_value=MAX_INTERVAL_MINUTES,
        initial=60,
        help_text="How often every credential of this connector is synced.",
    )

    class Meta:
        model = Connector
        fields = ["vendor", "name", "base_url", "interval_minutes", "enabled", "allow_shared_writes"]
        labels = {"name": "Display name", "allow_shared_writes": "Allow writes through shared credentials"}
        help_texts = {
            "name": "Shown to members and used by the CLI (manage.py credential add --connector NAME).",
            "enabled": "Disabled connectors are not synced and their data is hidden until re-enabled.",
            "allow_shared_writes": "Off: changes can only be made through a member's own credential.",
        }

    def clean_base_url(self) -> str:
        try:
            return validate_base_url(self.cleaned_data["base_url"])
        except URLRefused as exc:
            raise forms.ValidationError(exc.message) from None


class SecretForm(forms.Form):
    """The vendor's credential fields: a token, or a user name and password (OGSM).

    ``PasswordInput(render_value=False)`` keeps a re-rendered form (after a validation error or a
    refused secret) from echoing what was typed.
    """

    def __init__(self, *args: Any, vendor: str, hint: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vendor = vendor
        for spec in credential_fields(vendor):
            attrs = {"autocomplete": "off", "spellcheck": "false"}
            if spec.secret:
                placeholder = f"Stored secret ends in …{hint}" if hint else ""
                if placeholder:
                    attrs["placeholder"] = placeholder
                attrs["autocomplete"] = "new-password"
                widget: forms.Widget = forms.PasswordInput(render_value=False, attrs=attrs)
            else:
                widget = forms.TextInput(attrs=attrs)
            self.fields[spec.name] = forms.CharField(
                label=spec.label,
                help_text=spec.help_text,
                max_length=4000,
                strip=spec.name != "password",  # passwords may legitimately end in spaces
                widget=widget,
            )

    def secret(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.fields if name in self.cleaned_data}


class SharingForm(forms.Form):
    label = forms.CharField(max_length=100, required=False, help_text='e.g. "OGSM service account".')
    share_with_everyone = forms.BooleanField(required=False, label="Everyone", help_text="Every signed-in user sees its data.")
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Or only members of these groups.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("share_with_everyone") and not data.get("groups"):
            raise forms.ValidationError("Choose who sees this credential's data: everyone, or at least one group.")
        return data


def vendor_label(vendor: str) -> str:
    return dict(VENDOR_CHOICES).get(vendor, vendor)
