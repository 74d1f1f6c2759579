from __future__ import annotations

import difflib
from collections import Counter
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.html import escape
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from . import agentfile, converters, filebridge, importing, permissions, uploads, workflow
from .models import Agent, Event, Revision
from .workflow import TRANSITIONS, StaleApproval, WorkflowError


def file_response(name: str, text: str) -> HttpResponse:
    """An agent file as a download named after the agent."""
    response = HttpResponse(text.encode(), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{agentfile.file_stem(name)}.md"
    )
    return response


def private(response: HttpResponse) -> HttpResponse:
    """Kept out of every cache, shared or not: drafts and old revisions are for some people
    only, and a draft changes without its address changing."""
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
@login_required
def download(request: HttpRequest, name: str) -> HttpResponse:
    """The published file: what everyone installs, even while a newer draft is under way."""
    agent = Agent.objects.for_download().published_as(name).first()
    if agent is None or not agent.is_downloadable:
        raise Http404("No agent is published under this name.")
    return file_response(name, agent.published_revision.text)


@require_GET
@login_required
def download_draft(request: HttpRequest, name: str) -> HttpResponse:
    """The current working file, for the people who may edit or review it."""
    agent = get_object_or_404(Agent.objects.for_export().prefetch_related("maintainers"), name=name)
    if not permissions.can_see_drafts(request.user, agent):
        raise Http404("No such agent.")
    return private(file_response(agent.name, filebridge.render(agent)))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(file, initial) for file in files if file]


class ImportUploadForm(forms.Form):
    files = MultipleFileField(
        help_text=(
            f"One or many .md files, or .zip archives of them (at most "
            f"{agentfile.MAX_FILE_BYTES // 1024 // 1024} MB a file, "
            f"{importing.MAX_FILES_PER_BATCH} files and "
            f"{importing.MAX_BATCH_BYTES // 1024 // 1024} MB in all)."
        )
    )
    update = forms.BooleanField(
        required=False, help_text="Replace agents that already exist (otherwise: conflict)."
    )

    def __init__(self, *args: Any, refusal: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.refusal = refusal

    def clean_files(self) -> list[tuple[str, bytes]]:
        if self.refusal:
            # The upload was cut short: the files that arrived are not the batch that was sent.
            raise ValidationError(f"Nothing was uploaded: {self.refusal}.")
        uploads = []
        for upload in self.cleaned_data["files"]:
            limit = (
                importing.MAX_BATCH_BYTES
                if upload.name.lower().endswith(".zip")
                else agentfile.MAX_FILE_BYTES
            )
            if upload.size > limit:
                raise ValidationError(
                    f"{upload.name} is {upload.size:,} bytes; the limit is {limit:,} bytes."
                )
            if not upload.name.lower().endswith((".md", ".zip")):
                raise ValidationError(f"{upload.name}: upload .md files or .zip archives.")
            uploads.append((upload.name, upload.read()))
        return uploads


def import_page(request: HttpRequest) -> HttpResponse:
    """Upload agent files, see what each would do, then confirm: all of the batch, or nothing.

    The previewed files wait on the server for the confirmation (``importing.stage``), bound to
    the person who previewed them; any app server behind a load balancer can finish the import.
    """
    if not permissions.can_author(request.user):
        raise PermissionDenied
    form = ImportUploadForm()
    results: list[importing.ImportResult] = []
    batch_key = ""
    batch_error = ""
    if request.method == "POST" and "batch" in request.POST:
        batch_key = request.POST["batch"]
        batch = importing.staged(batch_key, request.user)
        if batch is None:
            messages.error(
                request,
                "This import is no longer waiting for confirmation (it expired after "
                f"{importing.STAGED_IMPORT_MAX_AGE.seconds // 60} minutes, was confirmed "
                "already, or was previewed by someone else); upload the files again.",
            )
            return redirect("admin:agents_agent_import")
        entries, update = batch
        results, saved = importing.import_batch(
            entries, update=update, owner=request.user, actor=request.user
        )
        if saved:
            importing.unstage(batch_key, request.user)
            counts = Counter(result.outcome for result in results)
            summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            messages.success(request, f"Imported {len(results)} files: {summary}.")
            return redirect("admin:agents_agent_changelist")
        batch_key = ""
        batch_error = (
            "Nothing was imported: something changed since the preview (see below). Upload the "
            "files again to import them as they are now."
        )
    elif request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, refusal=uploads.refusal(request))
        if form.is_valid():
            update = form.cleaned_data["update"]
            try:
                entries = importing.expand(form.cleaned_data["files"])
            except importing.BatchError as exc:
                batch_error = f"Nothing was imported: {exc}."
            else:
                results, _ = importing.import_batch(
                    entries, update=update, dry_run=True, owner=request.user, actor=request.user
                )
                if any(result.failed for result in results):
                    batch_error = "Nothing can be imported until every file is fixed or removed."
                else:
                    batch_key = importing.stage(entries, request.user, update=update)
    context = {
        **admin.site.each_context(request),
        "title": "Import agent files",
        "opts": Agent._meta,
        "form": form,
        "results": results,
        "batch": batch_key,
        "batch_error": batch_error,
    }
    return render(request, "admin/agents/agent/import.html", context)


# --- history, comparison, rollback, workflow and the audit trail -----------------------------
#
# Who sees what: an agent someone may not see is a 404, so names do not leak. People who may
# edit or review an agent (permissions.can_see_drafts) see all its revisions and its whole
# trail. Everyone else who may see it (it is published) sees only the revisions that were
# published at some point and the events that published them: submissions, review comments and
# edits are about drafts, and review comments often quote them.


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A portal page in the admin's look (header and styles, without the admin's menus)."""
    base = {
        "site_header": admin.site.site_header,
        "site_title": admin.site.site_title,
        "is_nav_sidebar_enabled": False,
    }
    return render(request, template, {**base, **context}, status=status)


def _message_page(
    request: HttpRequest, title: str, message: str, status: int, agent: Agent | None = None
) -> HttpResponse:
    return _page(
        request, "agents/message.html", {"title": title, "message": message, "agent": agent}, status
    )


def _visible_agent(request: HttpRequest, name: str) -> Agent:
    agent = get_object_or_404(Agent.objects.for_workflow(), name=name)
    if not permissions.can_view(request.user, agent):
        raise Http404("No agent by that name.")
    return agent


def _visible_revisions(agent: Agent, user: Any) -> QuerySet[Revision]:
    revisions = agent.revisions.all()
    return (
        revisions
        if permissions.can_see_drafts(user, agent)
        else revisions.published_at_some_point()
    )


def posted_revision(data: Any, key: str = "revision") -> int | None:
    """The revision number a form posted (the one its page showed), or None."""
    try:
        number = int(data.get(key, ""))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


# The manual workflow actions as buttons: (button label, label of the comment field).
ACTION_BUTTONS = {
    "submit": ("Submit for review", "Change note: what changed, and why"),
    "withdraw": ("Withdraw from review", "Comment (optional)"),
    "approve": ("Approve and publish", "Comment (optional)"),
    "request_changes": ("Request changes", "What has to change (required)"),
    "archive": ("Archive", "Why (optional)"),
    "restore": ("Restore from the archive", "Comment (optional)"),
}


@require_GET
@login_required
def history(request: HttpRequest, name: str) -> HttpResponse:
    """An agent's revisions and audit trail, with comparison, rollback and workflow buttons."""
    agent = _visible_agent(request, name)
    user = request.user
    sees_drafts = permissions.can_see_drafts(user, agent)
    revisions = agent.revisions.for_history()
    events = agent.events.for_trail()
    if not sees_drafts:
        revisions = revisions.published_at_some_point()
        events = events.publishing()
    revisions = list(revisions)
    for newer, older in zip(revisions, revisions[1:], strict=False):
        newer.previous_number = older.number
    can_restore, restore_refusal = permissions.can_edit(user, agent), ""
    if can_restore:
        try:
            workflow.check_editable(agent)
        except WorkflowError as exc:
            can_restore, restore_refusal = False, str(exc)
    # The approve button names the revision this page shows as the latest: approving publishes
    # that one, or nothing if the author saved another since.
    latest_number = revisions[0].number if sees_drafts and revisions else None
    actions = []
    allowed = workflow.allowed_actions(agent, user)
    for action in allowed:
        rule = TRANSITIONS[action]
        label, comment_label = ACTION_BUTTONS.get(action, (rule.verb.capitalize(), "Comment"))
        revision = latest_number if action == Event.Action.APPROVE else None
        if revision is not None:
            label = f"{label} revision {revision}"
        actions.append(
            {
                "name": action,
                "label": label,
                "comment_label": comment_label,
                "comment_required": rule.needs_comment,
                "revision": revision,
            }
        )
    approve_refusal = ""
    if (
        Event.Action.APPROVE not in allowed
        and agent.status == Agent.Status.IN_REVIEW
        and permissions.can_review(user)
    ):
        approve_refusal = workflow.refusal(agent, Event.Action.APPROVE, user) or ""
    context = {
        "title": f"History of {agent.name}",
        "agent": agent,
        "sees_drafts": sees_drafts,
        "revisions": revisions,
        "events": list(events),
        "can_restore": can_restore,
        "restore_refusal": restore_refusal,
        "actions": actions,
        "approve_refusal": approve_refusal,
        "compare_from": revisions[1].number if len(revisions) > 1 else "",
        "compare_to": revisions[0].number if revisions else "",
    }
    return _page(request, "agents/history.html", context)


@require_GET
@login_required
def compare(request: HttpRequest, name: str) -> HttpResponse:
    """Two revisions of an agent's file: a unified diff and a side-by-side view."""
    agent = _visible_agent(request, name)
    title = f"Compare revisions of {agent.name}"
    old_number = converters.revision_number(request.GET.get("from", ""))
    new_number = converters.revision_number(request.GET.get("to", ""))
    if old_number is None or new_number is None:
        return _message_page(
            request,
            title,
            "Choose two revisions to compare: ?from=N&to=M, with revision numbers.",
            400,
            agent,
        )
    revisions = _visible_revisions(agent, request.user)
    found = {rev.number: rev for rev in revisions.filter(number__in=[old_number, new_number])}
    missing = [number for number in (old_number, new_number) if number not in found]
    if missing:
        return _message_page(
            request,
            title,
            f"{agent.name} has no revision {missing[0]} that you can see.",
            404,
            agent,
        )
    old, new = found[old_number], found[new_number]
    old_label = f"{agent.name}.md revision {old.number}"
    new_label = f"{agent.name}.md revision {new.number}"
    old_lines, new_lines = old.text.splitlines(), new.text.splitlines()
    # make_table escapes the file's lines but not the two headings.
    table = difflib.HtmlDiff(wrapcolumn=80).make_table(
        old_lines, new_lines, escape(old_label), escape(new_label)
    )
    context = {
        "title": title,
        "agent": agent,
        "old": old,
        "new": new,
        "diff": agentfile.unified_diff(old.text, new.text, old_label, new_label),
        "side_by_side": mark_safe(table),  # noqa: S308 -- difflib escaped the content
        "numbers": list(revisions.order_by("-number").values_list("number", flat=True)),
    }
    return _page(request, "agents/compare.html", context)


@require_GET
@login_required
def revision_file(request: HttpRequest, name: str, number: int) -> HttpResponse:
    """One revision's exact file, as a download."""
    agent = _visible_agent(request, name)
    revision = _visible_revisions(agent, request.user).filter(number=number).first()
    if revision is None:
        raise Http404(f"{agent.name} has no revision {number} that you can see.")
    return private(file_response(agent.name, revision.text))


@require_POST
@login_required
def restore(request: HttpRequest, name: str, number: int) -> HttpResponse:
    """Make an old revision the agent's file again, as a new draft revision (history stays)."""
    agent = _visible_agent(request, name)
    if not permissions.can_edit(request.user, agent):
        messages.error(request, f"You may not restore revisions of {agent.name}.")
        return redirect("agents:history", name=agent.name)
    revision = agent.revisions.filter(number=number).first()
    if revision is None:
        return _message_page(
            request, f"Restore {agent.name}", f"{agent.name} has no revision {number}.", 404, agent
        )
    try:
        restored = workflow.restore_revision(agent, revision, request.user)
    except (WorkflowError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        if restored is None:
            messages.info(request, f"Revision {number} is the current file: nothing to restore.")
        else:
            messages.success(
                request,
                f"Restored revision {number} as revision {restored.number}, a new draft.",
            )
    return redirect("agents:history", name=agent.name)


@require_POST
@login_required
def transition(request: HttpRequest, name: str, action: str) -> HttpResponse:
    """Take one manual workflow step (submit, approve, ...); the history page says how it went."""
    agent = _visible_agent(request, name)
    rule = TRANSITIONS.get(action)
    if rule is None or not rule.manual:
        raise Http404("No such action.")
    reviewed = None
    if action == Event.Action.APPROVE:
        reviewed = posted_revision(request.POST)
        if reviewed is None:
            messages.error(request, "Reload the page: it did not say which revision you approved.")
            return redirect("agents:history", name=agent.name)
    try:
        event = workflow.transition(
            agent,
            action,
            request.user,
            comment=request.POST.get("comment", ""),
            revision_number=reviewed,
        )
    except StaleApproval as refusal:
        messages.error(request, str(refusal))
        if agent.revisions.filter(number=refusal.reviewed).exists():
            # What changed since the page was shown, with the message above it.
            query = f"?from={refusal.reviewed}&to={refusal.latest}"
            return redirect(reverse("agents:compare", kwargs={"name": agent.name}) + query)
    except (WorkflowError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        done = f"{agent.name} was {rule.done}."
        if rule.publishes and event.revision is not None:
            done += f" Everyone now downloads revision {event.revision.number}."
        messages.success(request, done)
    return redirect("agents:history", name=agent.name)


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


ACTIVITY_PAGE_SIZE = 50


@require_GET
@login_required
def activity(request: HttpRequest) -> HttpResponse:
    """The portal-wide audit trail, of the agents the user may see, newest first."""
    form = ActivityFilterForm(request.GET)
    events = form.apply(permissions.visible_events(request.user, Event.objects.all()).for_trail())
    page = Paginator(events, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"title": "Activity", "form": form, "page": page}
    return _page(request, "agents/activity.html", context)
