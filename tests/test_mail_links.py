"""E-mail links to the page it is about, as an absolute address that opens that page:
reviewers get the review page, authors the agent's page. PORTAL_BASE_URL says where the portal
is reached."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from agents import workflow
from agents.models import OutgoingMail

from .factories import AgentFactory
from .test_settings import production, run

BASE = "http://127.0.0.1:8000"  # tests/testenv.py


def delivered() -> list:
    mail.outbox.clear()
    call_command("deliver_mail", stdout=StringIO())
    return list(mail.outbox)


def link_in(body: str) -> str:
    links = re.findall(r"https?://\S+", body)
    assert len(links) == 1, body
    return links[0]


def opened_by(user, url: str, base: str = BASE):
    """What ``user`` sees when they follow the link (the test server has no host name)."""
    assert url.startswith(base + "/")
    client = Client()
    client.force_login(user)
    return client.get(url.removeprefix(base))


@pytest.mark.django_db
def test_reviewers_are_sent_the_address_of_the_review_page(author, reviewer):
    agent = AgentFactory(name="Code Reviewer", owner=author)  # its address is its slug
    workflow.transition(agent, "submit", author, comment="Please look")

    [message] = delivered()

    url = link_in(message.body)
    assert url == f"{BASE}/agents/Code-Reviewer/review/"
    assert message.body.endswith(f"Review it: {url}\n")
    page = opened_by(reviewer, url)
    assert page.status_code == 200
    assert "<h1>Review Code Reviewer</h1>" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("decision", ["request_changes", "approve"])
def test_authors_are_sent_the_address_of_the_agent_page(author, reviewer, decision):
    agent = AgentFactory(name="code-reviewer", owner=author)
    workflow.transition(agent, "submit", author)
    delivered()
    workflow.transition(agent, decision, reviewer, comment="Have a look.", revision_number=1)

    [message] = delivered()

    assert message.to == [author.email]
    url = link_in(message.body)
    assert url == BASE + agent.get_absolute_url()
    assert message.body.endswith(f"See it: {url}\n")
    page = opened_by(author, url)
    assert page.status_code == 200
    assert "code-reviewer" in page.content.decode()


@pytest.mark.django_db
def test_the_link_starts_with_the_configured_address(settings, author, reviewer):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    agent = AgentFactory(name="code-reviewer", owner=author)

    workflow.transition(agent, "submit", author)

    assert OutgoingMail.objects.get().body.endswith(
        "Review it: https://portal.example.com/agents/code-reviewer/review/\n"
    )


# --- the setting ------------------------------------------------------------------------------

PRINT_BASE_URL = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.PORTAL_BASE_URL)"
)


@pytest.fixture
def no_base_url(monkeypatch):
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)


def test_in_development_links_go_to_the_development_server(no_base_url):
    result = run(["-c", PRINT_BASE_URL], DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:8000"


def test_in_production_links_default_to_https_and_the_first_allowed_host(no_base_url):
    variables = production() | {"ALLOWED_HOSTS": ".example.com,other.example.com"}
    result = run(["-c", PRINT_BASE_URL], **variables)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://example.com"


def test_the_address_given_is_used_without_its_trailing_slash(no_base_url):
    result = run(
        ["-c", PRINT_BASE_URL], PORTAL_BASE_URL="https://agents.corp:8443/", **production()
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://agents.corp:8443"


def test_production_without_a_host_to_link_to_refuses_to_start(no_base_url):
    result = run(["-c", PRINT_BASE_URL], **(production() | {"ALLOWED_HOSTS": "*"}))
    assert result.returncode != 0
    assert "PORTAL_BASE_URL must be set when DEBUG is off" in result.stderr

    result = run(["-c", PRINT_BASE_URL], PORTAL_BASE_URL="portal.example.com", **production())
    assert result.returncode != 0
    assert "PORTAL_BASE_URL must start with http:// or https://" in result.stderr


# --- demo accounts get addresses, so development shows the mail ------------------------------


@pytest.mark.django_db
def test_demo_users_get_example_addresses_and_their_mail_is_sent(monkeypatch, django_user_model):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    call_command("load_demo", stdout=StringIO())
    assert dict(django_user_model.objects.values_list("username", "email")) == {
        "admin": "admin@example.com",
        "author": "author@example.com",
        "reviewer": "reviewer@example.com",
    }
    author = django_user_model.objects.get(username="author")
    agent = AgentFactory(name="demo-draft", owner=author)
    workflow.transition(agent, "submit", author)

    [message] = delivered()

    assert message.to == ["reviewer@example.com"]
    assert message.body.endswith(f"Review it: {BASE}/agents/demo-draft/review/\n")
