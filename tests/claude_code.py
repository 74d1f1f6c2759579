"""What Claude Code does with a plugin marketplace, written from its documentation (the "plugin
marketplaces", "plugins reference" and "sub-agents" pages, condensed in
../shared/docs/agent-file-format.md), not from the portal's code: the oracle of the marketplace
tests. Nothing here imports ``agents``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import yaml

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Some of the names the marketplace reference reserves for Anthropic.
RESERVED = {
    "claude-code-marketplace",
    "claude-code-plugins",
    "claude-plugins-official",
    "anthropic-marketplace",
    "anthropic-plugins",
    "agent-skills",
    "knowledge-work-plugins",
    "life-sciences",
}


class Refused(Exception):  # noqa: N818
    """Claude Code would refuse this (the message says what)."""


@dataclass
class InstalledPlugin:
    name: str
    version: str
    manifest: dict
    agents: dict[str, dict] = field(default_factory=dict)  # "<plugin>:<name>" -> frontmatter
    files: dict[str, bytes] = field(default_factory=dict)


def check_marketplace(document: dict) -> None:
    name = document.get("name")
    if not isinstance(name, str) or not KEBAB.match(name):
        raise Refused(f"marketplace name {name!r} is not kebab-case")
    if name in RESERVED:
        raise Refused(f"marketplace name {name!r} is reserved")
    owner = document.get("owner")
    if not isinstance(owner, dict) or not isinstance(owner.get("name"), str) or not owner["name"]:
        raise Refused("the marketplace has no owner.name")
    plugins = document.get("plugins")
    if not isinstance(plugins, list):
        raise Refused("plugins is not a list")
    names = [entry.get("name") for entry in plugins]
    if len(names) != len(set(names)):
        raise Refused("two plugins share a name")
    for entry in plugins:
        if not isinstance(entry.get("name"), str) or not KEBAB.match(entry["name"]):
            raise Refused(f"plugin name {entry.get('name')!r} is not kebab-case")
        source = entry.get("source")
        if source is None:
            raise Refused(f"plugin {entry['name']} has no source")
        if isinstance(source, dict) and source.get("source") == "archive":
            if not isinstance(source.get("url"), str) or not source["url"]:
                raise Refused(f"plugin {entry['name']}: archive source without url")
            if not SHA256.match(str(source.get("sha256", ""))):
                raise Refused(f"plugin {entry['name']}: archive source without a sha256")


def check_manifest(manifest: dict, entry: dict) -> None:
    name = manifest.get("name")
    if not isinstance(name, str) or not KEBAB.match(name):
        raise Refused(f"plugin.json name {name!r} is not kebab-case")
    if name != entry["name"]:
        raise Refused(f"plugin.json names {name}, the marketplace {entry['name']}")
    if "version" in manifest and not SEMVER.match(str(manifest["version"])):
        raise Refused(f"plugin.json version {manifest['version']!r} is not semantic")
    author = manifest.get("author")
    if author is not None and not (isinstance(author, dict) and author.get("name")):
        raise Refused("plugin.json author without a name")
    keywords = manifest.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(word, str) for word in keywords):
        raise Refused("plugin.json keywords is not a list of strings")


def load_agent(data: bytes) -> dict:
    """The frontmatter of an agent file, or Refused where Claude Code skips the file."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise Refused("a UTF-8 byte order mark")
    if b"\r" in data:
        raise Refused("CR line endings")
    if not data.startswith(b"---\n"):
        raise Refused("no '---' at byte 0")
    text = data.decode("utf-8")
    end = text.find("\n---\n", 3)
    if end == -1 and text.endswith("\n---"):
        end = len(text) - 4
    if end == -1:
        raise Refused("the frontmatter is not closed")
    try:
        frontmatter = yaml.safe_load(text[4 : end + 1])
    except yaml.YAMLError as error:
        raise Refused(f"YAML error: {error}") from error
    if not isinstance(frontmatter, dict):
        raise Refused("the frontmatter is not a mapping")
    name = frontmatter.get("name")
    if not isinstance(name, str) or not KEBAB.match(name):
        raise Refused(f"name {name!r} is not a valid agent name")
    description = frontmatter.get("description")
    if not isinstance(description, str) or not description.strip():
        raise Refused(f"{name} has no description")
    hooks = frontmatter.get("hooks")
    if hooks is not None and not hooks:
        raise Refused(f"{name} has an empty hooks")
    return frontmatter


def get(client, url: str, headers: dict | None = None):
    """Fetch a URL of the marketplace with Django's test client (the test server's base URL)."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.get(path, headers=headers or {})


def add_marketplace(client, url: str) -> dict:
    """``/plugin marketplace add <url>``: fetch and check marketplace.json."""
    response = get(client, url)
    if response.status_code != 200:
        raise Refused(f"marketplace.json answered {response.status_code}: {response.content!r}")
    document = json.loads(response.content)
    check_marketplace(document)
    return document


def install(client, entry: dict) -> InstalledPlugin:
    """``/plugin install <name>@<marketplace>`` of an archive plugin: download, check the sha256,
    unzip, read plugin.json and load each agent."""
    source = entry["source"]
    response = get(client, source["url"])
    if response.status_code != 200:
        raise Refused(f"{source['url']} answered {response.status_code}")
    data = response.content
    if hashlib.sha256(data).hexdigest() != source["sha256"]:
        raise Refused(f"the archive of {entry['name']} does not match its sha256")
    files = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.filename.startswith("/") or ".." in info.filename.split("/"):
                raise Refused(f"unsafe path in the archive: {info.filename}")
            files[info.filename] = archive.read(info)
    if ".claude-plugin/plugin.json" not in files:
        raise Refused("no .claude-plugin/plugin.json")
    manifest = json.loads(files[".claude-plugin/plugin.json"])
    check_manifest(manifest, entry)
    plugin = InstalledPlugin(manifest["name"], manifest.get("version", ""), manifest, files=files)
    for path, content in sorted(files.items()):
        if path.startswith("agents/") and path.endswith(".md"):
            frontmatter = load_agent(content)
            plugin.agents[f"{plugin.name}:{frontmatter['name']}"] = frontmatter
    return plugin
