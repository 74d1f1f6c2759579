"""Collections: their plugin's version and content (published revisions only), their pages, and
editing them in the portal and the admin."""

from __future__ import annotations

import io
import json
import threading
import zipfile

import pytest
from django.db import connection, transaction
from django.urls import reverse

from agents import workflow
from agents.distribution import collections
from agents.models import Agent, Collection, CollectionMember, CollectionPlugin

from .factories import AgentFactory, approve
from .helpers import assert_same_query_count

pytestmark = pytest.mark.django_db

HOOKS_AGENT = """---
name: guarded-deployer
description: Deploys with a safety hook. Use proactively.
permissionMode: acceptEdits
mcpServers:
  - github
hooks:
  PreToolUse:
    - matcher: Bash
      hooks:
        - type: command
          command: ./check.sh
---

You deploy carefully.
"""


@pytest.fixture(autouse=True)
def marketplace_settings(settings):
    settings.MARKETPLACE_NAME = "acme-agents"
    settings.PORTAL_BASE_URL = "http://testserver"


def make_collection(slug: str, agents, owner=None, **fields) -> Collection:
    collection = Collection.objects.create(slug=slug, title=slug, owner=owner, **fields)
    collections.set_members(collection, list(agents))
    return collection


def plugin_of(client, slug: str) -> tuple[str, str, dict[str, bytes]]:
    """(version, sha256 listed by the marketplace, files of the zip) as Claude Code sees them."""
    document = json.loads(client.get("/marketplace.json").content)
    listed = {entry["name"]: entry for entry in document["plugins"]}
    data = client.get(f"/collections/{slug}/plugin.zip").content
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(files[".claude-plugin/plugin.json"])
    assert manifest["version"] == listed[slug]["version"]
    return manifest["version"], listed[slug]["source"]["sha256"], files


def new_published_revision(agent: Agent, reviewer, text: str) -> None:
    agent.description = text
    agent.save()
    workflow.record_revision(agent, agent.owner, note="new")
    workflow.transition(agent, "submit", None)
    approve(agent, reviewer)


# --- the version ----------------------------------------------------------------------------


def test_the_version_goes_up_with_each_change_and_never_down(client, reader, reviewer, author):
    first = AgentFactory(name="first-agent", owner=author, published=True)
    second = AgentFactory(name="second-agent", owner=author, published=True)
    collection = make_collection("team", [first])
    client.force_login(reader)
    seen = [plugin_of(client, "team")[0]]

    new_published_revision(first, reviewer, "Reviews better now. Use proactively.")
    seen.append(plugin_of(client, "team")[0])
    collections.add_members(collection, [second])
    seen.append(plugin_of(client, "team")[0])
    collections.set_members(collection, [second, first])  # moved
    seen.append(plugin_of(client, "team")[0])
    collections.set_members(collection, [first])  # removed
    seen.append(plugin_of(client, "team")[0])
    collections.set_members(collection, [second, first])  # back as it was two steps ago
    seen.append(plugin_of(client, "team")[0])

    assert seen == ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0"]


def test_nothing_changed_means_the_same_version_and_the_same_sha256(client, reader, author):
    agent = AgentFactory(name="steady", owner=author, published=True)
    make_collection("team", [agent], keywords=["a"])
    client.force_login(reader)

    first = plugin_of(client, "team")
    second = plugin_of(client, "team")

    assert first == second
    assert CollectionPlugin.objects.get().number == 0


def test_a_draft_of_a_member_changes_neither_the_version_nor_the_bytes(client, reader, author):
    agent = AgentFactory(name="steady", owner=author, published=True)
    make_collection("team", [agent])
    client.force_login(reader)
    before = plugin_of(client, "team")

    agent.description = "An unreviewed change. Use proactively."
    agent.save()
    workflow.record_revision(agent, author, note="draft")
    workflow.transition(agent, "submit", None)

    assert plugin_of(client, "team") == before


def test_a_changed_description_is_a_new_version(client, reader, author):
    make_collection("team", [AgentFactory(owner=author, published=True)], description="One.")
    client.force_login(reader)
    assert plugin_of(client, "team")[0] == "1.0.0"

    Collection.objects.update(description="Two.")

    version, _, files = plugin_of(client, "team")
    assert version == "1.1.0"
    assert json.loads(files[".claude-plugin/plugin.json"])["description"] == "Two."


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql_only
def test_a_recount_waits_for_a_change_in_progress_and_counts_what_it_became():
    agent = AgentFactory(name="raced", published=True)
    collection = make_collection("team", [agent], description="before")
    collections.recount(collection)
    counted = []

    def recount() -> None:
        try:
            counted.append(collections.recount(collection).version)
        finally:
            connection.close()

    recounting = threading.Thread(target=recount)
    with transaction.atomic():
        list(Collection.objects.select_for_update().filter(pk=collection.pk))
        Collection.objects.filter(pk=collection.pk).update(description="after")
        recounting.start()
        recounting.join(timeout=2)  # a recount that does not wait would be done by now
    recounting.join()

    loaded = Collection.objects.for_plugins().get(pk=collection.pk)
    assert counted == ["1.1.0"]
    assert collections.current(collections.contents(loaded)).version == "1.1.0"
    assert CollectionPlugin.objects.get().number == 1


# --- review is never skipped ----------------------------------------------------------------


def never_published_in(state: str, author, reviewer) -> Agent:
    agent = AgentFactory(name=f"never-{state.replace('_', '-')}", owner=author)
    if state in ("in_review", "changes_requested"):
        workflow.transition(agent, "submit", None)
    if state == "changes_requested":
        workflow.transition(agent, "request_changes", reviewer, comment="Not yet.")
    return agent


@pytest.mark.parametrize("state", ["draft", "in_review", "changes_requested", "archived"])
def test_members_not_published_or_archived_are_absent_from_the_plugin_and_the_marketplace(
    client, reader, author, reviewer, state
):
    published = AgentFactory(name="approved-one", owner=author, published=True)
    if state == "archived":
        other = AgentFactory(name="archived-one", owner=author, published=True)
        workflow.transition(other, "archive", None)
    else:
        other = never_published_in(state, author, reviewer)
    alone = make_collection("alone", [other])
    make_collection("team", [published, other])
    client.force_login(reader)

    _, _, files = plugin_of(client, "team")
    document = json.loads(client.get("/marketplace.json").content)

    assert sorted(name for name in files if name.startswith("agents/")) == [
        "agents/approved-one.md"
    ]
    assert other.name.encode() not in b"".join(files.values())
    assert [entry["name"] for entry in document["plugins"]] == ["team"]
    assert client.get(f"/collections/{alone.slug}/plugin.zip").status_code == 404


def test_a_published_agent_sent_back_after_an_edit_keeps_its_published_file_in_the_plugin(
    client, reader, author, reviewer
):
    agent = AgentFactory(name="reviewed", owner=author, published=True)
    agent.refresh_from_db()
    published_text = agent.published_revision.text
    agent.description = "A change the reviewer refused. Use proactively."
    agent.save()
    workflow.record_revision(agent, author, note="edit")
    workflow.transition(agent, "submit", None)
    workflow.transition(agent, "request_changes", reviewer, comment="No.")
    make_collection("team", [agent])
    client.force_login(reader)

    _, _, files = plugin_of(client, "team")

    assert files["agents/reviewed.md"] == published_text.encode()
    assert b"refused" not in b"".join(files.values())


# --- the collection page --------------------------------------------------------------------


def test_the_page_shows_members_versions_warnings_and_install_commands(client, reader, author):
    from agents.importing import import_file

    import_file("guarded-deployer.md", HOOKS_AGENT.encode(), publish=True)
    deployer = Agent.objects.get(name="guarded-deployer")
    plain = AgentFactory(name="plain-helper", published=True)
    make_collection("ops", [deployer, plain], owner=author)
    client.force_login(reader)

    page = client.get("/collections/ops/").content.decode()

    assert "version <strong>1.0.0</strong>" in page
    assert "ops:guarded-deployer sets `hooks`, `mcpServers`, `permissionMode`" in page
    assert "/plugin install ops@acme-agents" in page
    assert "/plugin marketplace add http://testserver/marketplace.json?token=" in page
    assert page.index("guarded-deployer") < page.index("plain-helper")
    readme = plugin_of(client, "ops")[2]["README.md"].decode()
    assert "ops:guarded-deployer sets `hooks`, `mcpServers`, `permissionMode`" in readme


def test_the_page_says_which_members_were_left_out_and_hides_drafts_from_readers(
    client, reader, author
):
    archived = AgentFactory(name="old-helper", published=True)
    workflow.transition(archived, "archive", None)
    draft = AgentFactory(name="secret-plan", owner=author)
    make_collection("team", [AgentFactory(name="live-one", published=True), archived, draft])

    client.force_login(author)
    seen_by_author = client.get("/collections/team/").content.decode()
    client.force_login(reader)
    seen_by_reader = client.get("/collections/team/").content.decode()

    assert "secret-plan</a>: not published yet" in seen_by_author
    assert "secret-plan" not in seen_by_reader
    assert "2 more agents you cannot see yet" in seen_by_reader


def test_collections_need_a_signed_in_user(client):
    make_collection("team", [])

    assert client.get("/collections/").status_code == 302
    assert client.get("/collections/team/").status_code == 302


def test_an_unknown_collection_is_404(client, reader):
    client.force_login(reader)

    assert client.get("/collections/nope/").status_code == 404
    assert client.get("/collections/nope/plugin.zip").status_code == 404


def test_collection_page_query_count_does_not_grow(client, other_author, author):
    collection = make_collection("team", [AgentFactory(published=True, tools=2, steps=2)])
    # An author: whether they may see a left-out draft depends on its maintainers.
    client.force_login(other_author)
    url = "/collections/team/"
    client.get(url)

    def grow() -> None:
        agents = [AgentFactory(published=True, tools=2, steps=2) for _ in range(12)]
        agents += [AgentFactory(owner=author) for _ in range(3)]
        for agent in agents[:4]:
            agent.maintainers.add(author)
        collections.set_members(collection, [*collection_agents(collection), *agents])
        make_collection("other", agents[:5])
        client.get(url)

    # session, user, collection (+owner, +plugin), members (+agent, +published revision),
    # maintainers, groups
    assert assert_same_query_count(lambda: client.get(url), grow) <= 6


def collection_agents(collection: Collection) -> list[Agent]:
    return [member.agent for member in collection.members.select_related("agent")]


def test_collection_list_query_count_does_not_grow(client, reader):
    make_collection("team-0", [AgentFactory(published=True)])
    client.force_login(reader)
    url = "/collections/"
    client.get(url)

    def grow() -> None:
        for n in range(1, 8):
            make_collection(f"team-{n}", [AgentFactory(published=True) for _ in range(3)])
        client.get(url)

    # session, user, collections (+owner, +plugin), members (+agent, +revision), groups
    assert assert_same_query_count(lambda: client.get(url), grow) <= 5


# --- creating and editing in the portal -----------------------------------------------------


def test_an_author_creates_a_collection_with_agents_in_order(client, author):
    AgentFactory(name="first-agent", published=True)
    AgentFactory(name="second-agent", published=True)
    client.force_login(author)

    response = client.post(
        reverse("collection-new"),
        {
            "slug": "backend-team",
            "title": "Backend team",
            "description": "For the backend.",
            "keywords": "backend, python ,, backend",
            "members": "second-agent\n\n first-agent \n",
        },
    )

    collection = Collection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == "/collections/backend-team/"
    assert (collection.owner, collection.keywords) == (author, ["backend", "python"])
    assert collection_agents(collection) == [
        Agent.objects.get(name="second-agent"),
        Agent.objects.get(name="first-agent"),
    ]


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Backend Team", "lowercase letters, digits and single hyphens"),
        ("new", "is the address of a page"),
        ("-team", "lowercase letters"),
    ],
)
def test_a_bad_collection_name_is_refused_with_a_reason(client, author, slug, message):
    client.force_login(author)

    response = client.post(reverse("collection-new"), {"slug": slug, "title": "T"})

    assert message in response.content.decode()
    assert not Collection.objects.exists()


def test_an_unknown_or_invisible_agent_name_is_refused_and_nothing_is_saved(
    client, author, other_author
):
    AgentFactory(name="someone-elses-draft", owner=other_author)
    client.force_login(author)

    response = client.post(
        reverse("collection-new"),
        {"slug": "team", "title": "T", "members": "no-such-agent\nsomeone-elses-draft"},
    )

    assert "No agent you can see is called no-such-agent, someone-elses-draft" in (
        response.content.decode()
    )
    assert not Collection.objects.exists()


def test_a_reader_cannot_create_a_collection(client, reader):
    client.force_login(reader)

    response = client.post(reverse("collection-new"), {"slug": "team", "title": "T"})

    assert response.status_code == 403
    assert not Collection.objects.exists()


def test_the_owner_reorders_and_removes_members_and_the_name_stays(client, author):
    agents = [AgentFactory(name=f"agent-{n}", published=True) for n in range(3)]
    collection = make_collection("team", agents, owner=author)
    client.force_login(author)

    client.post(
        reverse("collection-edit", kwargs={"slug": "team"}),
        {"slug": "renamed", "title": "Team", "members": "agent-2\nagent-0"},
    )

    collection.refresh_from_db()
    assert collection.slug == "team"
    assert collection_agents(collection) == [agents[2], agents[0]]


def test_another_author_cannot_edit_a_collection(client, author, other_author):
    make_collection("team", [], owner=author)
    client.force_login(other_author)

    response = client.post(
        reverse("collection-edit", kwargs={"slug": "team"}), {"title": "Mine now", "members": ""}
    )

    assert response.status_code == 403
    assert Collection.objects.get().title == "team"


# --- adding the catalog's results -----------------------------------------------------------


def test_the_catalogs_results_are_appended_to_a_collection(client, author):
    agents = [AgentFactory(name=f"agent-{n}", published=True) for n in range(4)]
    collection = make_collection("team", [agents[1]], owner=author)
    client.force_login(author)

    response = client.post(
        reverse("collection-add", kwargs={"slug": "team"}),
        {"agent": ["agent-3", "agent-1", "agent-0", "missing"], "next": "/agents/?q=agent"},
        follow=True,
    )

    assert response.redirect_chain[0][0] == "/agents/?q=agent"
    assert collection_agents(collection) == [agents[1], agents[3], agents[0]]
    page = response.content.decode()
    assert "Added 2 to team: agent-3, agent-0." in page
    assert "Already in team: agent-1." in page
    assert "No agent you can see is called missing." in page


def test_adding_through_the_generic_address_names_the_collection_in_a_field(client, author):
    agent = AgentFactory(name="agent-0", published=True)
    collection = make_collection("team", [], owner=author)
    client.force_login(author)

    response = client.post(
        reverse("collection-add-any"),
        {"collection": "team", "agent": [agent.slug], "next": "https://evil.example/"},
    )

    assert response["Location"] == "/collections/team/"  # never off the site
    assert collection_agents(collection) == [agent]


def test_only_the_owner_adds_to_a_collection(client, author, other_author):
    agent = AgentFactory(name="agent-0", published=True)
    make_collection("team", [], owner=author)
    client.force_login(other_author)

    response = client.post(
        reverse("collection-add", kwargs={"slug": "team"}), {"agent": [agent.slug]}
    )

    assert response.status_code == 403
    assert not CollectionMember.objects.exists()


# --- the admin ------------------------------------------------------------------------------


def test_the_admin_edits_members_in_order_and_shows_the_plugin(admin_client):
    agents = [AgentFactory(name=f"agent-{n}", published=True) for n in range(2)]
    url = reverse("admin:agents_collection_add")

    response = admin_client.post(
        url,
        {
            "slug": "team",
            "title": "Team",
            "description": "",
            "keywords": '["ops"]',
            "members-TOTAL_FORMS": "2",
            "members-INITIAL_FORMS": "0",
            "members-0-position": "2",
            "members-0-agent": agents[0].pk,
            "members-1-position": "1",
            "members-1-agent": agents[1].pk,
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    collection = Collection.objects.get()
    assert collection_agents(collection) == [agents[1], agents[0]]
    change = admin_client.get(reverse("admin:agents_collection_change", args=[collection.pk]))
    assert "version 1.0.0" in change.content.decode()


def test_the_catalog_offers_the_collections_a_person_may_add_to(author, other_author, reader):
    mine = make_collection("mine", [], owner=author)
    make_collection("theirs", [], owner=other_author)

    assert list(collections.editable_by(author)) == [mine]
    assert list(collections.editable_by(reader)) == []


def test_editing_neither_shows_nor_removes_members_the_owner_cannot_see(
    client, author, other_author
):
    visible = AgentFactory(name="visible-one", published=True)
    hidden = AgentFactory(name="someone-elses-draft", owner=other_author)
    collection = make_collection("team", [visible, hidden], owner=author)
    client.force_login(author)

    form = client.get(reverse("collection-edit", kwargs={"slug": "team"})).content.decode()
    client.post(
        reverse("collection-edit", kwargs={"slug": "team"}),
        {"title": "Team", "members": "visible-one"},
    )

    assert "someone-elses-draft" not in form
    assert "1 more agent(s) that you cannot see stay in the collection." in form
    assert collection_agents(collection) == [visible, hidden]
