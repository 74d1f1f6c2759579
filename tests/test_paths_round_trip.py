"""Round trip of a tree: the corpus folder (a folder per repository, odd file names) imported and
exported again comes back with every imported file at the same relative path, and every clean
file (imported without a warning) with the same bytes."""

from __future__ import annotations

import contextlib
import re
from io import StringIO

import pytest
from django.core.management import call_command

from agents.models import Agent

from .conftest import CORPUS, shared_file

pytestmark = pytest.mark.django_db

LINE_RE = re.compile(r"^(created|updated|unchanged|conflict|error): (.*?)(?::\d+: .*| \((.*)\))$")
WARNING_RE = re.compile(r"^  warning: (.*?):\d+: ")


def test_the_corpus_tree_comes_back_with_its_paths_and_its_clean_files_bytes(tmp_path, capsys):
    corpus = shared_file(CORPUS)
    out = StringIO()
    # Some corpus files are broken on purpose: they are errors (exit status 1), the rest loads.
    with contextlib.suppress(SystemExit):
        call_command("import_agents", "--publish", str(corpus), stdout=out)
    outcome: dict[str, str] = {}
    warned: set[str] = set()
    for line in out.getvalue().splitlines():
        warning = WARNING_RE.match(line)
        if warning:
            warned.add(warning.group(1))
            continue
        match = LINE_RE.match(line)
        if match:
            outcome[match.group(2)] = match.group(1)
    files = sorted(p for p in corpus.rglob("*.md") if p.is_file())
    assert set(outcome) == {str(p) for p in files}

    call_command("export_agents", "--out", str(tmp_path), stdout=StringIO())

    exported = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.md")}
    created = [p for p in files if outcome[str(p)] == "created"]
    clean = [p for p in created if str(p) not in warned]
    same_path = [p for p in created if p.relative_to(corpus).as_posix() in exported]
    same_bytes = [
        p for p in clean if (tmp_path / p.relative_to(corpus)).read_bytes() == p.read_bytes()
    ]
    names = dict(Agent.objects.values_list("path", "name"))
    not_at_name = [p for p in created if p.name != f"{names[p.relative_to(corpus).as_posix()]}.md"]
    with capsys.disabled():
        print(
            f"\nround trip of {corpus}: {len(files)} files; {len(created)} imported "
            f"({len(not_at_name)} not at <name>.md), "
            f"{sum(1 for v in outcome.values() if v == 'error')} errors, "
            f"{sum(1 for v in outcome.values() if v in ('conflict', 'unchanged'))} with the name "
            f"of an agent imported before; {len(same_path)}/{len(created)} back at the same "
            f"path; {len(clean)} clean, {len(same_bytes)}/{len(clean)} back byte for byte"
        )
    assert len(exported) == len(created)
    assert same_path == created
    assert same_bytes == clean
    assert len(clean) > len(files) / 2
