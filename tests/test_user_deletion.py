"""Deleting an account never rewrites history: every audit entry keeps the name of who acted,
and the admin deactivates an account that history names instead of deleting it."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from agents import workflow
from agents.models import Agent, Event

from .factories import AgentFactory, approve

pytestmark = pytest.mark.django_db

USERS = reverse("admin:auth_user_changelist")


def delete_url(user) -> str:
    return reverse("admin:auth_user_delete", args=[user.pk])


def admin_client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def who_column(html: str) -> list[str]:
    """The "Who" cells of a page's events table, in order."""
    table = html.split('id="events"', 1)[1].split("</table>", 1)[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in table.split("<tr>")]
    return [cells[2] for cells in rows if cells]


@pytest.fixture
def approved(author, reviewer) -> Agent:
    agent = AgentFactory(name="code-reviewer", owner=author)
    workflow.transition(agent, "submit", author)
    approve(agent, reviewer, comment="Looks right")
    return agent


def test_a_deleted_reviewer_still_shows_as_the_approver(approved, reviewer, admin_user):
    reviewer.delete()  # as any code path could, bypassing the admin's refusal

    client = admin_client_for(admin_user)
    activity = client.get(reverse("agents:activity")).content.decode()
    assert who_column(activity) == ["reviewer", "author", "operator"]  # approve, submit, create
    history = client.get(reverse("agents:history", kwargs={"name": approved.name}))
    assert "<td>reviewer</td>" in history.content.decode()
    filtered = client.get(reverse("agents:activity"), {"actor": "reviewer"})
    assert [event.action for event in filtered.context["page"]] == ["approve"]
    trail = client.get(reverse("admin:agents_event_changelist")).content.decode()
    assert '<td class="field-who">reviewer</td>' in trail
    approval = Event.objects.get(action="approve")
    assert (approval.actor, approval.who) == (None, "reviewer")
    assert str(approval) == "code-reviewer: Approved by reviewer"


def test_a_deleted_submitter_still_shows_in_the_review_queue(author, reviewer, admin_user):
    agent = AgentFactory(name="code-reviewer", owner=author)
    workflow.transition(agent, "submit", author)
    Agent.objects.filter(pk=agent.pk).update(owner=None)
    author.delete()

    queue = admin_client_for(reviewer).get(reverse("admin:agents_submission_changelist"))

    assert '<td class="field-submitted_by">author</td>' in queue.content.decode()


def test_the_migration_names_the_actor_of_existing_entries(approved):
    Event.objects.update(actor_name="")  # as entries were before the name was kept

    import_module("agents.migrations.0008_mail_outbox_actor_name").fill_actor_names(apps, None)

    names = dict(Event.objects.values_list("action", "actor_name"))
    assert names == {"create": "", "submit": "author", "approve": "reviewer"}


def test_the_admin_refuses_to_delete_an_account_history_names_and_offers_to_deactivate(
    approved, reviewer, admin_user
):
    client = admin_client_for(admin_user)

    page = client.get(delete_url(reviewer))

    content = page.content.decode()
    assert page.status_code == 200
    assert "reviewer cannot be deleted" in content
    assert "reviewer: named by 1 audit trail entry and 0 revisions" in content
    assert 'value="Deactivate reviewer"' in content
    assert "Yes, I’m sure" not in content
    client.post(delete_url(reviewer), {"post": "yes"})
    assert type(reviewer).objects.filter(pk=reviewer.pk).exists()


def test_deactivating_instead_keeps_the_account_and_its_name(approved, reviewer, admin_user):
    client = admin_client_for(admin_user)
    deactivate = reverse("admin:auth_user_deactivate", args=[reviewer.pk])

    response = client.post(deactivate, follow=True)

    reviewer.refresh_from_db()
    assert not reviewer.is_active
    assert response.redirect_chain[-1][0] == reverse("admin:auth_user_change", args=[reviewer.pk])
    assert "Deactivated reviewer: they can no longer sign in" in response.content.decode()
    assert Event.objects.get(action="approve").actor == reviewer
    assert client.get(deactivate).status_code == 405
    assert "deactivated already" in client.get(delete_url(reviewer)).content.decode()


def test_an_account_without_history_is_deleted_as_usual(approved, reader, admin_user):
    client = admin_client_for(admin_user)
    assert "Yes, I’m sure" in client.get(delete_url(reader)).content.decode()

    client.post(delete_url(reader), {"post": "yes"})

    assert not type(reader).objects.filter(pk=reader.pk).exists()


def test_bulk_delete_refuses_when_any_selected_account_has_history(
    approved, author, reviewer, reader, admin_user
):
    client = admin_client_for(admin_user)
    chosen = [str(user.pk) for user in (author, reviewer, reader)]

    page = client.post(USERS, {"action": "delete_selected", ACTION_CHECKBOX_NAME: chosen})
    content = page.content.decode()
    assert "These accounts cannot be deleted" in content
    assert "author: named by 1 audit trail entry and 0 revisions" in content
    assert "reviewer: named by 1 audit trail entry and 0 revisions" in content
    assert "reader:" not in content
    client.post(USERS, {"action": "delete_selected", ACTION_CHECKBOX_NAME: chosen, "post": "yes"})

    assert type(author).objects.filter(pk__in=chosen).count() == 3


def test_bulk_deactivate_spares_your_own_account(approved, author, reviewer, admin_user):
    client = admin_client_for(admin_user)
    chosen = [str(user.pk) for user in (author, reviewer, admin_user)]

    response = client.post(
        USERS, {"action": "deactivate_selected", ACTION_CHECKBOX_NAME: chosen}, follow=True
    )

    active = dict(type(author).objects.values_list("username", "is_active"))
    assert active == {"author": False, "reviewer": False, "admin": True}
    assert "Your own account (admin) stays active." in response.content.decode()


def test_only_people_who_may_change_accounts_may_deactivate_them(approved, author, reviewer):
    author.is_superuser = False
    response = admin_client_for(reviewer).post(
        reverse("admin:auth_user_deactivate", args=[author.pk])
    )

    assert response.status_code == 403
    author.refresh_from_db()
    assert author.is_active
