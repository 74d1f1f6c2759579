"""The six fidelity targets, measured on every real file in ../shared/corpus/agents/.

Each file goes through the same path as ``import_agents`` into an empty database, then out
through ``Agent.render`` (what ``export_agents`` writes), then in and out once more. The checks use
a strict reader written here, independent of ``agents.agentfile``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from django.db import transaction

from agents import agentfile, filebridge
from agents.importing import import_file
from agents.models import Agent, Tool

from .conftest import CORPUS, shared_file

# The mark makes pytest-django set up the test database even when this module runs alone; the
# module-scoped fixture below then works in it (and rolls everything back).
pytestmark = pytest.mark.django_db

KEY_VALUE_RE = re.compile(r"^([A-Za-z_][\w-]*):[ \t]*(.*)$")


@dataclass
class Trip:
    path: Path
    original: bytes
    error: str = ""
    exported: bytes = b""
    again: bytes = b""
    revision: bytes = b""  # the text of the revision the import stored
    warnings: list[str] = field(default_factory=list)


def strict_read(data: bytes) -> tuple[dict, str] | None:
    """(frontmatter, body) as Claude Code's loader sees the file, or None if it would skip it."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    match = re.match(r"---\n(.*?\n)?---(?:\n(.*))?\Z", text, re.S)
    if not match:
        return None
    try:
        values = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError:
        return None
    return (values, match.group(2) or "") if isinstance(values, dict) else None


def lenient_read(data: bytes) -> tuple[dict, str] | None:
    """The same, after folding CRLF and dropping a BOM (what 'parses' means for target 1)."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff").replace("\r\n", "\n")
    return strict_read(text.encode())


def loading_rule_breaks(data: bytes, allow_name: bool = False) -> list[str]:
    """Why Claude Code would not load this file as written (empty when it would)."""
    if data.startswith(b"\xef\xbb\xbf") or b"\r" in data or not data.startswith(b"---\n"):
        return ["not LF / BOM-free / '---' at byte 0"]
    read = strict_read(data)
    if read is None:
        return ["frontmatter does not parse"]
    values, _ = read
    breaks = []
    name = values.get("name")
    if not (isinstance(name, str) and (allow_name or agentfile.NAME_RE.match(name))):
        breaks.append(f"name {name!r}")
    description = values.get("description")
    if not (isinstance(description, str) and description.strip()):
        breaks.append("no description")
    for key in agentfile.TOOL_LIST_KEYS:
        tools = values.get(key)
        if tools is not None and not (
            isinstance(tools, str) and all(part.strip() for part in tools.split(","))
        ):
            breaks.append(f"{key} is not a clean comma string")
    breaks += [f"empty {key}" for key, value in values.items() if value in (None, "", [], {})]
    return breaks


def is_clean(data: bytes) -> bool:
    return not loading_rule_breaks(data)


def comparable(key: str, value):
    return agentfile.split_tools(value) if key in agentfile.TOOL_LIST_KEYS else value


def corpus_files() -> list[Path]:
    files = sorted(p for p in shared_file(CORPUS).rglob("*.md") if p.is_file())
    assert files, f"no .md files under {CORPUS}: the fidelity tests would measure nothing"
    return files


@pytest.fixture(scope="module")
def trips(django_db_setup, django_db_blocker) -> list[Trip]:
    results = []
    with django_db_blocker.unblock(), transaction.atomic():
        registry = Tool.registry()
        for path in corpus_files():
            trip = Trip(path, path.read_bytes())
            with transaction.atomic():  # each file into an empty database
                result = import_file(path.name, trip.original, registry=registry)
                trip.warnings = [str(w) for w in result.warnings]
                if result.failed:
                    trip.error = result.line()
                else:
                    agent = (
                        Agent.objects.for_export()
                        .select_related("latest_revision")
                        .get(name=result.name)
                    )
                    trip.exported = filebridge.render(agent).encode()
                    trip.revision = agent.latest_revision.text.encode()
                transaction.set_rollback(True)
            if trip.exported:
                with transaction.atomic():
                    import_file(path.name, trip.exported, registry=registry)
                    agent = Agent.objects.for_export().get(name=result.name)
                    trip.again = filebridge.render(agent).encode()
                    transaction.set_rollback(True)
            results.append(trip)
        transaction.set_rollback(True)
    return results


def report(title: str, misses: list[str], total: int) -> None:
    print(f"\n{title}: {total - len(misses)}/{total}")
    assert not misses, f"{len(misses)} of {total} files miss '{title}':\n" + "\n".join(misses)


def read_export(trip: Trip, misses: list[str]) -> tuple[dict, str] | None:
    """The exported file as Claude Code reads it, or None after noting why there is none."""
    back = None if trip.error else strict_read(trip.exported)
    if back is None:
        misses.append(f"{trip.path.name}: {trip.error or 'export does not parse'}")
    return back


def test_1_same_meaning_for_every_file_whose_frontmatter_parses(trips):
    misses, total = [], 0
    for trip in trips:
        original = lenient_read(trip.original)
        if original is None:
            continue
        total += 1
        back = read_export(trip, misses)
        if back is None:
            continue
        (values, body), (back_values, back_body) = original, back
        kept = [key for key, value in values.items() if value not in (None, "", [], {})]
        added = [key for key in back_values if key not in values]
        if [key for key in back_values if key not in added] != kept:
            misses.append(f"{trip.path.name}: keys {list(values)} became {list(back_values)}")
        for key in kept:
            if not agentfile.same_value(
                comparable(key, back_values[key]), comparable(key, values[key])
            ):
                misses.append(f"{trip.path.name}: value of {key} changed")
        if back_body != body:
            misses.append(f"{trip.path.name}: body changed")
    report("same meaning", misses, total)


def test_2_clean_files_come_back_byte_for_byte(trips):
    clean = [trip for trip in trips if is_clean(trip.original)]
    misses = [trip.path.name for trip in clean if trip.exported != trip.original]
    report("byte-identical clean files", misses, len(clean))


def test_3_every_export_follows_the_loading_rules(trips):
    exported = [trip for trip in trips if not trip.error]
    misses = []
    for trip in exported:
        original = lenient_read(trip.original)
        odd_name = original is not None and not agentfile.NAME_RE.match(
            str(original[0].get("name"))
        )
        breaks = loading_rule_breaks(trip.exported, allow_name=odd_name)
        if breaks:
            misses.append(f"{trip.path.name}: {', '.join(breaks)}")
    report("exports that load", misses, len(exported))


def test_4_export_is_idempotent(trips):
    exported = [trip for trip in trips if not trip.error]
    misses = [trip.path.name for trip in exported if trip.again != trip.exported]
    report("idempotent", misses, len(exported))


def unparseable_only_for_values(data: bytes) -> dict[str, str] | None:
    """For a file YAML refuses: {key: text as written} when every top-level line is a plain
    ``key: value`` whose only problem is an unquoted ': ' or a leading '*'; else None."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff").replace("\r\n", "\n")
    match = re.match(r"---\n(.*?\n)---(?:\n|\Z)", text, re.S)
    if not match or lenient_read(data) is not None:
        return None
    values, current = {}, None
    for line in match.group(1).splitlines():
        key_value = KEY_VALUE_RE.match(line)
        if key_value:
            current = key_value.group(1)
            values[current] = key_value.group(2)
        elif current and (not line.strip() or line[:1] in " \t"):
            values[current] += " " + line.strip()
        else:
            return None
    for key, value in values.items():
        try:
            yaml.safe_load(f"{key}: {value}")
        except yaml.YAMLError:
            if not (": " in value or value.startswith("*")) or value[:1] in "[{&!|>'\"%@`":
                return None
    return {key: " ".join(value.split()) for key, value in values.items()}


def test_5_values_with_an_unquoted_colon_or_leading_star_are_repaired(trips):
    misses, total = [], 0
    for trip in trips:
        written = unparseable_only_for_values(trip.original)
        if written is None:
            continue
        total += 1
        back = read_export(trip, misses)
        if back is None:
            continue
        if not any("not valid YAML as written" in w for w in trip.warnings):
            misses.append(f"{trip.path.name}: no warning names the repair")
        for key, value in written.items():
            got = back[0].get(key)
            if isinstance(got, str) and " ".join(got.split()) != value:
                misses.append(f"{trip.path.name}: {key} is not the text the author wrote")
    report("repaired", misses, total)


def test_6_files_that_cannot_be_agents_are_refused_with_a_located_message(trips):
    refused = [trip for trip in trips if trip.error]
    misses = [
        f"{trip.path.name}: {trip.error}"
        for trip in refused
        if not re.match(rf"error: {re.escape(trip.path.name)}:\d+: \S", trip.error)
    ]
    for trip in refused:
        if lenient_read(trip.original) is not None:
            misses.append(f"{trip.path.name}: parses, yet refused: {trip.error}")
    report("refused clearly", misses, len(refused))


def test_7_the_revision_an_import_stores_is_the_file_its_rows_render(trips):
    # The importer stores the text it rendered from the parsed file, without reading the rows
    # back: it must be the file the agent's rows give (what the editor and --drafts export).
    imported = [trip for trip in trips if trip.exported]
    misses = [trip.path.name for trip in imported if trip.revision != trip.exported]
    report("revision stored = rows rendered", misses, len(imported))
