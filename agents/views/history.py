"""An agent's history: revisions, the audit trail, comparison, restoring an old revision, and the
workflow buttons."""

from __future__ import annotations

import difflib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from .. import agentfile, converters, permissions, workflow
from ..models import Agent, Event
from ..workflow import TRANSITIONS, StaleApproval, WorkflowError
from .common import message_page, render_page, visible_agent

# --- history, comparison, rollback, workflow and the audit trail -----------------------------
#
# Who sees what: an agent someone may not see is a 404, so names do not leak. People who may
# edit or review an agent (permissions.can_see_drafts) see all its revisions and its whole
# trail. Everyone else who may see it (it is published) sees only the revisions that were
# published at some point and the events that published them: submissions, review comments and
# edits are about drafts, and review comments often quote them.


HISTORY_PAGE_SIZE = 50  # revisions a page of the history shows
TRAIL_SHOWN = 50  # latest audit entries it shows (all of them: the activity, for this agent)

# The manual workflow actions as buttons: (button label, label of the comment field).
ACTION_BUTTONS = {
    "submit": ("Submit for review", "Change note: what changed, and why"),
    "withdraw": ("Withdraw from review", "Comment (optional)"),
    "approve": ("Approve and publish", "Comment (optional)"),
    "request_changes": ("Request changes", "What has to change (required)"),
    "archive": ("Archive", "Why (optional)"),
    "restore": ("Restore from the archive", "Comment (optional)"),
}


def workflow_buttons(
    agent: Agent, user: Any, latest_number: int | None
) -> tuple[list[dict[str, Any]], str]:
    """The workflow steps the user may take on the agent now, as buttons (each a form posting
    to ``agents:transition``), and why approving is not offered to a reviewer who may not.

    ``latest_number`` is the revision the page shows as the latest: approve names it, so that
    approving publishes that one, or nothing if someone saved another since.
    """
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
    return actions, approve_refusal


@require_GET
@login_required
def history(request: HttpRequest, name: str) -> HttpResponse:
    """An agent's revisions and audit trail, with comparison, rollback and workflow buttons."""
    agent = visible_agent(request, name)
    user = request.user
    sees_drafts = permissions.can_see_drafts(user, agent)
    # A page of revisions, without their texts (downloads and comparisons read those), and the
    # latest events: the page costs the same for 5 revisions or 5,000.
    revisions = agent.revisions.for_history().defer("text")
    events = agent.events.for_trail()
    if not sees_drafts:
        revisions = revisions.published_at_some_point()
        events = events.publishing()
    page = Paginator(revisions, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    # One row past the page: the last revision shown links to the changes from the one before.
    rows = (
        list(revisions[page.start_index() - 1 : page.end_index() + 1])
        if page.paginator.count
        else []
    )
    for newer, older in zip(rows, rows[1:], strict=False):
        newer.previous_number = older.number
    revisions = rows[:HISTORY_PAGE_SIZE]
    events = list(events[: TRAIL_SHOWN + 1])
    can_restore, restore_refusal = permissions.can_edit(user, agent), ""
    if can_restore:
        try:
            workflow.check_editable(agent)
        except WorkflowError as exc:
            can_restore, restore_refusal = False, str(exc)
    # The approve button names the revision this page shows as the latest: approving publishes
    # that one, or nothing if the author saved another since.
    latest_number = None
    if sees_drafts and revisions:
        latest_number = (
            revisions[0].number
            if page.number == 1
            else agent.revisions.order_by("-number").values_list("number", flat=True).first()
        )
    actions, approve_refusal = workflow_buttons(agent, user, latest_number)
    context = {
        "title": f"History of {agent.name}",
        "agent": agent,
        "sees_drafts": sees_drafts,
        "revisions": revisions,
        "page": page,
        "events": events[:TRAIL_SHOWN],
        "more_events": len(events) > TRAIL_SHOWN,
        "can_restore": can_restore,
        "restore_refusal": restore_refusal,
        "actions": actions,
        "approve_refusal": approve_refusal,
        "compare_from": rows[1].number if len(rows) > 1 else "",
        "compare_to": rows[0].number if rows else "",
    }
    return render_page(request, "agents/history.html", context)


@require_GET
@login_required
def compare(request: HttpRequest, name: str) -> HttpResponse:
    """Two revisions of an agent's file: a unified diff and a side-by-side view."""
    agent = visible_agent(request, name)
    title = f"Compare revisions of {agent.name}"
    old_number = converters.revision_number(request.GET.get("from", ""))
    new_number = converters.revision_number(request.GET.get("to", ""))
    if old_number is None or new_number is None:
        return message_page(
            request,
            title,
            "Choose two revisions to compare: ?from=N&to=M, with revision numbers.",
            400,
            agent,
        )
    revisions = permissions.visible_revisions(agent, request.user)
    found = {rev.number: rev for rev in revisions.filter(number__in=[old_number, new_number])}
    missing = [number for number in (old_number, new_number) if number not in found]
    if missing:
        return message_page(
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
    return render_page(request, "agents/compare.html", context)


@require_POST
@login_required
def restore(request: HttpRequest, name: str, number: int) -> HttpResponse:
    """Make an old revision the agent's file again, as a new draft revision (history stays)."""
    agent = visible_agent(request, name)
    if not permissions.can_edit(request.user, agent):
        messages.error(request, f"You may not restore revisions of {agent.name}.")
        return redirect("agents:history", name=agent.slug)
    revision = agent.revisions.filter(number=number).first()
    if revision is None:
        return message_page(
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
    return redirect("agents:history", name=agent.slug)


@require_POST
@login_required
def transition(request: HttpRequest, name: str, action: str) -> HttpResponse:
    """Take one manual workflow step (submit, approve, ...); the history page says how it went."""
    agent = visible_agent(request, name)
    rule = TRANSITIONS.get(action)
    if rule is None or not rule.manual:
        raise Http404("No such action.")
    reviewed = None
    if action == Event.Action.APPROVE:
        reviewed = converters.posted_revision(request.POST)
        if reviewed is None:
            messages.error(request, "Reload the page: it did not say which revision you approved.")
            return back(request, agent)
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
            return redirect(reverse("agents:compare", kwargs={"name": agent.slug}) + query)
    except (WorkflowError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        done = f"{agent.name} was {rule.done}."
        if rule.publishes and event.revision is not None:
            done += f" Everyone now downloads revision {event.revision.number}."
        messages.success(request, done)
    return back(request, agent)


def back(request: HttpRequest, agent: Agent) -> HttpResponse:
    """The page the workflow button was on (its form says, in ``next``), or the history."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("agents:history", name=agent.slug)
