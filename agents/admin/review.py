"""The review queue: agents waiting for a decision, each with its submitter and diff; approve or
send back, one at a time or many at once. Every decision names the revision it approves."""

from __future__ import annotations

import difflib
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from .. import agentfile, converters, permissions, workflow
from ..forms.review import RequestChangesForm, ReviewCommentForm
from ..lint import report
from ..models import Agent, Event, Submission
from ..workflow import StaleApproval, WorkflowError
from .common import changed_lines, diff_details, portal_url
from .rows import QuickRowsAdmin


@admin.register(Submission)
class SubmissionAdmin(QuickRowsAdmin):
    """Agents waiting for review, each with its submitter and its diff against the published
    file; reviewers approve or send back here, one at a time or many at once."""

    # The diffs are built when a submission is opened (its review page) or ticked for bulk
    # approval, never for the whole list: a page of 100 diffs weighed 141 KB and most of the
    # list's time.
    list_display = ["name", "submitted_by", "submitted", "note", "changes"]
    # Both open the review page: the list builds that link once a page (QuickRowsAdmin).
    list_display_links = ["name", "changes"]
    search_fields = ["name", "description"]
    actions = ["approve_selected", "request_changes_selected"]
    show_full_result_count = False  # the queue is counted once, not twice
    list_per_page = 50  # as the agents' list: rendering rows is the list's cost
    change_form_template = "admin/agents/submission/review.html"

    class Media:
        css = {"all": ["agents/admin.css"]}

    # --- who may do what: reviewers (and superusers), nobody else

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.can_review(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return permissions.can_review(request.user)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return permissions.can_review(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return False

    # --- loading

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        # The submitted file is the latest revision: an agent in review cannot be edited. Its
        # number only: the texts are read when a submission is opened (or ticked: selected).
        return Submission.objects.for_queue()

    def get_ordering(self, request: HttpRequest) -> list[str]:
        return ["submitted_at"]  # first come, first served

    # --- columns

    @admin.display(description="submitted by", ordering="submitted_by_name")
    def submitted_by(self, submission: Submission) -> str:
        return submission.submitted_by_name or "operator"

    @admin.display(description="submitted", ordering="submitted_at")
    def submitted(self, submission: Submission) -> str:
        # As the agents' list writes its dates (and the portal's queue this one): the admin's
        # localized date format cost more than the rest of the row.
        if submission.submitted_at is None:
            return "-"
        local = timezone.localtime(submission.submitted_at)
        return format_html(
            '<time datetime="{}">{}</time>', local.isoformat(), f"{local:%Y-%m-%d %H:%M}"
        )

    @admin.display(description="note")
    def note(self, submission: Submission) -> str:
        return submission.submitted_note or ""

    @admin.display(description="changes against the published file")
    def changes(self, submission: Submission) -> str:
        """What the review page (this column's link, where the diff is built) compares."""
        published = submission.published_number
        against = f"r{published}" if published else "nothing published yet"
        return f"Review r{submission.latest_number} against {against}"

    def diff(self, submission: Submission) -> str:
        """The submitted file against the published one, folded (the bulk approval page)."""
        new = submission.latest_text or ""
        published = submission.published_revision
        if published is None:
            lines = len(new.splitlines())
            return diff_details(new, f"new agent ({lines} line{'s' if lines != 1 else ''})")
        text = agentfile.unified_diff(
            published.text,
            new,
            f"r{published.number} (published)",
            f"r{submission.latest_number} (submitted)",
        )
        changed = changed_lines(text)
        return diff_details(text, f"{changed} line{'s' if changed != 1 else ''} changed")

    # --- one submission: the diff, and the decision

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        submission = self.get_object(request, unquote(object_id))
        if submission is None:
            agent = Agent.objects.filter(pk=object_id).first() if object_id.isdigit() else None
            if agent is None:
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
            messages.info(
                request, f"{agent.name} is {agent.get_status_display().lower()}, not in review."
            )
            return redirect("admin:agents_submission_changelist")
        form = ReviewCommentForm(request.POST or None)
        error, changed_since = "", ""
        if request.method == "POST":
            decision = request.POST.get("decision", "")
            reviewed = converters.posted_revision(request.POST)
            if decision not in REVIEW_DECISIONS or not form.is_valid():
                error = "Choose Approve or Request changes."
            elif decision == Event.Action.APPROVE and reviewed is None:
                error = "Reload the page: it did not say which revision you approved."
            else:
                try:
                    event = workflow.transition(
                        submission,
                        decision,
                        request.user,
                        comment=form.cleaned_data["comment"],
                        revision_number=reviewed if decision == Event.Action.APPROVE else None,
                    )
                except StaleApproval as refusal:
                    error, changed_since = str(refusal), refusal.diff
                    # The page shows the revision in review now; approving it is a new click.
                    submission = self.get_object(request, unquote(object_id))
                    if submission is None:
                        messages.error(request, error)
                        return redirect("admin:agents_submission_changelist")
                except (PermissionDenied, WorkflowError) as refusal:
                    error = str(refusal)
                else:
                    messages.success(request, decided(submission, event))
                    return redirect("admin:agents_submission_changelist")
        context = {
            **self.admin_site.each_context(request),
            **self.review_context(submission),
            "title": f"Review {submission.name}",
            "subtitle": None,
            "opts": self.opts,
            "original": submission,
            "form": form,
            "error": error,
            "changed_since": changed_since,
            # Said before the reviewer tries; the same rule refuses the approval itself.
            "approve_refusal": workflow.refusal(submission, Event.Action.APPROVE, request.user),
            "agent_url": reverse("admin:agents_agent_change", args=[submission.pk]),
            "media": self.media,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_form_template, context)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Submission | None:
        # One submission, opened: with its text, for the diff.
        submission = super().get_object(request, object_id, from_field)
        if submission is None:
            return None
        return with_latest_revision(Submission.objects.filter(pk=submission.pk)).with_submission()[
            0
        ]

    def review_context(self, submission: Submission) -> dict[str, Any]:
        published = submission.published_revision
        old = published.text if published else ""
        new = submission.latest_text or ""
        old_label = f"r{published.number} (published)" if published else "nothing published yet"
        new_label = f"r{submission.latest_number} (submitted)"
        side_by_side = difflib.HtmlDiff(wrapcolumn=80).make_table(
            old.splitlines(),
            new.splitlines(),
            escape(old_label),
            escape(new_label),
            context=published is not None,
        )
        compare = None
        if published is not None:
            query = f"?from={published.number}&to={submission.latest_number}"
            compare = portal_url("compare", query, name=submission.slug)
        return {
            "submission": submission,
            "unified_diff": agentfile.unified_diff(old, new, old_label, new_label),
            # HtmlDiff escapes the files' text (&, <, >); the labels are escaped above.
            "side_by_side": mark_safe(side_by_side),  # noqa: S308
            "compare_url": compare,
            "submitted_url": portal_url(
                "revision", name=submission.slug, number=submission.latest_number
            ),
            "history_url": portal_url("history", name=submission.slug),
        }

    # --- many at once

    @admin.action(description="Approve selected agents…", permissions=["review"])
    def approve_selected(
        self, request: HttpRequest, queryset: QuerySet[Submission]
    ) -> HttpResponse | None:
        """Show each agent with the revision that would be published; approve those revisions
        once confirmed (an agent resubmitted meanwhile is refused, not published unseen)."""
        submissions = self.selected(request, queryset)
        if "apply" in request.POST:
            for submission in submissions:
                reviewed = converters.posted_revision(request.POST, f"revision-{submission.pk}")
                if reviewed is None:
                    messages.error(
                        request,
                        f"{submission.name} was not approved: the confirmation did not say "
                        "which revision. Select it again.",
                    )
                    continue
                decide(request, submission, Event.Action.APPROVE, revision_number=reviewed)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Approve and publish",
            "subtitle": None,
            "opts": self.opts,
            "rows": [
                (submission, self.diff(submission), lint_summary(submission))
                for submission in submissions
            ],
            "action": "approve_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/agents/submission/approve.html", context)

    @admin.action(description="Request changes to selected agents…", permissions=["review"])
    def request_changes_selected(
        self, request: HttpRequest, queryset: QuerySet[Submission]
    ) -> HttpResponse | None:
        submissions = self.selected(request, queryset)
        form = RequestChangesForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for submission in submissions:
                decide(
                    request,
                    submission,
                    Event.Action.REQUEST_CHANGES,
                    comment=form.cleaned_data["comment"],
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Request changes",
            "subtitle": None,
            "opts": self.opts,
            "submissions": submissions,
            "form": form,
            "action": "request_changes_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/agents/submission/request_changes.html", context)

    def selected(self, request: HttpRequest, queryset: QuerySet[Submission]) -> list[Submission]:
        """The agents the reviewer ticked, in the queue or not: each gets its own report.

        The action's queryset holds those still in review; one that someone else decided on
        since the queue was shown is loaded too, as the queue showed it (in review), so that its
        transition fails and says why.
        """
        # Whole rows, with the published file to diff against (the list loads only its columns).
        queryset = queryset.defer(None).select_related("owner", "published_revision")
        submissions = list(with_latest_revision(queryset))
        if request.POST.get("select_across") == "1":
            return submissions
        in_queue = {submission.pk for submission in submissions}
        ticked = {
            int(pk) for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if pk.isdigit()
        }
        gone = Submission.objects.filter(pk__in=ticked - in_queue).with_submission()
        for submission in with_latest_revision(gone):
            submission.now = submission.get_status_display().lower()
            submission.status = Agent.Status.IN_REVIEW
            submissions.append(submission)
        return sorted(submissions, key=lambda submission: submission.name)


REVIEW_DECISIONS = (Event.Action.APPROVE, Event.Action.REQUEST_CHANGES)


def with_latest_revision(submissions: QuerySet[Submission]) -> QuerySet[Submission]:
    """Each agent with the number and text of its latest revision: what approving publishes."""
    return submissions.annotate(
        latest_number=F("latest_revision__number"),
        latest_text=F("latest_revision__text"),
        latest_lint_findings=F("latest_revision__lint_findings"),
    )


def lint_summary(submission: Submission) -> str:
    """What lint says about the revision approving would publish: its errors (approving is then
    refused) and warnings, for the reviewer to see before confirming."""
    return report.summary(report.from_record(submission.latest_lint_findings or []))


def decided(agent: Agent, event: Event) -> str:
    if event.action == Event.Action.APPROVE:
        return f"{agent.name} is approved: everyone now downloads revision {event.revision.number}."
    return f"{agent.name} was sent back to its author with your comment."


def decide(
    request: HttpRequest,
    agent: Agent,
    action: str,
    comment: str = "",
    revision_number: int | None = None,
) -> None:
    """Take one review step and report it, success or refusal, as a message about this agent."""
    try:
        event = workflow.transition(
            agent, action, request.user, comment=comment, revision_number=revision_number
        )
    except (PermissionDenied, WorkflowError) as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, decided(agent, event))
