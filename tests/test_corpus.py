"""Real agent files from public repositories (../shared/corpus/agents/): import, then export."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from agents import agentfile
from agents.importing import Outcome, import_file
from agents.models import Agent, Tool

from .conftest import CORPUS, shared_file

pytestmark = pytest.mark.django_db


def corpus_files() -> list[Path]:
    return sorted(p for p in shared_file(CORPUS).rglob("*.md") if p.is_file())


def plain_yaml_split(data: bytes) -> tuple[dict, str] | None:
    """Frontmatter values and body the way a strict reader sees them, or None if YAML fails.

    Written independently of agents.agentfile so that the test does not grade its own homework.
    """
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").removeprefix("\ufeff")
    match = re.match(r"---\n(.*?\n)?---(?:\n(.*))?\Z", text, re.S)
    if not match:
        return None
    try:
        values = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError:
        return None
    return (values, match.group(2) or "") if isinstance(values, dict) else None


def comparable(key: str, value):
    if key in agentfile.TOOL_LIST_KEYS:
        return agentfile.split_tools(value)
    return value


def test_every_corpus_file_that_parses_comes_back_with_the_same_values_and_body():
    registry = Tool.registry()
    misses, checked = [], 0
    for path in corpus_files():
        data = path.read_bytes()
        original = plain_yaml_split(data)
        if original is None:
            continue
        values, body = original
        checked += 1
        result = import_file(path.name, data, registry=registry)
        if result.failed:
            misses.append(f"{path.name}: refused: {result.line()}")
            continue
        exported = Agent.objects.for_export().get(name=result.name).render()
        Agent.objects.filter(name=result.name).delete()
        back = plain_yaml_split(exported.encode())
        if back is None:
            misses.append(f"{path.name}: export does not parse")
            continue
        back_values, back_body = back
        for key, value in values.items():
            if agentfile.is_empty(value):
                continue  # empty keys are left out on purpose
            if not agentfile.same_value(
                comparable(key, back_values.get(key)), comparable(key, value)
            ):
                misses.append(f"{path.name}: {key} changed")
        if back_body != body:
            misses.append(f"{path.name}: body changed")
    assert checked > 700, f"only {checked} corpus files parse: is ../shared/corpus complete?"
    assert not misses, "\n".join(misses)


def test_every_corpus_file_imports_or_is_refused_with_a_located_message():
    registry = Tool.registry()
    for path in corpus_files():
        result = import_file(path.name, path.read_bytes(), registry=registry, dry_run=True)
        if result.failed:
            assert re.match(rf"error: {re.escape(path.name)}:\d+: \w", result.line())
        else:
            assert result.outcome == Outcome.CREATED
