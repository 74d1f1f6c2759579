"""Who may do what: the one place that answers it.

Roles come from Django groups (created by a migration): Authors edit their own agents and the
agents that list them as maintainers; Reviewers review; superusers can do everything. ``None``
stands for the operator at the command line (``manage.py import_agents``), who acts with full
rights: web code always passes ``request.user``.

Four eyes: nobody approves what they submitted or wrote (``approval_refusal``), superusers
included; only the operator is exempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet

from .models import PUBLISHING_ACTIONS, Agent, Event, Revision

AUTHORS = "Authors"
REVIEWERS = "Reviewers"

EDITOR = "editor"
REVIEWER = "reviewer"
ADMIN = "admin"


def groups_of(user: Any) -> frozenset[str]:
    """The user's group names, read once per user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_agent_portal_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._agent_portal_groups = cached
    return cached


def is_signed_in(user: Any) -> bool:
    """A person with an account that may be used (a deactivated account sees nothing)."""
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_operator(user: Any) -> bool:
    return user is None


def is_admin(user: Any) -> bool:
    return is_operator(user) or bool(user.is_active and user.is_superuser)


def can_review(user: Any) -> bool:
    return is_admin(user) or REVIEWERS in groups_of(user)


def can_author(user: Any) -> bool:
    """May create agents."""
    return is_admin(user) or AUTHORS in groups_of(user)


def can_edit(user: Any, agent: Agent) -> bool:
    """May change this agent's content and submit it for review."""
    if is_admin(user):
        return True
    if AUTHORS not in groups_of(user):
        return False
    if agent.owner_id == user.pk:
        return True
    # maintainers are prefetched by the querysets that list agents for people
    return any(maintainer.pk == user.pk for maintainer in agent.maintainers.all())


def can_choose_maintainers(user: Any, agent: Agent) -> bool:
    """May pick who maintains this agent: its owner, or an admin (a maintainer could otherwise
    remove the owner, or remove themselves halfway through their own edit)."""
    return is_admin(user) or (AUTHORS in groups_of(user) and agent.owner_id == user.pk)


def can_see_drafts(user: Any, agent: Agent) -> bool:
    return can_review(user) or can_edit(user, agent)


def sees_any_drafts(user: Any) -> bool:
    """May see the drafts of some agents: ``drafts_filter`` is not the empty filter."""
    return can_review(user) or AUTHORS in groups_of(user)


def can_view(user: Any, agent: Agent) -> bool:
    """May see the agent at all: its published file, or its drafts when allowed."""
    if can_see_drafts(user, agent):
        return True
    return is_signed_in(user) and agent.is_downloadable


def approval_refusal(
    user: Any, agent: Agent, submitter_id: int | None, revision_authors: Mapping[int, int | None]
) -> str | None:
    """Why this user may not approve the agent (besides needing the reviewer role), or None.

    ``submitter_id`` is who submitted it for review; ``revision_authors`` maps the number of each
    revision saved since the published one (every revision, if none was published) to its
    author's id. Whoever submitted it or wrote any of those revisions would be approving their
    own work, even if someone else resubmitted it unchanged.
    """
    if is_operator(user):
        return None
    if submitter_id is not None and submitter_id == user.pk:
        return f"You submitted {agent.name}; someone else has to approve it."
    written = [number for number, author in sorted(revision_authors.items()) if author == user.pk]
    if written:
        numbers = ", ".join(str(number) for number in written)
        which = f"revision {numbers}" if len(written) == 1 else f"revisions {numbers}"
        since = "since it was last published" if agent.published_revision_id else "so far"
        return (
            f"You wrote {which} of {agent.name} {since}; someone who did not write it has to "
            "approve it."
        )
    return None


def has_role(user: Any, role: str, agent: Agent) -> bool:
    if role == EDITOR:
        return can_edit(user, agent)
    if role == REVIEWER:
        return can_review(user)
    return is_admin(user)


# The same rules as filters, for lists that must not load rows the user may not see. ``field``
# is the path from the queried model to the agent ("" on agents, "agent__" on events). None
# means no restriction: an empty Q() would vanish when combined with |.


def drafts_filter(user: Any, field: str = "") -> Q | None:
    """``can_see_drafts`` as a filter on agents."""
    if can_review(user):
        return None
    if AUTHORS not in groups_of(user):
        return Q(**{f"{field}pk__in": []})
    maintained = Agent.maintainers.through.objects.filter(user_id=user.pk).values("agent_id")
    return Q(**{f"{field}owner_id": user.pk}) | Q(**{f"{field}pk__in": maintained})


def view_filter(user: Any, field: str = "") -> Q | None:
    """``can_view`` as a filter on agents."""
    drafts = drafts_filter(user, field)
    if drafts is None:
        return None
    if not is_signed_in(user):
        return drafts
    downloadable = Q(**{f"{field}published_revision__isnull": False}) & ~Q(
        **{f"{field}status": "archived"}
    )
    return drafts | downloadable


def visible_events(user: Any, events: QuerySet[Event]) -> QuerySet[Event]:
    """The audit entries the user may see: everything about the agents whose drafts they may
    see; of the other agents they may see, only the entries that published a revision (the rest
    is about drafts)."""
    drafts = drafts_filter(user, "agent__")
    if drafts is None:
        return events
    viewable = view_filter(user, "agent__")
    return events.filter(drafts | (Q(action__in=PUBLISHING_ACTIONS) & viewable))


# --- collections ----------------------------------------------------------------------------


def can_edit_collection(user: Any, collection: Any) -> bool:
    """May change a collection (its description, its members): its owner while an author, or an
    admin. Everyone signed in may see collections: a plugin holds only published files."""
    if is_admin(user):
        return True
    return AUTHORS in groups_of(user) and collection.owner_id == user.pk


def visible_revisions(agent: Agent, user: Any) -> QuerySet[Revision]:
    """The agent's revisions this user may see: all of them to those who may see its drafts,
    else the ones that were published at some point."""
    revisions = agent.revisions.all()
    return revisions if can_see_drafts(user, agent) else revisions.published_at_some_point()
