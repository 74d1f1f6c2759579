from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from agents import workflow
from agents.models import Agent, AgentTool, InstructionStep, Section


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")


class AgentFactory(factory.django.DjangoModelFactory):
    """An agent with a short body; ``steps=N`` and ``tools=N`` add that many of each."""

    class Meta:
        model = Agent
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"agent-{n}")
    description = factory.Sequence(lambda n: f"Reviews change number {n}. Use proactively.")
    model = "sonnet"
    color = "blue"
    owner = factory.SubFactory(UserFactory)

    @factory.post_generation
    def tools(agent, create, extracted, **kwargs):
        names = ["Read", "Grep", "Glob", "Edit", "Bash", "Write", "WebFetch", "WebSearch"]
        count = extracted or 0
        AgentTool.objects.bulk_create(
            AgentTool(agent=agent, position=i, name=names[(i - 1) % len(names)])
            for i in range(1, count + 1)
        )

    @factory.post_generation
    def steps(agent, create, extracted, **kwargs):
        count = extracted or 0
        Section.objects.create(agent=agent, position=1, markdown="\nYou review code.\n\n")
        if count:
            Section.objects.create(agent=agent, position=2, markdown="## Instructions\n\n")
            Section.objects.create(agent=agent, position=3, kind=Section.Kind.STEPS)
        InstructionStep.objects.bulk_create(
            InstructionStep(agent=agent, position=i, title=f"Step {i}", text=f"Do thing {i}.")
            for i in range(1, count + 1)
        )

    @factory.post_generation
    def published(agent, create, extracted, **kwargs):
        """``published=True``: record the file as revision 1 and publish it (as the operator)."""
        workflow.record_revision(agent, None, note="created by a test")
        if extracted:
            workflow.transition(agent, "publish", None)


def approve(agent: Agent, user, comment: str = ""):
    """Approve the agent's latest revision, as a reviewer who looked at that revision."""
    latest = agent.revisions.order_by("-number").values_list("number", flat=True).first()
    return workflow.transition(agent, "approve", user, comment=comment, revision_number=latest or 0)
