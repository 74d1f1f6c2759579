"""The editor: create, edit and clone agents, with a live preview of the exact file.

One page per agent, top to bottom in the order of the file. Every button works without
JavaScript: the step buttons post the form and get it back changed (nothing saved), the
preview is rendered with the page and again on each such post. With JavaScript, the steps move
at once, and the preview (``preview``) follows the typing.

Saving goes through the workflow module like the admin's: the edit lock, the rows, a revision,
in one transaction. When someone else saved since the page was opened, the two versions are
merged part by part (``agents.merging``); when both changed the same part, nothing is saved and
the page shows both versions for the person to choose.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from .. import agentfile, editing, filebridge, lint, merging, permissions, rendering, workflow
from ..forms.editor import (
    STEPS,
    Draft,
    EditorForm,
    apply_operation,
    chosen_for_display,
    conflict_choices,
    initial_for,
    offered_names,
    steps_for_display,
    tool_groups,
)
from ..models import Agent, Event, Revision
from ..workflow import StaleEdit, WorkflowError
from .common import visible_agent

# Workflow steps the editor offers besides saving (submitting is "Save and submit", withdrawing
# is offered while the agent is in review; approving belongs to the review page).
PAGE_ACTIONS = {Event.Action.ARCHIVE: "Archive", Event.Action.RESTORE: "Restore from the archive"}
STEP_OPERATIONS = ("up-", "down-", "remove-", "add-step")

# The fields whose messages the page shows next to them, in page order; "__all__": the form's.
ERROR_SLOTS = [
    "__all__",
    "name",
    "description",
    "tools",
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
    "prompt",
    "prompt_before",
    "step_title",
    "prompt_after",
    "change_note",
]
# The slots only one layout of the prompt has on the page (by "is it the steps layout"): the
# preview leaves out those of the other layout, which the page does not hold.
_OTHER_LAYOUT = {
    True: {"prompt"},
    False: {"prompt_before", "step_title", "prompt_after"},
}
# Under "More": short ones side by side, then the longer ones.
MORE_SHORT = ["permission_mode", "max_turns", "memory", "background", "effort", "isolation"]
MORE_LONG = [
    "disallowed_tools",
    "initial_prompt",
    "skills",
    "mcp_servers",
    "hooks",
    "extra_frontmatter",
]
MORE_FIELDS = MORE_SHORT + MORE_LONG

# Where lint's findings go, by form field ("body": the prompt section, whichever layout it has;
# "other": the list by the preview, for findings about the whole file).
LINT_SLOTS = ["name", "description", "tools", "model", "color", *MORE_FIELDS, "body", "other"]
PROMPT_FIELDS = ("prompt", "prompt_before", "prompt_after")
# Lint's loading rules are agentfile.validate's errors: the form already shows those next to
# their fields (and holds back "required" while the author has not typed yet).
FORM_CHECKED_RULES = frozenset({"unreadable", "not-loadable", "loading-rule"})


@dataclass
class FieldView:
    """A field as the page shows it: its label, input, help, messages and what lint says about
    it, tied together for screen readers (``aria-describedby``)."""

    bound: Any
    errors: list[str]
    lint: list[lint.Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.bound.is_hidden:
            return
        ids = [self.help_id] if self.bound.help_text else []
        ids.append(self.slot_id)
        if self.lint_id:
            ids.append(self.lint_id)
        attrs = self.bound.field.widget.attrs
        attrs["aria-describedby"] = " ".join(ids)
        if self.errors:
            attrs["aria-invalid"] = "true"

    @property
    def help_id(self) -> str:
        return f"{self.bound.auto_id}_helptext"

    @property
    def slot_id(self) -> str:
        return slot_id(self.bound.name)

    @property
    def lint_id(self) -> str:
        """The id of the element holding lint's findings about this field ('' if none)."""
        name = self.bound.name
        if name in PROMPT_FIELDS:
            return lint_slot_id("body")
        return lint_slot_id(name) if name in LINT_SLOTS else ""

    @property
    def own_lint_slot(self) -> bool:
        """Whether the field shows the findings itself (the prompt's are above its fields)."""
        return bool(self.lint_id) and self.bound.name not in PROMPT_FIELDS

    @property
    def filled(self) -> bool:
        return self.bound.value() not in (None, "", [], "unknown")


def slot_id(name: str) -> str:
    """The id of the element that holds a field's messages ('__all__': the form's)."""
    return "errors-form" if name == "__all__" else f"errors-{name.replace('_', '-')}"


def lint_slot_id(name: str) -> str:
    """The id of the element that holds lint's findings about a field (a ``LINT_SLOTS`` name)."""
    return f"lint-{name.replace('_', '-')}"


def lint_slots(draft: Draft, form: EditorForm) -> dict[str, list[lint.Finding]]:
    """What lint says about the file the form would save, by the slot it is shown in: next to
    the field a finding concerns, the prompt's above the prompt, the rest by the preview."""
    slots: dict[str, list[lint.Finding]] = {name: [] for name in LINT_SLOTS}
    errors = form.errors if form.is_bound else {}
    for finding in lint.lint_text(draft.render(), registry=form.known_tools):
        if finding.rule in FORM_CHECKED_RULES:
            continue
        if finding.field == "body":
            name = "body"
        else:
            name = form.field_for(finding.field, draft.agent) or "other"
        if name in errors:
            continue  # the field's own message says it already (a name off the pattern)
        slots[name if name in slots else "other"].append(finding)
    return slots


@dataclass
class Page:
    """One editor page: what it edits and where its form starts from."""

    request: HttpRequest
    mode: str  # "new", "edit" or "clone"
    start: Draft  # the saved agent, a blank one, or the copy to be
    agent: Agent | None = None  # the saved agent being edited
    source: Agent | None = None  # the agent being copied
    base_revision: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def user(self) -> Any:
        return self.request.user

    @property
    def url(self) -> str:
        if self.mode == "edit":
            return reverse("agents:edit", kwargs={"name": self.agent.slug})
        if self.mode == "clone":
            return reverse("agents:clone", kwargs={"name": self.source.slug})
        return reverse("agents:new")

    @property
    def preview_url(self) -> str:
        if self.mode == "edit":
            return reverse("agents:edit-preview", kwargs={"name": self.agent.slug})
        if self.mode == "clone":
            return reverse("agents:clone-preview", kwargs={"name": self.source.slug})
        return reverse("agents:new-preview")

    def refusal(self) -> str:
        """Why the saved agent may not be edited now ('' if it may)."""
        if self.agent is None:
            return ""
        try:
            workflow.check_editable(self.agent)
        except WorkflowError as refusal:
            return str(refusal)
        return ""


# --- the pages ---------------------------------------------------------------------------------


@login_required
def new(request: HttpRequest) -> HttpResponse:
    return _respond(_new_page(request))


@login_required
def edit(request: HttpRequest, name: str) -> HttpResponse:
    return _respond(_edit_page(request, name))


@login_required
def clone(request: HttpRequest, name: str) -> HttpResponse:
    return _respond(_clone_page(request, name))


@require_POST
@login_required
def preview(request: HttpRequest, name: str | None = None, mode: str = "new") -> HttpResponse:
    """The file the form would save, and each field's messages, as the author types (htmx).

    Checks the same permissions as the page; never saves.
    """
    if mode == "edit":
        page = _edit_page(request, name or "", preview=True)
    elif mode == "clone":
        page = _clone_page(request, name or "")
    else:
        page = _new_page(request)
    form = _form(page, request.POST)
    draft = form.preview_draft()
    context = {
        **_preview_context(draft, form),
        "error_slots": [
            (slot_id(name), found)
            for name, found in _error_slots(form, True).items()
            if name not in _OTHER_LAYOUT[form["layout"].value() == STEPS]
        ],
        # Every slot, the empty ones too: a finding the author just fixed goes away.
        "lint_slots": [
            (lint_slot_id(name), found) for name, found in lint_slots(draft, form).items()
        ],
    }
    return render(request, "portal/editor/preview_response.html", context)


def _new_page(request: HttpRequest) -> Page:
    if not permissions.can_author(request.user):
        raise PermissionDenied("You may not create agents: that needs the author role.")
    blank = Agent(owner=request.user)
    return Page(request, "new", Draft(blank, [], [agentfile.BodyPart(markdown="")]))


def _edit_page(request: HttpRequest, name: str, preview: bool = False) -> Page:
    agent = visible_agent(request, name)
    if not permissions.can_edit(request.user, agent):
        raise PermissionDenied(f"You may not edit {agent.name}.")
    # The latest revision's number as the agent's row said, before its rows are read: a save
    # in between makes the rows newer than the number, never older (see _update). The preview
    # takes the number the form posts.
    base = None
    if not preview:
        base = (
            Revision.objects.filter(pk=agent.latest_revision_id)
            .order_by()
            .values_list("number", flat=True)
            .first()
        )
    prefetch_related_objects([agent], "tool_entries", "sections", "steps")
    return Page(request, "edit", Draft.of(agent), agent=agent, base_revision=base or 0)


def _clone_page(request: HttpRequest, name: str) -> Page:
    source = visible_agent(request, name)
    if not permissions.can_author(request.user):
        raise PermissionDenied("You may not create agents: that needs the author role.")
    return Page(request, "clone", _copy_of(source, request.user), source=source)


def _copy_of(source: Agent, user: Any) -> Draft:
    """A new agent that starts as what ``user`` may see of ``source``: its working copy for
    those who may see its drafts, its published file for everyone else."""
    copied = Agent(owner=user)
    if permissions.can_see_drafts(user, source):
        prefetch_related_objects([source], "tool_entries", "sections", "steps")
        filebridge.set_fields(copied, filebridge.frontmatter(source))
        copied.yaml_sources = dict(source.yaml_sources)
        tools, parts = filebridge.tool_names(source), filebridge.body_parts(source)
    else:
        published = editing.from_file(copied, source.published_revision.text)
        copied, tools, parts = published.agent, published.tools, published.parts
    copied.name = _copy_name(copied.name or source.name)
    return Draft(copied, tools, parts)


def _copy_name(name: str) -> str:
    """``<name>-copy``, numbered if taken: a name for the copy that nobody has yet."""
    base = f"{name[:190]}-copy"
    taken = set(Agent.objects.filter(name__startswith=base).values_list("name", flat=True))
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


# --- what a request does -----------------------------------------------------------------------


def _respond(page: Page) -> HttpResponse:
    request = page.request
    if request.method == "GET":
        return _render(page, _form(page))
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    op = request.POST.get("op", "refresh")
    if op == "withdraw":
        return _withdraw(page)
    if op.startswith(STEP_OPERATIONS):
        data, focus = apply_operation(request.POST, op)
        return _render(page, _form(page, data), unsaved=True, focus=focus)
    form = _form(page, request.POST)
    if op in ("save", "submit"):
        return _save(page, form, submit=op == "submit")
    if op.startswith("action-"):
        return _act(page, form, op.removeprefix("action-"))
    return _render(page, form, unsaved=True)


def _form(page: Page, data: Any = None, start: Draft | None = None, **initial: Any) -> EditorForm:
    start = start or page.start
    values = {**initial_for(start), "base_revision": page.base_revision, **initial}
    # A copy: validating the form writes its values onto the instance.
    return EditorForm(data, instance=copy.copy(start.agent), initial=values)


def _save(page: Page, form: EditorForm, submit: bool) -> HttpResponse:
    refusal = page.refusal()
    if refusal:
        form.is_valid()
        form.add_error(None, refusal)
        return _render(page, form, unsaved=True)
    if not form.is_valid():
        return _render(page, form, unsaved=True)
    draft = form.draft
    conflicts = form.posted_conflicts()
    if conflicts:
        choices = conflict_choices(page.request.POST, conflicts)
        missing = [conflict.label for conflict in conflicts if conflict.key not in choices]
        if missing:
            form.add_error(
                None,
                f"Choose your version or theirs for {', '.join(missing)}: you both changed "
                "it. Nothing was saved.",
            )
            return _render(page, form, unsaved=True, conflicts=conflicts)
        version = draft.version()
        for conflict in conflicts:
            if not merging.resolve(version, conflict, choices[conflict.key]):
                messages.info(
                    page.request,
                    f"You changed {conflict.label} again after choosing their version: your "
                    "version as it is in the form was saved.",
                )
        draft = Draft.from_version(draft.agent, version)
    if page.agent is None:
        return _create(page, form, draft, submit)
    return _update(page, form, draft, submit)


def _create(page: Page, form: EditorForm, draft: Draft, submit: bool) -> HttpResponse:
    agent, note = draft.agent, form.cleaned_data["change_note"]
    try:
        revision = editing.create(draft, page.user, note)
    except IntegrityError:
        # Someone took the name between the check and the save.
        agent.pk = None
        form.add_error("name", "Another agent already has this name: choose another one.")
        return _render(page, form, unsaved=True)
    number = revision.number if revision else 1
    messages.success(page.request, f"Created {agent.name} as revision {number}, a draft.")
    return _after_save(page, agent, note, submit)


def _update(page: Page, form: EditorForm, draft: Draft | None, submit: bool) -> HttpResponse:
    loaded, base = page.agent, form.cleaned_data.get("base_revision")
    if base is None:
        form.add_error(None, "Reload the page: it did not say which revision you edited.")
        return _render(page, form, unsaved=True)
    note = form.cleaned_data["change_note"]
    merged: merging.Merge | None = None
    with transaction.atomic():
        try:
            workflow.lock_for_edit(loaded, base)
        except StaleEdit:
            # Someone else saved since this form was loaded; their version is the rows now.
            saved = Agent.objects.for_export().prefetch_related("maintainers").get(pk=loaded.pk)
            theirs = Draft.of(saved)
            base_text = loaded.revisions.filter(number=base).values_list("text", flat=True)
            base_version = (
                merging.Version.from_text(base_text[0]) if base_text else theirs.version()
            )
            merged = merging.merge(base_version, theirs.version(), draft.version())
            if not merged.conflicts:
                draft = Draft.from_version(saved, merged.version)
        except WorkflowError as refusal:
            form.add_error(None, str(refusal))
            draft = None
        if draft is not None and not (merged and merged.conflicts):
            agent = draft.agent
            revision = editing.write(draft, page.user, note)
    # Nothing was written when the save was refused or needs a choice; the row is free again.
    if draft is None:
        return _render(page, form, unsaved=True)
    if merged is not None and merged.conflicts:
        return _show_conflicts(page, form, saved, merged)
    if merged is not None:
        latest = agent.latest_revision
        messages.success(
            page.request,
            f"Someone else saved {agent.name} while you were editing it: the two versions "
            f"were merged and saved as revision {latest.number}. {merging.describe(merged)}",
        )
        if submit:
            messages.warning(
                page.request,
                f"{agent.name} was not submitted: look at the merged version, then submit it.",
            )
        return redirect("agents:edit", name=agent.slug)
    if revision is None:
        messages.info(page.request, f"{agent.name} did not change: no new revision.")
    else:
        messages.success(page.request, f"Saved {agent.name} as revision {revision.number}.")
    return _after_save(page, agent, note, submit)


def _after_save(page: Page, agent: Agent, note: str, submit: bool) -> HttpResponse:
    if not submit:
        return redirect("agents:edit", name=agent.slug)
    try:
        workflow.transition(agent, Event.Action.SUBMIT, page.user, comment=note)
    except (WorkflowError, PermissionDenied) as refusal:
        messages.error(page.request, f"Not submitted: {refusal}")
        return redirect("agents:edit", name=agent.slug)
    messages.success(page.request, f"Submitted {agent.name} for review.")
    return redirect(agent.get_absolute_url())


def _show_conflicts(
    page: Page, form: EditorForm, saved: Agent, merged: merging.Merge
) -> HttpResponse:
    """Both changed the same parts: the form again, holding the merge (mine where both
    changed), based on their revision now, with both versions of each such part."""
    latest = saved.latest_revision
    page.base_revision = latest.number
    start = Draft.from_version(saved, merged.version)
    merged_form = _form(page, start=start, change_note=form.cleaned_data.get("change_note", ""))
    merged_form.initial["conflicts"] = json.dumps([c.to_data() for c in merged.conflicts])
    who = latest.author.get_username() if latest.author else "the operator"
    taken = (
        f" Their changes to {merging.and_list(merged.theirs_kept)} are in the form now."
        if merged.theirs_kept
        else ""
    )
    page.extra["conflict_notice"] = (
        f"{who} saved revision {latest.number} of {saved.name} while you were editing it."
        f"{taken} You both changed {merging.and_list([c.label for c in merged.conflicts])}: "
        "choose a version for each below (you may edit the form as well). Nothing is saved yet."
    )
    return _render(page, merged_form, unsaved=True, conflicts=merged.conflicts, draft=start)


def _act(page: Page, form: EditorForm, action: str) -> HttpResponse:
    """A workflow button of the page: refused while the form holds unsaved changes, so that
    it never acts on a saved agent other than what the person sees."""
    if page.agent is None or action not in PAGE_ACTIONS:
        form.is_valid()
        form.add_error(None, "Choose one of the buttons of this page.")
        return _render(page, form, unsaved=True)
    if page.refusal():
        # The agent may not be edited now (archived, in review): the page shows no form to
        # change, and the button posts none.
        return _take(page, action)
    draft = form.preview_draft()
    saved = Draft.of(page.agent)
    stale = form.cleaned_data.get("base_revision") != page.base_revision
    if stale or draft.render() != saved.render():
        form.add_error(
            None,
            f"You have unsaved changes: save them first (or undo them). "
            f"{PAGE_ACTIONS[action]} acts on the saved agent, not on the form.",
        )
        return _render(page, form, unsaved=True)
    return _take(page, action)


def _withdraw(page: Page) -> HttpResponse:
    if page.agent is None:
        return redirect(page.url)
    return _take(page, Event.Action.WITHDRAW)


def _take(page: Page, action: str) -> HttpResponse:
    agent = page.agent
    try:
        workflow.transition(agent, action, page.user)
    except (WorkflowError, PermissionDenied) as refusal:
        messages.error(page.request, str(refusal))
    else:
        rule = workflow.TRANSITIONS[action]
        done = f"{agent.name} was {rule.done}."
        if action == Event.Action.WITHDRAW:
            done += " You can edit it now."
        messages.success(page.request, done)
    if action == Event.Action.ARCHIVE:
        return redirect(agent.get_absolute_url())
    return redirect("agents:edit", name=agent.slug)


# --- the page ----------------------------------------------------------------------------------


def _render(
    page: Page,
    form: EditorForm,
    *,
    unsaved: bool = False,
    focus: tuple[int, str] | None = None,
    conflicts: list[merging.Conflict] | None = None,
    draft: Draft | None = None,
) -> HttpResponse:
    request, agent = page.request, page.agent
    if draft is None:
        draft = form.preview_draft() if form.is_bound else page.start
    visible = Agent.objects.all()
    where = permissions.view_filter(page.user)
    if where is not None:
        visible = visible.filter(where)
    groups = tool_groups(visible, draft.tools, form.known_tools)
    refusal = page.refusal()
    if page.mode == "edit":
        title = f"Edit {agent.name}"
    elif page.mode == "clone":
        title = f"Copy of {page.source.name}"
    else:
        title = "New agent"
    allowed = workflow.allowed_actions(agent, page.user) if agent else []
    for conflict in conflicts or []:
        conflict.chosen = request.POST.get(f"choose-{conflict.key}", "")  # type: ignore[attr-defined]
    slots = _error_slots(form)
    linted = lint_slots(draft, form)
    fields = {
        name: FieldView(form[name], slots.get(name, []), linted.get(name, []))
        for name in form.fields
    }
    context = {
        "title": title,
        "page": page,
        "agent": agent,
        "source": page.source,
        "form": form,
        "fields": fields,
        "more_short": [fields[name] for name in MORE_SHORT],
        "more_long": [fields[name] for name in MORE_LONG],
        "more_open": any(fields[name].filled or fields[name].errors for name in MORE_FIELDS),
        "layout": (form["layout"].value() if form.is_bound else form.initial["layout"]) or "text",
        "steps": steps_for_display(form),
        "focus": focus,
        "groups": groups,
        "picked": chosen_for_display(form, offered_names(groups)),
        "refusal": refusal,
        "can_withdraw": Event.Action.WITHDRAW in allowed,
        "actions": [(name, label) for name, label in PAGE_ACTIONS.items() if name in allowed],
        "unsaved": unsaved,
        "conflicts": conflicts or [],
        "conflict_notice": page.extra.get("conflict_notice", ""),
        "form_errors": slots["__all__"],
        "steps_errors": slots["step_title"],
        "tools_lint": linted["tools"],
        "body_lint": linted["body"],
        "other_lint": linted["other"],
        **_preview_context(draft, form),
    }
    context["steps_layout"] = context["layout"] == STEPS
    return render(request, "portal/editor.html", context)


def _preview_context(draft: Draft, form: EditorForm) -> dict[str, Any]:
    left_out = [
        form.fields[name].label or name
        for name in form.errors
        if name in form.fields and name not in form.cleaned_data and name in ERROR_SLOTS
    ]
    return {
        "file": draft.render(),
        "rendered": _prompt_html(agentfile.join_body(draft.parts)),
        "left_out": [str(label) for label in left_out],
    }


@functools.lru_cache(maxsize=64)
def _prompt_html(body: str) -> SafeString:
    """The prompt as HTML. Remembered: while the author types in other fields, the preview
    renders the same prompt again and again."""
    return rendering.markdown_to_html(body)


def _error_slots(form: EditorForm, preview: bool = False) -> dict[str, list[str]]:
    """Each field's messages, in plain words. While the author types (``preview``), a field
    left empty is not yet reported as missing."""
    errors = form.errors if form.is_bound else {}
    slots: dict[str, list[str]] = {}
    damaged = [
        f"{name}: {message}"
        for name, field in form.fields.items()
        if field.widget.is_hidden and name not in ("tools", "step_title", "step_text")
        for message in errors.get(name, [])
    ]
    for name in ERROR_SLOTS:
        found = [str(message) for message in errors.get(name, [])]
        if preview and name in ("name", "description") and not form.data.get(name, "").strip():
            found = []
        slots[name] = found
    if damaged:
        slots["__all__"].append(
            f"Reload the page: this form was damaged and cannot be saved ({'; '.join(damaged)})."
        )
    # Step texts are posted as several values: their messages go with the steps.
    slots["step_title"] += [str(message) for message in errors.get("step_text", [])]
    return slots
