"""The admin's import page: upload, preview per file, confirm; a batch is all-or-nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from agents import filebridge, workflow
from agents.models import Agent, StagedFile, StagedImport

from .conftest import member_of
from .factories import AgentFactory
from .test_import_commands import REVIEWER
from .test_import_zip import agent, make_zip

pytestmark = pytest.mark.django_db
URL = reverse("admin:agents_agent_import")


def upload(name: str, content: bytes | str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content)


def batch_of(response) -> str:
    match = re.search(r'name="batch" value="([^"]+)"', response.content.decode())
    assert match, "no confirm form on the page"
    return match.group(1)


def test_preview_shows_each_file_then_confirm_imports_them(admin_client):
    response = admin_client.post(
        URL,
        {
            "files": [
                upload("alpha.md", agent("alpha")),
                upload("more.zip", make_zip({"beta.md": agent("beta").replace("Grep", "LS")})),
            ]
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<td>alpha.md</td>" in page and "<td>more.zip:beta.md</td>" in page
    assert page.count("<strong>created</strong>") == 2
    assert "warning: line 4: &#x27;LS&#x27; is a legacy tool name" in page
    assert not Agent.objects.exists()

    response = admin_client.post(URL, {"batch": batch_of(response)})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:agents_agent_changelist")
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["alpha", "beta"]
    assert filebridge.render(Agent.objects.for_export().get(name="alpha")) == agent("alpha")


def test_a_bad_file_blocks_the_whole_batch_with_its_error(admin_client):
    response = admin_client.post(
        URL, {"files": [upload("alpha.md", agent("alpha")), upload("bad.md", "# nothing\n")]}
    )
    page = response.content.decode()

    assert "line 1: no frontmatter" in page
    assert "Nothing can be imported until every file is fixed or removed." in page
    assert 'name="batch"' not in page
    assert not Agent.objects.exists()


def test_a_made_up_confirmation_is_refused(admin_client):
    batch_of(admin_client.post(URL, {"files": [upload("alpha.md", agent("alpha"))]}))

    response = admin_client.post(URL, {"batch": "made-up"}, follow=True)

    assert "This import is no longer waiting for confirmation" in response.content.decode()
    assert not Agent.objects.exists()


def test_existing_agents_conflict_unless_update_is_ticked(admin_client):
    admin_client.post(
        URL, {"batch": batch_of(admin_client.post(URL, {"files": [upload("a.md", REVIEWER)]}))}
    )
    changed = REVIEWER.replace("model: sonnet", "model: opus")

    response = admin_client.post(URL, {"files": [upload("a.md", changed)]})
    assert "<strong>conflict</strong>" in response.content.decode()

    response = admin_client.post(URL, {"files": [upload("a.md", changed)], "update": "on"})
    assert "<strong>updated</strong>" in response.content.decode()
    admin_client.post(URL, {"batch": batch_of(response)})
    assert Agent.objects.get().model == "opus"


def test_oversized_uploads_and_other_file_types_are_refused(admin_client):
    big = upload("big.md", REVIEWER + "x" * (1024 * 1024))
    response = admin_client.post(URL, {"files": [big]})
    assert "big.md is 1,048,7" in response.content.decode()
    assert "the limit is 1,048,576 bytes" in response.content.decode()

    response = admin_client.post(URL, {"files": [upload("notes.txt", "hello")]})
    assert "notes.txt: upload .md files or .zip archives." in response.content.decode()
    assert not Agent.objects.exists()


def test_the_changelist_links_to_the_import_page(admin_client):
    response = admin_client.get(reverse("admin:agents_agent_changelist"))

    assert f'href="{URL}"' in response.content.decode()


def test_the_import_page_is_for_authors(client, author, reviewer):
    client.force_login(reviewer)
    assert client.get(URL).status_code == 403

    client.force_login(author)
    assert client.get(URL).status_code == 200


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


# --- the documented limits, and whose batch it is ---------------------------------------------


def test_a_batch_of_101_files_is_previewed_and_imported(admin_client):
    files = [upload(f"agent-{n}.md", agent(f"agent-{n}")) for n in range(101)]

    response = admin_client.post(URL, {"files": files})

    assert response.content.decode().count("<strong>created</strong>") == 101
    response = admin_client.post(URL, {"batch": batch_of(response)})
    assert response.status_code == 302
    assert Agent.objects.count() == 101


def test_five_files_of_940_kb_reach_the_confirmation(admin_client):
    padding = "x" * (940 * 1024)
    files = [upload(f"big-{n}.md", agent(f"big-{n}") + padding) for n in range(5)]

    response = admin_client.post(URL, {"files": files})
    assert response.content.decode().count("<strong>created</strong>") == 5

    response = admin_client.post(URL, {"batch": batch_of(response)})

    assert response.status_code == 302
    assert Agent.objects.count() == 5
    assert filebridge.render(Agent.objects.for_export().get(name="big-0")).endswith(padding)


def test_more_than_500_files_are_refused_naming_the_limit(admin_client):
    files = [upload(f"agent-{n}.md", agent(f"agent-{n}")) for n in range(501)]

    response = admin_client.post(URL, {"files": files})

    assert response.status_code == 200
    assert "Nothing was uploaded: more than 500 files in one upload" in response.content.decode()
    assert 'name="batch"' not in response.content.decode()
    assert not Agent.objects.exists()


def test_more_than_10_mb_in_one_upload_is_refused_naming_the_limit(admin_client):
    padding = "x" * (1000 * 1024)
    files = [upload(f"big-{n}.md", agent(f"big-{n}") + padding) for n in range(11)]

    response = admin_client.post(URL, {"files": files})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was uploaded: more than 10,485,760 bytes in one upload" in page
    assert "a batch may hold at most 10 MB" in page
    assert not Agent.objects.exists()


def test_someone_elses_batch_cannot_be_confirmed(client, author, other_author):
    client.force_login(author)
    batch = batch_of(client.post(URL, {"files": [upload("alpha.md", agent("alpha"))]}))

    client.force_login(other_author)
    response = client.post(URL, {"batch": batch}, follow=True)

    assert "This import is no longer waiting for confirmation" in response.content.decode()
    assert not Agent.objects.exists()
    # The author who previewed it still can, and owns what it creates.
    client.force_login(author)
    assert client.post(URL, {"batch": batch}).status_code == 302
    assert Agent.objects.get().owner == author


def test_a_batch_is_imported_once(admin_client):
    batch = batch_of(admin_client.post(URL, {"files": [upload("alpha.md", agent("alpha"))]}))
    admin_client.post(URL, {"batch": batch})

    response = admin_client.post(URL, {"batch": batch}, follow=True)

    assert "This import is no longer waiting for confirmation" in response.content.decode()
    assert Agent.objects.get().revisions.count() == 1


def test_a_preview_expires_after_an_hour(admin_client):
    batch = batch_of(admin_client.post(URL, {"files": [upload("alpha.md", agent("alpha"))]}))
    StagedImport.objects.update(created_at=timezone.now() - timedelta(minutes=61))

    response = admin_client.post(URL, {"batch": batch}, follow=True)

    assert "it expired after 60 minutes" in response.content.decode()
    assert not Agent.objects.exists()


def test_abandoned_previews_are_dropped_when_the_next_one_is_made(admin_client):
    admin_client.post(URL, {"files": [upload("alpha.md", agent("alpha"))]})
    StagedImport.objects.update(created_at=timezone.now() - timedelta(hours=2))

    admin_client.post(URL, {"files": [upload("beta.md", agent("beta"))]})

    assert StagedImport.objects.count() == 1
    assert list(StagedFile.objects.values_list("source", flat=True)) == ["beta.md"]


# --- the preview says exactly what the confirmation will do ----------------------------------


def preview_and_confirm(client, content: str) -> tuple[str, str]:
    """The outcome the preview shows for one file, then what confirming it does."""
    response = client.post(URL, {"files": [upload("a.md", content)], "update": "on"})
    preview = re.search(r"class=\"outcome-(\w+)\"", response.content.decode()).group(1)
    match = re.search(r'name="batch" value="([^"]+)"', response.content.decode())
    if match is None:
        return preview, "nothing to confirm"
    confirmed = client.post(URL, {"batch": match.group(1)}, follow=True).content.decode()
    return preview, "imported" if "Imported 1 file:" in confirmed else "refused"


def test_the_preview_refuses_an_agent_the_author_may_not_change(client, author, other_author):
    AgentFactory(name="code-reviewer", owner=other_author, published=True)
    client.force_login(author)

    preview, confirmed = preview_and_confirm(client, REVIEWER)

    assert (preview, confirmed) == ("error", "nothing to confirm")
    assert Agent.objects.get().revisions.count() == 1


def test_the_preview_refuses_an_agent_in_review(client, author):
    agent = AgentFactory(name="code-reviewer", owner=author)
    workflow.transition(agent, "submit", author)
    client.force_login(author)

    response = client.post(URL, {"files": [upload("a.md", REVIEWER)], "update": "on"})

    assert "<strong>error</strong>" in response.content.decode()
    assert "code-reviewer is in review: withdraw it" in response.content.decode()
    assert 'name="batch"' not in response.content.decode()


def test_the_preview_of_an_agent_the_author_maintains_is_what_the_confirmation_does(
    client, author, other_author
):
    agent = AgentFactory(name="code-reviewer", owner=other_author, published=True)
    agent.maintainers.add(author)
    client.force_login(author)

    assert preview_and_confirm(client, REVIEWER) == ("updated", "imported")
    assert filebridge.render(Agent.objects.for_export().get()) == REVIEWER


def test_a_maintainer_who_left_the_authors_group_is_refused_in_the_preview(
    client, author, other_author
):
    agent = AgentFactory(name="code-reviewer", owner=other_author, published=True)
    agent.maintainers.add(author)
    author.groups.clear()
    member_of(author, "Reviewers")  # may still open the admin, may no longer author
    client.force_login(author)

    response = client.post(URL, {"files": [upload("a.md", REVIEWER)], "update": "on"})

    assert response.status_code == 403
