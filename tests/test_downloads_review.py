"""Review is never skipped: whatever state an agent is in, the only content of it that reaches a
machine through a download, the zip or ``export_agents`` (without --drafts) is a revision a
reviewer approved (or the operator published), and only while the agent is not archived."""

from __future__ import annotations

import io
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from agents import workflow
from agents.importing import import_file
from agents.models import Agent

from .factories import approve
from .test_import_zip import agent

pytestmark = pytest.mark.django_db

APPROVED = agent("code-reviewer")
DRAFT = APPROVED.replace("Reviews code", "UNREVIEWED DRAFT reviews code")


def edit_to_draft(reviewer: Agent, user) -> None:
    reviewer.description = reviewer.description.replace(
        "Reviews code", "UNREVIEWED DRAFT reviews code"
    )
    reviewer.save()
    workflow.record_revision(reviewer, user, note="unreviewed")


def submit(reviewer: Agent, user) -> None:
    workflow.transition(reviewer, "submit", user)


def send_back(reviewer: Agent, user) -> None:
    workflow.transition(reviewer, "request_changes", user, comment="Not yet.")


# state -> (steps after importing the file, what machines get: the approved file or nothing)
STATES = {
    "draft": (["draft"], None),
    "in review": (["draft", "submit"], None),
    "changes requested": (["draft", "submit", "send back"], None),
    "archived draft": (["draft", "archive"], None),
    "approved": (["submit", "approve"], APPROVED),
    "archived after approval": (["submit", "approve", "archive"], None),
    "approved, then edited": (["submit", "approve", "draft"], APPROVED),
    "approved, then edited and in review": (["submit", "approve", "draft", "submit"], APPROVED),
    "approved, then sent back": (
        ["submit", "approve", "draft", "submit", "send back"],
        APPROVED,
    ),
    "approved, then archived and restored": (["submit", "approve", "archive", "restore"], APPROVED),
}


@pytest.fixture(params=list(STATES))
def state(request, author, reviewer):
    steps, expected = STATES[request.param]
    text = APPROVED if "approve" in steps else DRAFT
    import_file("cr.md", text.encode(), owner=author, actor=author, path="team/cr.md")
    subject = Agent.objects.get()
    for step in steps:
        subject = Agent.objects.get()
        if step == "draft" and "approve" in steps:
            edit_to_draft(subject, author)
        elif step == "submit":
            submit(subject, author)
        elif step == "send back":
            send_back(subject, reviewer)
        elif step == "approve":
            approve(subject, reviewer)
        elif step in ("archive", "restore"):
            workflow.transition(subject, step, None)
    subject = Agent.objects.get()
    assert subject.revisions.filter(text=DRAFT).exists() == (text == DRAFT or "draft" in steps)
    return subject, expected


def test_downloads_serve_only_the_approved_file(client, reader, state):
    subject, expected = state
    client.force_login(reader)

    response = client.get(reverse("agents:download", kwargs={"name": "code-reviewer"}))

    if expected is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 200
        assert response.content == expected.encode()


def test_a_reader_gets_no_revision_that_was_never_approved(client, reader, state):
    subject, _ = state
    client.force_login(reader)
    address = reverse("agents:download", kwargs={"name": "code-reviewer"})

    for number, text in subject.revisions.values_list("number", "text"):
        response = client.get(f"{address}?revision={number}")
        revision = client.get(
            reverse("agents:revision", kwargs={"name": subject.slug, "number": number})
        )
        if text == APPROVED and subject.status != "archived":
            assert response.content == revision.content == APPROVED.encode()
        else:
            assert response.status_code == revision.status_code == 404
            assert b"UNREVIEWED" not in response.content + revision.content


def test_the_zip_holds_only_the_approved_file(client, reader, state):
    _, expected = state
    client.force_login(reader)

    response = client.get(reverse("agents:download-zip"))

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    files = {info.filename: archive.read(info) for info in archive.infolist()}
    assert files == ({} if expected is None else {".claude/agents/team/cr.md": expected.encode()})


def test_export_writes_only_the_approved_file(tmp_path, state):
    _, expected = state

    call_command("export_agents", "--out", str(tmp_path), stdout=StringIO())

    written = {p.relative_to(tmp_path).as_posix(): p.read_text() for p in tmp_path.rglob("*.md")}
    assert written == ({} if expected is None else {"team/cr.md": expected})


def test_export_of_the_name_writes_only_the_approved_file(tmp_path, state):
    _, expected = state

    if expected is None:
        with pytest.raises(CommandError):
            call_command(
                "export_agents", "code-reviewer", "--out", str(tmp_path), stdout=StringIO()
            )
        assert not list(tmp_path.rglob("*.md"))
    else:
        call_command("export_agents", "code-reviewer", "--out", str(tmp_path), stdout=StringIO())
        assert (tmp_path / "team" / "cr.md").read_text() == expected


def test_only_drafts_writes_the_working_copy(tmp_path, state):
    subject, _ = state

    call_command("export_agents", "--drafts", "--out", str(tmp_path), stdout=StringIO())

    assert (tmp_path / "team" / "cr.md").read_text() == subject.latest_revision.text
