"""The filters of the portal-wide audit trail."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

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
        # Days as ranges of time (from the day's first moment, up to the next day's, in the
        # portal's time zone): the index on the time serves them, where a cast of each event's
        # time to a date would read every event.
        if data.get("since"):
            events = events.filter(created_at__gte=start_of(data["since"]))
        if data.get("until"):
            events = events.filter(created_at__lt=start_of(data["until"] + timedelta(days=1)))
        return events


def start_of(day: date) -> datetime:
    """The first moment of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))
