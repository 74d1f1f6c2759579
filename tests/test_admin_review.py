"""The review workflow in the admin: the queue, the decisions, archive and restore, the audit
trail, who may open and change what, and saves from stale pages."""

from __future__ import annotations

import html
import re
import threading

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.urls import reverse

from agents import workflow
from agents.models import Agent, Event, Revision

from .factories import AgentFactory, approve
from .helpers import assert_same_query_count, query_counts
from .test_admin import change_post, change_url

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:agents_submission_changelist")
AGENTS = reverse("admin:agents_agent_changelist")
EVENTS = reverse("admin:agents_event_changelist")
REVISIONS = reverse("admin:agents_revision_changelist")


def review_url(agent: Agent) -> str:
    return reverse("admin:agents_submission_change", args=[agent.pk])


def workflow_url(agent: Agent) -> str:
    return reverse("admin:agents_agent_workflow", args=[agent.pk])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit(agent: Agent, user, description: str, note: str = "") -> Revision:
    """Change the agent's description and save it as a new revision, as ``user``."""
    agent.description = description
    agent.save()
    return workflow.record_revision(agent, user, note=note)


def submitted(owner, name: str = "code-reviewer", by=None, note: str = "Sharper description"):
    """A published agent with a new revision submitted for review (by ``by``, or its owner)."""
    agent = AgentFactory(name=name, owner=owner, steps=2, tools=2, published=True)
    edit(agent, by or owner, "Reviews code <carefully> & kindly. Use proactively.", note)
    workflow.transition(agent, "submit", by or owner, comment=note)
    return agent


def texts(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def status_of(agent: Agent) -> str:
    return Agent.objects.values_list("status", flat=True).get(pk=agent.pk)


# --- the queue --------------------------------------------------------------------------------


def test_queue_lists_submissions_with_submitter_time_and_a_link_to_each_diff(author, reviewer):
    agent = submitted(author, note="Sharper description")
    new = AgentFactory(name="brand-new", owner=author)
    workflow.transition(new, "submit", author)
    AgentFactory(name="still-a-draft", owner=author)

    response = client_for(reviewer).get(QUEUE)

    assert response.status_code == 200
    rows = response.context["cl"].result_list
    assert [row.name for row in rows] == ["code-reviewer", "brand-new"]  # first come first
    content = response.content.decode()
    assert "still-a-draft" not in content
    assert rows[0].submitted_by_name == "author"
    assert rows[0].submitted_at == agent.events.get(action="submit").created_at
    assert "Sharper description" in content
    # The diffs are built when a submission is opened, not for the whole list.
    assert "Reviews change number" not in content
    assert f'<a href="{review_url(agent)}">Review r2 against r1</a>' in content
    assert f'<a href="{review_url(new)}">Review r1 against nothing published yet</a>' in content
    opened = client_for(reviewer).get(review_url(agent)).content.decode()
    assert "-description: Reviews change number" in opened
    assert "+description: Reviews code &lt;carefully&gt; &amp; kindly." in opened
    assert "<carefully>" not in opened


def test_queue_is_for_reviewers_only(author, reviewer, admin_client):
    submitted(author)

    assert client_for(author).get(QUEUE).status_code == 403
    assert client_for(author).get(review_url(Agent.objects.get())).status_code == 403
    assert "review queue" not in client_for(author).get(reverse("admin:index")).content.decode()
    assert "Review queue" in client_for(reviewer).get(reverse("admin:index")).content.decode()
    assert admin_client.get(QUEUE).status_code == 200


def test_queue_cannot_add_change_or_delete(author, reviewer):
    agent = submitted(author)
    reviewer_client = client_for(reviewer)

    assert reviewer_client.get(reverse("admin:agents_submission_add")).status_code == 403
    delete = reverse("admin:agents_submission_delete", args=[agent.pk])
    assert reviewer_client.post(delete, {"post": "yes"}).status_code == 403
    assert Agent.objects.filter(pk=agent.pk).exists()


def test_review_page_shows_the_diff_unified_and_side_by_side_escaped(author, reviewer):
    agent = submitted(author)

    response = client_for(reviewer).get(review_url(agent))

    assert response.status_code == 200
    content = response.content.decode()
    assert '<pre class="agent-diff" id="unified-diff">' in content
    assert "+description: Reviews code &lt;carefully&gt; &amp; kindly." in content
    assert '<table class="diff"' in content
    assert "Reviews code &lt;carefully&gt; &amp; kindly." in content
    assert "<carefully>" not in content
    assert "r1 (published)" in content
    assert "r2 (submitted)" in content
    assert 'name="decision" value="approve"' in content
    assert 'name="decision" value="request_changes"' in content
    compare = reverse("agents:compare", kwargs={"name": agent.name}) + "?from=1&amp;to=2"
    assert f'href="{compare}"' in content
    submitted_file = reverse("agents:revision", kwargs={"name": agent.name, "number": 2})
    assert f'href="{submitted_file}">Download the submitted file</a>' in content


def test_approving_from_the_queue_publishes_the_submitted_file(author, reviewer):
    agent = submitted(author)
    submitted_text = agent.latest_revision.text
    page = client_for(reviewer)
    shown = page.get(review_url(agent)).content.decode()
    assert '<input type="hidden" name="revision" value="2">' in shown
    assert "Approve and publish revision 2</button>" in shown

    response = page.post(
        review_url(agent), {"decision": "approve", "revision": "2", "comment": "Nice."}, follow=True
    )

    assert "code-reviewer is approved: everyone now downloads revision 2." in texts(response)
    agent.refresh_from_db()
    assert agent.status == Agent.Status.APPROVED
    assert agent.published_revision.number == 2
    download = client_for(author).get(agent.get_download_url())
    assert download.status_code == 200
    assert download.content == submitted_text.encode()
    assert b"<carefully>" in download.content
    event = agent.events.get(action="approve")
    assert (event.actor, event.comment) == (reviewer, "Nice.")


def test_request_changes_without_a_comment_is_refused(author, reviewer):
    agent = submitted(author)
    events = Event.objects.count()

    response = client_for(reviewer).post(
        review_url(agent), {"decision": "request_changes", "comment": "  "}
    )

    assert response.status_code == 200
    assert "a comment is required to request changes to" in response.content.decode()
    assert status_of(agent) == Agent.Status.IN_REVIEW
    assert Event.objects.count() == events


def test_request_changes_with_a_comment_sends_the_agent_back(author, reviewer, mailoutbox):
    agent = submitted(author)

    response = client_for(reviewer).post(
        review_url(agent),
        {"decision": "request_changes", "comment": "Say what 'kindly' means."},
        follow=True,
    )

    assert "code-reviewer was sent back to its author with your comment." in texts(response)
    assert status_of(agent) == Agent.Status.CHANGES_REQUESTED
    assert agent.events.get(action="request_changes").comment == "Say what 'kindly' means."


def test_a_reviewer_cannot_approve_their_own_submission(admin_client, admin_user, author):
    agent = AgentFactory(name="code-reviewer", owner=author)
    workflow.transition(agent, "submit", admin_user)  # a superuser may edit and submit anything

    page = admin_client.get(review_url(agent)).content.decode()
    response = admin_client.post(review_url(agent), {"decision": "approve", "revision": "1"})

    assert (
        '<span class="help" id="approve-refusal">You submitted code-reviewer; someone else has '
        "to approve it.</span>" in page
    )
    assert 'value="approve" disabled' in page
    assert response.status_code == 200
    assert (
        "You submitted code-reviewer; someone else has to approve it." in response.content.decode()
    )
    assert status_of(agent) == Agent.Status.IN_REVIEW


def test_a_decision_on_an_agent_no_longer_in_review_says_so(author, reviewer, other_reviewer):
    agent = submitted(author)
    page = client_for(reviewer)
    page.get(review_url(agent))
    approve(agent, other_reviewer)

    response = page.post(review_url(agent), {"decision": "approve", "revision": "2"}, follow=True)

    assert "code-reviewer is approved, not in review." in texts(response)
    assert agent.events.filter(action="approve").count() == 1


# --- many at once -----------------------------------------------------------------------------


def hidden_inputs(page: str) -> dict[str, list[str]]:
    """The hidden fields of a page's forms, as the browser would post them back."""
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page):
        fields.setdefault(name, []).append(html.unescape(value))
    return fields


def test_bulk_approve_shows_each_revision_then_approves_exactly_those(
    admin_client, admin_user, author, other_reviewer
):
    fine = submitted(author, name="fine")
    own = submitted(author, name="own", by=admin_user)
    taken = submitted(author, name="taken")
    changed = submitted(author, name="changed")
    ticked = [fine.pk, own.pk, taken.pk, changed.pk]

    asked = admin_client.post(
        QUEUE, {"action": "approve_selected", "index": "0", ACTION_CHECKBOX_NAME: ticked}
    )

    assert asked.status_code == 200
    page = asked.content.decode()
    rows = re.findall(
        r"<tr>\s*<td><a [^>]*>([^<]+)</a>.*?</td>\s*<td>(\d+)</td>\s*<td>(\w+)</td>\s*"
        r"<td><details class=\"agent-diff\"><summary>([^<]+)</summary>",
        page,
        re.DOTALL,
    )
    assert rows == [
        ("changed", "2", "author", "2 lines changed"),
        ("fine", "2", "author", "2 lines changed"),
        ("own", "2", "admin", "2 lines changed"),
        ("taken", "2", "author", "2 lines changed"),
    ]
    confirm = hidden_inputs(page)
    assert confirm["action"] == ["approve_selected"]
    assert sorted(int(pk) for pk in confirm[ACTION_CHECKBOX_NAME]) == sorted(ticked)
    assert {confirm[f"revision-{agent.pk}"][0] for agent in (fine, own, taken, changed)} == {"2"}
    assert status_of(fine) == Agent.Status.IN_REVIEW  # nothing is approved before confirming

    # While the reviewer reads the page: someone else approves one, the author resubmits one.
    approve(taken, other_reviewer)
    workflow.transition(changed, "withdraw", author)
    edit(changed, author, "Something else entirely.")
    workflow.transition(changed, "submit", author)
    done = admin_client.post(QUEUE, {**confirm, "apply": "Approve and publish"}, follow=True)

    [stale, *others] = texts(done)
    assert stale.startswith(
        "changed changed after you opened it: you reviewed revision 2, but revision 3, saved by "
        "author at "
    )
    assert stale.endswith("Nothing was approved: review revision 3 first.")
    assert others == [
        "fine is approved: everyone now downloads revision 2.",
        "You submitted own; someone else has to approve it.",
        "taken is approved now, so it cannot be approved (someone else acted on it first).",
    ]
    assert status_of(fine) == Agent.Status.APPROVED
    assert status_of(own) == Agent.Status.IN_REVIEW
    assert status_of(changed) == Agent.Status.IN_REVIEW
    assert Agent.objects.get(pk=changed.pk).published_revision.number == 1
    assert list(taken.events.filter(action="approve").values_list("actor", flat=True)) == [
        other_reviewer.pk
    ]
    # The messages name the agents as written, on the page the reviewer lands on.
    assert '<li class="success">fine is approved' in done.content.decode()


def test_a_bulk_approval_without_its_revision_numbers_approves_nothing(author, reviewer):
    agent = submitted(author)

    response = client_for(reviewer).post(
        QUEUE,
        {
            "action": "approve_selected",
            "apply": "Approve and publish",
            ACTION_CHECKBOX_NAME: [agent.pk],
        },
        follow=True,
    )

    assert texts(response) == [
        "code-reviewer was not approved: the confirmation did not say which revision. Select it "
        "again."
    ]
    assert status_of(agent) == Agent.Status.IN_REVIEW


def test_bulk_request_changes_asks_for_a_comment_first(author, reviewer):
    first = submitted(author, name="first")
    second = submitted(author, name="second")
    selected = {"action": "request_changes_selected", ACTION_CHECKBOX_NAME: [first.pk, second.pk]}
    reviewer_client = client_for(reviewer)

    asked = reviewer_client.post(QUEUE, {**selected, "index": "0"})
    empty = reviewer_client.post(QUEUE, {**selected, "apply": "Request changes", "comment": " "})

    assert asked.status_code == 200
    assert '<ul id="request-changes-agents">' in asked.content.decode()
    assert "<li>first</li>" in asked.content.decode()
    assert empty.status_code == 200
    assert "a comment is required to request changes" in empty.content.decode()
    assert status_of(first) == status_of(second) == Agent.Status.IN_REVIEW

    done = reviewer_client.post(
        QUEUE, {**selected, "apply": "Request changes", "comment": "Add examples."}, follow=True
    )

    assert texts(done) == [
        "first was sent back to its author with your comment.",
        "second was sent back to its author with your comment.",
    ]
    assert status_of(first) == status_of(second) == Agent.Status.CHANGES_REQUESTED
    assert set(
        Event.objects.filter(action="request_changes").values_list("comment", flat=True)
    ) == {"Add examples."}


def test_authors_cannot_run_the_queue_actions(author, other_author):
    agent = submitted(other_author)

    response = client_for(author).post(
        QUEUE, {"action": "approve_selected", "index": "0", ACTION_CHECKBOX_NAME: [agent.pk]}
    )

    assert response.status_code == 403
    assert status_of(agent) == Agent.Status.IN_REVIEW


# --- the workflow box on an agent's page ------------------------------------------------------


def test_author_submits_and_withdraws_from_the_agent_page(author):
    agent = AgentFactory(name="code-reviewer", owner=author)
    author_client = client_for(author)

    page = author_client.get(change_url(agent)).content.decode()
    response = author_client.post(
        workflow_url(agent), {"action": "submit", "comment": "First version."}, follow=True
    )

    assert 'form="agent-workflow" name="action" value="submit"' in page
    assert 'value="archive"' not in page  # archiving is for admins
    assert "Submitted for review: code-reviewer." in texts(response)
    assert status_of(agent) == Agent.Status.IN_REVIEW
    assert agent.events.get(action="submit").comment == "First version."
    in_review = author_client.get(change_url(agent)).content.decode()
    assert "code-reviewer is in review: withdraw it from review before changing it." in in_review
    assert 'value="withdraw"' in in_review

    author_client.post(workflow_url(agent), {"action": "withdraw"})

    assert status_of(agent) == Agent.Status.DRAFT


def test_the_agent_page_refuses_steps_it_does_not_offer(author, other_author):
    agent = AgentFactory(name="code-reviewer", owner=author)
    workflow.transition(agent, "submit", author)

    approve = client_for(author).post(workflow_url(agent), {"action": "approve"}, follow=True)
    stranger = client_for(other_author).post(workflow_url(agent), {"action": "withdraw"})

    assert "Choose one of the workflow buttons." in texts(approve)
    assert stranger.status_code == 403
    assert status_of(agent) == Agent.Status.IN_REVIEW


def test_a_reviewer_sees_a_link_to_the_queue_on_the_agent_page(author, reviewer):
    agent = submitted(author)

    content = client_for(reviewer).get(change_url(agent)).content.decode()

    assert f'href="{review_url(agent)}">Review it in the queue</a>' in content


# --- archive and restore ----------------------------------------------------------------------


def test_archive_hides_the_agent_and_its_download_then_restore_brings_them_back(
    admin_client, author
):
    agent = AgentFactory(name="old-helper", owner=author, published=True)
    AgentFactory(name="kept")
    download = client_for(author)
    assert download.get(agent.get_download_url()).status_code == 200

    response = admin_client.post(workflow_url(agent), {"action": "archive"}, follow=True)

    assert "Archived: old-helper." in texts(response)
    listed = {a.name for a in admin_client.get(AGENTS).context["cl"].result_list}
    assert listed == {"kept"}
    every = admin_client.get(AGENTS, {"status": "all"}).context["cl"].result_list
    assert {a.name for a in every} == {"old-helper", "kept"}
    archived = admin_client.get(AGENTS, {"status": "archived"}).context["cl"].result_list
    assert {a.name for a in archived} == {"old-helper"}
    assert download.get(agent.get_download_url()).status_code == 404
    page = admin_client.get(change_url(agent)).content.decode()
    assert "old-helper is archived: restore it before changing it." in page

    admin_client.post(workflow_url(agent), {"action": "restore"})

    assert status_of(agent) == Agent.Status.DRAFT
    assert "old-helper" in {a.name for a in admin_client.get(AGENTS).context["cl"].result_list}
    assert download.get(agent.get_download_url()).status_code == 200


def test_only_admins_archive(author):
    agent = AgentFactory(name="code-reviewer", owner=author, published=True)

    response = client_for(author).post(workflow_url(agent), {"action": "archive"}, follow=True)

    assert "You may not archive code-reviewer: that needs the admin role." in texts(response)
    assert status_of(agent) == Agent.Status.APPROVED


def test_agents_are_never_deleted_from_the_admin(admin_client):
    agent = AgentFactory(name="code-reviewer")

    delete = reverse("admin:agents_agent_delete", args=[agent.pk])

    assert admin_client.get(delete).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(AGENTS).context["action_form"] is None  # no "delete selected"


def test_status_cannot_be_set_through_the_change_form(admin_client):
    agent = AgentFactory(name="code-reviewer", steps=1)

    response = admin_client.post(change_url(agent), change_post(agent, status="approved"))

    assert response.status_code == 302
    assert status_of(agent) == Agent.Status.DRAFT


# --- the audit trail --------------------------------------------------------------------------


def test_audit_trail_cannot_be_added_changed_or_deleted(admin_client, author):
    agent = submitted(author)
    event = agent.events.get(action="submit")
    change = reverse("admin:agents_event_change", args=[event.pk])

    assert admin_client.get(reverse("admin:agents_event_add")).status_code == 403
    assert admin_client.post(change, {"comment": "rewritten"}).status_code == 403
    delete = reverse("admin:agents_event_delete", args=[event.pk])
    assert admin_client.get(delete).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(change).status_code == 200  # shown, read-only
    event.refresh_from_db()
    assert event.comment == "Sharper description"


def test_audit_trail_filters_by_agent_action_status_and_actor(admin_client, author, reviewer):
    agent = submitted(author)
    other = submitted(author, name="other")
    approve(agent, reviewer)

    def listed(**params):
        response = admin_client.get(EVENTS, params)
        assert response.status_code == 200
        return [(e.agent.name, e.action) for e in response.context["cl"].result_list]

    assert listed(action="approve") == [("code-reviewer", "approve")]
    assert listed(to_status="in_review") == [("other", "submit"), ("code-reviewer", "submit")]
    assert listed(actor__id__exact=reviewer.pk) == [("code-reviewer", "approve")]
    assert {name for name, _ in listed(agent=other.pk)} == {"other"}
    assert [a for _, a in listed(agent=other.pk)] == ["submit", "edit", "publish", "create"]
    assert {name for name, _ in listed(q="other")} == {"other"}
    content = admin_client.get(EVENTS, {"agent": other.pk}).content.decode()
    assert "in review → approved" not in content
    assert "draft → in review" in content
    assert "operator" in content  # the factory published as the operator


def test_agent_page_links_to_its_audit_trail_and_revisions(admin_client, author):
    agent = submitted(author)

    content = admin_client.get(change_url(agent)).content.decode()

    assert f'href="{EVENTS}?agent={agent.pk}"' in content
    assert reverse("agents:revision", kwargs={"name": agent.name, "number": 2}) in content
    assert reverse("agents:revision", kwargs={"name": agent.name, "number": 1}) in content
    compare = reverse("agents:compare", kwargs={"name": agent.name}) + "?from=1&amp;to=2"
    assert f'href="{compare}"' in content
    assert reverse("agents:history", kwargs={"name": agent.name}) in content
    assert "Sharper description" in content  # the revision's note


def test_an_author_sees_the_trail_of_their_agents_and_only_publications_of_others(
    author, other_author
):
    submitted(author, name="mine")
    submitted(other_author, name="theirs")
    AgentFactory(name="their-draft", owner=other_author)

    response = client_for(author).get(EVENTS)

    assert response.status_code == 200
    seen = {(event.agent.name, event.action) for event in response.context["cl"].result_list}
    assert seen == {
        ("mine", "create"),
        ("mine", "publish"),
        ("mine", "edit"),
        ("mine", "submit"),
        ("theirs", "publish"),
    }


def test_revisions_are_shown_never_added_changed_or_deleted(admin_client, author):
    agent = submitted(author)
    revision = agent.revisions.get(number=2)
    change = reverse("admin:agents_revision_change", args=[revision.pk])

    listed = admin_client.get(REVISIONS, {"q": "code-reviewer"})
    page = admin_client.get(change)

    assert [(r.agent.name, r.number) for r in listed.context["cl"].result_list] == [
        ("code-reviewer", 2),
        ("code-reviewer", 1),
    ]
    assert "Reviews code &lt;carefully&gt;" in page.content.decode()
    assert admin_client.get(reverse("admin:agents_revision_add")).status_code == 403
    assert admin_client.post(change, {"note": "rewritten"}).status_code == 403
    delete = reverse("admin:agents_revision_delete", args=[revision.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Revision.objects.get(pk=revision.pk).note == "Sharper description"


# --- who may open and change what -------------------------------------------------------------


def test_an_author_cannot_open_or_change_another_authors_agent(author, other_author):
    agent = AgentFactory(name="theirs", owner=other_author, steps=1, published=True)
    data = change_post(agent, description="Mine now.")
    author_client = client_for(author)

    assert author_client.get(change_url(agent)).status_code == 403
    assert author_client.post(change_url(agent), data).status_code == 403
    assert "theirs" not in {a.name for a in author_client.get(AGENTS).context["cl"].result_list}
    assert Agent.objects.get(pk=agent.pk).description != "Mine now."


def test_a_maintainer_opens_and_changes_the_agent(author, other_author):
    agent = AgentFactory(name="shared", owner=other_author, steps=1)
    agent.maintainers.add(author)
    author_client = client_for(author)

    page = author_client.get(change_url(agent))
    response = author_client.post(
        change_url(agent), change_post(agent, description="Better.", change_note="Clearer.")
    )

    assert page.status_code == 200
    assert response.status_code == 302, response.context["errors"]
    revision = agent.revisions.get(number=2)
    assert (revision.author, revision.note) == (author, "Clearer.")
    assert "description: Better.\n" in revision.text
    assert "shared" in {a.name for a in author_client.get(AGENTS).context["cl"].result_list}


def test_a_reviewer_can_view_an_agent_but_not_change_it(author, reviewer):
    agent = AgentFactory(name="code-reviewer", owner=author, steps=1)
    reviewer_client = client_for(reviewer)

    page = reviewer_client.get(change_url(agent))
    response = reviewer_client.post(change_url(agent), change_post(agent, description="No."))

    assert page.status_code == 200
    assert 'name="description"' not in page.content.decode()  # read-only
    assert response.status_code == 403
    assert reviewer_client.get(reverse("admin:agents_agent_add")).status_code == 403
    assert Agent.objects.get(pk=agent.pk).description != "No."


def test_an_author_creates_an_agent_they_own_as_revision_1(author):
    from .test_admin import ADD, agent_post

    response = client_for(author).post(ADD, agent_post(change_note="First draft."))

    assert response.status_code == 302, response.context["errors"]
    agent = Agent.objects.get(name="code-reviewer")
    assert agent.owner == author
    revision = agent.revisions.get()
    assert (revision.number, revision.author, revision.note) == (1, author, "First draft.")
    assert agent.events.get().action == "create"


def test_maintainers_are_picked_among_authors(admin_client, author, reviewer):
    agent = AgentFactory(name="code-reviewer")

    field = admin_client.get(change_url(agent)).context["adminform"].form.fields["maintainers"]

    assert set(field.queryset) == {author}


def test_a_user_without_a_role_cannot_use_the_agent_admin(django_user_model):
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    agent = AgentFactory(name="code-reviewer")

    assert client_for(staff).get(AGENTS).status_code == 403
    assert client_for(staff).get(change_url(agent)).status_code == 403


# --- saves from stale pages -------------------------------------------------------------------


def test_a_save_from_a_stale_page_fails_and_shows_what_changed(author, other_author):
    agent = AgentFactory(name="shared", owner=author, steps=1)
    agent.maintainers.add(other_author)
    first, second = client_for(author), client_for(other_author)
    seen_by_first = first.get(change_url(agent)).context["adminform"].form["base_revision"]
    seen_by_second = second.get(change_url(agent)).context["adminform"].form["base_revision"]
    assert seen_by_first.value() == seen_by_second.value() == 1
    stale = change_post(agent, description="First's <version>.")

    saved = second.post(change_url(agent), change_post(agent, description="Second's version."))
    refused = first.post(change_url(agent), stale)

    assert saved.status_code == 302
    assert refused.status_code == 200
    content = refused.content.decode()
    assert (
        "Someone else changed shared while you were editing it: revision 2 was saved by other"
        in content
    )
    assert '<pre class="agent-diff">' in content
    assert "-description: Reviews change number" in content
    assert "+description: Second&#x27;s version." in content
    assert "First&#x27;s &lt;version&gt;." in content  # the user's input is still in the form
    assert list(agent.revisions.values_list("number", flat=True)) == [2, 1]
    assert Agent.objects.get(pk=agent.pk).description == "Second's version."
    # Having seen their change, saving again replaces it.
    assert refused.context["adminform"].form["base_revision"].value() == "2"
    stale["base_revision"] = "2"
    assert first.post(change_url(agent), stale).status_code == 302
    assert Agent.objects.get(pk=agent.pk).description == "First's <version>."


def test_editing_an_agent_in_review_is_refused(author):
    agent = AgentFactory(name="code-reviewer", owner=author, steps=1)
    workflow.transition(agent, "submit", author)

    response = client_for(author).post(change_url(agent), change_post(agent, description="Sneaky."))

    assert response.status_code == 200
    assert (
        "code-reviewer is in review: withdraw it from review before changing it."
        in response.content.decode()
    )
    assert Agent.objects.get(pk=agent.pk).description != "Sneaky."
    assert agent.revisions.count() == 1


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migrated_data")  # an earlier transactional test emptied the roles
def test_two_stale_saves_at_the_same_moment_land_once(author, other_author):
    agent = AgentFactory(name="shared", owner=author, steps=1)
    agent.maintainers.add(other_author)
    posts = [
        (client_for(author), change_post(agent, description="Author's version.")),
        (client_for(other_author), change_post(agent, description="Other's version.")),
    ]
    barrier = threading.Barrier(len(posts))
    responses = [None] * len(posts)

    def save(index: int) -> None:
        client, data = posts[index]
        try:
            barrier.wait(timeout=10)
            responses[index] = client.post(change_url(agent), data)
        except Exception as exc:  # noqa: BLE001 -- shown by the assertion below
            responses[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(index,)) for index in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(isinstance(response, Exception) for response in responses), responses
    codes = sorted(response.status_code for response in responses)
    assert codes == [200, 302]
    refused = next(response for response in responses if response.status_code == 200)
    assert "Someone else changed shared while you were editing it" in refused.content.decode()
    revisions = list(agent.revisions.order_by("number"))
    assert [revision.number for revision in revisions] == [1, 2]
    winner = Agent.objects.get(pk=agent.pk).description
    assert f"description: {winner}\n" in revisions[1].text
    assert agent.events.filter(action="edit").count() == 1


# --- query counts -----------------------------------------------------------------------------


def test_queue_query_count_does_not_grow(author, reviewer):
    reviewer_client = client_for(reviewer)

    def queue_of(count: int, start: int) -> None:
        for n in range(start, start + count):
            submitted(author, name=f"agent-{n:03}")

    queue_of(3, 0)
    # session, user, the reviewer's groups, count of the queue, count of all agents, the
    # sidebar's app list (the user's and their groups' model permissions), the page (agents +
    # owner + published revision, submitter and latest revision as subqueries)
    assert_same_query_count(lambda: reviewer_client.get(QUEUE), lambda: queue_of(27, 3))
    response = reviewer_client.get(QUEUE)
    assert len(response.context["cl"].result_list) == 30


def test_change_page_query_count_does_not_grow_with_revisions(admin_client, author):
    few = AgentFactory(owner=author, steps=2, tools=2)
    many = AgentFactory(owner=author, steps=2, tools=2)
    edit(few, author, "Second.")
    for n in range(19):
        edit(many, author, f"Version {n + 2}.")
    assert (few.revisions.count(), many.revisions.count()) == (2, 20)

    # session, user, agent (+owner, published and latest revision numbers), its tools and
    # maintainers (prefetch); the form's base revision; the inlines: tools, steps (+agent),
    # sections, revisions (+agent, author, published number); content type (history link;
    # cleared so both runs look it up); owner choices, maintainer choices; the preview: agent,
    # tools, sections, steps; the tool picker: registry, MCP tools
    def page(agent, revisions: int) -> None:
        ContentType.objects.clear_cache()
        response = admin_client.get(change_url(agent))
        assert len(response.context["inline_admin_formsets"][-1].formset.forms) == revisions

    small, large = query_counts(lambda: page(few, 2), lambda: page(many, 20))
    assert small == large


def test_audit_trail_query_count_does_not_grow(admin_client, author):
    for n in range(3):
        submitted(author, name=f"agent-{n}")

    def more() -> None:
        for n in range(3, 30):
            submitted(author, name=f"agent-{n}")

    # session, user, actor filter choices, count of events, count of all events, page of events
    # (+agent, actor, revision number), date hierarchy (first and last date, then the dates)
    assert_same_query_count(lambda: admin_client.get(EVENTS), more)
    assert admin_client.get(EVENTS).context["cl"].result_count == Event.objects.count() > 100
