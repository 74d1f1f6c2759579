"""``export_agents``: the published agents at their paths, or the named ones, or with --drafts the
working copies; a second run writes nothing; --prune removes what no agent claims."""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agents import workflow
from agents.models import Agent

from .factories import AgentFactory
from .test_import_commands import REVIEWER, run, write
from .test_import_zip import agent

pytestmark = pytest.mark.django_db


def published_tree(tmp_path):
    """Three published agents imported from a tree, one draft, one archived."""
    write(tmp_path / "repo", "engineering/sre.md", agent("site-reliability"))
    write(tmp_path / "repo", "python_pro.md", agent("python-pro"))
    write(tmp_path / "repo", "agents/backend/agent.md", agent("backend"))
    run("import_agents", "--publish", str(tmp_path / "repo"))
    write(tmp_path / "later", "drafts/idea.md", agent("idea"))
    write(tmp_path / "later", "old.md", agent("old-one"))
    run("import_agents", str(tmp_path / "later"))
    old = Agent.objects.get(name="old-one")
    workflow.transition(old, "publish", None)
    workflow.transition(old, "archive", None)


def tree(folder) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_export_writes_every_published_agent_at_its_path(tmp_path):
    published_tree(tmp_path)

    status, output = run("export_agents", "--out", str(tmp_path / "out"))

    assert status == 0
    assert tree(tmp_path / "out") == {
        "agents/backend/agent.md": agent("backend").encode(),
        "engineering/sre.md": agent("site-reliability").encode(),
        "python_pro.md": agent("python-pro").encode(),
    }
    out = tmp_path / "out"
    assert output.splitlines() == [
        f"written: {out / 'agents/backend/agent.md'} (backend)",
        f"written: {out / 'engineering/sre.md'} (site-reliability)",
        f"written: {out / 'python_pro.md'} (python-pro)",
        f"3 written, 0 unchanged (published files in {out})",
    ]


def test_a_second_run_with_nothing_changed_writes_nothing_and_says_so(tmp_path):
    published_tree(tmp_path)
    run("export_agents", "--out", str(tmp_path / "out"))
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*.md")}
    os.utime(tmp_path / "out" / "python_pro.md", ns=(1, 1))

    status, output = run("export_agents", "--out", str(tmp_path / "out"))

    assert status == 0
    assert output.splitlines()[-1] == (
        f"0 written, 3 unchanged: nothing to do (published files in {tmp_path / 'out'})"
    )
    assert f"unchanged: {tmp_path / 'out' / 'engineering/sre.md'} (site-reliability)" in output
    assert (tmp_path / "out" / "python_pro.md").stat().st_mtime_ns == 1  # not rewritten
    assert before.keys() == set((tmp_path / "out").rglob("*.md"))


def test_a_file_changed_on_disk_or_in_the_portal_is_written_again(tmp_path):
    published_tree(tmp_path)
    run("export_agents", "--out", str(tmp_path / "out"))
    (tmp_path / "out" / "python_pro.md").write_text("edited by hand")

    status, output = run("export_agents", "--out", str(tmp_path / "out"))

    assert output.splitlines()[-1].startswith("1 written, 2 unchanged (")
    assert (tmp_path / "out" / "python_pro.md").read_text() == agent("python-pro")


def test_export_of_names_writes_those_agents_only(tmp_path):
    published_tree(tmp_path)

    run("export_agents", "python-pro", "backend", "--out", str(tmp_path / "out"))

    assert sorted(tree(tmp_path / "out")) == ["agents/backend/agent.md", "python_pro.md"]


def test_export_of_names_refuses_unknown_unpublished_and_archived_ones(tmp_path):
    published_tree(tmp_path)
    out = str(tmp_path / "out")

    with pytest.raises(CommandError, match="nothing published under the name: ghost, idea"):
        call_command("export_agents", "ghost", "idea", "backend", "--out", out, stdout=StringIO())
    with pytest.raises(CommandError, match="archived: old-one; --drafts exports them too"):
        call_command("export_agents", "old-one", "--out", out, stdout=StringIO())
    assert not (tmp_path / "out").exists()


def test_drafts_writes_every_working_copy_at_its_path(tmp_path):
    published_tree(tmp_path)
    sre = Agent.objects.get(name="site-reliability")
    sre.description = "A newer draft."
    sre.save()
    draft = workflow.record_revision(sre, None)

    run("export_agents", "--drafts", "--out", str(tmp_path / "out"))

    files = tree(tmp_path / "out")
    assert sorted(files) == [
        "agents/backend/agent.md",
        "drafts/idea.md",
        "engineering/sre.md",
        "old.md",
        "python_pro.md",
    ]
    assert files["engineering/sre.md"] == draft.text.encode()


def test_drafts_of_names_are_found_by_their_current_name(tmp_path):
    published_tree(tmp_path)

    run("export_agents", "--drafts", "idea", "--out", str(tmp_path / "out"))

    assert sorted(tree(tmp_path / "out")) == ["drafts/idea.md"]
    with pytest.raises(CommandError, match="no agent named: ghost"):
        call_command(
            "export_agents", "--drafts", "ghost", "--out", str(tmp_path), stdout=StringIO()
        )


def test_all_is_refused_with_a_message_that_names_drafts(tmp_path):
    AgentFactory(name="draft-only")

    with pytest.raises(CommandError, match="--all is gone: it wrote drafts.*use --drafts"):
        call_command("export_agents", "--all", "--out", str(tmp_path / "out"), stdout=StringIO())
    assert not (tmp_path / "out").exists()


def test_prune_removes_the_md_files_no_published_agent_claims_and_lists_each(tmp_path):
    published_tree(tmp_path)
    out = tmp_path / "out"
    write(out, "engineering/retired.md", "old agent")
    write(out, "deep/er/gone.md", "old agent")
    write(out, "old.md", "the archived agent's file")
    write(out, "README.txt", "not an agent")
    write(out, "notes.markdown", "not an agent either")

    status, output = run("export_agents", "--prune", "--out", str(out))

    assert status == 0
    assert sorted(tree(out)) == [
        "README.txt",
        "agents/backend/agent.md",
        "engineering/sre.md",
        "notes.markdown",
        "python_pro.md",
    ]
    removed = [line for line in output.splitlines() if line.startswith("removed: ")]
    assert removed == [
        f"removed: {out / 'old.md'}",
        f"removed: {out / 'deep/er/gone.md'}",
        f"removed: {out / 'engineering/retired.md'}",
    ]
    assert (
        output.splitlines()[-1] == f"3 written, 0 unchanged, 3 removed (published files in {out})"
    )


def test_without_prune_nothing_is_removed(tmp_path):
    published_tree(tmp_path)
    write(tmp_path / "out", "retired.md", "old agent")

    run("export_agents", "--out", str(tmp_path / "out"))

    assert (tmp_path / "out" / "retired.md").read_text() == "old agent"


def test_prune_with_names_keeps_the_files_of_other_published_agents(tmp_path):
    published_tree(tmp_path)
    run("export_agents", "--out", str(tmp_path / "out"))
    write(tmp_path / "out", "retired.md", "old agent")

    run("export_agents", "python-pro", "--prune", "--out", str(tmp_path / "out"))

    assert sorted(tree(tmp_path / "out")) == [
        "agents/backend/agent.md",
        "engineering/sre.md",
        "python_pro.md",
    ]


def test_prune_never_leaves_the_folder_through_a_link(tmp_path):
    published_tree(tmp_path)
    outside = tmp_path / "elsewhere"
    write(outside, "precious.md", "keep me")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "linked").symlink_to(outside)
    (tmp_path / "out" / "link.md").symlink_to(outside / "precious.md")

    run("export_agents", "--prune", "--out", str(tmp_path / "out"))

    assert (outside / "precious.md").read_text() == "keep me"
    assert (tmp_path / "out" / "link.md").is_symlink()


def test_a_path_through_a_link_to_another_folder_is_not_written(tmp_path):
    published_tree(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "engineering").symlink_to(outside)

    status, output = run("export_agents", "--out", str(tmp_path / "out"))

    assert status == 1
    assert "error: engineering/sre.md: outside" in output
    assert list(outside.iterdir()) == []
    assert (tmp_path / "out" / "python_pro.md").exists()  # the others are written


def test_an_out_that_is_a_file_is_an_error_that_says_so(tmp_path):
    write(tmp_path, "out", "a file")

    with pytest.raises(CommandError, match=f"cannot write into {tmp_path / 'out'}: File exists"):
        call_command("export_agents", "--out", str(tmp_path / "out"), stdout=StringIO())


def test_paths_that_differ_only_in_case_are_warned_about(tmp_path):
    AgentFactory(name="Reviewer", published=True)
    AgentFactory(name="reviewer", published=True)

    status, output = run("export_agents", "--out", str(tmp_path / "out"))

    assert status == 0
    assert (
        "warning: Reviewer.md and reviewer.md differ only in case: on a file system that "
        "ignores case (macOS, Windows) one replaces the other"
    ) in output


def test_the_export_reads_the_same_number_of_queries_for_more_agents(tmp_path):
    from .helpers import assert_same_query_count

    AgentFactory.create_batch(3, steps=2, tools=2, published=True)

    def export() -> None:
        call_command("export_agents", "--out", str(tmp_path / "out"), stdout=StringIO())

    # the paths claimed, the published files (one chunk each, as both fit in one)
    assert_same_query_count(
        export, lambda: AgentFactory.create_batch(30, steps=2, tools=2, published=True)
    )


def test_a_published_agent_edited_since_is_exported_as_published(tmp_path):
    source = write(tmp_path / "in", "cr.md", REVIEWER)
    run("import_agents", "--publish", str(source))
    reviewer = Agent.objects.get()
    reviewer.model = "opus"
    reviewer.save()
    workflow.record_revision(reviewer, None)

    run("export_agents", "--out", str(tmp_path / "out"))

    assert (tmp_path / "out" / "cr.md").read_text() == REVIEWER
