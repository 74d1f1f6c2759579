"""The filters of the portal-wide audit trail."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from ..models import Event


class ActivityFilterForm(forms.Form):
    agent = forms.CharField(required=False, help_text="Part of the agent's name.")
    actor = forms.CharField(required=False, label="Who", help_text="A username.")
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *Event.Action.choices])
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def apply(self, events: QuerySet[Event]) -> QuerySet[Event]:
        """The events that match the valid filters (an invalid one is shown, not applied)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("agent"):
            events = events.filter(agent__name__icontains=data["agent"])
        if data.get("actor"):
            events = events.filter(actor_name__iexact=data["actor"])
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("since"):
            events = events.filter(created_at__date__gte=data["since"])
        if data.get("until"):
            events = events.filter(created_at__date__lte=data["until"])
        return events
