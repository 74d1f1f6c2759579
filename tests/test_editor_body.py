"""Joining the parts of a prompt never changes how its Markdown reads (issue 8, "small things"):
steps or a section added after text are separated from it by a blank line."""

from __future__ import annotations

import markdown
import pytest

from agents import agentfile, filebridge
from agents.models import Agent, InstructionStep, Section

from .factories import AgentFactory


@pytest.mark.parametrize("text", ["You edit files.", "You edit files.\n"])
def test_steps_added_to_a_prompt_without_steps_get_a_heading_after_a_blank_line(db, text):
    agent = AgentFactory(name="editor")
    agent.sections.all().delete()
    Section.objects.create(agent=agent, position=1, markdown=text)
    InstructionStep.objects.create(agent=agent, position=1, title="Look", text="Read it.")
    InstructionStep.objects.create(agent=agent, position=2, title="Fix", text="Edit it.")

    body = filebridge.body(Agent.objects.for_export().get(pk=agent.pk))

    assert (
        body
        == "You edit files.\n\n## Instructions\n\n1. **Look**: Read it.\n\n2. **Fix**: Edit it.\n"
    )
    html = markdown.markdown(body)
    assert "<p>You edit files.</p>" in html and "<h2>Instructions</h2>" in html
    assert html.count("<li>") == 2


def test_text_typed_without_a_last_line_break_is_not_glued_to_the_steps_after_it():
    parts = [
        agentfile.BodyPart(markdown="## Instructions\n\nWhen invoked:"),
        agentfile.BodyPart(steps=[agentfile.Step("", "Look."), agentfile.Step("", "Fix.")]),
        agentfile.BodyPart(markdown="## Notes\n\nBe kind."),
    ]

    body = agentfile.join_body(parts)

    assert body == "## Instructions\n\nWhen invoked:\n\n1. Look.\n\n2. Fix.\n## Notes\n\nBe kind."
    html = markdown.markdown(body)
    assert "<p>When invoked:</p>" in html
    assert "<ol>" in html


def test_parts_read_from_a_file_are_joined_byte_for_byte():
    body = "Intro\n## Instructions\nWhen invoked:\n1. a\n2. b\n## After\ntext"
    assert agentfile.join_body(agentfile.split_body(body)) == body
