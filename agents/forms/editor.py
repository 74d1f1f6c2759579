"""The portal's editor of an agent: its fields, the tool picker and the prompt as it reads (the
text before the steps, the steps, the text after), on one form.

The fields are checked by the same rule as the admin's (``AgentFileForm.check_file``). What the
form would save is a ``Draft``: the agent's fields, its tools and its body's parts, unsaved; the
preview renders a draft and saving writes it, so both are the same file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict

from .. import agentfile, merging
from ..agentfile import BodyPart, Step
from ..editing import Draft
from ..models import Agent, AgentTool
from .agent import AgentFileForm, FileTextField

TEXT, STEPS = "text", "steps"
STEP_TITLE, STEP_TEXT = "step_title", "step_text"
MAX_STEPS = 500
MODEL_LABELS = {
    "": "Not set (inherit)",
    "inherit": "inherit",
    "sonnet": "sonnet",
    "opus": "opus",
    "haiku": "haiku",
    "fable": "fable",
}


def layout(parts: list[BodyPart]) -> dict[str, Any]:
    """The prompt as the editor shows it: one text, or the text before the steps, the steps and
    the text after."""
    at = next((i for i, part in enumerate(parts) if part.is_steps and part.steps), None)
    if at is None:
        return {"layout": TEXT, "prompt": agentfile.join_body(parts), "steps": []}
    return {
        "layout": STEPS,
        "prompt_before": agentfile.join_body(parts[:at]),
        "prompt_after": agentfile.join_body(parts[at + 1 :]),
        "steps": list(parts[at].steps),
        "steps_tight": parts[at].tight,
    }


def initial_for(draft: Draft) -> dict[str, Any]:
    """The editor's initial values for what is not a field of the agent: tools and prompt."""
    prompt = layout(draft.parts)
    return {
        "tools": list(draft.tools),
        "tool_order": agentfile.join_tools(draft.tools),
        "layout": prompt["layout"],
        "prompt": prompt.get("prompt", ""),
        "prompt_before": prompt.get("prompt_before", ""),
        "prompt_after": prompt.get("prompt_after", ""),
        "steps_tight": prompt.get("steps_tight", False),
        "steps": prompt["steps"],
    }


# --- the tool picker -----------------------------------------------------------------------------


@dataclass
class ToolOption:
    name: str
    note: str


@dataclass
class ToolGroup:
    title: str
    options: list[ToolOption]
    server: str = ""


def tool_groups(
    agents: QuerySet[Agent], chosen: Iterable[str], registry: Mapping[str, str | None]
) -> list[ToolGroup]:
    """What the picker offers: current tools with what each does, legacy names with their
    replacement, and the MCP tools that agents the person may see use, by server.

    ``agents`` is the agents whose MCP tools may be shown (never names from drafts the person
    may not see); ``chosen`` adds the draft's own MCP tools.
    """
    current = [
        ToolOption(name, agentfile.TOOL_SUMMARIES.get(name, ""))
        for name, replaced_by in registry.items()
        if not replaced_by
    ]
    legacy = [
        ToolOption(name, f"legacy name: use {replaced_by} instead")
        for name, replaced_by in registry.items()
        if replaced_by
    ]
    in_use = set(
        AgentTool.objects.filter(name__startswith="mcp__", agent__in=agents)
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()
    )
    in_use |= {name for name in chosen if agentfile.MCP_TOOL_RE.match(name)}
    servers: dict[str, list[ToolOption]] = {}
    for name in sorted(in_use):
        server = name.removeprefix("mcp__").split("__", 1)[0]
        tool = name.removeprefix(f"mcp__{server}").removeprefix("__") or "every tool"
        servers.setdefault(server, []).append(ToolOption(name, tool))
    groups = [ToolGroup("Built-in tools", current)]
    groups += [
        ToolGroup(f"MCP server {server}", options, server=server)
        for server, options in servers.items()
    ]
    if legacy:
        groups.append(ToolGroup("Legacy names", legacy))
    return groups


def offered_names(groups: Iterable[ToolGroup]) -> set[str]:
    return {option.name for group in groups for option in group.options}


# --- the form ------------------------------------------------------------------------------------


class NamesField(forms.Field):
    """Several values posted under one name (checkboxes, repeated inputs), in page order."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        values = [value] if isinstance(value, str) else [str(item) for item in value]
        if any("\x00" in item for item in values):
            raise ValidationError("Null characters are not allowed.")
        return values


class EditorForm(AgentFileForm):
    """An agent in the portal's editor.

    ``tools`` are the ticked boxes of the picker, ``more_tools`` the names typed, ``tool_order``
    the order they were chosen in (the file keeps it). The prompt is ``prompt`` alone, or
    ``prompt_before``, the steps (``step_title``/``step_text`` pairs, in page order) and
    ``prompt_after``.
    """

    tools = NamesField(required=False)
    tool_order = forms.CharField(required=False, widget=forms.HiddenInput)
    more_tools = forms.CharField(
        required=False,
        label="Other tools",
        help_text="MCP tools written mcp__server__tool (or mcp__server for all of a server's "
        "tools) and entries such as Agent(worker, reviewer), separated by commas.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    layout = forms.ChoiceField(
        choices=[(TEXT, TEXT), (STEPS, STEPS)], required=False, widget=forms.HiddenInput
    )
    prompt = FileTextField(
        required=False,
        label="Text of the prompt",
        help_text="Markdown: the agent's whole system prompt, as written to the file.",
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "true"}),
    )
    prompt_before = FileTextField(
        required=False,
        label="Before the steps",
        help_text="Markdown written before the numbered steps: who the agent is, what it knows.",
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    prompt_after = FileTextField(
        required=False,
        label="After the steps",
        help_text="Markdown written after the numbered steps: output format, rules.",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    steps_tight = forms.BooleanField(required=False, widget=forms.HiddenInput)
    step_title = NamesField(required=False)
    step_text = NamesField(required=False)
    change_note = forms.CharField(
        required=False,
        max_length=500,
        label="Change note",
        help_text="What you changed, and why: kept with the new revision, and shown to the "
        "reviewers when you submit.",
    )
    base_revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    conflicts = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta(AgentFileForm.Meta):
        labels = {
            "max_turns": "Maximum turns",
            "permission_mode": "Permission mode",
            "disallowed_tools": "Disallowed tools",
            "initial_prompt": "Initial prompt",
            "mcp_servers": "MCP servers",
            "extra_frontmatter": "Other keys",
            "color": "Colour",
        }
        help_texts = {
            "name": "Lowercase letters, digits and hyphens, e.g. code-reviewer: Claude Code "
            "finds the agent by this name.",
            "description": "When Claude should hand work to this agent. 'Use proactively' "
            "encourages it.",
            "model": "Which Claude model runs the agent; inherit: the main conversation's.",
            "color": "The colour Claude Code shows the agent in.",
            "permission_mode": "How the agent asks before it acts.",
            "max_turns": "Stop after this many turns.",
            "memory": "Which memory the agent keeps between runs.",
            "background": "Run the agent in the background.",
            "effort": "How hard the model thinks.",
            "isolation": "worktree: run in a separate git worktree.",
            "initial_prompt": "The first message when the agent runs as the main agent.",
            "skills": "YAML list of skill names.",
            "mcp_servers": "YAML list: server names, or {name: {type, command, args}} maps.",
            "hooks": "YAML mapping: event -> list of matchers.",
            "extra_frontmatter": "Keys Claude Code does not read, kept in the file as YAML "
            "'key: value' lines.",
        }
        widgets = {
            **AgentFileForm.Meta.widgets,
            "name": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "initial_prompt": forms.Textarea(attrs={"rows": 3}),
            "max_turns": forms.NumberInput(attrs={"min": 1}),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        model = self["model"].value() or ""
        choices = list(MODEL_LABELS.items())
        if model and model not in MODEL_LABELS:
            choices.append((model, model))
        self.fields["model"].widget = forms.Select(choices=choices)
        self.fields["background"].widget = forms.NullBooleanSelect()
        self.fields["background"].widget.choices = [
            ("unknown", "Not set"),
            ("true", "Yes"),
            ("false", "No"),
        ]
        for name in ("color", "permission_mode", "memory", "effort", "isolation"):
            self.fields[name].widget.choices[0] = ("", "Not set")
        for name in ("skills", "mcp_servers", "hooks", "extra_frontmatter"):
            self.fields[name].widget.attrs.pop("class", None)
            self.fields[name].widget.attrs["rows"] = 3
        turns = self.fields["max_turns"]
        self.fields["max_turns"] = forms.IntegerField(
            required=False, min_value=1, label=turns.label, help_text=turns.help_text
        )
        self.fields[
            "disallowed_tools"
        ].help_text = "Tools the agent may never use, separated by commas: Bash, WebFetch."
        self.draft: Draft | None = None

    # --- what was posted

    def chosen_tools(self) -> list[str]:
        data = self.cleaned_data
        ticked = list(data.get("tools") or [])
        typed = agentfile.split_tools(data.get("more_tools") or "")
        chosen = list(dict.fromkeys([*ticked, *typed]))
        order = list(dict.fromkeys(agentfile.split_tools(data.get("tool_order") or "")))
        return [name for name in order if name in chosen] + [
            name for name in chosen if name not in order
        ]

    def posted_steps(self) -> list[Step]:
        titles = list(self.cleaned_data.get("step_title") or [])
        texts = list(self.cleaned_data.get("step_text") or [])
        steps = []
        for title, text in zip(titles, texts, strict=False):
            title = " ".join(title.split())
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            if title or text.strip():
                steps.append(Step(title, text))
        return steps

    def posted_parts(self) -> list[BodyPart]:
        data = self.cleaned_data
        if data.get("layout") != STEPS:
            return [BodyPart(markdown=data.get("prompt") or "")]
        before, after = data.get("prompt_before") or "", data.get("prompt_after") or ""
        steps = self.posted_steps()
        if not steps:
            return [BodyPart(markdown=before), BodyPart(markdown=after)]
        # Text the author typed next to the steps starts and ends a block of its own, so that
        # the list does not read as part of a paragraph (Markdown needs a blank line there).
        # Text they did not touch is written as it was.
        if before.strip() and "prompt_before" in self.changed_data:
            before = agentfile.blank_line_after(before)
        if after.strip() and "prompt_after" in self.changed_data and after[:1] != "\n":
            after = "\n" + after
        return [
            BodyPart(markdown=before),
            BodyPart(steps=steps, tight=bool(data.get("steps_tight"))),
            BodyPart(markdown=after),
        ]

    def posted_conflicts(self) -> list[merging.Conflict]:
        raw = self.cleaned_data.get("conflicts") or ""
        if not raw:
            return []
        try:
            return [merging.Conflict.from_data(item) for item in json.loads(raw)]
        except (ValueError, TypeError, KeyError):
            return []

    # --- checking

    def clean_step_title(self) -> list[str]:
        titles = self.cleaned_data.get("step_title") or []
        if len(titles) > MAX_STEPS:
            raise ValidationError(f"An agent may have at most {MAX_STEPS} steps.")
        long = [n for n, title in enumerate(titles, 1) if len(" ".join(title.split())) > 200]
        if long:
            raise ValidationError(
                f"The title of step {long[0]} is too long: keep it under 200 characters."
            )
        return titles

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        tools = self.chosen_tools()
        agent = self.check_file(tools)
        if any(len(name) > 300 for name in tools):
            self.add_error("tools", "A tool name may be at most 300 characters long.")
        self.draft = Draft(agent, tools, self.posted_parts())
        return cleaned_data

    def _field_for(self, key: str | None, agent: Agent) -> str | None:
        if key == "tools":
            return "tools"
        return super()._field_for(key, agent)

    def field_for(self, key: str | None, agent: Agent) -> str | None:
        """The form field that shows what is said about frontmatter ``key`` of ``agent`` (the
        agent as the form would save it); None: the whole file."""
        return self._field_for(key, agent)

    def preview_draft(self) -> Draft:
        """The draft as typed, even where it breaks a rule (the preview shows it anyway)."""
        self.is_valid()
        if self.draft is None:  # clean() did not get that far
            agent = self.checked_agent or self.instance
            self.draft = Draft(agent, [], [])
        return self.draft


# --- changes to the posted form that save nothing: the buttons that work without JavaScript -----


def apply_operation(data: QueryDict, operation: str) -> tuple[QueryDict, tuple[int, str] | None]:
    """The form as posted, changed as a step button asks ('up-2', 'down-2', 'remove-2',
    'add-step', 'add-steps'); and where the focus goes: (step number, 'up' | 'down' | 'title').
    """
    data = data.copy()
    titles, texts = data.getlist(STEP_TITLE), data.getlist(STEP_TEXT)
    steps = list(zip(titles, texts, strict=False))
    focus: tuple[int, str] | None = None
    verb, _, number = operation.partition("-")
    index = int(number) - 1 if number.isdigit() else -1
    if operation == "add-steps":
        prompt = data.get("prompt", "").replace("\r\n", "\n")
        data["layout"] = STEPS
        data["prompt_before"] = agentfile.blank_line_after(prompt) + "## Instructions\n\n"
        data["prompt_after"] = ""
        steps, focus = [("", "")], (1, "title")
    elif operation == "add-step":
        steps.append(("", ""))
        focus = (len(steps), "title")
    elif 0 <= index < len(steps):
        if verb == "up":
            if index > 0:
                steps[index - 1], steps[index] = steps[index], steps[index - 1]
            focus = (max(index, 1), "up")
        elif verb == "down":
            if index < len(steps) - 1:
                steps[index + 1], steps[index] = steps[index], steps[index + 1]
            focus = (min(index + 2, len(steps)), "down")
        elif verb == "remove":
            del steps[index]
            focus = (min(index + 1, len(steps)), "title") if steps else None
    data.setlist(STEP_TITLE, [title for title, _ in steps])
    data.setlist(STEP_TEXT, [text for _, text in steps])
    return data, focus


def steps_for_display(form: EditorForm) -> list[Step]:
    """The steps the form shows: as posted (empty ones too), or as saved."""
    if form.is_bound:
        titles = form.data.getlist(STEP_TITLE)
        texts = form.data.getlist(STEP_TEXT)
        return [Step(t, x) for t, x in zip(titles, texts, strict=False)]
    return list(form.initial.get("steps") or [])


def chosen_for_display(form: EditorForm, offered: set[str]) -> dict[str, Any]:
    """The picker's state: the ticked names, the typed ones, and the order of all of them."""
    if form.is_bound:
        ticked = form.data.getlist("tools")
        typed = form.data.get("more_tools", "")
        order = form.data.get("tool_order", "")
    else:
        tools = form.initial.get("tools") or []
        ticked = [name for name in tools if name in offered]
        typed = agentfile.join_tools(name for name in tools if name not in offered)
        order = agentfile.join_tools(tools)
    return {"ticked": set(ticked), "typed": typed, "order": order}


def conflict_choices(data: Mapping[str, Any], conflicts: list[merging.Conflict]) -> dict[str, str]:
    """The person's choice for each conflict shown ('mine' or 'theirs'), by its key."""
    choices = {}
    for conflict in conflicts:
        choice = data.get(f"choose-{conflict.key}")
        if choice in (merging.MINE, merging.THEIRS):
            choices[conflict.key] = choice
    return choices
