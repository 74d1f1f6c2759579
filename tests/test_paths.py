"""Every agent remembers where its file lives (``Agent.path``): the path it was imported from,
relative to the folder or archive, or ``<name>.md``; shown and editable in the admin."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse

from agents import importing
from agents.distribution import files
from agents.models import Agent

from .factories import AgentFactory
from .test_admin import ADD, agent_post, change_post, change_url
from .test_admin_import import batch_of
from .test_import_commands import REVIEWER, run, write
from .test_import_zip import agent, make_zip

pytestmark = pytest.mark.django_db


# --- what a path may be ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "Give a path"),
        ("/etc/agents/sre.md", "must be relative (no / at the start)"),
        ("C:/agents/sre.md", "no drive letter"),
        ("c:sre.md", "no drive letter"),
        ("engineering\\sre.md", "Separate folders with /"),
        ("../sre.md", "may not contain '..'"),
        ("engineering/../../sre.md", "may not contain '..'"),
        ("engineering//sre.md", "empty folder name"),
        ("engineering/", "empty folder name"),
        ("./sre.md", "without './'"),
        ("sre.txt", "must end in .md"),
        ("sre.MD", "must end in .md"),
        ("engineering/.md", "must end in .md"),
        ("sre\n.md", "control characters"),
        ("sre\u2028x.md", "control characters"),
        ("a" * 496 + ".md/x.md", "at most 500 characters"),
        ("x" * 300 + ".md", "at most 255 bytes"),
    ],
)
def test_a_path_that_cannot_hold_an_agent_is_refused_saying_why(path, message):
    assert message in files.path_refusal(path)


@pytest.mark.parametrize(
    "path", ["sre.md", "engineering/sre.md", "agents/backend/agent.md", "日本語/エージェント.md"]
)
def test_relative_paths_to_md_files_are_accepted(path):
    assert files.path_refusal(path) == ""


def test_a_path_another_agent_has_is_refused_naming_that_agent():
    AgentFactory(name="site-reliability")
    Agent.objects.filter(name="site-reliability").update(path="engineering/sre.md")
    mine = AgentFactory(name="mine")

    assert files.path_refusal("engineering/sre.md", mine) == (
        "engineering/sre.md is already the path of site-reliability: choose another path."
    )
    keeps_its_own = Agent.objects.get(name="site-reliability")
    assert files.path_refusal("engineering/sre.md", keeps_its_own) == ""


def test_two_agents_cannot_share_a_path_in_the_database():
    AgentFactory(name="first")
    other = AgentFactory(name="second")
    with pytest.raises(IntegrityError):
        Agent.objects.filter(pk=other.pk).update(path="first.md")


# --- agents made in the portal ------------------------------------------------------------------


def test_an_agent_created_without_a_path_gets_its_name_as_the_file_name():
    created = AgentFactory(name="code-reviewer")
    assert created.path == "code-reviewer.md"
    assert AgentFactory(name="Python DevOps/CI-CD Expert").path == "Python-DevOps-CI-CD-Expert.md"


def test_a_default_path_another_agent_has_is_numbered():
    AgentFactory(name="Team/Reviewer")  # Team-Reviewer.md
    assert AgentFactory(name="Team-Reviewer").path == "Team-Reviewer-2.md"
    assert AgentFactory(name="Team Reviewer").path == "Team-Reviewer-3.md"


def test_renaming_an_agent_keeps_its_path():
    renamed = AgentFactory(name="old-name")
    renamed.name = "new-name"
    renamed.save()
    assert Agent.objects.get(pk=renamed.pk).path == "old-name.md"


def test_the_migration_gives_every_existing_agent_its_name_as_a_unique_path():
    from importlib import import_module

    from django.apps import apps

    for name in ("code-reviewer", "code/reviewer", "tester"):
        AgentFactory(name=name)
    for pk in Agent.objects.values_list("pk", flat=True):
        Agent.objects.filter(pk=pk).update(path=f"before-{pk}.md")

    import_module("agents.migrations.0013_agent_path").fill_paths(apps, None)

    assert sorted(Agent.objects.values_list("path", flat=True)) == [
        "code-reviewer-2.md",
        "code-reviewer.md",
        "tester.md",
    ]


# --- the admin ----------------------------------------------------------------------------------


def test_the_admin_shows_the_path_and_saves_a_new_one(admin_client):
    reviewer = AgentFactory(name="code-reviewer", published=True)

    page = admin_client.get(change_url(reviewer)).content.decode()
    assert 'name="path"' in page and 'value="code-reviewer.md"' in page

    response = admin_client.post(
        change_url(reviewer), change_post(reviewer, path="review/code-reviewer.md")
    )
    assert response.status_code == 302
    assert Agent.objects.get(pk=reviewer.pk).path == "review/code-reviewer.md"


def test_the_admin_refuses_a_bad_path_with_its_reason_and_keeps_the_old_one(admin_client):
    reviewer = AgentFactory(name="code-reviewer", published=True)
    AgentFactory(name="taken")

    bad = admin_client.post(change_url(reviewer), change_post(reviewer, path="../escape.md"))
    taken = admin_client.post(change_url(reviewer), change_post(reviewer, path="taken.md"))

    assert bad.status_code == taken.status_code == 200
    assert "may not contain &#x27;..&#x27;" in bad.content.decode()
    assert "taken.md is already the path of taken: choose another path." in (taken.content.decode())
    assert Agent.objects.get(pk=reviewer.pk).path == "code-reviewer.md"


def test_a_form_that_leaves_the_path_empty_keeps_the_path(admin_client):
    reviewer = AgentFactory(name="code-reviewer")
    Agent.objects.filter(pk=reviewer.pk).update(path="review/code-reviewer.md")
    reviewer.refresh_from_db()

    response = admin_client.post(change_url(reviewer), change_post(reviewer, path=""))

    assert response.status_code == 302
    assert Agent.objects.get(pk=reviewer.pk).path == "review/code-reviewer.md"


def test_an_agent_added_in_the_admin_without_a_path_gets_its_name(admin_client):
    response = admin_client.post(ADD, agent_post(name="fresh-agent"))

    assert response.status_code == 302
    assert Agent.objects.get(name="fresh-agent").path == "fresh-agent.md"


# --- imports record where each file was ---------------------------------------------------------


def test_importing_a_folder_records_each_path_relative_to_the_folder(tmp_path):
    write(tmp_path / "repo", "engineering/sre.md", agent("site-reliability"))
    write(tmp_path / "repo", "agents/backend/agent.md", agent("backend"))
    write(tmp_path / "repo", "python_pro.md", agent("python-pro"))

    status, _ = run("import_agents", str(tmp_path / "repo"))

    assert status == 0
    assert dict(Agent.objects.values_list("name", "path")) == {
        "site-reliability": "engineering/sre.md",
        "backend": "agents/backend/agent.md",
        "python-pro": "python_pro.md",
    }


def test_importing_a_single_file_records_its_file_name(tmp_path):
    run("import_agents", str(write(tmp_path / "deep" / "down", "python_pro.md", REVIEWER)))

    assert Agent.objects.get().path == "python_pro.md"


def test_importing_a_zip_records_the_member_paths(tmp_path):
    archive = make_zip(
        {
            ".claude/agents/ops/sre.md": agent("site-reliability"),
            "backend\\agent.md": agent("backend"),  # made on Windows
        }
    )
    run("import_agents", str(write(tmp_path, "bundle.zip", archive)))

    assert dict(Agent.objects.values_list("name", "path")) == {
        "site-reliability": ".claude/agents/ops/sre.md",
        "backend": "backend/agent.md",
    }


def test_the_web_import_records_the_uploaded_file_name_and_member_paths(admin_client):
    url = reverse("admin:agents_agent_import")
    preview = admin_client.post(
        url,
        {
            "files": [
                SimpleUploadedFile("python_pro.md", agent("python-pro").encode()),
                SimpleUploadedFile("more.zip", make_zip({"team/beta.md": agent("beta")})),
            ]
        },
    )

    admin_client.post(url, {"batch": batch_of(preview)})

    assert dict(Agent.objects.values_list("name", "path")) == {
        "python-pro": "python_pro.md",
        "beta": "team/beta.md",
    }


def test_a_path_another_agent_has_is_numbered_on_import_with_a_warning(tmp_path):
    write(tmp_path / "one", "engineering/sre.md", agent("site-reliability"))
    write(tmp_path / "two", "engineering/sre.md", agent("sre-on-call"))
    run("import_agents", str(tmp_path / "one"))

    status, output = run("import_agents", str(tmp_path / "two"))

    assert status == 0
    assert Agent.objects.get(name="sre-on-call").path == "engineering/sre-2.md"
    assert (
        "warning: "
        f"{tmp_path / 'two' / 'engineering' / 'sre.md'}:1: engineering/sre.md is another "
        "agent's path; this agent's path is engineering/sre-2.md." in output
    )


def test_a_file_name_that_cannot_be_a_path_gives_the_default_with_a_warning(tmp_path):
    status, output = run("import_agents", str(write(tmp_path, "notes", REVIEWER)))

    assert status == 0
    assert Agent.objects.get().path == "code-reviewer.md"
    assert "the file's path cannot be kept: The path must end in .md" in output


def test_an_update_from_elsewhere_keeps_a_path_that_was_recorded(tmp_path):
    write(tmp_path / "repo", "engineering/sre.md", agent("site-reliability"))
    run("import_agents", str(tmp_path / "repo"))
    moved = agent("site-reliability").replace("sonnet", "opus")

    run("import_agents", "--update", str(write(tmp_path / "copy", "sre-copy.md", moved)))

    updated = Agent.objects.get()
    assert updated.model == "opus"
    assert updated.path == "engineering/sre.md"


def test_an_update_gives_an_agent_with_the_default_path_the_files_path(tmp_path):
    AgentFactory(name="code-reviewer")  # made in the portal: code-reviewer.md
    changed = REVIEWER.replace("sonnet", "opus")

    write(tmp_path / "repo", "review/cr.md", changed)

    run("import_agents", "--update", str(tmp_path / "repo"))

    updated = Agent.objects.get()
    assert updated.model == "opus"
    assert updated.path == "review/cr.md"


def test_a_dry_run_says_which_path_an_agent_would_get_and_saves_none(tmp_path):
    entries = importing.read_path(write(tmp_path, "python_pro.md", REVIEWER), "tools/pro.md")

    result = importing.import_entry(entries[0], dry_run=True)

    assert (result.outcome, result.path) == ("created", "tools/pro.md")
    assert not Agent.objects.exists()
