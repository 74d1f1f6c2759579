"""Creating an access token: its name, what it may do, how long it lasts."""

from __future__ import annotations

from django import forms

from .. import tokens
from ..models import AccessToken


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=AccessToken._meta.get_field("name").max_length,
        help_text="Where you will use it, e.g. laptop or CI: to recognise it later.",
    )
    scope = forms.ChoiceField(
        label="Access",
        choices=AccessToken.Scope.choices,
        initial=AccessToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text="Downloads and Claude Code only ever need read access.",
    )
    days = forms.TypedChoiceField(
        label="Expires after",
        coerce=int,
        choices=[(days, f"{days} days") for days in tokens.EXPIRY_DAYS],
        initial=90,
    )
