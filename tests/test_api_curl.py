"""The README's curl example, run as written against a live server: it pulls every published
agent into .claude/agents/ with a read token, and Claude Code loads every file it wrote."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from agents import tokens, workflow
from agents.models import AccessToken

from . import claude_code
from .factories import AgentFactory

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE = re.compile(
    r"<!-- api-curl-example -->\n```sh\n(.*?)```\n<!-- /api-curl-example -->", re.S
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_data"),
    pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl, jq"),
]


def test_the_readme_curl_example_pulls_every_published_agent(live_server, reader, author, tmp_path):
    for n in range(5):
        AgentFactory(name=f"pulled-{n}", tools=2, steps=2, published=True)
    nested = AgentFactory(name="nested-one", published=False)
    nested.path = "team/nested-one.md"
    nested.save()
    workflow.transition(nested, "publish", None)
    AgentFactory(name="only-a-draft", owner=author)  # never published: not pulled
    archived = AgentFactory(name="archived-one", published=True)
    workflow.transition(archived, "archive", None)
    _, secret = tokens.create(reader, "ci", 30, AccessToken.Scope.READ)

    script = EXAMPLE.search(README.read_text()).group(1)
    # the same lines, pointed at the test server, two agents a page so that it follows `next`
    script = script.replace("https://portal.example.com", live_server.url)
    script = script.replace("page_size=200", "page_size=2")
    environment = {"PATH": os.environ["PATH"], "TOKEN": secret}
    run = subprocess.run(  # noqa: S603 (the README's own lines)
        [shutil.which("bash"), "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr

    folder = tmp_path / ".claude" / "agents"
    written = sorted(str(path.relative_to(folder)) for path in folder.rglob("*.md"))
    assert written == [*(f"pulled-{n}.md" for n in range(5)), "team/nested-one.md"]
    for path in folder.rglob("*.md"):
        frontmatter = claude_code.load_agent(path.read_bytes())
        assert path.stem == frontmatter["name"]
