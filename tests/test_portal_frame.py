"""The portal's frame: anyone with an account signs in at /accounts/login/ and lands on the
portal's home, never the admin; every response carries the Content-Security-Policy; each agent
has an address of its own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.importing import import_file
from agents.models import Agent

from .factories import AgentFactory
from .test_import_commands import REVIEWER

pytestmark = pytest.mark.django_db


def test_a_reader_without_staff_or_group_signs_in_and_lands_on_the_home_page(client, reader):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "Sign in to Agent Portal" in page.content.decode()
    assert "Django administration" not in page.content.decode()

    response = client.post(reverse("login"), {"username": "reader", "password": "pw-reader-1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "Signed in as <strong>reader</strong>" in home.content.decode()


def test_signed_out_people_are_sent_to_the_portals_sign_in_page(client):
    for page in (reverse("home"), reverse("agents:list")):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={page}"


def test_signing_out_is_a_post_and_ends_the_session(client, reader):
    client.force_login(reader)

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_a_reader_changes_their_password(client, reader):
    client.force_login(reader)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": "pw-reader-1",
            "new_password1": "a-much-longer-pass-phrase",
            "new_password2": "a-much-longer-pass-phrase",
        },
    )

    assert response.status_code == 302
    reader.refresh_from_db()
    assert reader.check_password("a-much-longer-pass-phrase")


def test_the_navigation_offers_each_role_its_pages(client, reader, author, reviewer):
    def labels(user) -> list[str]:
        client.force_login(user)
        return [item["label"] for item in client.get(reverse("home")).context["portal_nav"]]

    assert labels(reader) == ["Home", "Agents", "Collections", "Activity"]
    assert labels(author) == [
        "Home", "Agents", "Collections", "New agent", "Import", "Activity", "Admin"
    ]  # fmt: skip
    assert labels(reviewer) == ["Home", "Agents", "Collections", "Review", "Activity", "Admin"]


def test_every_response_forbids_inline_scripts_and_other_origins(client, reader):
    client.force_login(reader)

    for page in (reverse("login"), reverse("home"), reverse("admin:login")):
        policy = client.get(page)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["script-src"] == "'self'"
        assert directives["default-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in policy


def test_the_admin_is_branded_and_its_view_site_link_goes_to_the_portal(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()

    assert "Agent Portal administration" in page
    assert f'href="{reverse("home")}"' in page


def test_an_agent_whose_name_is_not_path_safe_gets_its_file_stem_as_address(client, author):
    text = "---\nname: Python DevOps/CI-CD Expert\ndescription: Builds pipelines.\n---\nBody\n"
    import_file("odd.md", text.encode(), publish=True)
    agent = Agent.objects.get()
    client.force_login(author)

    assert agent.slug == "Python-DevOps-CI-CD-Expert"
    assert client.get(reverse("agents:history", kwargs={"name": agent.slug})).status_code == 200
    # a link written with the name itself still works
    assert client.get(f"/agents/{agent.name}/history/").status_code == 200


def test_names_that_follow_the_pattern_are_their_own_address():
    assert AgentFactory(name="code-reviewer").slug == "code-reviewer"


def test_an_agent_named_like_a_page_gets_another_address(client, author):
    agent = AgentFactory(name="new", owner=author)

    assert agent.slug == "new-agent"
    client.force_login(author)
    assert client.get(reverse("agents:history", kwargs={"name": "new-agent"})).status_code == 200


def test_two_names_with_the_same_stem_get_distinct_addresses():
    first = AgentFactory(name="Team/Reviewer")
    second = AgentFactory(name="Team Reviewer")

    assert (first.slug, second.slug) == ("Team-Reviewer", "Team-Reviewer-2")


def test_a_rename_moves_the_address_and_keeps_it_unique(author):
    AgentFactory(name="code-critic")
    agent = AgentFactory(name="code-reviewer")
    agent.name = "Code Critic"
    agent.save()

    assert agent.slug == "Code-Critic"
    assert Agent.objects.get(pk=agent.pk).slug == "Code-Critic"


def test_the_migration_gives_every_agent_a_unique_slug():
    from importlib import import_module

    from django.apps import apps

    import_file("a.md", REVIEWER.encode())
    import_file("b.md", REVIEWER.replace("code-reviewer", "code/reviewer").encode())
    for pk in Agent.objects.values_list("pk", flat=True):
        Agent.objects.filter(pk=pk).update(slug=f"before-{pk}")

    import_module("agents.migrations.0010_agent_slug").fill_slugs(apps, None)

    assert sorted(Agent.objects.values_list("slug", flat=True)) == [
        "code-reviewer",
        "code-reviewer-2",
    ]
