"""The portal's review pages: the queue (/agents/review/) and an agent's review page
(/agents/<name>/review/): who may open them, what they show, and the decisions taken there."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents import workflow
from agents.models import Agent, AgentTool, Event, Revision

from .conftest import member_of
from .factories import AgentFactory, approve
from .helpers import query_counts

pytestmark = pytest.mark.django_db

QUEUE = reverse("agents:queue")


def review_url(agent: Agent) -> str:
    return reverse("agents:review", kwargs={"name": agent.slug})


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
    """A published agent (revision 1) with revision 2 submitted for review."""
    agent = AgentFactory(name=name, owner=owner, steps=2, tools=2, published=True)
    edit(agent, by or owner, "Reviews code <carefully> & kindly. Use proactively.", note)
    workflow.transition(agent, "submit", by or owner, comment=note)
    return agent


def texts(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def status_of(agent: Agent) -> str:
    return Agent.objects.values_list("status", flat=True).get(pk=agent.pk)


def section(page: str, element_id: str) -> str:
    """The text of the element with this id (up to its closing tag), unescaped."""
    match = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no element #{element_id} on the page"
    return html.unescape(re.sub(r"<[^>]+>", "\n", match.group(2)))


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_lists_agents_in_review_oldest_first_with_submitter_note_and_changes(
    author, reviewer
):
    older = submitted(author, name="code-reviewer", note="Sharper <b>description</b>")
    new = AgentFactory(name="Brand New", owner=author)
    workflow.transition(new, "submit", author, comment="First version")
    AgentFactory(name="still-a-draft", owner=author)
    two_days_ago = timezone.now() - timedelta(days=2)
    Event.objects.filter(agent=older, action="submit").update(created_at=two_days_ago)
    Agent.objects.filter(pk=older.pk).update(submitted_at=two_days_ago)  # kept on the row too

    response = client_for(reviewer).get(QUEUE)

    assert response.status_code == 200
    page = response.content.decode()
    assert [agent.name for agent in response.context["page"]] == ["code-reviewer", "Brand New"]
    assert page.index("code-reviewer") < page.index("Brand New")  # longest waiting first
    assert f'href="{review_url(older)}">code-reviewer</a>' in page
    assert f'href="{review_url(new)}">Brand New</a>' in page  # the name as written
    assert "still-a-draft" not in page
    assert "Submitted by <strong>author</strong>" in page
    assert "Sharper &lt;b&gt;description&lt;/b&gt;" in page
    assert "<b>description" not in page
    assert "2\xa0days ago" in page
    # The diffs are on the review pages, built when one is opened: the queue links to them.
    assert f'<a href="{review_url(older)}">The changes against published revision 1</a>' in page
    assert f'<a href="{review_url(new)}">New agent: the whole file</a>' in page
    assert "+description" not in page


def test_the_review_page_counts_the_lines_its_diff_shows(author, reviewer):
    agent = submitted(author)
    workflow.transition(agent, "withdraw", author)
    agent.tool_entries.all().delete()  # the tools line goes
    edit(agent, author, "Another description. Use proactively.")
    workflow.transition(agent, "submit", author)

    review = client_for(reviewer).get(review_url(agent)).content.decode()

    unified = section(review, "against-published-unified").splitlines()
    added = sum(1 for line in unified if line.startswith("+") and not line.startswith("+++ "))
    removed = sum(1 for line in unified if line.startswith("-") and not line.startswith("--- "))
    assert (added, removed) == (1, 2)
    assert '<span class="added">+1</span> <span class="removed">&minus;2</span>' in review


def test_the_queue_says_when_nothing_waits(reviewer):
    response = client_for(reviewer).get(QUEUE)

    assert "Nothing is waiting for review." in response.content.decode()


def test_the_queue_says_which_submissions_are_the_reviewers_own(django_user_model, author):
    both = member_of(
        django_user_model.objects.create_user("both", "both@example.com", "pw-both"),
        "Authors",
        "Reviewers",
    )
    submitted(both, name="mine")

    page = client_for(both).get(QUEUE).content.decode()

    assert "Submitted by <strong>both</strong> (you)" in page


def test_review_pages_are_for_reviewers_only(client, author, reader, reviewer, admin_client):
    agent = submitted(author)

    for user in (author, reader):
        assert client_for(user).get(QUEUE).status_code == 403
        assert client_for(user).get(review_url(agent)).status_code == 403
        response = client_for(user).post(review_url(agent), {"decision": "approve", "revision": 2})
        assert response.status_code == 403
    assert status_of(agent) == Agent.Status.IN_REVIEW
    signed_out = client.get(review_url(agent))
    assert signed_out.status_code == 302
    assert signed_out["Location"].startswith(reverse("login"))
    assert client_for(reviewer).get(QUEUE).status_code == 200
    assert admin_client.get(review_url(agent)).status_code == 200


def test_the_review_page_of_an_agent_that_does_not_exist_is_a_404(reviewer):
    response = client_for(reviewer).get(reverse("agents:review", kwargs={"name": "nobody"}))

    assert response.status_code == 404


# --- the review page --------------------------------------------------------------------------


def test_the_review_page_shows_the_diff_against_published_unified_and_side_by_side(
    author, reviewer
):
    agent = submitted(author)

    response = client_for(reviewer).get(review_url(agent))

    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Review code-reviewer</h1>" in page
    unified = section(page, "against-published-unified")
    assert "--- revision 1 (published)" in unified
    assert "+++ revision 2 (submitted)" in unified
    assert "-description: Reviews change number" in unified
    assert "+description: Reviews code <carefully> & kindly. Use proactively." in unified
    # Escaped in both views: the file's text is never markup.
    assert "<carefully>" not in page
    assert '<span class="add">+description: Reviews code &lt;carefully&gt; &amp; kindly.' in page
    assert '<table class="diff"' in page
    assert "Reviews&nbsp;code&nbsp;&lt;carefully&gt;" in page or (
        "Reviews code &lt;carefully&gt;" in page
    )
    assert "<summary>Side by side</summary>" in page
    submitted_file = reverse("agents:revision", kwargs={"name": agent.slug, "number": 2})
    assert f'href="{submitted_file}"' in page


def test_a_new_agent_is_shown_whole(author, reviewer):
    agent = AgentFactory(name="brand-new", owner=author)
    workflow.transition(agent, "submit", author)

    page = client_for(reviewer).get(review_url(agent)).content.decode()

    assert "Nothing is published yet: every line is new." in page
    unified = section(page, "against-published-unified")
    assert "+name: brand-new" in unified
    assert "Nobody has reviewed brand-new before: this is its first review." in page


def test_the_review_page_shows_the_note_and_the_whole_conversation_in_order(author, reviewer):
    agent = submitted(author, note="First try")
    workflow.transition(agent, "request_changes", reviewer, comment="Say what <kindly> means.")
    edit(agent, author, "Reviews code kindly: politely. Use proactively.")
    workflow.transition(agent, "submit", author, comment="Explained 'kindly'")

    page = client_for(reviewer).get(review_url(agent)).content.decode()

    assert section(page, "submit-note").strip() == "Explained 'kindly'"
    conversation = section(page, "conversation")
    said = ["First try", "Say what <kindly> means.", "Explained 'kindly'"]
    assert [conversation.index(text) for text in said] == sorted(
        conversation.index(text) for text in said
    )
    assert "author submitted revision 2 for review ·" in " ".join(conversation.split())
    assert "reviewer asked for changes to revision 2 ·" in " ".join(conversation.split())
    assert "&lt;kindly&gt;" in page and "<kindly>" not in page


def test_the_review_page_shows_what_lint_says_about_the_file(author, reviewer):
    agent = AgentFactory(name="Code_Reviewer", owner=author)
    AgentTool.objects.create(agent=agent, position=1, name="LS")
    AgentTool.objects.create(agent=agent, position=2, name="Frobnicate")
    workflow.record_revision(agent, author)
    workflow.transition(agent, "submit", author)

    page = client_for(reviewer).get(review_url(agent)).content.decode()

    warnings = section(page, "warnings")
    assert "'LS' is a legacy tool name: Claude Code maps it to 'Glob'" in warnings
    assert "unknown tool 'Frobnicate' in tools" in warnings
    assert "name 'Code_Reviewer'" in warnings
    assert "use lowercase letters, digits and single hyphens" in warnings
    assert "Line 4:" in warnings  # the tools line of the file


def test_a_clean_file_has_no_warnings(author, reviewer):
    agent = AgentFactory(owner=author)
    AgentTool.objects.create(agent=agent, position=1, name="Read")
    workflow.record_revision(agent, author)
    workflow.transition(agent, "submit", author)

    page = client_for(reviewer).get(review_url(agent)).content.decode()

    assert 'id="no-warnings"' in page
    assert 'id="warnings"' not in page


def test_an_agent_not_in_review_says_so_with_a_link_to_its_page(author, reviewer):
    agent = AgentFactory(name="code-reviewer", owner=author, published=True)

    response = client_for(reviewer).get(review_url(agent))

    assert response.status_code == 200
    page = response.content.decode()
    assert "code-reviewer is approved, not in review: nothing waits for a decision." in page
    assert f'href="{agent.get_absolute_url()}">Open the page of code-reviewer</a>' in page
    assert 'name="decision"' not in page


def test_an_agent_in_review_without_a_saved_file_has_nothing_to_decide(author, reviewer):
    agent = Agent.objects.create(name="bare", description="Saved by hand.", owner=author)
    workflow.transition(agent, "submit", author)

    response = client_for(reviewer).get(review_url(agent))

    assert response.status_code == 200
    assert "no file of it was ever saved: there is nothing to decide on yet." in (
        response.content.decode()
    )
    assert 'name="decision"' not in response.content.decode()


# --- since the last review --------------------------------------------------------------------


def test_changes_since_the_last_review_start_from_the_revision_sent_back(author, reviewer):
    agent = submitted(author)  # r1 published, r2 in review
    workflow.transition(agent, "request_changes", reviewer, comment="Shorter, please.")
    edit(agent, author, "Reviews code. Use proactively.")  # r3
    agent.model = "opus"
    agent.save()
    workflow.record_revision(agent, author)  # r4
    workflow.transition(agent, "submit", author, comment="Shorter")

    page = client_for(reviewer).get(review_url(agent)).content.decode()

    since = section(page, "since-review-unified")
    assert "--- revision 2 (changes requested)" in since
    assert "+++ revision 4 (submitted)" in since
    assert "-description: Reviews code <carefully> & kindly. Use proactively." in since
    assert "+description: Reviews code. Use proactively." in since
    assert "+model: opus" in since
    assert "Reviews change number" not in since  # the published text is not in this diff
    assert "From revision 2, sent back by reviewer" in page
    published = section(page, "against-published-unified")
    assert "--- revision 1 (published)" in published
    assert "-description: Reviews change number" in published


def test_an_agent_resubmitted_unchanged_says_nothing_changed_since_the_review(author, reviewer):
    agent = submitted(author)
    workflow.transition(agent, "request_changes", reviewer, comment="Why?")
    workflow.transition(agent, "submit", author, comment="Because.")

    page = client_for(reviewer).get(review_url(agent)).content.decode()

    assert "Revision 2 is the one reviewer reviewed" in page
    assert "it was resubmitted unchanged." in page
    assert 'id="since-review-unified"' not in page


def test_after_an_approval_the_changes_since_are_those_against_the_published_revision(
    author, reviewer
):
    agent = submitted(author)
    approve(agent, reviewer)  # r2 published
    edit(agent, author, "Third description. Use proactively.")
    workflow.transition(agent, "submit", author)

    page = client_for(reviewer).get(review_url(agent)).content.decode()

    assert "The last review published revision 2, the published one" in page
    assert "--- revision 2 (published)" in section(page, "against-published-unified")


# --- decisions --------------------------------------------------------------------------------


def test_approving_publishes_the_revision_the_page_showed(author, reviewer):
    agent = submitted(author)
    reviewer_client = client_for(reviewer)
    page = reviewer_client.get(review_url(agent)).content.decode()
    assert '<input type="hidden" name="revision" value="2">' in page
    assert "Approve and publish revision 2</button>" in page

    response = reviewer_client.post(
        review_url(agent), {"decision": "approve", "revision": "2", "comment": "Nice."}, follow=True
    )

    assert response.redirect_chain[-1][0] == QUEUE
    assert "code-reviewer is approved: everyone now downloads revision 2." in texts(response)
    agent.refresh_from_db()
    assert (agent.status, agent.published_revision.number) == (Agent.Status.APPROVED, 2)
    event = agent.events.get(action="approve")
    assert (event.actor, event.comment, event.revision.number) == (reviewer, "Nice.", 2)


def test_an_approval_that_does_not_name_its_revision_publishes_nothing(author, reviewer):
    agent = submitted(author)

    for revision in ({}, {"revision": ""}, {"revision": "two"}, {"revision": "99999999999"}):
        response = client_for(reviewer).post(
            review_url(agent), {"decision": "approve", **revision}, follow=True
        )
        assert "Reload the page: it did not say which revision you approved." in texts(response)

    assert status_of(agent) == Agent.Status.IN_REVIEW
    assert not agent.events.filter(action="approve").exists()


def test_a_stale_approval_publishes_nothing_and_shows_what_changed(author, reviewer):
    agent = submitted(author)  # the reviewer opens revision 2
    workflow.transition(agent, "withdraw", author)
    edit(agent, author, "Changed while you looked. Use proactively.")  # r3
    workflow.transition(agent, "submit", author)

    response = client_for(reviewer).post(review_url(agent), {"decision": "approve", "revision": 2})

    assert response.status_code == 200
    page = response.content.decode()
    assert "code-reviewer changed after you opened it: you reviewed revision 2" in html.unescape(
        page
    )
    assert "Nothing was approved: review revision 3 first." in page
    changed = section(page, "changed-since")
    assert "--- revision 2 (what you reviewed)" in changed
    assert "+description: Changed while you looked. Use proactively." in changed
    # The page now offers revision 3, for a new click.
    assert '<input type="hidden" name="revision" value="3">' in page
    agent.refresh_from_db()
    assert (agent.status, agent.published_revision.number) == (Agent.Status.IN_REVIEW, 1)


def test_the_submitter_is_told_before_trying_that_they_cannot_approve(
    django_user_model, author, reviewer
):
    both = member_of(
        django_user_model.objects.create_user("both", "both@example.com", "pw-both"),
        "Authors",
        "Reviewers",
    )
    agent = AgentFactory(name="code-reviewer", owner=both)
    workflow.transition(agent, "submit", both)
    own = client_for(both)

    page = own.get(review_url(agent)).content.decode()

    assert (
        '<p class="notice warn" id="approve-refusal">You submitted code-reviewer; someone else '
        "has to approve it.</p>" in page
    )
    assert 'value="approve"' not in page  # no button to press
    assert 'value="request_changes"' in page
    # Posting anyway is refused by the same rule, and nothing is published.
    response = own.post(review_url(agent), {"decision": "approve", "revision": 1}, follow=True)
    assert "You submitted code-reviewer; someone else has to approve it." in texts(response)
    assert status_of(agent) == Agent.Status.IN_REVIEW
    # Another reviewer is offered the button.
    assert 'value="approve"' in client_for(reviewer).get(review_url(agent)).content.decode()


def test_an_author_of_a_revision_is_told_too(django_user_model, author):
    both = member_of(
        django_user_model.objects.create_user("both", "both@example.com", "pw-both"),
        "Authors",
        "Reviewers",
    )
    agent = AgentFactory(name="code-reviewer", owner=author, published=True)
    agent.maintainers.add(both)
    edit(agent, both, "Written by both. Use proactively.")
    workflow.transition(agent, "submit", author)

    page = client_for(both).get(review_url(agent)).content.decode()

    assert "You wrote revision 2 of code-reviewer since it was last published" in page
    assert 'value="approve"' not in page


def test_requesting_changes_needs_a_comment(author, reviewer):
    agent = submitted(author)
    events = Event.objects.count()

    response = client_for(reviewer).post(
        review_url(agent), {"decision": "request_changes", "comment": "   "}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert (
        '<ul class="errorlist" id="changes-error"><li>Say what has to change: a comment is '
        "required to request changes.</li></ul>" in page
    )
    assert 'aria-invalid="true"' in page
    assert status_of(agent) == Agent.Status.IN_REVIEW
    assert Event.objects.count() == events


def test_requesting_changes_sends_the_agent_back_with_the_comment(author, reviewer):
    agent = submitted(author)

    response = client_for(reviewer).post(
        review_url(agent),
        {"decision": "request_changes", "comment": "Say what 'kindly' means."},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == QUEUE
    assert "code-reviewer was sent back to its author with your comment." in texts(response)
    assert status_of(agent) == Agent.Status.CHANGES_REQUESTED
    event = agent.events.get(action="request_changes")
    assert (event.comment, event.revision.number) == ("Say what 'kindly' means.", 2)


def test_a_decision_someone_else_took_first_is_refused_with_why(author, reviewer, other_reviewer):
    agent = submitted(author)
    approve(agent, other_reviewer)

    response = client_for(reviewer).post(
        review_url(agent), {"decision": "request_changes", "comment": "Late."}, follow=True
    )

    assert "code-reviewer is approved now, so it cannot be sent back." in texts(response)
    assert "code-reviewer is approved, not in review" in response.content.decode()
    assert status_of(agent) == Agent.Status.APPROVED


def test_an_unknown_decision_changes_nothing(author, reviewer):
    agent = submitted(author)

    response = client_for(reviewer).post(review_url(agent), {"decision": "archive"}, follow=True)

    assert "Choose Approve or Request changes." in texts(response)
    assert status_of(agent) == Agent.Status.IN_REVIEW


# --- query counts -------------------------------------------------------------------------------


def test_queue_query_count_does_not_grow(author, reviewer):
    reviewer_client = client_for(reviewer)

    def queue_of(count: int, start: int) -> None:
        for n in range(start, start + count):
            agent = submitted(author, name=f"agent-{n:03}")
            if n % 2:
                workflow.transition(agent, "request_changes", reviewer, comment="Again.")
                workflow.transition(agent, "submit", author)

    # session, user, the reviewer's groups, the navigation's count, the page's count, the page
    # (agents + owner, published and latest revisions; submission and last review as subqueries)
    queue_of(3, 0)
    small = query_counts(lambda: reviewer_client.get(QUEUE))
    queue_of(27, 3)
    large = query_counts(lambda: reviewer_client.get(QUEUE))
    assert small == large
    assert len(reviewer_client.get(QUEUE).context["page"]) == 30


def test_review_page_query_count_does_not_grow_with_revisions_and_events(author, reviewer):
    few = submitted(author, name="few")
    many = submitted(author, name="many")
    for n in range(8):
        workflow.transition(many, "request_changes", reviewer, comment=f"Round {n}.")
        edit(many, author, f"Version {n}. Use proactively.")
        workflow.transition(many, "submit", author, comment=f"Fixed {n}.")
    for agent in (few, many):
        workflow.transition(agent, "request_changes", reviewer, comment="Last round.")
        edit(agent, author, "Final. Use proactively.")
        workflow.transition(agent, "submit", author)
    assert (few.revisions.count(), many.revisions.count()) == (3, 11)
    reviewer_client = client_for(reviewer)

    # session, user, groups, navigation count, the agent (+owner, published and latest revision
    # and its author), maintainers, the conversation, the revision last sent back, the tool
    # registry, the submitter and the unpublished authors (four eyes)
    small, large = query_counts(
        lambda: reviewer_client.get(review_url(few)), lambda: reviewer_client.get(review_url(many))
    )
    assert small == large
    page = reviewer_client.get(review_url(many)).content.decode()
    assert page.count('<li class="request_changes">') == 9
