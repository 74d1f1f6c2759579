"""How an agent moves: saving revisions, the review workflow, restoring an old revision, and the
edit lock. The admin, the portal's pages, the API and the commands all come here; none of them
repeats a rule.

The allowed steps are one table, ``TRANSITIONS``. Every step holds the agent's row while it is
decided and taken (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite runs write transactions one at
a time), so the state checked, the state recorded in the audit trail and the revision published
are those of the moment of the step; the UPDATE is conditional as well. Who may take a step is
``agents.permissions``; the mail a step calls for is written by ``agents.notifications`` in the
step's own transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from . import agentfile, bulk, filebridge, lint, notifications, permissions
from .lint import report
from .models import Agent, Event, Revision, Tool


class WorkflowError(Exception):
    """A state change or edit that cannot happen now; the message says why, for a person."""


class StaleEdit(WorkflowError):
    """Someone else saved the agent after the editor opened it."""

    def __init__(self, message: str, diff: str):
        super().__init__(message)
        self.diff = diff


class StaleApproval(WorkflowError):
    """The revision a reviewer approved is no longer the agent's latest: nothing was published.

    ``diff`` goes from the revision the reviewer looked at (``reviewed``) to the latest one.
    """

    def __init__(self, message: str, diff: str, reviewed: int, latest: int):
        super().__init__(message)
        self.diff = diff
        self.reviewed = reviewed
        self.latest = latest


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One allowed step: from which states, to which state, by whom."""

    name: str
    sources: frozenset[str]
    target: str
    role: str
    verb: str  # "approve": in messages, "You may not approve ..."
    done: str  # "approved": "... so it cannot be approved"
    needs_comment: bool = False
    publishes: bool = False
    manual: bool = True  # offered as a button; edits and creation happen by saving


_S = Agent.Status
_EDITABLE = frozenset({_S.DRAFT, _S.CHANGES_REQUESTED, _S.APPROVED})
_ALL = frozenset(_S.values)

TRANSITIONS: dict[str, Transition] = {
    rule.name: rule
    for rule in [
        Transition("create", _ALL - {_S.ARCHIVED}, _S.DRAFT, permissions.EDITOR,
                   "create", "created", manual=False),
        Transition("edit", _EDITABLE, _S.DRAFT, permissions.EDITOR,
                   "edit", "edited", manual=False),
        Transition("rollback", _EDITABLE, _S.DRAFT, permissions.EDITOR,
                   "restore an old revision of", "rolled back", manual=False),
        Transition("submit", frozenset({_S.DRAFT, _S.CHANGES_REQUESTED}), _S.IN_REVIEW,
                   permissions.EDITOR, "submit", "submitted"),
        Transition("withdraw", frozenset({_S.IN_REVIEW}), _S.DRAFT, permissions.EDITOR,
                   "withdraw", "withdrawn"),
        Transition("approve", frozenset({_S.IN_REVIEW}), _S.APPROVED, permissions.REVIEWER,
                   "approve", "approved", publishes=True),
        Transition("request_changes", frozenset({_S.IN_REVIEW}), _S.CHANGES_REQUESTED,
                   permissions.REVIEWER, "request changes to", "sent back", needs_comment=True),
        Transition("publish", _EDITABLE | {_S.IN_REVIEW}, _S.APPROVED, permissions.ADMIN,
                   "publish", "published", publishes=True, manual=False),
        Transition("archive", _ALL - {_S.ARCHIVED}, _S.ARCHIVED, permissions.ADMIN,
                   "archive", "archived"),
        Transition("restore", frozenset({_S.ARCHIVED}), _S.DRAFT, permissions.ADMIN,
                   "restore", "restored"),
    ]
}  # fmt: skip


# --- questions pages ask ------------------------------------------------------------------------


def check_editable(agent: Agent) -> None:
    """Raise WorkflowError, saying why, if the agent's content may not change in its state."""
    if agent.status == Agent.Status.IN_REVIEW:
        raise WorkflowError(
            f"{agent.name} is in review: withdraw it from review before changing it."
        )
    if agent.status == Agent.Status.ARCHIVED:
        raise WorkflowError(f"{agent.name} is archived: restore it before changing it.")


def allowed_actions(agent: Agent, user: Any) -> list[str]:
    """The workflow actions this user may take on the agent now (for buttons and menus)."""
    return [
        name
        for name, rule in TRANSITIONS.items()
        if rule.manual and agent.status in rule.sources and _permits(agent, rule, user) is None
    ]


def refusal(agent: Agent, action: str, user: Any) -> str | None:
    """Why the user may not take this step on the agent as loaded, or None if they may: what a
    page says next to a button it does not offer."""
    rule = TRANSITIONS[action]
    if agent.status not in rule.sources:
        label = Agent.Status(agent.status).label.lower()
        return f"{agent.name} is {label}, so it cannot be {rule.done}."
    return _permits(agent, rule, user)


def _permits(agent: Agent, rule: Transition, user: Any) -> str | None:
    """Why the user may not take this step, or None if they may."""
    if not permissions.has_role(user, rule.role, agent):
        return f"You may not {rule.verb} {agent.name}: that needs the {rule.role} role."
    if rule.name == Event.Action.APPROVE:
        return permissions.approval_refusal(
            user, agent, agent.submitter_id(), agent.unpublished_authors()
        ) or lint_refusal(agent)
    return None


def lint_refusal(agent: Agent) -> str | None:
    """Why the agent's latest revision may not be approved for what lint found in it, or None.

    An error means Claude Code will not load the file, or the agent cannot start: publishing it
    would hand everyone a broken agent. Warnings do not stop an approval; the pages that confirm
    one show them. The operator's ``publish`` is not an approval and is not checked.
    """
    if agent.latest_revision_id is None:
        return None
    revision = agent.latest_revision  # selected with the agent by the pages, else read now
    if not revision.lint_errors:
        return None
    errors = [f for f in revision.findings if f.severity == lint.ERROR]
    said = "; ".join(f"line {f.line}: {f.message}" if f.line else f.message for f in errors)
    count = "1 lint error" if revision.lint_errors == 1 else f"{revision.lint_errors} lint errors"
    return (
        f"Revision {revision.number} of {agent.name} has {count}, so it cannot be approved: "
        f"{said}. Request changes so that the author fixes it."
    )


# --- saving ---------------------------------------------------------------------------------------


def lock_for_edit(agent: Agent, base_revision: int) -> None:
    """Hold the agent's row until the end of the transaction, or fail if it may not be edited
    now or someone saved a new revision since the editor loaded ``base_revision``.

    The status is read again once the row is held: the agent may have gone into review since
    the page was loaded. PostgreSQL blocks a second editor here until the first commits; SQLite
    runs write transactions one at a time (``transaction_mode=IMMEDIATE``).
    """
    _lock_row(agent)
    check_editable(agent)
    latest = _latest(agent)
    if latest is not None and latest.number != base_revision:
        base = agent.revisions.filter(number=base_revision).first()
        diff = agentfile.unified_diff(
            base.text if base else "",
            latest.text,
            f"revision {base_revision} (what you opened)",
            f"revision {latest.number} (saved by {latest.author or 'someone'})",
        )
        raise StaleEdit(
            f"Someone else changed {agent.name} while you were editing it: revision "
            f"{latest.number} was saved by {latest.author or 'someone'} at "
            f"{timezone.localtime(latest.created_at):%Y-%m-%d %H:%M}. Nothing of yours was "
            "saved; your changes are still in the form. Here is what they changed:",
            diff,
        )


def record_revision(
    agent: Agent,
    user: Any,
    note: str = "",
    action: str | None = None,
    *,
    text: str | None = None,
    tools: list[str] | None = None,
    publish: str | None = None,
    registry: dict[str, str | None] | None = None,
) -> Revision | None:
    """Store the agent's file as a new revision if it changed; an edit moves it to draft.

    Returns the new revision, or None when the rendered file is the same as the latest.
    Parallel saves take turns on the agent's row, so each gets the next number; a refused save
    leaves no revision behind.

    ``text`` and ``tools``: the file and its tools line as the caller rendered them from what it
    has just applied to the agent (the importer has both): the agent and its rows are then not
    read back to render them again. ``publish``: publish the new revision at once, in the same
    step and with this comment (the operator's ``--publish``; refused to anyone else).
    ``registry``: ``Tool.registry()``, for lint, when the caller has it loaded already.
    """
    with transaction.atomic():
        _lock_row(agent)
        if text is None:
            saved = Agent.objects.for_export().get(pk=agent.pk)
            text, tools = filebridge.render(saved), filebridge.tool_names(saved)
        else:
            saved = agent
            tools = filebridge.tool_names(agent) if tools is None else tools
        latest = _latest(agent)
        if latest is not None and latest.text == text:
            return None
        check_editable(agent)
        if action is None:
            action = Event.Action.EDIT if latest else Event.Action.CREATE
        # Refuse before writing: a revision always has its event, and its author is a user.
        steps = [TRANSITIONS[action]] + ([TRANSITIONS[Event.Action.PUBLISH]] if publish else [])
        for rule in steps:
            refused = _permits(agent, rule, user)
            if refused:
                raise PermissionDenied(refused)
        revision = Revision.objects.create(
            agent=agent,
            number=(latest.number if latest else 0) + 1,
            name=saved.name,
            description=saved.description,
            model=saved.model,
            color=saved.color,
            tools=list(tools),
            text=text,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            author=user,
            note=note,
            **report.lint_record(text, registry if registry is not None else Tool.registry()),
        )
        # The row is held: the steps are taken without reading it, or the revision, again.
        _take(agent, steps[0], user, note.strip(), revision, {"latest_revision": revision})
        if publish:
            _take(agent, steps[1], user, publish.strip(), revision, {})
    return revision


@dataclass(frozen=True)
class NewFile:
    """A new agent's first file, as the importer rendered it: its text, tools line and note;
    and ``agentfile.parse(text)`` when the importer has it (the file came as it renders), so
    that lint does not parse it again."""

    agent: Agent
    text: str
    tools: list[str]
    note: str
    parsed: agentfile.ParsedFile | None = None


def record_new_agents(
    files: list[NewFile],
    user: Any,
    publish: str | None = None,
    registry: dict[str, str | None] | None = None,
) -> None:
    """The first revision of each of these agents and the "create" step, then, with
    ``publish``, the operator's publication: what ``record_revision`` does for one agent, for a
    batch of agents created in this transaction (nobody else sees them yet, so there is no row
    to wait for, and no earlier revision), lint's findings included. A few queries for the
    whole batch. ``registry``: ``Tool.registry()``, when the caller has it loaded already.
    """
    steps = [TRANSITIONS[Event.Action.CREATE]]
    if publish:
        steps.append(TRANSITIONS[Event.Action.PUBLISH])
    for file in files:
        if file.agent.latest_revision_id is not None:
            raise WorkflowError(f"{file.agent.name} has revisions already: it is not new.")
        for rule in steps:
            refused = _permits(file.agent, rule, user)
            if refused:
                raise PermissionDenied(refused)
    registry = registry if registry is not None else Tool.registry()
    now = timezone.now()
    revisions = [
        Revision(
            agent=file.agent,
            number=1,
            name=file.agent.name,
            description=file.agent.description,
            model=file.agent.model,
            color=file.agent.color,
            tools=list(file.tools),
            text=file.text,
            sha256=hashlib.sha256(file.text.encode()).hexdigest(),
            author=user,
            note=file.note,
            created_at=now,
            **report.lint_record(file.text, registry, parsed=file.parsed),
        )
        for file in files
    ]
    bulk.insert_objects(revisions)
    events = []
    for file, revision in zip(files, revisions, strict=True):
        status = file.agent.status
        comments = [file.note.strip(), (publish or "").strip()][: len(steps)]
        for rule, comment in zip(steps, comments, strict=True):
            if status not in rule.sources:
                raise WorkflowError(f"{file.agent.name} cannot be {rule.done} now.")
            events.append(
                Event(
                    agent=file.agent,
                    revision=revision,
                    actor=user,
                    # Event.save would fill it; insert_objects does not call save.
                    actor_name=user.get_username() if user is not None else "",
                    action=rule.name,
                    from_status=status,
                    to_status=rule.target,
                    comment=comment,
                    created_at=now,
                )
            )
            status = rule.target
        file.agent.status, file.agent.updated_at = status, now
        file.agent.latest_revision = revision
        if publish:
            file.agent.published_revision, file.agent.published_at = revision, now
    bulk.insert_objects(events)
    # One UPDATE for the batch (every agent ends in the same state), each agent pointing at its
    # revision 1: cheaper to build than bulk_update's CASE of one branch per agent.
    first = Subquery(Revision.objects.filter(agent=OuterRef("pk"), number=1).values("pk")[:1])
    changes: dict[str, Any] = {"status": status, "updated_at": now, "latest_revision": first}
    if publish:
        changes.update(published_revision=first, published_at=now)
    Agent.objects.filter(pk__in=[file.agent.pk for file in files]).update(**changes)
    for event in events:
        notifications.queue_for(event)


def restore_revision(agent: Agent, revision: Revision, user: Any) -> Revision | None:
    """Make an old revision the agent's content again, as a new draft revision."""
    with transaction.atomic():
        check_editable(agent)
        filebridge.apply_file(agent, agentfile.parse(revision.text))
        return record_revision(
            agent, user, note=f"Restored revision {revision.number}", action=Event.Action.ROLLBACK
        )


# --- steps ----------------------------------------------------------------------------------------


def transition(
    agent: Agent,
    action: str,
    user: Any,
    comment: str = "",
    revision: Revision | None = None,
    *,
    revision_number: int | None = None,
) -> Event:
    """Take one step of the workflow, or raise WorkflowError / PermissionDenied.

    Approving needs ``revision_number``, the revision the reviewer looked at: if the agent's
    latest revision is another one, nothing is published (StaleApproval, with the diff). The
    operator's "publish" publishes ``revision``, or the latest.
    """
    rule = TRANSITIONS[action]
    if rule.name == Event.Action.APPROVE and revision_number is None:
        raise TypeError(
            "transition('approve', ...) needs revision_number: the revision the reviewer "
            "looked at, so that a newer one is never published unseen."
        )
    if not permissions.has_role(user, rule.role, agent):
        raise PermissionDenied(_permits(agent, rule, user))
    comment = comment.strip()
    if rule.needs_comment and not comment:
        raise WorkflowError(
            f"Say what has to change: a comment is required to {rule.verb} {agent.name}."
        )
    seen = agent.status
    with transaction.atomic():
        _lock_row(agent)
        before = agent.status
        # Again under the lock: who wrote what may have changed since the page was shown.
        refused = _permits(agent, rule, user)
        if refused:
            raise PermissionDenied(refused)
        if before not in rule.sources:
            why = " (someone else acted on it first)." if before != seen else "."
            raise WorkflowError(
                f"{agent.name} is {Agent.Status(before).label.lower()} now, so it cannot be "
                f"{rule.done}{why}"
            )
        latest = _latest(agent)
        if rule.publishes:
            if revision_number is not None:
                _check_approved_revision(agent, revision_number, latest)
            revision = revision or latest
            if revision is None:
                raise WorkflowError(f"{agent.name} has no revision to publish yet.")
        return _take(agent, rule, user, comment, revision or latest, {})


def _take(
    agent: Agent,
    rule: Transition,
    user: Any,
    comment: str,
    revision: Revision | None,
    changes: dict[str, Any],
) -> Event:
    """Take the step, checked already, with the agent's row held: the conditional UPDATE (plus
    ``changes``), its audit entry naming ``revision`` (published, if the step publishes) and the
    mail it calls for."""
    before = agent.status
    if before not in rule.sources:
        raise WorkflowError(
            f"{agent.name} is {Agent.Status(before).label.lower()}, so it cannot be {rule.done}."
        )
    changes = {**changes, "status": rule.target, "updated_at": timezone.now()}
    event = Event(
        agent=agent,
        # Every entry names the revision it concerned: the agent's latest by default.
        revision=revision,
        actor=user,
        action=rule.name,
        from_status=before,
        to_status=rule.target,
        comment=comment,
    )
    event.save()
    if rule.name == Event.Action.SUBMIT:
        # Kept on the agent's row: the review queue reads who and when from it.
        changes.update(submission=event, submitted_at=event.created_at)
    if rule.publishes:
        # The downloads' Last-Modified, kept on the row too.
        changes.update(published_revision=revision, published_at=event.created_at)
    updated = Agent.objects.filter(pk=agent.pk, status=before).update(**changes)
    if not updated:  # cannot happen while the row is held; never record a false step
        # Raised inside the step's transaction: the event above is rolled back with it.
        raise WorkflowError(f"{agent.name} changed meanwhile: try again.")
    for field, value in changes.items():
        setattr(agent, field, value)
    notifications.queue_for(event)
    return event


def _lock_row(agent: Agent) -> None:
    """Hold the agent's row until the transaction ends, and take its workflow state as stored
    now (what was loaded earlier may be out of date)."""
    row = (
        Agent.objects.select_for_update()
        .filter(pk=agent.pk)
        .values_list("status", "published_revision_id", "latest_revision_id")
        .first()
    )
    if row is None:
        raise WorkflowError(f"{agent.name} was deleted.")
    agent.status, agent.published_revision_id, agent.latest_revision_id = row


def _latest(agent: Agent) -> Revision | None:
    """The agent's latest revision as stored now (call with the row held)."""
    if agent.latest_revision_id is None:
        return None
    return Revision.objects.select_related("author").get(pk=agent.latest_revision_id)


def _check_approved_revision(agent: Agent, number: int, latest: Revision | None) -> None:
    """Refuse the approval of revision ``number`` unless it is the latest one."""
    if latest is not None and latest.number == number:
        return
    if latest is None:
        raise WorkflowError(f"{agent.name} has no revision to publish yet.")
    reviewed = agent.revisions.filter(number=number).first()
    who = latest.author.get_username() if latest.author else "the operator"
    raise StaleApproval(
        f"{agent.name} changed after you opened it: you reviewed revision {number}, but "
        f"revision {latest.number}, saved by {who} at "
        f"{timezone.localtime(latest.created_at):%Y-%m-%d %H:%M}, is the one in review now. "
        f"Nothing was approved: review revision {latest.number} first.",
        agentfile.unified_diff(
            reviewed.text if reviewed else "",
            latest.text,
            f"revision {number} (what you reviewed)",
            f"revision {latest.number} (in review now)",
        ),
        reviewed=number,
        latest=latest.number,
    )
