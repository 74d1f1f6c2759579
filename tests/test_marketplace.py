"""The portal as a Claude Code plugin marketplace: what Claude Code does with it, the rules of
marketplace names, checksums that hold still, and the queries it costs."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse

from agents import tokens, workflow
from agents.distribution import collections, marketplace
from agents.importing import import_file
from agents.models import Agent, Collection, CollectionPlugin

from . import claude_code
from .conftest import CORPUS, shared_file
from .factories import AgentFactory
from .helpers import assert_same_query_count

pytestmark = pytest.mark.django_db

BASE = "http://testserver"
CORPUS_FILES = [
    "VoltAgent__awesome-claude-code-subagents/categories__01-core-development__api-designer.md",
    "VoltAgent__awesome-claude-code-subagents/categories__01-core-development__backend-developer.md",
    "VoltAgent__awesome-claude-code-subagents/categories__01-core-development__electron-pro.md",
    "VoltAgent__awesome-claude-code-subagents/categories__01-core-development__frontend-developer.md",
    "shanraisshan__claude-code-best-practice/.claude__agents__weather-agent.md",
    "davila7__claude-code-templates/cli-tool__components__agents__api-graphql__api-architect.md",
]


@pytest.fixture(autouse=True)
def marketplace_settings(settings):
    settings.MARKETPLACE_NAME = "acme-agents"
    settings.MARKETPLACE_OWNER_NAME = "Acme platform team"
    settings.MARKETPLACE_OWNER_EMAIL = "platform@example.com"
    settings.PORTAL_BASE_URL = BASE


def publish_corpus() -> dict[str, Agent]:
    agents = {}
    for relative in CORPUS_FILES:
        path = shared_file(CORPUS / relative)
        result = import_file(path.name, path.read_bytes(), publish=True)
        assert result.error is None, result
        agents[result.name] = Agent.objects.get(name=result.name)
    return agents


def make_collection(slug: str, agents, owner=None, **fields) -> Collection:
    collection = Collection.objects.create(
        slug=slug, title=fields.pop("title", slug.replace("-", " ").title()), owner=owner, **fields
    )
    collections.set_members(collection, list(agents))
    return collection


def test_claude_code_adds_the_marketplace_with_a_token_and_installs_every_plugin(reader, author):
    published = publish_corpus()
    draft = AgentFactory(name="secret-draft", owner=author)  # never reviewed
    archived = AgentFactory(name="old-helper", published=True)
    workflow.transition(archived, "archive", None)
    make_collection(
        "backend-team",
        [published["backend-developer"], published["api-designer"], draft, archived],
        owner=author,
        description="What the backend team uses.",
        keywords=["backend", "api"],
    )
    make_collection(
        "research",
        [published["weather-agent"], published["api-architect"], published["electron-pro"]],
    )
    make_collection("nothing-yet", [draft])
    _, secret = tokens.create(reader, "laptop", 30)
    machine = Client()  # no session: Claude Code only has the URL with its token

    document = claude_code.add_marketplace(machine, f"{BASE}/marketplace.json?token={secret}")

    assert document["name"] == "acme-agents"
    assert document["owner"] == {"name": "Acme platform team", "email": "platform@example.com"}
    assert [entry["name"] for entry in document["plugins"]] == ["backend-team", "research"]
    installed = {
        entry["name"]: claude_code.install(machine, entry) for entry in document["plugins"]
    }
    backend = installed["backend-team"]
    assert set(backend.agents) == {"backend-team:backend-developer", "backend-team:api-designer"}
    assert backend.manifest["description"] == "What the backend team uses."
    assert backend.manifest["keywords"] == ["backend", "api"]
    assert backend.manifest["author"] == {"name": "author", "email": "author@example.com"}
    assert backend.version == "1.0.0"
    assert set(installed["research"].agents) == {
        "research:weather-agent",
        "research:api-architect",
        "research:electron-pro",
    }
    # Each agent is its published file, byte for byte.
    weather = published["weather-agent"]
    weather.refresh_from_db()
    assert installed["research"].files["agents/weather-agent.md"] == (
        weather.published_revision.text.encode()
    )
    readme = installed["research"].files["README.md"].decode()
    assert "/plugin install research@acme-agents" in readme
    assert "research:weather-agent sets `hooks`, `permissionMode`" in readme
    assert "research:api-architect sets `permissionMode`" in readme


def test_the_marketplace_lists_urls_that_carry_the_requesting_token(reader):
    agent = AgentFactory(name="code-reviewer", published=True)
    make_collection("reviews", [agent])
    _, secret = tokens.create(reader, "ci", 30)

    response = Client().get("/marketplace.json", headers={"Authorization": f"Bearer {secret}"})

    url = json.loads(response.content)["plugins"][0]["source"]["url"]
    assert url == f"{BASE}/collections/reviews/plugin.zip?token={secret}"
    assert "no-store" in response["Cache-Control"]


def test_the_marketplace_for_a_signed_in_browser_lists_urls_without_a_token(client, reader):
    make_collection("reviews", [AgentFactory(name="code-reviewer", published=True)])
    client.force_login(reader)

    document = json.loads(client.get("/marketplace.json").content)

    assert document["plugins"][0]["source"]["url"] == f"{BASE}/collections/reviews/plugin.zip"


def test_without_a_public_address_links_start_with_the_address_the_request_came_to(
    client, reader, settings
):
    settings.PORTAL_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["testserver", "portal.test"]
    make_collection("reviews", [AgentFactory(name="code-reviewer", published=True)])
    client.force_login(reader)

    document = json.loads(client.get("/marketplace.json", HTTP_HOST="portal.test").content)

    assert document["plugins"][0]["source"]["url"].startswith("http://portal.test/collections/")


def test_the_marketplace_without_a_token_or_session_says_how_to_get_a_token(client):
    response = client.get("/marketplace.json")

    assert response.status_code == 401
    assert b"access token" in response.content
    assert "Location" not in response


def test_the_plugin_zip_is_the_same_bytes_every_time_and_matches_the_listed_sha256(client, reader):
    agents = [AgentFactory(name=f"agent-{n}", steps=2, tools=2, published=True) for n in range(3)]
    make_collection("team", agents, keywords=["x"])
    client.force_login(reader)

    first = client.get("/collections/team/plugin.zip").content
    second = client.get("/collections/team/plugin.zip").content
    listed = json.loads(client.get("/marketplace.json").content)["plugins"][0]

    assert first == second
    assert hashlib.sha256(first).hexdigest() == listed["source"]["sha256"]
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == sorted(info.filename for info in infos)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_the_plugin_zip_answers_304_to_the_copy_the_client_has(client, reader):
    make_collection("team", [AgentFactory(name="code-reviewer", published=True)])
    client.force_login(reader)
    first = client.get("/collections/team/plugin.zip")

    again = client.get("/collections/team/plugin.zip", headers={"If-None-Match": first["ETag"]})

    assert first["ETag"] == f'"{hashlib.sha256(first.content).hexdigest()}"'
    assert again.status_code == 304
    assert again.content == b""


def test_a_collection_with_nothing_published_has_no_plugin(client, reader, author):
    make_collection("later", [AgentFactory(name="drafty", owner=author)])
    client.force_login(reader)

    response = client.get("/collections/later/plugin.zip")

    assert response.status_code == 404
    assert json.loads(client.get("/marketplace.json").content)["plugins"] == []


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "claude-plugins-official",
        "anthropic-marketplace",
        "claude-code-marketplace",
        "anthropic-plugins",
        "agent-skills",
        "official-claude-plugins",
        "claude-plugins-v2",
        "Acme",
        "acme_agents",
        "acme--agents",
        "",
    ],
)
def test_a_reserved_or_malformed_marketplace_name_stops_the_start(settings, name):
    settings.MARKETPLACE_NAME = name

    with pytest.raises(SystemCheckError) as refused:
        call_command("check")

    assert "MARKETPLACE_NAME" in str(refused.value)
    assert "agents.E901" in str(refused.value)


def test_a_plain_http_public_address_is_warned_about(settings):
    settings.PORTAL_BASE_URL = "http://portal.example.com"

    warnings = marketplace.check_settings()

    assert [warning.id for warning in warnings] == ["agents.W901"]
    assert "HTTPS" in warnings[0].msg


def test_a_good_marketplace_name_passes_the_checks(settings):
    settings.MARKETPLACE_NAME = "acme-agents"

    call_command("check")  # raises SystemCheckError otherwise


def test_an_empty_owner_name_stops_the_start(settings):
    settings.MARKETPLACE_OWNER_NAME = " "

    with pytest.raises(SystemCheckError, match="MARKETPLACE_OWNER_NAME"):
        call_command("check")


def test_a_misconfigured_marketplace_answers_503_saying_why(client, reader, settings):
    settings.MARKETPLACE_NAME = "claude-plugins-official"
    client.force_login(reader)

    response = client.get("/marketplace.json")

    assert response.status_code == 503
    assert b"reserved" in response.content


def test_every_documented_reserved_name_is_refused():
    for name in claude_code.RESERVED:
        assert marketplace.name_problem(name), name


# --- checksums and versions ----------------------------------------------------------------


def test_listing_the_marketplace_builds_no_zip_while_nothing_changed(client, reader):
    agents = [AgentFactory(name=f"agent-{n}", published=True) for n in range(2)]
    make_collection("team", agents)
    client.force_login(reader)
    client.get("/marketplace.json")
    built_at = CollectionPlugin.objects.get().built_at

    first = json.loads(client.get("/marketplace.json").content)
    second = json.loads(client.get("/marketplace.json").content)

    assert first == second
    assert CollectionPlugin.objects.get().built_at == built_at


def test_marketplace_query_count_does_not_grow_with_collections_and_members(client, reader):
    make_collection("team-0", [AgentFactory(published=True, tools=2) for _ in range(2)])
    client.force_login(reader)
    url = reverse("marketplace")
    client.get(url)  # counts every plugin once

    def grow() -> None:
        for n in range(1, 8):
            make_collection(f"team-{n}", [AgentFactory(published=True, tools=2) for _ in range(5)])
        client.get(url)  # the new collections are counted once, then only read

    # session, user, collections (+owner, +plugin), members (+agent, +published revision)
    assert assert_same_query_count(lambda: client.get(url), grow) <= 4


def test_marketplace_query_count_with_a_token_does_not_grow(reader):
    make_collection("team-0", [AgentFactory(published=True)])
    _, secret = tokens.create(reader, "ci", 30)
    machine = Client()
    url = f"/marketplace.json?token={secret}"
    machine.get(url)

    def grow() -> None:
        for n in range(1, 6):
            make_collection(f"team-{n}", [AgentFactory(published=True) for _ in range(4)])
        machine.get(url)

    # token (+user), collections (+owner, +plugin), members (+agent, +published revision)
    assert assert_same_query_count(lambda: machine.get(url), grow) <= 3
