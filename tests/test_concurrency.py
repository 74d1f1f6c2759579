"""People acting on the same agent at the same moment: exactly one decision wins, the others are
told why, and parallel saves never lose or duplicate a revision.

Each thread has its own database connection and its own logged-in browser (test client); a
barrier releases them together. These tests commit for real (transaction=True), as the app does.
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from agents import workflow
from agents.models import Agent, Event, InstructionStep

from .conftest import member_of
from .factories import AgentFactory
from .test_admin import change_post, change_url

pytestmark = [
    pytest.mark.postgresql_only,
    pytest.mark.django_db(transaction=True),
    # a transactional test that ran before emptied the tables: bring back the roles
    pytest.mark.usefixtures("migrated_data"),
]

THREADS = 4


def run_together(work: Callable[[int], Any], count: int = THREADS) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released at once; their results, or their errors."""
    barrier = threading.Barrier(count, timeout=30)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 -- reported to the test, which shows it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def wait_until_someone_waits_for_a_lock(timeout: float = 30) -> None:
    """Return once another connection to the test database is blocked on a lock (PostgreSQL):
    how a test knows that a request reached a row another thread holds."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("no connection ever waited for the agent's row")


def while_holding_the_row(step: Callable[[], Any], then: Callable[[], Any]) -> Any:
    """Run ``step`` in a transaction (it locks the agent's row), then ``then`` in another thread
    with its own connection; commit ``step`` only once ``then`` is blocked on the row. The
    result of ``then``, which saw the row only after ``step`` committed."""
    holding, released = threading.Event(), threading.Event()

    def hold(_: int) -> None:
        with transaction.atomic():
            step()
            holding.set()
            released.wait(30)

    def wait_for_the_row(_: int) -> Any:
        assert holding.wait(30), "the step never took the row"
        return then()

    def release(_: int) -> None:
        assert holding.wait(30), "the step never took the row"
        try:
            wait_until_someone_waits_for_a_lock()
        finally:
            released.set()

    jobs = [hold, wait_for_the_row, release]
    results = run_together(lambda i: jobs[i](i), count=len(jobs))
    assert not [r for r in results if isinstance(r, Exception)], results
    return results[1]


@pytest.fixture
def reviewers(django_user_model) -> list[Any]:
    return [
        member_of(
            django_user_model.objects.create_user(f"reviewer{i}", f"reviewer{i}@example.com"),
            "Reviewers",
        )
        for i in range(THREADS)
    ]


@pytest.fixture
def in_review(author) -> Agent:
    agent = AgentFactory(name="contested", owner=author, steps=2, published=True)
    agent.description = "The version under review."
    agent.save()
    workflow.record_revision(agent, author, note="New description")
    workflow.transition(agent, "submit", author, comment="Please review")
    return agent


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_action(
    client: Client, agent: Agent, action: str, comment: str = "", shown: int | None = None
) -> list[str]:
    """Press a workflow button of the history page, which showed revision ``shown`` (by default
    the latest) as the one to approve; the messages of the page the button leads to."""
    url = reverse("agents:transition", kwargs={"name": agent.name, "action": action})
    if shown is None:
        shown = agent.revisions.order_by("-number").values_list("number", flat=True).first()
    response = client.post(url, {"comment": comment, "revision": shown})
    assert response.status_code == 302, response.status_code
    page = client.get(response["Location"]).content.decode()
    # Read from the HTML: the test client's captured context is shared between threads.
    return [html.unescape(text) for text in re.findall(r"<li class=\"\w+\">(.*?)</li>", page)]


def refusal(messages: list[str], start: str) -> bool:
    return len(messages) == 1 and messages[0].startswith(start)


def test_reviewers_approving_at_once_approve_exactly_once(in_review, reviewers):
    browsers = [browser_for(reviewer) for reviewer in reviewers]

    results = run_together(lambda i: post_action(browsers[i], in_review, "approve"))

    assert not [r for r in results if isinstance(r, Exception)], results
    succeeded = [
        r for r in results if r == ["contested was approved. Everyone now downloads revision 2."]
    ]
    # A reviewer whose page loaded after the winner committed is told the same, without
    # "(someone else acted on it first)".
    refused = [r for r in results if refusal(r, "contested is approved now, so it cannot be")]
    assert (len(succeeded), len(refused)) == (1, THREADS - 1), results
    assert Event.objects.filter(agent=in_review, action="approve").count() == 1
    agent = Agent.objects.get(pk=in_review.pk)
    assert agent.status == "approved"
    assert agent.published_revision.number == 2


def test_approve_and_request_changes_at_once_leave_one_decision(in_review, reviewers):
    browsers = [browser_for(reviewer) for reviewer in reviewers]
    actions = ["approve", "request_changes"] * (THREADS // 2)

    results = run_together(
        lambda i: post_action(browsers[i], in_review, actions[i], comment="Explain when to use it")
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    decisions = Event.objects.filter(agent=in_review, action__in=["approve", "request_changes"])
    assert decisions.count() == 1
    decision = decisions.get()
    agent = Agent.objects.get(pk=in_review.pk)
    assert agent.status == decision.to_status
    done = {
        "approve": "approved. Everyone now downloads revision 2.",
        "request_changes": "sent back.",
    }
    label = agent.get_status_display().lower()
    refusals = [r for r in results if refusal(r, f"contested is {label} now, so it cannot be")]
    successes = [r for r in results if r == [f"contested was {done[decision.action]}"]]
    assert (len(successes), len(refusals)) == (1, THREADS - 1), results
    if decision.action == "approve":
        assert agent.published_revision.number == 2
    else:
        assert agent.published_revision.number == 1


def test_parallel_saves_of_one_draft_get_consecutive_revisions_and_lose_nothing(author):
    agent = AgentFactory(name="busy-draft", owner=author, steps=THREADS)

    def save_step(i: int) -> int:
        # What a save does: change the agent's rows and record the file, in one transaction.
        with transaction.atomic():
            InstructionStep.objects.filter(agent=agent, position=i + 1).update(
                text=f"Changed by editor {i}."
            )
            return workflow.record_revision(agent, author, note=f"Editor {i}").number

    results = run_together(save_step)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(results) == list(range(2, THREADS + 2))
    numbers = list(agent.revisions.order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, THREADS + 2))
    latest = agent.revisions.get(number=THREADS + 1)
    for i in range(THREADS):
        assert f"Changed by editor {i}." in latest.text
    assert agent.events.filter(action="edit").count() == THREADS


def test_an_approval_racing_a_resubmission_never_publishes_the_new_revision(
    in_review, author, reviewers
):
    reviewer = browser_for(reviewers[0])
    page = reviewer.get(reverse("agents:history", kwargs={"name": in_review.name}))
    assert '<input type="hidden" name="revision" value="2">' in page.content.decode()

    def resubmit() -> None:
        agent = Agent.objects.get(pk=in_review.pk)
        workflow.transition(agent, "withdraw", author)
        agent.description = "Changed while the reviewer was reading."
        agent.save()
        workflow.record_revision(agent, author, note="One more change")
        workflow.transition(agent, "submit", author, comment="Resubmitted")

    # The reviewer presses Approve on revision 2 while the resubmission holds the row; the
    # approval waits for it, then finds revision 3 in review.
    shown = while_holding_the_row(
        resubmit, lambda: post_action(reviewer, in_review, "approve", shown=2)
    )

    [message] = shown
    assert message.startswith(
        "contested changed after you opened it: you reviewed revision 2, but revision 3, saved "
        "by author at "
    ), shown
    agent = Agent.objects.get(pk=in_review.pk)
    assert agent.status == "in_review"
    assert agent.published_revision.number == 1
    assert agent.latest_revision.number == 3
    assert not agent.events.filter(action="approve").exists()


def test_a_save_that_waited_for_the_row_is_refused_if_the_agent_went_into_review(
    author, other_author
):
    agent = AgentFactory(name="shared", owner=author, steps=1)
    agent.maintainers.add(other_author)
    editor = browser_for(other_author)
    opened = change_post(agent, description="Saved while it was being submitted.")

    # The editor presses Save while the owner's submission holds the row: the save waits,
    # then finds the agent in review.
    response = while_holding_the_row(
        lambda: workflow.transition(Agent.objects.get(pk=agent.pk), "submit", author),
        lambda: editor.post(change_url(agent), opened),
    )

    assert response.status_code == 200
    assert "shared is in review: withdraw it from review before changing it." in (
        response.content.decode()
    )
    agent.refresh_from_db()
    assert agent.status == "in_review"
    assert agent.description != "Saved while it was being submitted."
    assert agent.revisions.count() == 1
    assert not agent.events.filter(action="edit").exists()
