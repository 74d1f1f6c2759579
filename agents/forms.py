"""Forms for editing an agent: its frontmatter, and its ordered rows (tools, sections, steps).

Every check of what an agent's file would say goes through ``agentfile.validate`` (strict, since
these are values people type). The agent form checks every key but ``tools``; the tool rows live
in an inline formset, so the tool formset checks ``tools`` with the frontmatter the agent is about
to have. Each error is shown once, next to what has to change.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import construct_instance
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from . import agentfile, filebridge, workflow
from .filebridge import FIELD_FOR_KEY
from .models import Agent, AgentTool, Tool
from .workflow import StaleEdit, WorkflowError

# The <datalist> the tool picker's inputs share; the inline's template renders it once.
TOOL_OPTIONS_ID = "agent-tool-options"

# Frontmatter key -> the form field that edits it.
FORM_FIELD_FOR_KEY = {key: field for key, (field, _) in FIELD_FOR_KEY.items()} | {
    "disallowedTools": "disallowed_tools"
}

# Fields whose value must be one of a few words: offered as a select.
ALLOWED_VALUES = {
    "color": agentfile.COLORS,
    "permission_mode": agentfile.PERMISSION_MODES,
    "memory": agentfile.MEMORY_SCOPES,
    "effort": agentfile.EFFORTS,
    "isolation": agentfile.ISOLATIONS,
}


class DatalistInput(forms.TextInput):
    """A text input that suggests values (a <datalist>) and still accepts any text."""

    def __init__(self, options: Iterable[str], attrs: dict[str, Any] | None = None):
        super().__init__(attrs)
        self.options = list(options)

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer=None):
        list_id = f"{(attrs or {}).get('id') or name}_options"
        html = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        options = format_html_join("", '<option value="{}"></option>', ((o,) for o in self.options))
        return html + format_html('<datalist id="{}">{}</datalist>', list_id, options)


class FileTextField(forms.CharField):
    """Text written into the file as typed: not stripped, and with LF line endings (browsers
    send a textarea's lines with CRLF, and a file with CRLF does not load)."""

    def __init__(self, *, strip: bool = False, **kwargs: Any):
        super().__init__(strip=strip, **kwargs)

    def to_python(self, value: Any) -> str:
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


class ToolListField(forms.CharField):
    """A list of tool names edited as the file writes it: ``Read, Grep, Agent(a, b)``."""

    def prepare_value(self, value: Any) -> Any:
        return agentfile.join_tools(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        return agentfile.split_tools(super().to_python(value))


class AgentAdminForm(forms.ModelForm):
    """An agent's frontmatter, checked as the file it would write.

    Saving an existing agent also checks that nobody saved it since the page was opened
    (``base_revision``), and holds the agent's row until the save commits.
    """

    disallowed_tools = ToolListField(
        required=False,
        help_text="Tools this agent may never use, comma-separated: Bash, WebFetch.",
    )
    change_note = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"class": "vLargeTextField"}),
        help_text="What you changed, and why: kept with the new revision.",
    )
    base_revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    class Meta:
        model = Agent
        # Not key_order and yaml_sources: kept from an imported file so that it is written back
        # as it was, they are nothing for a person to edit.
        fields = [
            "name",
            "description",
            "model",
            "color",
            "owner",
            "maintainers",
            "disallowed_tools",
            "permission_mode",
            "max_turns",
            "memory",
            "background",
            "effort",
            "isolation",
            "initial_prompt",
            "skills",
            "mcp_servers",
            "hooks",
            "extra_frontmatter",
        ]
        field_classes = {"description": FileTextField, "initial_prompt": FileTextField}
        widgets = {
            "model": DatalistInput(agentfile.MODEL_ALIASES),
            "description": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
            "initial_prompt": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.file_warnings: list[str] = []
        for name in ("name", "description"):
            if name in self.fields:
                # validate() says what a missing name or description means for the file.
                self.fields[name].required = False
        for name, allowed in ALLOWED_VALUES.items():
            if name in self.fields:
                self.fields[name].widget = forms.Select(choices=self._choices(name, allowed))
        if self.instance.pk is not None:
            # The revision this page shows; saving checks that it is still the latest.
            self.initial.setdefault("base_revision", self._latest_number())

    def _latest_number(self) -> int:
        numbers = self.instance.revisions.order_by("-number").values_list("number", flat=True)
        return numbers.first() or 0

    def _choices(self, name: str, allowed: Sequence[str]) -> list[tuple[str, str]]:
        choices = [("", "---------"), *((value, value) for value in allowed)]
        current = self[name].value()
        if current and current not in allowed:
            # Shown rather than silently replaced by the first option; validate() flags it.
            choices.append((current, f"{current} (not allowed: pick another)"))
        return choices

    def clean_name(self) -> str:
        name = self.cleaned_data.get("name") or ""
        clash = self.instance.published_name_clash(name) if name else ""
        if clash:
            raise ValidationError(clash)
        return name

    def clean_extra_frontmatter(self) -> Any:
        value = self.cleaned_data.get("extra_frontmatter")
        if value is not None and not isinstance(value, dict):
            raise ValidationError(
                "Write the other keys as a YAML mapping: one 'key: value' a line."
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        # The agent as it would be saved, on a copy: the instance itself is the admin's.
        agent = construct_instance(
            self, copy.copy(self.instance), self._meta.fields, self._meta.exclude
        )
        errors, warnings = agentfile.validate(
            filebridge.frontmatter(agent, tools=[]), Tool.registry(), strict=True
        )
        self.file_warnings = [w.message for w in warnings]
        for error in errors:
            if error.field == "tools":
                continue  # the tool inline shows its own errors
            field = self._field_for(error.field, agent)
            if field not in self.errors:
                self.add_error(field, error.message)
        if self.instance.pk is not None:
            self._lock_for_edit(cleaned_data.get("base_revision"))
        return cleaned_data

    def _lock_for_edit(self, base_revision: int | None) -> None:
        """Refuse the save if the agent may not be edited now or changed since the page was
        opened; otherwise hold its row (the admin saves in this same transaction)."""
        agent = self.instance
        if base_revision is None:
            raise ValidationError("Reload the page: it did not say which revision you edited.")
        try:
            workflow.check_editable(agent)  # as loaded: says so before waiting for the lock
            workflow.lock_for_edit(agent, base_revision)  # checks it again once the row is held
        except StaleEdit as conflict:
            # Shown once: saving this form again replaces their version with this one.
            self.data = self.data.copy()
            self.data[self.add_prefix("base_revision")] = str(self._latest_number())
            raise ValidationError(
                format_html(
                    '{}<pre class="agent-diff">{}</pre>Save again to replace their version '
                    "with yours.",
                    str(conflict),
                    conflict.diff,
                )
            ) from conflict
        except WorkflowError as refusal:
            raise ValidationError(str(refusal)) from refusal

    def _field_for(self, key: str | None, agent: Agent) -> str | None:
        """The form field showing an error about frontmatter ``key`` (None: the whole form)."""
        field = FORM_FIELD_FOR_KEY.get(key or "")
        extras = agent.extra_frontmatter or {}
        if key in extras and (field is None or agentfile.is_empty(getattr(agent, field))):
            return "extra_frontmatter" if "extra_frontmatter" in self.fields else None
        return field if field in self.fields else None


class PositionedForm(forms.ModelForm):
    """A row kept in order by its ``position``.

    ``position`` is a form field only (the model field is excluded): the number typed is where
    the row should go, not the value stored. The formset saves the rows renumbered 1..n, so the
    unique (agent, position) constraint is neither checked against the numbers typed nor hit
    while rows move.
    """

    position = forms.FloatField(
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "style": "width: 5em"}),
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


class ReviewCommentForm(forms.Form):
    """What a reviewer writes to an author when sending agents back (or, optionally, approving)."""

    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"}),
        help_text="Sent to the author. Required to request changes.",
    )


class RequestChangesForm(ReviewCommentForm):
    """The comment for sending many agents back at once: asked for before any of them moves."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["comment"].required = True
        self.fields["comment"].error_messages["required"] = (
            "Say what has to change: a comment is required to request changes."
        )
