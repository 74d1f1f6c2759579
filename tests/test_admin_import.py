"""The admin's import page: upload, preview per file, confirm; a batch is all-or-nothing."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents.models import Agent

from .test_import_commands import REVIEWER
from .test_import_zip import agent, make_zip

pytestmark = pytest.mark.django_db
URL = reverse("admin:agents_agent_import")


def upload(name: str, content: bytes | str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content)


def payload_of(response) -> str:
    match = re.search(r'name="payload" value="([^"]+)"', response.content.decode())
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

    response = admin_client.post(URL, {"payload": payload_of(response)})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:agents_agent_changelist")
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["alpha", "beta"]
    assert Agent.objects.for_export().get(name="alpha").render() == agent("alpha")


def test_a_bad_file_blocks_the_whole_batch_with_its_error(admin_client):
    response = admin_client.post(
        URL, {"files": [upload("alpha.md", agent("alpha")), upload("bad.md", "# nothing\n")]}
    )
    page = response.content.decode()

    assert "line 1: no frontmatter" in page
    assert "Nothing can be imported until every file is fixed or removed." in page
    assert 'name="payload"' not in page
    assert not Agent.objects.exists()


def test_a_tampered_confirmation_is_refused(admin_client):
    response = admin_client.post(URL, {"files": [upload("alpha.md", agent("alpha"))]})
    payload = payload_of(response)

    response = admin_client.post(URL, {"payload": payload[:-3] + "xyz"}, follow=True)

    assert "This import expired or was altered" in response.content.decode()
    assert not Agent.objects.exists()


def test_existing_agents_conflict_unless_update_is_ticked(admin_client):
    admin_client.post(
        URL, {"payload": payload_of(admin_client.post(URL, {"files": [upload("a.md", REVIEWER)]}))}
    )
    changed = REVIEWER.replace("model: sonnet", "model: opus")

    response = admin_client.post(URL, {"files": [upload("a.md", changed)]})
    assert "<strong>conflict</strong>" in response.content.decode()

    response = admin_client.post(URL, {"files": [upload("a.md", changed)], "update": "on"})
    assert "<strong>updated</strong>" in response.content.decode()
    admin_client.post(URL, {"payload": payload_of(response)})
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
