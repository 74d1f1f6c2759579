"""Three-way merge of an agent: what an editor saves when someone else saved the agent since
the editor's page was opened.

Pure, like the format module: versions in, a merged version out. A version is an agent file as
parts: its frontmatter keys, and its body as Markdown sections and instruction steps. Each key,
each tool list, each step and each Markdown section is merged on its own against the version both
sides started from (``base``): what only one side changed is taken from that side; what both
changed the same way is kept; what both changed differently is a ``Conflict`` for a person to
decide (the merged version holds *mine* there until they do). Tool lists merge additions and
removals from both sides.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from . import agentfile
from .agentfile import BodyPart, Step

MINE = "mine"
THEIRS = "theirs"
_MISSING: Any = object()

# How a message names a frontmatter key.
KEY_LABELS = {
    "name": "the name",
    "description": "the description",
    "tools": "the tools",
    "disallowedTools": "the disallowed tools",
    "model": "the model",
    "color": "the colour",
    "permissionMode": "the permission mode",
    "maxTurns": "the maximum turns",
    "skills": "the skills",
    "mcpServers": "the MCP servers",
    "hooks": "the hooks",
    "memory": "the memory",
    "background": "background",
    "effort": "the effort",
    "isolation": "the isolation",
    "initialPrompt": "the initial prompt",
}


@dataclass
class Version:
    """An agent file as mergeable parts: the frontmatter's non-empty keys in file order (tool
    lists as lists) and the body's parts."""

    frontmatter: dict[str, Any]
    parts: list[BodyPart]

    @classmethod
    def of(cls, frontmatter: Mapping[str, Any], parts: Sequence[BodyPart]) -> Version:
        values = {}
        for key, value in frontmatter.items():
            if key in agentfile.TOOL_LIST_KEYS:
                value = agentfile.split_tools(value)
            if not agentfile.is_empty(value):
                values[key] = value
        return cls(values, list(parts))

    @classmethod
    def from_text(cls, text: str) -> Version:
        parsed = agentfile.parse(text)
        return cls.of(parsed.frontmatter, agentfile.split_body(parsed.body))

    @property
    def body(self) -> str:
        return agentfile.join_body(self.parts)


@dataclass(frozen=True)
class Unit:
    """The smallest piece of a body that is merged whole: a Markdown section or a step."""

    kind: str  # "md" or "step"
    text: str
    title: str = ""

    def as_text(self, number: int) -> str:
        if self.kind == "md":
            return self.text
        return Step(self.title, self.text).render(number)


@dataclass
class Conflict:
    """A part both sides changed differently. ``mine`` and ``theirs`` are that part as it reads
    in each file; ``key`` names the part and what both sides made of it, so a choice made for
    one conflict never applies to another."""

    key: str
    label: str
    mine: str
    theirs: str
    # For resolving: the frontmatter key and their value (YAML), or the units of each side.
    frontmatter_key: str = ""
    theirs_yaml: str | None = None
    mine_units: tuple[Unit, ...] = ()
    theirs_units: tuple[Unit, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """Plain data to carry in a form until the person chooses."""
        return {
            "key": self.key,
            "label": self.label,
            "mine": self.mine,
            "theirs": self.theirs,
            "frontmatter_key": self.frontmatter_key,
            "theirs_yaml": self.theirs_yaml,
            "mine_units": [[u.kind, u.title, u.text] for u in self.mine_units],
            "theirs_units": [[u.kind, u.title, u.text] for u in self.theirs_units],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Conflict:
        def units(rows: Any) -> tuple[Unit, ...]:
            return tuple(Unit(str(kind), str(text), str(title)) for kind, title, text in rows)

        theirs_yaml = data.get("theirs_yaml")
        return cls(
            key=str(data["key"]),
            label=str(data["label"]),
            mine=str(data["mine"]),
            theirs=str(data["theirs"]),
            frontmatter_key=str(data.get("frontmatter_key") or ""),
            theirs_yaml=None if theirs_yaml is None else str(theirs_yaml),
            mine_units=units(data.get("mine_units") or []),
            theirs_units=units(data.get("theirs_units") or []),
        )


@dataclass
class Merge:
    """The merged version, and what a person is told about it."""

    version: Version
    theirs_kept: list[str] = field(default_factory=list)  # their changes, taken
    mine_kept: list[str] = field(default_factory=list)  # my changes, kept
    conflicts: list[Conflict] = field(default_factory=list)


def merge(base: Version, theirs: Version, mine: Version) -> Merge:
    """Merge ``mine`` and ``theirs``, both made from ``base``; conflicts keep ``mine``."""
    result = Merge(Version({}, []))
    result.version.frontmatter = _merge_frontmatter(base, theirs, mine, result)
    result.version.parts = _merge_body(base, theirs, mine, result)
    return result


# --- frontmatter -------------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    return agentfile.same_value(a, b)


def _merge_frontmatter(
    base: Version, theirs: Version, mine: Version, result: Merge
) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    keys = list(dict.fromkeys([*theirs.frontmatter, *mine.frontmatter, *base.frontmatter]).keys())
    for key in keys:
        b = base.frontmatter.get(key, _MISSING)
        t = theirs.frontmatter.get(key, _MISSING)
        m = mine.frontmatter.get(key, _MISSING)
        label = KEY_LABELS.get(key, f"the key '{key}'")
        if _same(m, b):
            value = t
            if not _same(t, b):
                result.theirs_kept.append(label)
        elif _same(t, b) or _same(m, t):
            value = m
            result.mine_kept.append(label)
        else:
            combined = _merge_tool_lists(b, t, m) if key in agentfile.TOOL_LIST_KEYS else None
            if combined is not None:
                value = combined
                result.theirs_kept.append(label)
                result.mine_kept.append(label)
            else:
                value = m
                result.conflicts.append(_field_conflict(key, label, t, m))
        if value is not _MISSING:
            merged[key] = value
    return merged


def _merge_tool_lists(base: Any, theirs: Any, mine: Any) -> list[str] | None:
    """Both sides' additions and removals, in their order with mine's additions after; None
    when I reordered the tools (an order is not merged)."""
    b = [] if base is _MISSING else list(base)
    t = [] if theirs is _MISSING else list(theirs)
    m = [] if mine is _MISSING else list(mine)
    if [x for x in m if x in b] != [x for x in b if x in m]:
        return None
    removed = set(b) - set(m)
    combined = [x for x in t if x not in removed]
    combined += [x for x in m if x not in b and x not in combined]
    return combined or None


def _field_conflict(key: str, label: str, theirs: Any, mine: Any) -> Conflict:
    theirs_yaml = None if theirs is _MISSING else _dump(theirs)
    digest = hashlib.sha256(f"{key}\0{theirs_yaml}\0{_dump(mine)}".encode()).hexdigest()[:16]
    return Conflict(
        key=f"field-{digest}",
        label=label,
        mine=_shown(key, mine),
        theirs=_shown(key, theirs),
        frontmatter_key=key,
        theirs_yaml=theirs_yaml,
    )


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=False)


def _shown(key: str, value: Any) -> str:
    if value is _MISSING:
        return "(not set)"
    if key in agentfile.TOOL_LIST_KEYS:
        return agentfile.join_tools(value)
    if isinstance(value, str):
        return value
    return _dump(value).removesuffix("\n...\n")


# --- body ----------------------------------------------------------------------------------------


def units_of(parts: Sequence[BodyPart]) -> list[Unit]:
    units: list[Unit] = []
    for part in parts:
        if part.is_steps:
            units += [Unit("step", step.text, step.title) for step in part.steps]
        else:
            units += [Unit("md", text) for text in agentfile.markdown_sections(part.markdown)]
    return units


def parts_of(units: Sequence[Unit], tight: bool = False) -> list[BodyPart]:
    parts: list[BodyPart] = []
    for unit in units:
        if unit.kind == "step":
            step = Step(unit.title, unit.text)
            if parts and parts[-1].is_steps:
                parts[-1].steps.append(step)
            else:
                parts.append(BodyPart(steps=[step], tight=tight))
        elif parts and not parts[-1].is_steps:
            joined = agentfile.join_body([parts[-1], BodyPart(markdown=unit.text)])
            parts[-1] = BodyPart(markdown=joined)
        else:
            parts.append(BodyPart(markdown=unit.text))
    return parts


def _tight(*versions: Version) -> bool:
    for version in versions:
        for part in version.parts:
            if part.is_steps:
                return part.tight
    return False


def _merge_body(base: Version, theirs: Version, mine: Version, result: Merge) -> list[BodyPart]:
    base_body, theirs_body, mine_body = base.body, theirs.body, mine.body
    if mine_body == theirs_body or theirs_body == base_body:
        if mine_body != base_body:
            result.mine_kept += _changed_labels(base.parts, mine.parts)
        return mine.parts
    if mine_body == base_body:
        result.theirs_kept += _changed_labels(base.parts, theirs.parts)
        return theirs.parts
    b, t, m = units_of(base.parts), units_of(theirs.parts), units_of(mine.parts)
    versions = (base, theirs, mine)
    merged: list[Unit] = []
    for b_chunk, t_chunk, m_chunk in _chunks(b, t, m):
        both = b_chunk not in (t_chunk, m_chunk) and t_chunk != m_chunk
        if both and len(b_chunk) == len(t_chunk) == len(m_chunk) > 1:
            # The same number of pieces on each side: merge them one by one (step 2 and step 3
            # changed by different people are not one conflict).
            for triple in zip(b_chunk, t_chunk, m_chunk, strict=True):
                merged += _merge_units(*((unit,) for unit in triple), versions, result)
        else:
            merged += _merge_units(b_chunk, t_chunk, m_chunk, versions, result)
    return parts_of(merged, _tight(mine, theirs, base))


def _merge_units(
    b: tuple[Unit, ...],
    t: tuple[Unit, ...],
    m: tuple[Unit, ...],
    versions: tuple[Version, Version, Version],
    result: Merge,
) -> list[Unit]:
    base, theirs, mine = versions
    if m == b:
        if t != b:
            result.theirs_kept += _labels(t, theirs) if t else _removed(b, base)
        return list(t)
    if t in (b, m):
        result.mine_kept += _labels(m, mine) if m else _removed(b, base)
        return list(m)
    label = ", ".join(dict.fromkeys(_labels(m, mine) if m else _labels(t, theirs)))
    digest = hashlib.sha256(repr((b, t, m)).encode()).hexdigest()[:16]
    result.conflicts.append(
        Conflict(
            key=f"body-{digest}",
            label=label or "the prompt",
            mine=_units_text(m, mine) or "(removed)",
            theirs=_units_text(t, theirs) or "(removed)",
            mine_units=m,
            theirs_units=t,
        )
    )
    return list(m)


def _removed(units: Sequence[Unit], base: Version) -> list[str]:
    return [f"{label} (removed)" for label in _labels(units, base)]


def _chunks(
    base: list[Unit], theirs: list[Unit], mine: list[Unit]
) -> list[tuple[tuple[Unit, ...], tuple[Unit, ...], tuple[Unit, ...]]]:
    """diff3: the three sequences cut into chunks, each either the same on all sides or changed
    on one or both."""
    to_mine = _matches(base, mine)
    to_theirs = _matches(base, theirs)
    chunks = []
    i = j = k = 0
    while i < len(base) or j < len(mine) or k < len(theirs):
        if i < len(base) and to_mine.get(i) == j and to_theirs.get(i) == k:
            chunks.append(((base[i],), (theirs[k],), (mine[j],)))
            i, j, k = i + 1, j + 1, k + 1
            continue
        stable = next(
            (
                n
                for n in range(i, len(base))
                if to_mine.get(n, -1) >= j and to_theirs.get(n, -1) >= k
            ),
            len(base),
        )
        j_end = to_mine.get(stable, len(mine))
        k_end = to_theirs.get(stable, len(theirs))
        chunks.append((tuple(base[i:stable]), tuple(theirs[k:k_end]), tuple(mine[j:j_end])))
        i, j, k = stable, j_end, k_end
    return chunks


def _matches(a: list[Unit], b: list[Unit]) -> dict[int, int]:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    blocks = matcher.get_matching_blocks()
    return {block.a + n: block.b + n for block in blocks for n in range(block.size)}


def _described(version: Version) -> list[tuple[Unit, str]]:
    described, number, seen_step = [], 0, False
    for unit in units_of(version.parts):
        if unit.kind == "step":
            number += 1
            seen_step = True
            described.append((unit, f"step {number}"))
            continue
        heading = agentfile.section_heading(unit.text)
        if heading:
            described.append((unit, f'the section "{heading}"'))
        elif seen_step:
            described.append((unit, "the text after the steps"))
        else:
            described.append((unit, "the text at the top of the prompt"))
    return described


def _labels(units: Sequence[Unit], version: Version) -> list[str]:
    """How a message names these units, as they are numbered in ``version``."""
    described = _described(version)
    labels = []
    for unit in units:
        found = next((label for candidate, label in described if candidate == unit), None)
        if found is None:
            found = "a step" if unit.kind == "step" else "a section"
        labels.append(found)
    return list(dict.fromkeys(labels))


def _units_text(units: Sequence[Unit], version: Version) -> str:
    described = _described(version)
    texts = []
    for unit in units:
        label = next((label for candidate, label in described if candidate == unit), "")
        number = int(label.split()[1]) if label.startswith("step ") else 1
        texts.append(unit.as_text(number))
    return "".join(text if text.endswith("\n") else text + "\n" for text in texts).rstrip("\n")


def _changed_labels(old: Sequence[BodyPart], new: Sequence[BodyPart]) -> list[str]:
    a, b = units_of(old), units_of(new)
    labels: list[str] = []
    new_version, old_version = Version({}, list(new)), Version({}, list(old))
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        labels += _labels(b[j1:j2], new_version) if j2 > j1 else _removed(a[i1:i2], old_version)
    return list(dict.fromkeys(labels)) or ["the prompt"]


# --- choosing ------------------------------------------------------------------------------------


def resolve(version: Version, conflict: Conflict, choice: str) -> bool:
    """Apply a person's choice for a conflict to ``version`` (the form as posted, which holds
    mine there). Returns False when their version cannot be put in: they edited that part since
    (their edit is kept)."""
    if choice != THEIRS:
        return True
    if conflict.frontmatter_key:
        if conflict.theirs_yaml is None:
            version.frontmatter.pop(conflict.frontmatter_key, None)
        else:
            version.frontmatter[conflict.frontmatter_key] = yaml.safe_load(conflict.theirs_yaml)
        return True
    units = units_of(version.parts)
    mine = list(conflict.mine_units)
    at = _find(units, mine)
    if at is None:
        return False
    units[at : at + len(mine)] = conflict.theirs_units
    version.parts = parts_of(units, _tight(version))
    return True


def _find(units: list[Unit], wanted: list[Unit]) -> int | None:
    if not wanted:
        return None
    for start in range(len(units) - len(wanted) + 1):
        if units[start : start + len(wanted)] == wanted:
            return start
    return None


def describe(result: Merge) -> str:
    """What a person is told about a merge that saved: 'Kept their change to the description;
    your change to step 2 is saved.'"""
    sentences = []
    if result.theirs_kept:
        sentences.append(f"kept their {_changes(result.theirs_kept)}")
    if result.mine_kept:
        verb = "is" if len(set(result.mine_kept)) == 1 else "are"
        sentences.append(f"your {_changes(result.mine_kept)} {verb} saved")
    text = "; ".join(sentences)
    return text[:1].upper() + text[1:] + "." if text else ""


def _changes(labels: Sequence[str]) -> str:
    noun = "change" if len(set(labels)) == 1 else "changes"
    return f"{noun} to {and_list(labels)}"


def and_list(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
