from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms

from dashboard.digest.models import DigestSubscription, time_zone_names

HOURS = [(h, f"{h:02d}:00") for h in range(24)]


# ModelForm is generic only in django-stubs (no runtime __class_getitem__ without django_stubs_ext).
if TYPE_CHECKING:
    _SubscriptionFormBase = forms.ModelForm[DigestSubscription]
else:
    _SubscriptionFormBase = forms.ModelForm


class SubscriptionForm(_SubscriptionFormBase):
    enabled = forms.BooleanField(required=False, label="Send me the weekly digest")
    hour = forms.TypedChoiceField(choices=HOURS, coerce=int, label="Hour")
    timezone = forms.ChoiceField(label="Time zone", help_text="The day and hour are in this time zone.")

    class Meta:
        model = DigestSubscription
        fields = ["enabled", "weekday", "hour", "timezone"]
        labels = {"weekday": "Day"}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["timezone"].choices = [(name, name.replace("_", " ")) for name in time_zone_names()]  # type: ignore[attr-defined]
