"""A Claude Code plugin made of agent files: its ``plugin.json``, its ``README.md`` and its zip.

Pure: given the plugin's description and its agents' published files, it builds bytes; which
agents go in, and the version, are decided by ``agents.distribution.collections``.

The zip is deterministic: the same files give the same bytes, so the same sha256 (entries sorted
by path, fixed timestamps and permissions, stored uncompressed so that the bytes do not depend
on the zlib version). The marketplace lists that sha256 and Claude Code checks it.

Layout (the "plugins reference" of the Claude Code documentation)::

    .claude-plugin/plugin.json   name, version, description, author, keywords
    README.md                    what the plugin holds, how to install it, what Claude Code ignores
    agents/<name>.md             each agent's published file, byte for byte
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .. import agentfile
from . import zips

# Frontmatter keys Claude Code ignores in an agent that comes from a plugin.
IGNORED_BY_PLUGINS = ("hooks", "mcpServers", "permissionMode")
# Goes into every plugin's content key: raise it when this module writes different bytes for the
# same agents (README wording, layout), so that every plugin gets a new version.
LAYOUT = 1
SUMMARY_LENGTH = 160


@dataclass(frozen=True)
class PluginAgent:
    """One agent of a plugin: its published revision."""

    name: str  # the name inside the published file
    revision: int
    sha256: str
    description: str
    text: str | None = None  # the file; needed to build the zip, not to key it

    @property
    def path(self) -> str:
        return f"agents/{agentfile.file_stem(self.name)}.md"


@dataclass(frozen=True)
class PluginSpec:
    """Everything a plugin's bytes depend on, besides its version."""

    name: str
    title: str
    description: str
    keywords: tuple[str, ...]
    author: Mapping[str, str]
    marketplace: str  # the marketplace's name, for the install command
    base_url: str  # where the portal is reached, for the install commands; may be ""
    agents: tuple[PluginAgent, ...] = field(default_factory=tuple)


def content_key(spec: PluginSpec) -> str:
    """A hash of everything the zip holds except its version: when it changes, so must the
    version (what Claude Code compares to offer an update)."""
    data = {
        "layout": LAYOUT,
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "keywords": list(spec.keywords),
        "author": dict(spec.author),
        "marketplace": spec.marketplace,
        "base_url": spec.base_url,
        "agents": [[a.name, a.revision, a.sha256, a.description] for a in spec.agents],
    }
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def manifest(spec: PluginSpec, version: str) -> dict[str, object]:
    """``.claude-plugin/plugin.json``."""
    data: dict[str, object] = {"name": spec.name, "version": version}
    if spec.description:
        data["description"] = spec.description
    if spec.author:
        data["author"] = dict(spec.author)
    if spec.keywords:
        data["keywords"] = list(spec.keywords)
    return data


def ignored_fields(text: str) -> list[str]:
    """The keys of this agent file that Claude Code ignores in a plugin (set, not empty)."""
    try:
        parsed = agentfile.parse(text)
    except agentfile.AgentFileError:
        return []
    return [
        key
        for key in IGNORED_BY_PLUGINS
        if key in parsed.frontmatter and not agentfile.is_empty(parsed.frontmatter[key])
    ]


def warnings(spec: PluginSpec) -> list[str]:
    """A sentence per agent whose file sets keys the plugin's agents ignore (agents with text)."""
    sentences = []
    for agent in spec.agents:
        keys = ignored_fields(agent.text or "")
        if keys:
            sentences.append(ignored_sentence(f"{spec.name}:{agent.name}", keys))
    return sentences


def ignored_sentence(who: str, keys: Iterable[str]) -> str:
    listed = ", ".join(f"`{key}`" for key in keys)
    return (
        f"{who} sets {listed}: Claude Code ignores these fields in agents that come from a "
        "plugin. Install its file in .claude/agents/ instead if it needs them."
    )


def install_commands(spec: PluginSpec) -> list[str]:
    base = spec.base_url or "https://<the portal's address>"
    return [
        f"/plugin marketplace add {base}/marketplace.json?token=<your access token>",
        f"/plugin install {spec.name}@{spec.marketplace}",
    ]


def summary(description: str) -> str:
    line = " ".join(description.split())
    return line if len(line) <= SUMMARY_LENGTH else line[: SUMMARY_LENGTH - 1].rstrip() + "…"


def readme(spec: PluginSpec, version: str) -> str:
    """``README.md``: what the plugin holds, how to install it, and what Claude Code ignores."""
    lines = [f"# {spec.title or spec.name}", ""]
    if spec.description:
        lines += [spec.description.strip(), ""]
    lines += [
        f"Claude Code plugin `{spec.name}`, version {version}, from the marketplace "
        f"`{spec.marketplace}`. Every agent in it was reviewed and approved in the portal.",
        "",
        "## Install",
        "",
        "Once per machine (an access token comes from the portal's Access tokens page, "
        f"{spec.base_url or ''}/account/tokens/):",
        "",
        *(f"    {command}" for command in install_commands(spec)),
        "",
        "Claude Code offers an update whenever the version goes up: when an agent of the "
        "collection gets a newly approved revision, or the collection changes.",
        "",
        "## Agents",
        "",
    ]
    for agent in spec.agents:
        lines.append(
            f"- `{spec.name}:{agent.name}` (revision {agent.revision}, `{agent.path}`): "
            f"{summary(agent.description)}"
        )
    if not spec.agents:
        lines.append("None yet.")
    found = warnings(spec)
    if found:
        lines += ["", "## Warnings", ""]
        lines += [f"- {sentence}" for sentence in found]
    return "\n".join(lines) + "\n"


def files(spec: PluginSpec, version: str) -> dict[str, bytes]:
    """Every file of the plugin by its path in the zip."""
    missing = [agent.name for agent in spec.agents if agent.text is None]
    if missing:
        raise ValueError(f"the files of {', '.join(missing)} were not loaded")
    plugin_json = json.dumps(manifest(spec, version), indent=2, ensure_ascii=False) + "\n"
    result = {
        ".claude-plugin/plugin.json": plugin_json.encode(),
        "README.md": readme(spec, version).encode(),
    }
    for agent in spec.agents:
        result[agent.path] = (agent.text or "").encode()
    return result


def build_zip(spec: PluginSpec, version: str) -> bytes:
    """The plugin as a zip: same files, same bytes (``zips``: fixed times and permissions)."""
    return b"".join(zips.stream(sorted(files(spec, version).items())))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
