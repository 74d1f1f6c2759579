"""The editor in a real browser (issue 8): an author writes an agent with steps and tools, moves
a step with the keyboard, watches the preview, saves and submits; unsaved edits are never
dropped by a workflow button; two people editing at once keep both their changes, or are asked
to choose."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from agents import filebridge
from agents.models import Agent, Event

from .browser import log_in, screenshot
from .conftest import member_of
from .factories import AgentFactory

expect = pytest.importorskip("playwright.sync_api").expect
# The preview waits for a pause in the typing, then for the server: on a busy machine that is
# more than expect's default 5 seconds.
expect.set_options(timeout=15_000)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_data"),
]


@pytest.fixture
def writer(django_user_model):
    """An author without the staff flag: the portal is theirs, not the admin."""
    user = django_user_model.objects.create_user("writer", "writer@example.com", "pw-writer-1")
    return member_of(user, "Authors")


def preview_text(page) -> str:
    return page.locator("#preview-file").text_content()


def steps_in_preview(page) -> list[str]:
    return [line for line in preview_text(page).splitlines() if line[:2] in ("1.", "2.", "3.")]


def test_an_author_writes_an_agent_moves_a_step_with_the_keyboard_saves_and_submits(page, writer):
    page.set_viewport_size({"width": 1400, "height": 1000})
    log_in(page, "writer", "pw-writer-1")
    page.get_by_role("link", name="New agent").click()
    # A name off the rule is said next to the field, in words, while typing; fixed, it goes.
    page.get_by_label("Name", exact=True).fill("Code Reviewer")
    expect(page.locator("#errors-name")).to_contain_text(
        "does not match the naming rule: use lowercase letters"
    )
    page.get_by_label("Name", exact=True).fill("code-reviewer")
    expect(page.locator("#errors-name")).to_be_empty()
    page.get_by_label("Description").fill("Reviews code. Use proactively.")
    # Tools: found by searching, ticked, and an MCP tool typed; the chips keep the order.
    page.get_by_label("Find a tool").fill("reads files")
    page.get_by_role("checkbox", name=re.compile(r"^Read Reads files")).check()
    page.get_by_label("Other tools").fill("mcp__github__create_issue")
    chips = page.locator("#chosen-tools li")
    expect(chips).to_have_text(["Read×", "mcp__github__create_issue×"])
    page.get_by_label("Model").select_option("sonnet")
    page.get_by_label("Colour").select_option("green")
    page.get_by_label("Text of the prompt").fill("You review code.")
    page.get_by_role("button", name="Add instruction steps").click()

    # The steps: one is there (focused), two more are added at once.
    expect(page.get_by_label("Title of step 1")).to_be_focused()
    page.get_by_label("Title of step 1").fill("Read")
    page.get_by_label("Text of step 1").fill("Read the diff.")
    for number, title, text in [(2, "Report", "Write the review."), (3, "Test", "Run the tests.")]:
        page.get_by_role("button", name="Add a step").click()
        expect(page.get_by_label(f"Title of step {number}")).to_be_focused()
        page.keyboard.type(title)
        page.get_by_label(f"Text of step {number}").fill(text)
    expect(page.locator("#preview-file")).to_contain_text("3. **Test**: Run the tests.")

    # "Test" belongs before "Report": Alt+Up in its text moves it, and the focus stays there.
    text_box = page.get_by_label("Text of step 3")
    text_box.focus()
    page.keyboard.press("Alt+ArrowUp")
    moved = page.get_by_label("Text of step 2")
    expect(moved).to_be_focused()
    expect(moved).to_have_value("Run the tests.")
    expect(page.locator("#steps-status")).to_have_text("Moved to step 2 of 3.")
    expect(page.locator("#preview-file")).to_contain_text("2. **Test**: Run the tests.")
    assert steps_in_preview(page) == [
        "1. **Read**: Read the diff.",
        "2. **Test**: Run the tests.",
        "3. **Report**: Write the review.",
    ]
    expect(page.locator(".preview-rendered ol li")).to_have_count(3)
    page.get_by_role("button", name="File").click()
    expect(page.locator(".preview-rendered")).to_be_hidden()
    expect(page.locator("#preview-file")).to_be_visible()
    assert "tools: Read, mcp__github__create_issue\n" in preview_text(page)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "editor")
    previewed = preview_text(page)

    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("Created code-reviewer as revision 1")
    agent = Agent.objects.for_export().get(name="code-reviewer")
    assert filebridge.render(agent) == previewed
    assert filebridge.tool_names(agent) == ["Read", "mcp__github__create_issue"]

    page.get_by_label("Change note").fill("Ready for a look.")
    page.get_by_role("button", name="Save and submit for review").click()
    page.wait_for_url(f"**{agent.get_absolute_url()}")
    agent.refresh_from_db()
    assert agent.status == Agent.Status.IN_REVIEW
    assert agent.events.get(action=Event.Action.SUBMIT).comment == "Ready for a look."


def second_person(page, live_server, username: str, password: str):
    """Another browser window, signed in as someone else."""
    context = page.context.browser.new_context(base_url=live_server.url)
    other = context.new_page()
    other.set_default_timeout(15_000)
    log_in(other, username, password)
    return other


@pytest.fixture
def co_writer(django_user_model):
    user = django_user_model.objects.create_user("cowriter", "co@example.com", "pw-cowriter-1")
    return member_of(user, "Authors")


def shared_agent(owner, maintainer) -> Agent:
    agent = AgentFactory(name="shared", owner=owner, steps=2, tools=2)
    agent.maintainers.add(maintainer)
    return agent


def test_a_workflow_button_with_unsaved_edits_never_drops_them(page, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    agent = AgentFactory(name="code-reviewer", steps=2, published=True)
    log_in(page, "boss", "pw-boss-123")
    page.goto(reverse("agents:edit", kwargs={"name": agent.slug}))
    archive = page.get_by_role("button", name="Archive")
    expect(archive).to_be_enabled()

    page.get_by_label("Description").fill("My unsaved words.")
    expect(archive).to_be_disabled()
    expect(page.locator("#unsaved-note")).to_contain_text("act on the saved agent: save first")
    # Leaving the page asks first; staying keeps the words.
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agents").click()
    expect(page.get_by_label("Description")).to_have_value("My unsaved words.")
    assert asked == ["beforeunload"]

    page.get_by_role("button", name="Save and submit for review").click()
    page.wait_for_url(f"**{agent.get_absolute_url()}")
    saved = Agent.objects.get(pk=agent.pk)
    assert saved.description == "My unsaved words."
    assert saved.status == Agent.Status.IN_REVIEW


def test_two_people_editing_different_fields_both_keep_their_change(
    page, live_server, writer, co_writer
):
    agent = shared_agent(writer, co_writer)
    url = reverse("agents:edit", kwargs={"name": agent.slug})
    log_in(page, "writer", "pw-writer-1")
    page.goto(url)
    other = second_person(page, live_server, "cowriter", "pw-cowriter-1")
    other.goto(url)

    other.get_by_label("Description").fill("Their description.")
    other.get_by_role("button", name="Save draft").click()
    expect(other.locator(".messages")).to_contain_text("Saved shared as revision 2.")
    page.get_by_label("Model").select_option("opus")
    page.get_by_label("Text of step 2").fill("Do thing 2 with care.")
    page.get_by_role("button", name="Save draft").click()

    expect(page.locator(".messages")).to_contain_text(
        "Kept their change to the description; your changes to the model and step 2 are saved."
    )
    expect(page.get_by_label("Description")).to_have_value("Their description.")
    saved = Agent.objects.get(pk=agent.pk)
    assert (saved.description, saved.model) == ("Their description.", "opus")
    assert saved.steps.get(position=2).text == "Do thing 2 with care."


def test_two_people_editing_the_same_field_are_asked_to_choose(
    page, live_server, writer, co_writer
):
    agent = shared_agent(writer, co_writer)
    url = reverse("agents:edit", kwargs={"name": agent.slug})
    log_in(page, "writer", "pw-writer-1")
    page.goto(url)
    other = second_person(page, live_server, "cowriter", "pw-cowriter-1")
    other.goto(url)

    other.get_by_label("Description").fill("Their description.")
    other.get_by_label("Colour").select_option("red")
    other.get_by_role("button", name="Save draft").click()
    expect(other.locator(".messages")).to_contain_text("Saved shared as revision 2.")
    page.get_by_label("Description").fill("My description.")
    page.get_by_role("button", name="Save draft").click()

    conflict = page.get_by_role("group", name="The description")
    expect(conflict).to_contain_text("My description.")
    expect(conflict).to_contain_text("Their description.")
    expect(page.get_by_role("alert")).to_contain_text("Nothing is saved yet.")
    expect(page.get_by_label("Colour")).to_have_value("red")  # their other change is in
    assert agent.revisions.count() == 2
    screenshot(page, "editor-conflict")

    conflict.get_by_label("Keep yours").check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("Saved shared as revision 3.")
    saved = Agent.objects.get(pk=agent.pk)
    assert (saved.description, saved.color) == ("My description.", "red")
