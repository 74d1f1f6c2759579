"""File names are shown, never obeyed: control characters in a name are escaped in every line
of the report (a name cannot forge a line), and a folder import does not follow links out of
the folder."""

from __future__ import annotations

import os
import threading

import pytest

from agents.models import Agent, Revision

from .test_admin_import import URL as IMPORT_URL
from .test_admin_import import upload
from .test_import_commands import REVIEWER, run, write
from .test_import_zip import agent, make_zip

pytestmark = pytest.mark.django_db

REPORT_LINE_STARTS = ("created: ", "updated: ", "unchanged: ", "conflict: ", "error: ", "warning: ")


def report_lines(output: str) -> list[str]:
    """The report as any reader splits it: at \\n, and at NEL, U+2028 and the other breaks."""
    return output.splitlines()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("x.md\nerror: y.md", "x.md\\nerror: y.md"),
        ("x\u2028error: y.md", "x\\u2028error: y.md"),
        ("x\x85error: y.md", "x\\x85error: y.md"),
        ("x\rerror: y.md", "x\\rerror: y.md"),
        ("x\u202eup.md", "x\\u202eup.md"),
    ],
    ids=["newline", "line-separator", "nel", "carriage-return", "right-to-left-override"],
)
def test_a_member_name_cannot_forge_a_line_of_the_report(tmp_path, name, shown):
    path = write(tmp_path, "a.zip", make_zip({name: REVIEWER, "bad.md": "no frontmatter\n"}))

    status, output = run("import_agents", str(path))

    lines = report_lines(output)
    assert [line for line in lines if line.startswith("error: ")] == [
        f"error: {path}:bad.md:1: no frontmatter: an agent file must start with a line '---', "
        "then YAML keys such as 'name:' and 'description:', then another '---' line"
    ]
    assert f"created: {path}:{shown} (code-reviewer)" in lines
    assert (
        f"  warning: {path}:{shown}:1: the file name contains control characters; they are "
        "shown escaped (\\n, ...)"
    ) in lines
    assert all(line.lstrip().startswith(REPORT_LINE_STARTS) for line in lines[:-1])
    assert Revision.objects.get().note == f"Imported from {path}:{shown}"


def test_a_file_name_on_disk_with_a_newline_or_bytes_that_are_not_utf8_is_escaped(tmp_path):
    write(tmp_path, "a\nerror: forged.md", REVIEWER)
    os.close(os.open(os.fsencode(tmp_path) + b"/b\xff.md", os.O_CREAT | os.O_WRONLY))

    status, output = run("import_agents", str(tmp_path))

    lines = report_lines(output)
    assert f"created: {tmp_path}/a\\nerror: forged.md (code-reviewer)" in lines
    assert any(line.startswith(f"error: {tmp_path}/b\\udcff.md:1: ") for line in lines)
    assert not [line for line in lines if "forged.md" in line and line.startswith("error")]


def test_the_import_page_shows_member_names_escaped_with_a_warning(admin_client):
    archive = make_zip({"x.md\nerror: y.md": agent("alpha")})

    response = admin_client.post(IMPORT_URL, {"files": [upload("a.zip", archive)]})

    page = response.content.decode()
    assert "<td>a.zip:x.md\\nerror: y.md</td>" in page
    assert "warning: line 1: the file name contains control characters" in page


def test_folder_import_skips_links_to_files_outside_the_folder(tmp_path):
    outside = write(tmp_path / "elsewhere", "secret.md", agent("secret"))
    folder = tmp_path / "agents"
    write(folder, "a.md", agent("alpha"))
    write(folder, "sub/b.md", agent("beta"))
    (folder / "link-out.md").symlink_to(outside)
    (folder / "link-in.md").symlink_to(folder / "sub" / "b.md")

    status, output = run("import_agents", str(folder))

    assert output.splitlines() == [
        f"warning: {folder}/link-out.md: a symbolic link to a file outside {folder}; skipped",
        f"created: {folder}/a.md (alpha)",
        f"created: {folder}/link-in.md (beta)",
        f"unchanged: {folder}/sub/b.md (beta)",
        "3 files: 2 created, 0 updated, 1 unchanged, 0 conflict, 0 error",
    ]
    assert status == 0
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["alpha", "beta"]


def test_a_link_named_on_the_command_line_is_followed(tmp_path):
    outside = write(tmp_path / "elsewhere", "secret.md", agent("secret"))
    link = tmp_path / "link.md"
    link.symlink_to(outside)

    status, output = run("import_agents", str(link))

    assert status == 0
    assert output.startswith(f"created: {link} (secret)")


def test_a_pipe_named_on_the_command_line_is_refused_without_reading_it(tmp_path):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)

    def answer_whoever_reads():  # else a reader would wait forever
        try:
            with open(fifo, "w") as pipe:
                pipe.write(REVIEWER)
        except OSError:
            pass

    writer = threading.Thread(target=answer_whoever_reads, daemon=True)
    writer.start()
    status, output = run("import_agents", str(fifo))
    os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # lets the writer finish
    writer.join(5)

    assert status == 1
    assert output.startswith(f"error: {fifo}:1: not a regular file (a device, a pipe or a socket)")
