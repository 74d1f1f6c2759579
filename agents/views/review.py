"""Review in the portal: the queue of agents waiting for a decision, and one agent's review page.

The review page shows what a reviewer needs to decide: the submitted file against the published
one and against the revision last sent back or approved ("what changed since the last review"),
the change note, the whole conversation, what lint says about the file and what the revision
adds or removes compared with the published one, and the two decisions. An approval names the
revision the page showed (``workflow.transition(..., revision_number=N)``): if the author saved
another since, nothing is published and the page shows what changed. Who may approve is
``workflow.refusal``, asked before the button is offered (a revision with lint errors is never
approved).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from .. import agentfile, converters, permissions, workflow
from ..forms.review import RequestChangesForm, ReviewCommentForm
from ..lint import report
from ..models import Agent, Event, Revision
from ..workflow import StaleApproval, WorkflowError
from .common import render_page

QUEUE_PAGE_SIZE = 50

Action = Event.Action
# What the conversation shows: what authors and reviewers said to each other, and the steps
# that decided (edits are in the history).
CONVERSATION = (
    Action.SUBMIT,
    Action.WITHDRAW,
    Action.REQUEST_CHANGES,
    Action.APPROVE,
    Action.PUBLISH,
)
# The steps that reviewed a revision: "since the last review" starts from the latest of them.
REVIEWS = (Action.REQUEST_CHANGES, Action.APPROVE, Action.PUBLISH)


# --- the queue ----------------------------------------------------------------------------------


@require_GET
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """Agents in review, oldest submission first, each with its submitter, note, revision and a
    link to its review page. The diffs are built there, when a submission is opened: not the
    files' texts of a whole page of submissions at every look at the queue."""
    if not permissions.can_review(request.user):
        raise PermissionDenied
    last_review = Event.objects.filter(agent=OuterRef("pk"), action__in=REVIEWS).order_by(
        "-created_at", "-pk"
    )
    agents = Agent.objects.for_queue().annotate(
        last_review_action=Subquery(last_review.values("action")[:1]),
        last_review_number=Subquery(last_review.values("revision__number")[:1]),
    )
    page = Paginator(agents, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    for agent in page:
        agent.own = agent.submitted_by_id is not None and agent.submitted_by_id == request.user.pk
    return render_page(request, "portal/queue.html", {"title": "Review queue", "page": page})


# --- one agent's review page -------------------------------------------------------------------


@dataclass
class Diff:
    """Two revisions of a file, as the review page shows them: unified and side by side."""

    old_label: str
    new_label: str
    lines: list[tuple[str, str]]  # (kind, line) of the unified diff: head, hunk, add, del, ctx
    side_by_side: SafeString
    added: int
    removed: int


def make_diff(old: str, new: str, old_label: str, new_label: str) -> Diff:
    unified = agentfile.unified_diff(old, new, old_label, new_label)
    lines = [(line_kind(line), line) for line in unified.splitlines()]
    # make_table escapes the files' lines, not the two headings.
    table = difflib.HtmlDiff(wrapcolumn=72).make_table(
        old.splitlines(), new.splitlines(), escape(old_label), escape(new_label), context=bool(old)
    )
    # The heading row's empty cells above the "next change" links are no column headers.
    table = table.replace('<th class="diff_next"><br /></th>', '<td class="diff_next"></td>')
    body = lines[2:]
    return Diff(
        old_label=old_label,
        new_label=new_label,
        lines=lines,
        side_by_side=mark_safe(table),  # noqa: S308 -- difflib escaped the content
        added=sum(1 for kind, _ in body if kind == "add"),
        removed=sum(1 for kind, _ in body if kind == "del"),
    )


def line_kind(line: str) -> str:
    if line.startswith(("+++ ", "--- ")):
        return "head"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return "ctx"


@require_http_methods(["GET", "POST"])
@login_required
def review(request: HttpRequest, name: str) -> HttpResponse:
    """One agent's review page; a POST is a decision (approve, or request changes)."""
    if not permissions.can_review(request.user):
        raise PermissionDenied
    agent = reviewed_agent(request, name)
    if request.method == "POST":
        return decide(request, agent)
    return review_page(request, agent)


def reviewed_agent(request: HttpRequest, name: str) -> Agent:
    """The agent an address names, with its published and latest revisions (a 404 for one the
    user may not see)."""
    agent = (
        Agent.objects.for_workflow()
        .select_related("owner", "published_revision", "latest_revision__author")
        .at_address(name)
        .first()
    )
    if agent is None or not permissions.can_view(request.user, agent):
        raise Http404("No agent by that name.")
    return agent


def decide(request: HttpRequest, agent: Agent) -> HttpResponse:
    decision = request.POST.get("decision", "")
    reviewed = None
    if decision == Action.APPROVE:
        form: ReviewCommentForm = ReviewCommentForm(request.POST)
        reviewed = converters.posted_revision(request.POST)
        if reviewed is None:
            messages.error(request, "Reload the page: it did not say which revision you approved.")
            return redirect("agents:review", name=agent.slug)
    elif decision == Action.REQUEST_CHANGES:
        form = RequestChangesForm(request.POST)
    else:
        messages.error(request, "Choose Approve or Request changes.")
        return redirect("agents:review", name=agent.slug)
    if not form.is_valid():
        return review_page(request, agent, changes_form=form)
    try:
        event = workflow.transition(
            agent,
            decision,
            request.user,
            comment=form.cleaned_data["comment"],
            revision_number=reviewed,
        )
    except StaleApproval as stale:
        # The page shows the revision in review now, with what changed since the one approved.
        return review_page(request, reviewed_agent(request, agent.slug), stale=stale)
    except (PermissionDenied, WorkflowError) as refusal:
        messages.error(request, str(refusal))
        return redirect("agents:review", name=agent.slug)
    if event.action == Action.APPROVE:
        messages.success(
            request,
            f"{agent.name} is approved: everyone now downloads revision {event.revision.number}.",
        )
    else:
        messages.success(request, f"{agent.name} was sent back to its author with your comment.")
    return redirect("agents:queue")


def review_page(
    request: HttpRequest,
    agent: Agent,
    *,
    changes_form: ReviewCommentForm | None = None,
    stale: StaleApproval | None = None,
) -> HttpResponse:
    conversation = list(
        agent.events.filter(action__in=CONVERSATION)
        .annotate(revision_number=F("revision__number"))
        .order_by("created_at", "pk")
    )
    context: dict[str, Any] = {
        "title": f"Review {agent.name}",
        "agent": agent,
        "in_review": agent.status == Agent.Status.IN_REVIEW,
        "conversation": conversation,
        "changes_form": changes_form,
        "stale": stale,
        "stale_lines": [(line_kind(line), line) for line in stale.diff.splitlines()]
        if stale
        else [],
    }
    latest = agent.latest_revision
    if context["in_review"] and latest is None:
        context["in_review"] = False  # submitted before any file was saved: nothing to decide on
        context["no_file"] = True
    elif context["in_review"]:
        context.update(review_context(request, agent, latest, conversation))
    return render_page(request, "portal/review.html", context)


def review_context(
    request: HttpRequest, agent: Agent, latest: Revision, conversation: list[Event]
) -> dict[str, Any]:
    """What the page shows of an agent in review: the submission, its two diffs, what lint says
    about it (and what it changes against the published revision), and whether this reviewer
    may approve it."""
    published = agent.published_revision
    submissions = [event for event in conversation if event.action == Action.SUBMIT]
    reviews = [event for event in conversation if event.action in REVIEWS]
    last_review = reviews[-1] if reviews else None
    new_label = f"revision {latest.number} (submitted)"
    against_published = make_diff(
        published.text if published else "",
        latest.text,
        f"revision {published.number} (published)" if published else "nothing published yet",
        new_label,
    )
    since_review = None
    if (
        last_review is not None
        and last_review.revision_id is not None
        and last_review.revision_id not in (agent.published_revision_id, latest.pk)
    ):
        # The revision sent back (or approved, then superseded) is neither on the page already.
        reviewed = Revision.objects.only("number", "text").get(pk=last_review.revision_id)
        since_review = make_diff(
            reviewed.text,
            latest.text,
            f"revision {reviewed.number} ({last_review.get_action_display().lower()})",
            new_label,
        )
    # What lint found (stored with each revision), and what this revision adds to or removes
    # from what the published one had: the reviewer's question is what changed. The findings
    # listed as new are not listed again below them; with nothing published, all are new and
    # are listed once.
    findings = report.by_severity(latest.findings)
    lint_change = report.change(published.findings if published else [], latest.findings)
    new = lint_change.added if published else []
    return {
        "latest": latest,
        "published": published,
        "submission": submissions[-1] if submissions else None,
        "last_review": last_review,
        "since_review": since_review,
        "against_published": against_published,
        "findings": findings,
        "lint_change": lint_change,
        "lint_new": new,
        "lint_others": [f for f in findings if f not in new],
        "approve_warnings": report.summary(latest.findings),
        "approve_refusal": workflow.refusal(agent, Action.APPROVE, request.user),
    }
