"""The portal's import page (/import/) and the batch rule behind it: upload, preview per file,
confirm all or nothing, or import the files that pass and skip the refused ones."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from agents import filebridge, workflow
from agents.importing import Outcome, expand, import_batch
from agents.models import Agent, StagedImport

from .factories import AgentFactory
from .test_import_commands import REVIEWER
from .test_import_zip import agent, make_zip

pytestmark = pytest.mark.django_db
URL = reverse("import")
ADMIN_URL = reverse("admin:agents_agent_import")


def upload(name: str, content: bytes | str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def confirm_form(response) -> dict[str, str]:
    """The hidden fields of the confirmation form, as the browser posts them back."""
    page = response.content.decode()
    form = re.search(r'<form method="post" class="card confirm-import".*?</form>', page, re.S)
    assert form, "no confirmation form on the page"
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(0)))


def texts(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def outcomes(response) -> list[tuple[str, str]]:
    """(file, outcome) of each row of the preview."""
    rows = re.findall(
        r'<tr class="outcome-\w+">\s*<td class="import-source">([^<]*)</td>.*?'
        r'<span class="outcome outcome-\w+">(\w+)</span>',
        response.content.decode(),
        re.S,
    )
    return [(html.unescape(source), outcome) for source, outcome in rows]


BAD = "# no frontmatter here\n"


# --- the batch rule (agents.importing) ----------------------------------------------------------


def test_skip_refused_saves_the_files_that_pass_and_lists_the_others(author):
    entries = expand(
        [
            ("a.md", agent("alpha").encode()),
            ("bad.md", BAD.encode()),
            ("z.zip", make_zip({"b.md": agent("beta"), "worse.md": "---\nname: x\n---\n"})),
        ]
    )

    results, saved = import_batch(entries, owner=author, actor=author, skip_refused=True)

    assert saved
    assert [(r.source, r.outcome, r.skipped) for r in results] == [
        ("a.md", Outcome.CREATED, False),
        ("bad.md", Outcome.ERROR, True),
        ("z.zip:b.md", Outcome.CREATED, False),
        ("z.zip:worse.md", Outcome.ERROR, True),
    ]
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["alpha", "beta"]
    assert filebridge.render(Agent.objects.for_export().get(name="alpha")) == agent("alpha")


def test_without_skip_refused_one_refused_file_saves_nothing(author):
    entries = expand([("a.md", agent("alpha").encode()), ("bad.md", BAD.encode())])

    results, saved = import_batch(entries, owner=author, actor=author)

    assert not saved
    assert not any(result.skipped for result in results)
    assert not Agent.objects.exists()


def test_skip_refused_skips_the_second_file_naming_the_same_agent(author):
    changed = agent("alpha").replace("model: sonnet", "model: opus")
    entries = expand([("a.md", agent("alpha").encode()), ("again.md", changed.encode())])

    results, saved = import_batch(
        entries, update=True, owner=author, actor=author, skip_refused=True
    )

    assert saved
    assert [(r.outcome, r.skipped) for r in results] == [
        (Outcome.CREATED, False),
        (Outcome.ERROR, True),
    ]
    assert "the agent 'alpha' is also in a.md" in results[1].error.message
    imported = Agent.objects.get()
    assert (imported.model, imported.revisions.count()) == ("sonnet", 1)


def test_a_dry_run_with_skip_refused_saves_nothing(author):
    entries = expand([("a.md", agent("alpha").encode()), ("bad.md", BAD.encode())])

    results, saved = import_batch(entries, dry_run=True, owner=author, skip_refused=True)

    assert not saved
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.ERROR]
    assert not Agent.objects.exists()


# --- the page ---------------------------------------------------------------------------------


def test_the_import_page_is_for_authors(client, author, reviewer, reader):
    assert client_for(reviewer).get(URL).status_code == 403
    assert client_for(reader).get(URL).status_code == 403
    signed_out = client.get(URL)
    assert signed_out.status_code == 302
    assert signed_out["Location"].startswith(reverse("login"))
    page = client_for(author).get(URL)
    assert page.status_code == 200
    assert '<label for="id_files">Agent files</label>' in page.content.decode()


def test_preview_says_what_each_file_does_then_confirm_imports_them(author):
    existing = AgentFactory(name="gamma", owner=author)
    same = filebridge.render(Agent.objects.for_export().get(pk=existing.pk))
    importer = client_for(author)

    response = importer.post(
        URL,
        {
            "files": [
                upload("alpha.md", agent("alpha")),
                upload("more.zip", make_zip({"beta.md": agent("beta").replace("Grep", "LS")})),
                upload("gamma.md", same),
            ]
        },
    )

    assert response.status_code == 200
    assert outcomes(response) == [
        ("alpha.md", "created"),
        ("more.zip:beta.md", "created"),
        ("gamma.md", "unchanged"),
    ]
    page = response.content.decode()
    assert (
        "Warning, line 4: &#x27;LS&#x27; is a legacy tool name; today it is &#x27;Glob&#x27;"
        in (page)
    )
    assert "Import 3 files</button>" in page
    assert not Agent.objects.filter(name__in=["alpha", "beta"]).exists()

    done = importer.post(URL, confirm_form(response), follow=True)

    assert done.redirect_chain[-1][0] == reverse("home")
    assert "Imported 3 files: 2 created, 1 unchanged." in texts(done)
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["alpha", "beta", "gamma"]
    assert Agent.objects.get(name="alpha").owner == author
    assert filebridge.render(Agent.objects.for_export().get(name="alpha")) == agent("alpha")


def test_a_refused_file_is_shown_with_its_reason_and_can_be_skipped(author):
    importer = client_for(author)

    response = importer.post(
        URL,
        {
            "files": [
                upload("alpha.md", agent("alpha")),
                upload("bad.md", BAD),
                upload("beta.md", agent("beta")),
            ]
        },
    )

    page = response.content.decode()
    assert outcomes(response) == [
        ("alpha.md", "created"),
        ("bad.md", "refused"),
        ("beta.md", "created"),
    ]
    assert "Line 1: no frontmatter" in page
    assert "import the files that pass and skip the refused ones" in page
    assert "Import 2 files, skip 1 refused</button>" in page
    form = confirm_form(response)
    assert form["skip_refused"] == "1"
    assert not Agent.objects.exists()

    done = importer.post(URL, form, follow=True)

    assert "Imported 2 files: 2 created." in texts(done)
    assert "Skipped 1 refused file; nothing of them was saved: bad.md." in texts(done)
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["alpha", "beta"]
    assert not StagedImport.objects.exists()


def test_a_batch_with_nothing_that_passes_offers_no_confirmation(author):
    response = client_for(author).post(URL, {"files": [upload("bad.md", BAD)]})

    page = response.content.decode()
    assert "Nothing can be imported until every file is fixed or removed." in page
    assert 'name="batch"' not in page
    assert not StagedImport.objects.exists()


def test_confirming_all_imports_nothing_when_a_file_no_longer_passes(author, other_author):
    importer = client_for(author)
    response = importer.post(
        URL,
        {
            "files": [upload("alpha.md", agent("alpha")), upload("beta.md", agent("beta"))],
            "update": "on",
        },
    )
    form = confirm_form(response)
    assert "skip_refused" not in form
    # Meanwhile someone else creates beta: this author may not change it.
    AgentFactory(name="beta", owner=other_author)

    again = importer.post(URL, form)

    page = again.content.decode()
    assert "Nothing was imported: something changed since the preview" in page
    assert outcomes(again)[1] == ("beta.md", "refused")
    assert "You may not change beta: it belongs to someone else." in page
    assert not Agent.objects.filter(name="alpha").exists()
    # Now the refused file can be skipped.
    done = importer.post(URL, confirm_form(again), follow=True)
    assert "Skipped 1 refused file; nothing of them was saved: beta.md." in texts(done)
    assert Agent.objects.get(name="alpha").owner == author
    assert Agent.objects.get(name="beta").owner == other_author


def test_conflicts_are_left_alone_unless_replace_is_ticked(author):
    importer = client_for(author)
    AgentFactory(name="code-reviewer", owner=author)
    changed = REVIEWER.replace("model: sonnet", "model: opus")

    response = importer.post(URL, {"files": [upload("a.md", changed)]})
    assert outcomes(response) == [("a.md", "conflict")]
    assert "+model: opus" in html.unescape(response.content.decode())

    response = importer.post(URL, {"files": [upload("a.md", changed)], "update": "on"})
    assert outcomes(response) == [("a.md", "updated")]
    importer.post(URL, confirm_form(response))
    assert Agent.objects.get().model == "opus"


def test_the_web_limits_are_those_of_the_admin_page(author):
    importer = client_for(author)

    too_many = [upload(f"agent-{n}.md", agent(f"agent-{n}")) for n in range(501)]
    response = importer.post(URL, {"files": too_many})
    assert response.status_code == 200
    assert "Nothing was uploaded: more than 500 files in one upload" in response.content.decode()

    padding = "x" * (1000 * 1024)
    too_big = [upload(f"big-{n}.md", agent(f"big-{n}") + padding) for n in range(11)]
    response = importer.post(URL, {"files": too_big})
    assert "Nothing was uploaded: more than 10,485,760 bytes in one upload" in (
        response.content.decode()
    )

    response = importer.post(URL, {"files": [upload("big.md", REVIEWER + "x" * (1024 * 1024))]})
    assert "the limit is 1,048,576 bytes" in response.content.decode()

    response = importer.post(URL, {"files": [upload("notes.txt", "hello")]})
    assert "notes.txt: upload .md files or .zip archives." in response.content.decode()
    assert not Agent.objects.exists()
    assert not StagedImport.objects.exists()


def test_someone_elses_batch_cannot_be_confirmed(author, other_author):
    response = client_for(author).post(
        URL, {"files": [upload("alpha.md", agent("alpha")), upload("bad.md", BAD)]}
    )
    form = confirm_form(response)

    stolen = client_for(other_author).post(URL, form, follow=True)

    assert any("This import is no longer waiting for confirmation" in t for t in texts(stolen))
    assert not Agent.objects.exists()
    client_for(author).post(URL, form)
    assert Agent.objects.get().owner == author


def test_a_batch_is_imported_once(author):
    importer = client_for(author)
    form = confirm_form(importer.post(URL, {"files": [upload("alpha.md", agent("alpha"))]}))
    importer.post(URL, form)

    response = importer.post(URL, form, follow=True)

    assert any("This import is no longer waiting for confirmation" in t for t in texts(response))
    assert Agent.objects.get().revisions.count() == 1


def test_the_admin_page_stays_all_or_nothing(admin_client, author):
    response = admin_client.post(
        ADMIN_URL, {"files": [upload("alpha.md", agent("alpha")), upload("bad.md", BAD)]}
    )
    assert "Nothing can be imported until every file is fixed or removed." in (
        response.content.decode()
    )
    assert 'name="batch"' not in response.content.decode()

    # A batch that passed the preview, confirmed with a made-up "skip" after it stopped passing.
    response = admin_client.post(
        ADMIN_URL,
        {
            "files": [upload("alpha.md", agent("alpha")), upload("beta.md", agent("beta"))],
            "update": "on",
        },
    )
    batch = re.search(r'name="batch" value="([^"]+)"', response.content.decode()).group(1)
    beta = AgentFactory(name="beta", owner=author)
    workflow.transition(beta, "submit", author)
    response = admin_client.post(ADMIN_URL, {"batch": batch, "skip_refused": "1"})
    assert "Nothing was imported" in response.content.decode()
    assert not Agent.objects.filter(name="alpha").exists()
