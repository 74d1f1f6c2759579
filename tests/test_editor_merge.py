"""Concurrent edits merge (issue 8): changes to different parts of an agent (fields, tool lists,
steps, Markdown sections) are combined; the same part changed differently by both is a
conflict for a person to decide; "save again" in the admin never reverts what it did not touch.
"""

from __future__ import annotations

import threading

import pytest
import yaml
from django.db import connection

from agents import agentfile
from agents.agentfile import BodyPart, Step
from agents.merging import THEIRS, Conflict, Version, describe, merge, resolve
from agents.models import Agent

from .factories import AgentFactory
from .test_admin import change_post, change_url, existing_rows
from .test_admin_review import client_for


def version(
    description: str = "Reviews code.",
    model: str = "sonnet",
    steps: tuple[str, ...] = ("Read the diff.", "Run the tests.", "Write the review."),
    tools: tuple[str, ...] = ("Read", "Grep"),
    output: str = "Short and kind.",
) -> Version:
    return Version.of(
        {"name": "reviewer", "description": description, "tools": list(tools), "model": model},
        [
            BodyPart(markdown="You review code.\n\n## Instructions\n\n"),
            BodyPart(steps=[Step(f"Step {n}", text) for n, text in enumerate(steps, 1)]),
            BodyPart(markdown=f"\n## Output\n\n{output}\n"),
        ],
    )


def file_of(v: Version) -> dict:
    """The merged version as the file it writes, read back by an independent YAML reader."""
    text = agentfile.render(v.frontmatter, v.body)
    _, front, body = text.split("---\n", 2)
    return {"frontmatter": yaml.safe_load(front), "body": body}


def test_changes_to_different_fields_steps_and_sections_merge():
    base = version()
    theirs = version(
        description="Reviews code carefully.",
        steps=("Read the diff.", "Run the tests.", "Write it up."),
    )
    mine = version(
        model="opus",
        steps=("Read the whole diff.", "Run the tests.", "Write the review."),
        output="Short.",
    )

    result = merge(base, theirs, mine)

    assert result.conflicts == []
    merged = file_of(result.version)
    assert merged["frontmatter"] == {
        "name": "reviewer",
        "description": "Reviews code carefully.",
        "tools": "Read, Grep",
        "model": "opus",
    }
    assert "1. **Step 1**: Read the whole diff.\n" in merged["body"]
    assert "3. **Step 3**: Write it up.\n" in merged["body"]
    assert merged["body"].endswith("## Output\n\nShort.\n")
    assert describe(result) == (
        "Kept their changes to the description and step 3; your changes to the model, step 1 "
        'and the section "Output" are saved.'
    )


def test_tools_added_and_removed_by_both_sides_are_combined():
    result = merge(
        version(),
        version(tools=("Read", "Grep", "Bash")),
        version(tools=("Grep", "mcp__github__create_issue")),
    )

    assert result.conflicts == []
    assert result.version.frontmatter["tools"] == ["Grep", "Bash", "mcp__github__create_issue"]


def test_the_same_field_changed_differently_is_a_conflict_that_keeps_mine_until_chosen():
    result = merge(version(), version(description="Theirs."), version(description="Mine."))

    [conflict] = result.conflicts
    assert (conflict.label, conflict.mine, conflict.theirs) == (
        "the description",
        "Mine.",
        "Theirs.",
    )
    assert result.version.frontmatter["description"] == "Mine."
    chosen = Version(dict(result.version.frontmatter), list(result.version.parts))
    assert resolve(chosen, Conflict.from_data(conflict.to_data()), THEIRS)
    assert chosen.frontmatter["description"] == "Theirs."


def test_the_same_step_changed_differently_is_a_conflict_with_both_versions():
    base = version()
    theirs = version(steps=("Read the diff.", "Run all the tests.", "Write the review."))
    mine = version(
        steps=("Read the diff.", "Run the unit tests.", "Write the review."), model="opus"
    )

    result = merge(base, theirs, mine)

    [conflict] = result.conflicts
    assert conflict.label == "step 2"
    assert conflict.mine == "2. **Step 2**: Run the unit tests."
    assert conflict.theirs == "2. **Step 2**: Run all the tests."
    assert result.version.frontmatter["model"] == "opus"  # the rest merged all the same
    chosen = Version(dict(result.version.frontmatter), list(result.version.parts))
    assert resolve(chosen, Conflict.from_data(conflict.to_data()), THEIRS)
    assert "2. **Step 2**: Run all the tests.\n" in chosen.body


def test_a_step_added_by_one_side_and_another_changed_by_the_other_are_both_kept():
    base = version()
    theirs = version(steps=("Read the diff.", "Run the tests.", "Write the review.", "Post it."))
    mine = version(steps=("Read all of the diff.", "Run the tests.", "Write the review."))

    result = merge(base, theirs, mine)

    assert result.conflicts == []
    steps = [p for p in result.version.parts if p.is_steps][0].steps
    assert [s.text for s in steps] == [
        "Read all of the diff.",
        "Run the tests.",
        "Write the review.",
        "Post it.",
    ]


# --- the admin: "save again" --------------------------------------------------------------------


def test_saving_again_in_the_admin_keeps_their_changes_to_what_this_page_did_not_touch(
    author, other_author
):
    agent = AgentFactory(name="shared", owner=author, steps=2, tools=2)
    agent.maintainers.add(other_author)
    first, second = client_for(author), client_for(other_author)
    stale = change_post(agent, description="First's version.")  # the page as opened, r1
    theirs = change_post(agent, model="opus")
    theirs["steps-1-text"] = "Do thing 2 with care."
    assert second.post(change_url(agent), theirs).status_code == 302

    refused = first.post(change_url(agent), stale)
    assert refused.status_code == 200
    form = refused.context["adminform"].form
    stale["base_revision"] = form["base_revision"].value()
    stale["merge_base"] = form["merge_base"].value()
    again = first.post(change_url(agent), stale, follow=True)

    saved = Agent.objects.get(pk=agent.pk)
    assert saved.description == "First's version."
    assert saved.model == "opus"  # their change, which this page still showed as "sonnet"
    assert saved.steps.get(position=2).text == "Do thing 2 with care."
    assert list(agent.revisions.values_list("number", flat=True)) == [3, 2, 1]
    assert (
        "Kept their changes to the model and step 2; your change to the description is saved."
        in [str(m) for m in again.context["messages"]]
    )


# --- two saves at the same moment (PostgreSQL: the second waits for the first's row lock) -------


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migrated_data")
def test_two_editor_saves_of_different_fields_at_the_same_moment_both_land(author, other_author):
    from .test_editor import FormData, edit_url

    agent = AgentFactory(name="shared", owner=author, steps=2)
    agent.maintainers.add(other_author)
    clients = [client_for(author), client_for(other_author)]
    forms = [FormData(client.get(edit_url(agent)).content.decode()) for client in clients]
    forms[0].set("description", "The author's description.")
    forms[1].set("model", "opus")
    barrier = threading.Barrier(2)
    responses: list = [None, None]

    def save(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            responses[index] = clients[index].post(edit_url(agent), forms[index].press("save"))
        except Exception as exc:  # noqa: BLE001 -- shown by the assertion below
            responses[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [getattr(response, "status_code", response) for response in responses] == [302, 302]
    saved = Agent.objects.get(pk=agent.pk)
    assert (saved.description, saved.model) == ("The author's description.", "opus")
    assert list(agent.revisions.values_list("number", flat=True)) == [3, 2, 1]


def test_saving_again_in_the_admin_after_someone_added_a_step_is_refused_not_an_error(
    author, other_author
):
    agent = AgentFactory(name="shared", owner=author, steps=2)
    agent.maintainers.add(other_author)
    first, second = client_for(author), client_for(other_author)
    stale = change_post(agent, description="First's version.")
    rows = existing_rows(agent)
    added = [*rows["steps"], {"position": "0.5", "title": "New", "text": "Inserted first."}]
    theirs = change_post(agent, rows={"steps": added}) | {"steps-TOTAL_FORMS": "3"}
    assert second.post(change_url(agent), theirs).status_code == 302

    refused = first.post(change_url(agent), stale)
    form = refused.context["adminform"].form
    stale["base_revision"] = form["base_revision"].value()
    stale["merge_base"] = form["merge_base"].value()
    again = first.post(change_url(agent), stale)

    assert again.status_code == 200
    assert "Someone added a row here since you opened the page" in again.content.decode()
    assert list(agent.steps.values_list("text", flat=True)) == [
        "Inserted first.",
        "Do thing 1.",
        "Do thing 2.",
    ]
    assert Agent.objects.get(pk=agent.pk).description != "First's version."
