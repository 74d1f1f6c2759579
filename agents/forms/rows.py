"""An agent's ordered rows (tools, sections, steps) as inline formsets: added, removed and moved,
saved renumbered 1..n."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.forms.formsets import DELETION_FIELD_NAME
from django.utils.functional import cached_property

from .. import agentfile, filebridge
from ..models import AgentTool, Tool
from .agent import FileTextField

# The <datalist> the tool picker's inputs share; the inline's template renders it once.
TOOL_OPTIONS_ID = "agent-tool-options"


class PositionedForm(forms.ModelForm):
    """A row kept in order by its ``position``.

    ``position`` is a form field only (the model field is excluded): the number typed is where
    the row should go, not the value stored. The formset saves the rows renumbered 1..n, so the
    unique (agent, position) constraint is neither checked against the numbers typed nor hit
    while rows move.
    """

    position = forms.FloatField(
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "class": "position-input"}),
        help_text="Rows are saved in this order and numbered 1, 2, 3...; 1.5 goes between 1 "
        "and 2, a blank goes last.",
    )

    class Meta:
        # Leaves the model field out of construction and model validation; the admin's own
        # ``fields`` list still shows the form field of that name.
        exclude = ["position"]  # noqa: DJ006
        field_classes = {"markdown": FileTextField, "title": FileTextField, "text": FileTextField}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial.setdefault("position", self.instance.position)


class PositionedInlineFormSet(forms.BaseInlineFormSet):
    """Rows of an agent (tools, sections, steps) that can be added, removed and moved."""

    file_warnings: Sequence[str] = ()

    def clean(self) -> None:
        super().clean()
        for form in self.initial_forms:
            if form.instance.pk is None:
                # The row id posted is not one of this agent's rows: another agent's, or a row
                # deleted since the page was loaded. Saving it would create a row instead.
                raise ValidationError(
                    "A row on this page is not one of this agent's rows (it was deleted, or the "
                    "form was altered). Reload the page; nothing was saved."
                )
        shown = {form.instance.pk for form in self.initial_forms}
        if self.instance.pk is not None and any(row.pk not in shown for row in self.get_queryset()):
            # Someone added a row since the page was loaded: this page cannot say where its
            # own rows go among it (and saving them would collide with its position).
            raise ValidationError(
                "Someone added a row here since you opened the page. Reload the page to see it; "
                "nothing was saved."
            )

    def kept_forms(self) -> list[forms.ModelForm]:
        """The valid rows to save, in the order asked for (ties keep the order on the page)."""
        kept = [
            (index, form)
            for index, form in enumerate(self.forms)
            if not form.errors
            and not form.cleaned_data.get(DELETION_FIELD_NAME)
            and (form.instance.pk is not None or form.has_changed())
        ]

        def wanted(item: tuple[int, forms.ModelForm]) -> tuple[float, int]:
            index, form = item
            position = form.cleaned_data.get("position")
            return (math.inf if position is None else position, index)

        return [form for _, form in sorted(kept, key=wanted)]

    def validate_unique(self) -> None:
        # The one unique constraint of these rows is (agent, position), and save() renumbers.
        pass

    @transaction.atomic
    def save(self, commit: bool = True) -> list[models.Model]:
        """Delete the removed rows, then write the kept ones numbered 1..n.

        Rows that move are first parked past every number in use, in one UPDATE, so no moment
        of the save holds two rows at one position.
        """
        if not commit:
            raise ValueError("rows are renumbered as they are saved: call save(commit=True)")
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        for form in self.initial_forms:
            if form.cleaned_data.get(DELETION_FIELD_NAME) and form.instance.pk is not None:
                self.delete_existing(form.instance)
                self.deleted_objects.append(form.instance)
        kept = self.kept_forms()
        moving = {
            form.instance.pk
            for position, form in enumerate(kept, 1)
            if form.instance.pk is not None and form.instance.position != position
        }
        if moving:
            in_use = max((row.position for row in self.get_queryset()), default=0)
            self.model._default_manager.filter(pk__in=moving).update(
                position=F("position") + max(in_use, len(kept))
            )
        saved = []
        for position, form in enumerate(kept, 1):
            form.instance.position = position
            if form.instance.pk is None:
                self.new_objects.append(self.save_new(form))
                saved.append(form.instance)
            elif form.has_changed() or form.instance.pk in moving:
                changed = form.changed_data or ["position"]
                self.changed_objects.append((self.save_existing(form, form.instance), changed))
                saved.append(form.instance)
        return saved


class AgentToolForm(PositionedForm):
    class Meta(PositionedForm.Meta):
        widgets = {
            "name": forms.TextInput(
                attrs={"list": TOOL_OPTIONS_ID, "autocomplete": "off", "size": 40}
            ),
        }


class AgentToolFormSet(PositionedInlineFormSet):
    """The agent's ``tools`` line: checked by validate() with the frontmatter about to be saved."""

    tool_options_id = TOOL_OPTIONS_ID

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        names = [form.cleaned_data["name"] for form in self.kept_forms()]
        # self.instance holds the agent form's values by now (the admin validates it first).
        errors, warnings = agentfile.validate(
            filebridge.frontmatter(self.instance, tools=names), Tool.registry(), strict=True
        )
        self.file_warnings = [w.message for w in warnings if w.field == "tools"]
        tool_errors = [error.message for error in errors if error.field == "tools"]
        if tool_errors:
            raise ValidationError(tool_errors)

    @cached_property
    def tool_options(self) -> list[tuple[str, str]]:
        """What the tool picker suggests: current tools, legacy names, then MCP tools in use."""
        registry = Tool.registry()
        current = [(name, "") for name, replaced_by in registry.items() if not replaced_by]
        legacy = [
            (name, f"legacy: use {replaced_by}")
            for name, replaced_by in registry.items()
            if replaced_by
        ]
        mcp = (
            AgentTool.objects.filter(name__startswith="mcp__")
            .order_by("name")
            .values_list("name", flat=True)
            .distinct()
        )
        return current + legacy + [(name, "MCP tool") for name in mcp]
