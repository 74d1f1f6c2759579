"""Zip archives and batches: what is read, what is refused, and that a batch is all-or-nothing."""

from __future__ import annotations

import stat
import zipfile
from io import BytesIO

import pytest

from agents import importing
from agents.importing import BatchError, Outcome, expand, import_batch
from agents.models import Agent

from .test_import_commands import REVIEWER, run, write

pytestmark = pytest.mark.django_db


def make_zip(files: dict[str, bytes | str], symlinks: dict[str, str] | None = None) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def agent(name: str) -> str:
    return REVIEWER.replace("code-reviewer", name)


def test_command_imports_the_agents_in_a_zip(tmp_path):
    path = write(
        tmp_path,
        "agents.zip",
        make_zip({".claude/agents/a.md": agent("alpha"), "b.md": agent("beta"), "x.txt": "no"}),
    )

    status, output = run("import_agents", str(path))

    assert status == 0
    assert f"created: {path}:.claude/agents/a.md (alpha)" in output
    assert f"created: {path}:b.md (beta)" in output
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["alpha", "beta"]


def test_zip_entries_that_escape_or_are_links_are_refused_one_by_one(tmp_path):
    data = make_zip(
        {"../evil.md": agent("evil"), "/etc/abs.md": agent("abs"), "ok.md": agent("ok")},
        symlinks={"link.md": "/etc/passwd"},
    )
    path = write(tmp_path, "mixed.zip", data)

    status, output = run("import_agents", str(path))

    assert status == 1
    assert f"error: {path}:../evil.md:1: the path escapes the archive's folder" in output
    assert f"error: {path}:/etc/abs.md:1: absolute path in the archive" in output
    assert f"error: {path}:link.md:1: a symbolic link" in output
    assert list(Agent.objects.values_list("name", flat=True)) == ["ok"]


def test_a_highly_compressed_entry_is_refused_as_a_zip_bomb():
    bomb = REVIEWER + "\n" + "a" * 900_000
    entries = expand([("bomb.zip", make_zip({"bomb.md": bomb}))])

    assert "refused as a possible zip bomb" in entries[0].error.message


def test_an_entry_over_one_megabyte_is_refused_without_reading_it_whole():
    entries = expand([("big.zip", make_zip({"big.md": REVIEWER + "x" * 2_000_000}))])

    assert entries[0].error.message.startswith("file too large: 2,000,")


def test_batch_limits_on_count_and_total_size(monkeypatch):
    monkeypatch.setattr(importing, "MAX_FILES_PER_BATCH", 2)
    with pytest.raises(BatchError, match="3 .md files; a batch may hold at most 2"):
        expand([("many.zip", make_zip({f"{n}.md": agent(f"a{n}") for n in range(3)}))])
    with pytest.raises(BatchError, match="3 files; a batch may hold at most 2 files"):
        expand([(f"{n}.md", agent(f"a{n}").encode()) for n in range(3)])

    monkeypatch.setattr(importing, "MAX_BATCH_BYTES", 1000)
    with pytest.raises(BatchError, match="a batch may hold at most 1,000"):
        expand([("a.md", agent("a").encode()), ("b.md", agent("b" * 700).encode())])


def test_a_file_that_is_not_a_zip_is_refused_clearly():
    with pytest.raises(BatchError, match="fake.zip: not a readable zip archive"):
        expand([("fake.zip", b"PK not really")])


def test_a_batch_with_one_bad_file_saves_nothing():
    entries = expand([("a.md", agent("alpha").encode()), ("b.md", b"# no frontmatter\n")])

    results, saved = import_batch(entries)

    assert not saved
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.ERROR]
    assert not Agent.objects.exists()


def test_a_batch_naming_the_same_agent_twice_saves_nothing():
    entries = expand([("a.md", agent("alpha").encode()), ("b.md", agent("alpha").encode())])

    results, saved = import_batch(entries)

    assert not saved
    assert "the agent 'alpha' is also in a.md" in results[1].error.message
    assert not Agent.objects.exists()


def test_a_good_batch_is_saved_and_a_dry_run_is_not():
    entries = expand([("z.zip", make_zip({"a.md": agent("alpha"), "b.md": agent("beta")}))])

    _, saved = import_batch(entries, dry_run=True)
    assert not saved and not Agent.objects.exists()

    results, saved = import_batch(entries)
    assert saved
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.CREATED]
    assert Agent.objects.count() == 2
