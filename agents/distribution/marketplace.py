"""The portal as a Claude Code plugin marketplace: its name, owner and address (from settings),
the names Claude Code refuses, and the ``marketplace.json`` document.

A team runs ``/plugin marketplace add <portal>/marketplace.json?token=<token>`` once, then
``/plugin install <collection>@<marketplace name>``. Each collection with a published agent is
listed as a plugin whose source is an ``archive``: the URL of its zip and that zip's sha256.

Settings (``agentportal/settings.py``): ``MARKETPLACE_NAME`` (kebab-case, not reserved),
``MARKETPLACE_OWNER_NAME``, ``MARKETPLACE_OWNER_EMAIL``; the links start with the portal's public
address, ``PORTAL_BASE_URL`` (the address each request came to, where it is not set). A bad name
is an Error of ``manage.py check`` (run by ``migrate`` and ``runserver``), and the marketplace
answers 503 saying why rather than serve a file Claude Code would refuse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import checks

from .. import agentfile

# Marketplace names Claude Code refuses for a marketplace that is not Anthropic's own: the
# "Reserved names" of the marketplace reference,
# https://code.claude.com/docs/en/plugins/marketplace-reference (official, community and
# plugin-directory names; names used by Claude Code itself or by package managers).
RESERVED_NAMES = frozenset(
    {
        # official
        "claude-code-marketplace",
        "claude-code-plugins",
        "claude-plugins-official",
        "anthropic-marketplace",
        "anthropic-plugins",
        "agent-skills",
        "anthropic-agent-skills",
        "life-sciences",
        "knowledge-work-plugins",
        "claude-for-legal",
        "claude-for-financial-services",
        "financial-services-plugins",
        "first-party-plugins",
        "claude-tag-plugins",
        # community
        "claude-community",
        "claude-plugins-community",
        "healthcare",
        # the plugin directory
        "anthropic-plugin-directory",
        "claude-plugin-directory",
        # Claude Code's own sources, and package managers
        "inline",
        "builtin",
        "skills-dir",
        "synced",
        "claude-plugin-test",
        "npm",
        "pip",
        "uv",
        "cargo",
        "github",
        "gh",
    }
)
# Names that pass for an official marketplace ("official-claude-plugins", "claude-plugins-v2")
# and the prefix kept for marketplaces hosted on claude.ai.
IMPERSONATING = re.compile(
    r"(^|-)official-(claude|anthropic)(-|$)|(^|-)(claude|anthropic)-official(-|$)"
    r"|^(claude|anthropic)-plugins?(-|$)|^claudeai-"
)


LOCAL = re.compile(r"^http://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$")


def name_problem(name: str) -> str | None:
    """Why Claude Code would refuse ``name`` for this marketplace, or None."""
    if not agentfile.NAME_RE.match(name or ""):
        return (
            f"{name!r} is not kebab-case: use lowercase letters, digits and single hyphens, "
            "e.g. acme-agents"
        )
    if name in RESERVED_NAMES:
        return f"{name!r} is reserved by Claude Code for Anthropic's own marketplaces"
    if IMPERSONATING.search(name):
        return (
            f"{name!r} reads as one of Anthropic's official marketplaces, which Claude Code refuses"
        )
    return None


def name() -> str:
    return settings.MARKETPLACE_NAME


def owner() -> dict[str, str]:
    result = {"name": settings.MARKETPLACE_OWNER_NAME}
    if settings.MARKETPLACE_OWNER_EMAIL:
        result["email"] = settings.MARKETPLACE_OWNER_EMAIL
    return result


def configured_base_url() -> str:
    """The portal's public address (``PORTAL_BASE_URL``, checked by the settings; "" when the
    settings have none)."""
    url = getattr(settings, "PORTAL_BASE_URL", "") or ""
    return url.rstrip("/")


def base_url(request: Any) -> str:
    """The address the marketplace's links start with."""
    return configured_base_url() or request.build_absolute_uri("/").rstrip("/")


def problems() -> list[str]:
    """What is wrong with the marketplace settings, one sentence each."""
    found = []
    problem = name_problem(name())
    if problem:
        found.append(f"MARKETPLACE_NAME: {problem}.")
    if not settings.MARKETPLACE_OWNER_NAME.strip():
        found.append("MARKETPLACE_OWNER_NAME is empty: a marketplace must name its owner.")
    return found


@checks.register("marketplace")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Refuse to start with a marketplace name or owner Claude Code would refuse."""
    found: list[checks.CheckMessage] = [
        checks.Error(
            message,
            hint="Set it in the environment; see the README's marketplace section.",
            id="agents.E901",
        )
        for message in problems()
    ]
    url = configured_base_url()
    if url.startswith("http://") and not LOCAL.match(url) and not settings.DEBUG:
        found.append(
            checks.Warning(
                f"PORTAL_BASE_URL is {url}: Claude Code downloads plugin archives over "
                "HTTPS, and tokens in these addresses would cross the network in clear.",
                hint="Serve the portal over HTTPS and give its https:// address.",
                id="agents.W901",
            )
        )
    return found


@dataclass(frozen=True)
class Listing:
    """One collection as the marketplace lists it."""

    name: str
    description: str
    version: str
    author: dict[str, str]
    keywords: list[str]
    sha256: str
    path: str  # the zip's path on the portal


def document(listings: Iterable[Listing], base: str, token: str | None = None) -> dict[str, Any]:
    """``marketplace.json``. ``token``: the secret the request came with, passed on in each
    zip's address so that Claude Code, which sends no header, can fetch it."""
    query = f"?{urlencode({'token': token})}" if token else ""
    plugins = []
    for listing in listings:
        entry: dict[str, Any] = {
            "name": listing.name,
            "source": {
                "source": "archive",
                "url": f"{base}{listing.path}{query}",
                "sha256": listing.sha256,
            },
            "version": listing.version,
        }
        if listing.description:
            entry["description"] = listing.description
        if listing.author:
            entry["author"] = listing.author
        if listing.keywords:
            entry["keywords"] = listing.keywords
        plugins.append(entry)
    return {"name": name(), "owner": owner(), "plugins": plugins}
