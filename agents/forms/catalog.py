"""The catalog's search, filters and sorting: a GET form, so every result has an address."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from .. import agentfile
from ..catalog import ANY_MCP_TOOL, LINT_ERRORS, LINT_WARNINGS, OTHER_MODEL, SORTS
from ..models import Agent


class CatalogForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text='Name, description and prompt. "Quoted words" as a phrase, -word to exclude.',
    )
    state = forms.ChoiceField(
        required=False,
        choices=[("", "Any but archived"), *Agent.Status.choices],
    )
    tool = forms.ChoiceField(required=False)
    model = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any model"),
            *((alias, alias) for alias in agentfile.MODEL_ALIASES),
            (OTHER_MODEL, "A full model id"),
        ],
    )
    color = forms.ChoiceField(
        required=False,
        label="Colour",
        choices=[("", "Any colour"), *((color, color) for color in agentfile.COLORS)],
    )
    lint = forms.ChoiceField(
        required=False,
        label="Lint",
        choices=[
            ("", "Anything"),
            (LINT_WARNINGS, "Has warnings or errors"),
            (LINT_ERRORS, "Has errors"),
        ],
    )
    owner = forms.CharField(required=False, max_length=150, label="Owner")
    sort = forms.ChoiceField(required=False, label="Sort by", choices=list(SORTS.items()))

    def __init__(self, data: Any, *, registry: Mapping[str, str | None], with_states: bool) -> None:
        super().__init__(data)
        legacy = sorted(name for name, current in registry.items() if current)
        current = sorted(name for name, replacement in registry.items() if not replacement)
        self.fields["tool"].choices = [
            ("", "Any tool"),
            (ANY_MCP_TOOL, "Any MCP tool"),
            ("Built-in tools", [(name, name) for name in current]),
            (
                "Legacy names",
                [(name, f"{name} (now {registry[name]})") for name in legacy],
            ),
        ]
        if not with_states:
            # People who see no drafts see published agents only: there is no state to pick.
            del self.fields["state"]

    def filters(self) -> dict[str, str]:
        """The valid, non-empty choices (an invalid one is shown with its error, not applied)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value.strip() for name, value in cleaned.items() if value and value.strip()}
