"""Each revision keeps what lists show of its file, and each agent points at its latest
revision: lists of published agents show the published file, never the working copy."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps

from agents import filebridge, workflow
from agents.models import Agent, Revision

from .factories import AgentFactory

pytestmark = pytest.mark.django_db


def test_a_revision_keeps_the_listing_fields_of_its_file(author):
    agent = AgentFactory(name="code-reviewer", owner=author, tools=3, color="green")
    agent.description = "Reviews code. Use proactively."
    agent.model = "opus"
    agent.save()

    revision = workflow.record_revision(agent, author, note="Opus now")

    assert (revision.name, revision.description, revision.model, revision.color) == (
        "code-reviewer",
        "Reviews code. Use proactively.",
        "opus",
        "green",
    )
    assert revision.tools == ["Read", "Grep", "Glob"]
    assert revision.tools == filebridge.tool_names(agent)


def test_the_agent_points_at_its_latest_revision_and_keeps_the_published_one(author):
    agent = AgentFactory(name="code-reviewer", owner=author, published=True)
    agent.description = "A draft description. Use proactively."
    agent.save()
    second = workflow.record_revision(agent, author)

    fresh = Agent.objects.select_related("latest_revision", "published_revision").get()

    assert fresh.latest_revision == second
    assert fresh.published_revision.number == 1
    assert fresh.published_revision.description != fresh.description


def test_an_unchanged_save_keeps_the_latest_revision(author):
    agent = AgentFactory(name="code-reviewer", owner=author, published=True)

    assert workflow.record_revision(agent, author) is None

    assert Agent.objects.get().latest_revision.number == 1


def test_the_migration_fills_latest_revisions_and_listing_fields(author):
    agent = AgentFactory(name="code-reviewer", owner=author, tools=2, published=True)
    agent.model = "haiku"
    agent.save()
    workflow.record_revision(agent, author)
    Revision.objects.update(description="", model="", color="", tools=[])
    Agent.objects.update(latest_revision=None)

    import_module("agents.migrations.0009_latest_revision_and_listing").fill(apps, None)

    agent.refresh_from_db()
    assert agent.latest_revision.number == 2
    assert list(Revision.objects.order_by("number").values_list("model", "tools")) == [
        ("sonnet", ["Read", "Grep"]),
        ("haiku", ["Read", "Grep"]),
    ]
