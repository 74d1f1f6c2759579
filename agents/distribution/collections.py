"""Collections as Claude Code plugins: which members a collection's plugin holds, its version,
and its zip (built by ``agents.distribution.plugins``).

Review is never skipped: a member goes into the plugin as its published revision (the file a
reviewer approved), never as its working copy, and not at all while it has no published
revision or is archived. The collection page says which members were left out and why.

The version rule: ``1.<n>.0``, where n counts the changes of the plugin's content. The content
key is a hash of everything the zip holds but its version (each member's published revision and
its place in the order, the collection's description, keywords and owner, the marketplace's name
and address in the README). Whenever a plugin is listed or downloaded, its key is compared with
the one stored with its count (``CollectionPlugin``); if it differs, the count goes up by one
under the collection's row lock and the new zip's sha256 is stored. So the version goes up on a
newly approved revision of a member, a member added, removed or moved, or a changed
description; it never goes down; and the marketplace lists each zip's sha256 without building
the zip, except once after each change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from .. import agentfile, permissions
from ..models import Agent, Collection, CollectionMember, CollectionPlugin
from . import marketplace, plugins


@dataclass(frozen=True)
class LeftOut:
    """A member that is not in the plugin, and why."""

    agent: Agent
    reason: str


@dataclass(frozen=True)
class Contents:
    """What a collection's plugin holds: its members' published revisions, in order."""

    collection: Collection
    included: tuple[Agent, ...]
    left_out: tuple[LeftOut, ...]


@dataclass(frozen=True)
class Built:
    """A plugin as counted: its version and checksum, and its bytes when they were built."""

    version: str
    sha256: str
    size: int
    data: bytes | None = None


def contents(collection: Collection) -> Contents:
    """Split the members (load the collection with ``Collection.objects.for_plugins()``)."""
    included: list[Agent] = []
    left_out: list[LeftOut] = []
    names: set[str] = set()
    for member in collection.members.all():
        agent = member.agent
        revision = agent.published_revision
        if agent.status == Agent.Status.ARCHIVED:
            reason = "archived"
        elif revision is None:
            reason = "not published yet: no revision of it has been approved"
        elif not agentfile.NAME_RE.match(revision.name):
            reason = (
                f"its published name {revision.name!r} does not follow Claude Code's naming "
                "rule (lowercase letters, digits and hyphens): Claude Code would not load it"
            )
        elif revision.name in names:
            reason = f"another member of the collection is published as {revision.name}"
        else:
            names.add(revision.name)
            included.append(agent)
            continue
        left_out.append(LeftOut(agent, reason))
    return Contents(collection, tuple(included), tuple(left_out))


def author(collection: Collection) -> dict[str, str]:
    """The plugin's author: the collection's owner, or the marketplace's owner."""
    user = collection.owner
    if user is None:
        return marketplace.owner()
    result = {"name": user.get_full_name() or user.get_username()}
    if user.email:
        result["email"] = user.email
    return result


def description(collection: Collection) -> str:
    return collection.description.strip() or collection.title


def keywords(collection: Collection) -> tuple[str, ...]:
    return tuple(str(word) for word in collection.keywords or [] if str(word).strip())


def spec(found: Contents, texts: Mapping[int, str] | None = None) -> plugins.PluginSpec:
    """The plugin's description; each agent's file from its loaded revision, or ``texts``
    (revision id -> file) when the revisions were loaded without it."""
    collection = found.collection
    agents = []
    for agent in found.included:
        revision = agent.published_revision
        if texts is not None and revision.pk in texts:
            text = texts[revision.pk]
        elif "text" in revision.get_deferred_fields():
            text = None
        else:
            text = revision.text
        agents.append(
            plugins.PluginAgent(
                name=revision.name,
                revision=revision.number,
                sha256=revision.sha256,
                description=revision.description,
                text=text,
            )
        )
    return plugins.PluginSpec(
        name=collection.slug,
        title=collection.title,
        description=description(collection),
        keywords=keywords(collection),
        author=author(collection),
        marketplace=marketplace.name(),
        base_url=marketplace.configured_base_url(),
        agents=tuple(agents),
    )


def stored(collection: Collection) -> CollectionPlugin | None:
    try:
        return collection.plugin
    except CollectionPlugin.DoesNotExist:
        return None


def current(found: Contents, with_zip: bool = False) -> Built | None:
    """The plugin as it is now (None for a collection with nothing published): its stored
    version and checksum while its content is unchanged, else counted again. ``with_zip``: the
    bytes too (the revisions must have been loaded with their text)."""
    if not found.included:
        return None
    plugin = spec(found)
    key = plugins.content_key(plugin)
    counted = stored(found.collection)
    if counted is not None and counted.content_key == key:
        if not with_zip:
            return Built(counted.version, counted.sha256, counted.size)
        data = plugins.build_zip(plugin, counted.version)
        # Same content, same bytes; unless this code writes them differently now, which must
        # be a new version too (the marketplace lists the old bytes' sha256).
        if plugins.sha256(data) == counted.sha256:
            return Built(counted.version, counted.sha256, len(data), data)
    return recount(found.collection)


@transaction.atomic
def recount(collection: Collection) -> Built | None:
    """Count the plugin's content again under the collection's row lock: the content as it is
    now, read after taking the lock, so two requests never count one change twice."""
    list(Collection.objects.select_for_update().filter(pk=collection.pk).values_list("pk"))
    fresh = Collection.objects.for_plugins(with_text=True).filter(pk=collection.pk).first()
    if fresh is None:
        return None
    found = contents(fresh)
    if not found.included:
        return None
    plugin = spec(found)
    key = plugins.content_key(plugin)
    counted = CollectionPlugin.objects.filter(collection=collection).first()
    if counted is not None and counted.content_key == key:
        data = plugins.build_zip(plugin, counted.version)
        if plugins.sha256(data) == counted.sha256:
            collection.plugin = counted
            return Built(counted.version, counted.sha256, len(data), data)
    if counted is None:
        counted = CollectionPlugin(collection=collection, number=0)
    else:
        counted.number += 1
    data = plugins.build_zip(plugin, counted.version)
    counted.content_key = key
    counted.sha256 = plugins.sha256(data)
    counted.size = len(data)
    counted.built_at = timezone.now()
    counted.save()
    collection.plugin = counted
    return Built(counted.version, counted.sha256, len(data), data)


def listing(collection: Collection, built: Built) -> marketplace.Listing:
    return marketplace.Listing(
        name=collection.slug,
        description=description(collection),
        version=built.version,
        author=author(collection),
        keywords=list(keywords(collection)),
        sha256=built.sha256,
        path=reverse("collection-plugin", kwargs={"slug": collection.slug}),
    )


def editable_by(user: Any) -> QuerySet[Collection]:
    """The collections this user may add agents to (for the catalog's "add to a collection")."""
    if permissions.is_admin(user):
        return Collection.objects.all()
    if not permissions.can_author(user):
        return Collection.objects.none()
    return Collection.objects.filter(owner_id=user.pk)


# --- membership -----------------------------------------------------------------------------


@transaction.atomic
def set_members(collection: Collection, agents: list[Agent]) -> None:
    """Make ``agents`` the collection's members, in this order."""
    wanted = {agent.pk: position for position, agent in enumerate(agents, start=1)}
    collection.members.exclude(agent_id__in=wanted).delete()
    existing = {member.agent_id: member for member in collection.members.all()}
    changed = []
    for agent_id, position in wanted.items():
        member = existing.get(agent_id)
        if member is None:
            CollectionMember.objects.create(
                collection=collection, agent_id=agent_id, position=position
            )
        elif member.position != position:
            member.position = position
            changed.append(member)
    CollectionMember.objects.bulk_update(changed, ["position"])
    Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())


@transaction.atomic
def add_members(collection: Collection, agents: list[Agent]) -> tuple[list[Agent], list[Agent]]:
    """Append the agents that are not members yet, in this order; (added, already members)."""
    list(Collection.objects.select_for_update().filter(pk=collection.pk).values_list("pk"))
    members = collection.members.all()
    present = set(members.values_list("agent_id", flat=True))
    last = max(members.values_list("position", flat=True), default=0)
    added, already = [], []
    for agent in agents:
        if agent.pk in present:
            already.append(agent)
            continue
        last += 1
        CollectionMember.objects.create(collection=collection, agent=agent, position=last)
        present.add(agent.pk)
        added.append(agent)
    if added:
        Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())
    return added, already
