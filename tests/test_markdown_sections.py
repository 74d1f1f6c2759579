"""Cutting a body into sections gives what the line-by-line cut always gave.

``agentfile._sections`` skips texts where no later line can start a heading, and tries its
patterns only on lines that can match them; the oracle is the plain loop it had before.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from agents import agentfile

PROJECT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def plain_sections(body: str) -> list[str]:
    lines = body.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    sections: list[list[str]] = [[]]
    fence = None
    for line in lines:
        match = FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
        elif (
            fence is None
            and line.endswith("\n")
            and HEADING.match(line.rstrip("\n"))
            and any(existing.strip() for existing in sections[-1])
        ):
            sections.append([])
        sections[-1].append(line)
    return ["".join(section) for section in sections if section]


def test_generated_bodies_are_cut_as_line_by_line():
    pieces = ["# ", "## ", " # ", "   ## ", "    # ", "#", "###### x", "####### y", "```"]
    pieces += ["~~~", " ```", "    ```", "\n", "\n", "\n", "text", " ", "\t", "\r"]
    rng = random.Random(3)
    for _ in range(30000):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        assert agentfile.markdown_sections(body) == plain_sections(body), body


def test_corpus_bodies_and_their_sections_are_cut_as_line_by_line():
    folder = PROJECT.parent / "shared" / "corpus" / "agents"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the shared test data lives beside the project")
    for path in sorted(folder.rglob("*.md")):
        text = path.read_text("utf-8", "replace")
        sections = plain_sections(text)
        assert agentfile.markdown_sections(text) == sections, path
        for section in sections:  # the importer cuts each section again
            assert agentfile.markdown_sections(section) == [section], path
