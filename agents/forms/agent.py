"""The form of an agent's frontmatter, checked as the file it would write (``agentfile.validate``,
strict: these are values people type), with the edit lock of ``agents.workflow``."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from .. import agentfile, filebridge, workflow
from ..distribution import files
from ..filebridge import FIELD_FOR_KEY
from ..models import Agent, Tool
from ..workflow import StaleEdit, WorkflowError

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


# The agent's fields that are written to its file, as forms edit them. Not key_order and
# yaml_sources: kept from an imported file so that it is written back as it was, they are nothing
# for a person to edit.
FILE_FIELDS = [
    "name",
    "path",
    "description",
    "model",
    "color",
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


class AgentFileForm(forms.ModelForm):
    """An agent's frontmatter fields, checked as the file they would write
    (``agentfile.validate``, strict): the one rule the admin and the portal's editor share."""

    disallowed_tools = ToolListField(
        required=False,
        help_text="Tools this agent may never use, comma-separated: Bash, WebFetch.",
    )

    class Meta:
        model = Agent
        fields = FILE_FIELDS
        field_classes = {"description": FileTextField, "initial_prompt": FileTextField}
        widgets = {
            "model": DatalistInput(agentfile.MODEL_ALIASES),
            "description": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
            "initial_prompt": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
        }
        error_messages = {
            "name": {"unique": "Another agent already has this name: choose another one."}
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.file_warnings: list[str] = []
        # The agent as the form would save it (a copy), once clean() has run: typed values even
        # where they break a rule of the file, so the editor can preview them.
        self.checked_agent: Agent | None = None
        for name in ("name", "description"):
            if name in self.fields:
                # validate() says what a missing name or description means for the file.
                self.fields[name].required = False
        for name, allowed in ALLOWED_VALUES.items():
            if name in self.fields:
                self.fields[name].widget = forms.Select(choices=self._choices(name, allowed))

    @cached_property
    def known_tools(self) -> dict[str, str | None]:
        """The tool registry (name -> its replacement), read once per form."""
        return Tool.registry()

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

    def clean_path(self) -> str:
        """Where the file goes under .claude/agents/. Left empty: a new agent gets ``<name>.md``
        (on save), an existing one keeps its path (a form that does not show the field never
        moves the file)."""
        path = (self.cleaned_data.get("path") or "").strip()
        if not path:
            return self.instance.path if self.instance.pk else ""
        refusal = files.path_refusal(path, self.instance)
        if refusal:
            raise ValidationError(refusal)
        return path

    def clean_extra_frontmatter(self) -> Any:
        value = self.cleaned_data.get("extra_frontmatter")
        if value is not None and not isinstance(value, dict):
            raise ValidationError(
                "Write the other keys as a YAML mapping: one 'key: value' a line."
            )
        if value and not all(isinstance(key, str) and key.strip() for key in value):
            raise ValidationError("Each key must be a word, such as 'version: 2'.")
        return value

    def check_file(self, tools: list[str] | None = None) -> Agent:
        """Check the agent as it would be saved, with these tools (None: the tools are checked
        elsewhere, as the admin's tool rows are), and put each error next to its field.

        Returns the agent as it would be saved: a copy, the instance itself stays as it was.
        """
        agent = construct_instance(
            self, copy.copy(self.instance), self._meta.fields, self._meta.exclude
        )
        self.checked_agent = agent
        errors, warnings = agentfile.validate(
            filebridge.frontmatter(agent, tools=tools or []), self.known_tools, strict=True
        )
        self.file_warnings = [w.message for w in warnings]
        for error in errors:
            if error.field == "tools" and tools is None:
                continue  # the tool rows show their own errors
            field = self._field_for(error.field, agent)
            if field not in self.errors:
                self.add_error(field, error.message)
        return agent

    def _field_for(self, key: str | None, agent: Agent) -> str | None:
        """The form field showing an error about frontmatter ``key`` (None: the whole form)."""
        field = FORM_FIELD_FOR_KEY.get(key or "")
        extras = agent.extra_frontmatter or {}
        if key in extras and (field is None or agentfile.is_empty(getattr(agent, field))):
            return "extra_frontmatter" if "extra_frontmatter" in self.fields else None
        return field if field in self.fields else None


class AgentAdminForm(AgentFileForm):
    """An agent's frontmatter in the admin, checked as the file it would write.

    Saving an existing agent also checks that nobody saved it since the page was opened
    (``base_revision``), and holds the agent's row until the save commits. A save refused that
    way is shown with what changed; saving again merges (``merge_base``): their changes to what
    this form left as it was are kept, the form's changes are saved over theirs.
    """

    change_note = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"class": "vLargeTextField"}),
        help_text="What you changed, and why: kept with the new revision.",
    )
    base_revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    # The revision the form's values were first loaded from, once a save was refused because
    # someone else saved meanwhile: what "saving again" merges against.
    merge_base = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    class Meta(AgentFileForm.Meta):
        fields = [*FILE_FIELDS[:5], "owner", "maintainers", *FILE_FIELDS[5:]]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # The revision this page shows; saving checks that it is still the latest.
            self.initial.setdefault("base_revision", self._latest_number())

    def _latest_number(self) -> int:
        numbers = self.instance.revisions.order_by("-number").values_list("number", flat=True)
        return numbers.first() or 0

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        self.check_file()
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
            # Shown once. Saving again merges: the values this page still holds from the
            # revision it was loaded from are not written over their changes (AgentAdmin's
            # save_related), only what this person changed is.
            self.data = self.data.copy()
            self.data[self.add_prefix("base_revision")] = str(self._latest_number())
            if self.cleaned_data.get("merge_base") is None:
                self.data[self.add_prefix("merge_base")] = str(base_revision)
            raise ValidationError(
                format_html(
                    '{}<pre class="agent-diff">{}</pre>Save again to merge: their changes to '
                    "what you did not change are kept; what you changed is saved, over theirs "
                    "where you both changed the same thing.",
                    str(conflict),
                    conflict.diff,
                )
            ) from conflict
        except WorkflowError as refusal:
            raise ValidationError(str(refusal)) from refusal
