"""What gets distributed: the published revision of each agent that is not archived, at the
agent's path. Downloads, the download zip and ``export_agents`` all start here; a draft, an agent
sent back or an archived agent never reaches a machine through them.

Every download answers conditional requests: its ``ETag`` is a hash of its bytes (the zip's, of
what determines its bytes; see ``zip_validators``), so a client that has the current file gets a
``304`` without the file being read or, for the zip, built.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections, models
from django.db.models.functions import Collate
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .. import agentfile, catalog, permissions
from ..models import Agent
from . import formats, paths, zips

# --- which agents, at which paths ------------------------------------------------------------


def distributed() -> models.QuerySet[Agent]:
    """Every agent whose published revision people install: published, not archived."""
    return Agent.objects.filter(published_revision__isnull=False).exclude(
        status=Agent.Status.ARCHIVED
    )


def path_refusal(path: str, agent: Agent | None = None) -> str:
    """Why ``agent`` (None: a new one) cannot live at ``path``, for a person; or ''.

    The one check of a path: its form (``paths.path_problem``) and that no other agent has it.
    """
    problem = paths.path_problem(path)
    if problem:
        return problem
    others = Agent.objects.exclude(pk=agent.pk) if agent and agent.pk else Agent.objects.all()
    owner = others.filter(path=path).values_list("name", flat=True).first()
    if owner is not None:
        return f"{path} is already the path of {owner}: choose another path."
    return ""


def path_for_import(agent: Agent, given: str) -> tuple[str, str]:
    """The path an imported file gives ``agent``, and a warning ('' if none).

    A new agent takes the file's path (relative to the folder or archive imported). An existing
    agent keeps its own unless it still has the default ``<name>.md``: a path someone chose or
    an earlier import recorded is not moved by a file that comes from elsewhere. A path that is
    not valid gives the default; one another agent has is numbered (``sre-2.md``).
    """
    given = paths.normalised(given)
    current = agent.path if agent.pk else ""
    if current and current != paths.default_path(agent.name):
        return current, ""
    if not given or given == current:
        return current, ""
    problem = paths.path_problem(given)
    if problem:
        fallback = current or agent.free_path(paths.default_path(agent.name))
        return (
            fallback,
            f"the file's path cannot be kept: {problem} The agent's path is {fallback}.",
        )
    free = agent.free_path(given)
    if free != given:
        return free, f"{given} is another agent's path; this agent's path is {free}."
    return free, ""


# --- one file --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedFile:
    """What one download serves: the published revision's bytes and validators."""

    path: str
    text: str
    sha256: str
    published_at: datetime


# No agent name holds a NUL character: it stands for the name in the compiled query.
_NAME = "\0name\0"


@functools.cache
def _published_file_query(vendor: str) -> tuple[str, tuple[Any, ...]]:
    """The SQL of ``published_file``, compiled once per database kind.

    Django compiles a query on every call, which costs more than the query itself (about 1 ms
    against 0.06 ms on SQLite): the one-file download is the portal's hottest path, so its
    query is compiled from the queryset once and only run afterwards. The ORM still says what
    it selects; only the name changes.
    """
    query = (
        distributed()
        .published_as(_NAME)
        # No ORDER BY ... LIMIT 1: PostgreSQL may then walk the agents in key order looking for
        # the name (5 ms at 10,000 agents instead of 0.1). One agent at most publishes a name
        # (Agent.published_name_clash).
        .order_by()
        .values_list(
            "path",
            "published_revision__text",
            "published_revision__sha256",
            "published_revision__created_at",
            "published_at",
        )
    ).query
    return query.sql_with_params()


def published_file(name: str) -> PublishedFile | None:
    """The published file of the downloadable agent whose published file is named ``name``
    (its path, text, sha256 and publishing time), in one query."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, params = _published_file_query(connection.vendor)
    params = [name if value == _NAME else value for value in params]
    try:
        row = _fetch_one(connection, sql, params)
    except NotSupportedError as exc:
        # "cached plan must not change result type": a migration changed the type of a column
        # the prepared query returns. PostgreSQL refuses the statement on this connection from
        # then on; a new connection prepares it afresh. (Inside a transaction the error has
        # aborted it: that is for the caller's transaction to answer.)
        if connection.in_atomic_block or "cached plan" not in str(exc):
            raise
        connection.close()
        row = _fetch_one(connection, sql, params)
    if row is None:
        return None
    path, text, sha256, created_at, published_at = row
    return PublishedFile(path, text, sha256, _aware(published_at or created_at))


def _fetch_one(connection: Any, sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    with _preparing_cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _preparing_cursor(connection: Any) -> Any:
    """A cursor for the download's query: on PostgreSQL with prepared statements allowed
    (``prepare_threshold`` in the database's OPTIONS; settings.py), one that binds parameters on
    the server, so that psycopg prepares the query once a connection has run it that many times.
    Planning the query was most of its time (0.18 of 0.25 ms, against 0.07 prepared, at 10,000
    agents). Django's own cursors bind on the client and are never prepared, so this query is
    the only one prepared. Logged and wrapped like every Django cursor."""
    if (
        connection.vendor != "postgresql"
        or connection.settings_dict["OPTIONS"].get("prepare_threshold") is None
    ):
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursor = ServerBindingCursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


def _aware(value: datetime | str) -> datetime:
    """A time as the database gave it (SQLite: text in UTC) as an aware datetime."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


# --- the download zip ------------------------------------------------------------------------

ZIP_FOLDER = ".claude/agents/"
# What the zip's bytes depend on besides its files: bump it when the zip's layout changes. The
# Python version is in it because zipfile writes the headers.
ZIP_FORMAT = f"agents-zip/1 python/{sys.version_info[0]}.{sys.version_info[1]}"
CHUNK = 100  # published files read from the database at a time, while the zip streams


def published_agents(params: Mapping[str, str], user: Any) -> models.QuerySet[Agent]:
    """The published agents this user may download, filtered as the catalog filters them
    (``catalog.with_published_matching``): ``q`` (the catalog's search), ``tool``, ``model``,
    ``color`` and ``owner`` (a username). Every signed-in person may download every published
    agent."""
    agents = distributed() if permissions.is_signed_in(user) else Agent.objects.none()
    chosen = {
        key: value.strip()
        for key in ("q", "tool", "model", "color", "owner")
        if (value := params.get(key) or "").strip()
    }
    return catalog.with_published_matching(agents, chosen)


def _by_path(agents: models.QuerySet[Agent]) -> models.QuerySet[Agent]:
    """Ordered by path, in code-point order whatever the database's collation (PostgreSQL's
    default collation follows the locale): the same agents always give the same zip."""
    collation = "C" if connections[agents.db].vendor == "postgresql" else "BINARY"
    return agents.order_by(Collate("path", collation))


@dataclass(frozen=True)
class Validators:
    etag: str  # without quotes
    last_modified: datetime | None


def zip_validators(agents: models.QuerySet[Agent], format_id: str = "claude") -> Validators:
    """The zip's ETag and Last-Modified, without building it.

    The ETag is the sha256 of ``ZIP_FORMAT``, the assistant's format (and the converters'
    version) and each file's path and sha256, in the zip's order: the zip's bytes are a function
    of exactly these (fixed timestamps and permissions, no compression), so it is a strong
    validator. It is not the sha256 of the zip file itself. Last-Modified is the latest
    publishing time of the files in it (informative: removing an agent from the set changes the
    ETag, not that time).
    """
    digest = hashlib.sha256(f"{ZIP_FORMAT} {format_id} {formats.VERSION}".encode())
    latest: datetime | None = None
    rows = _by_path(agents).values_list("path", "published_revision__sha256", "published_at")
    for path, sha256, published_at in rows.iterator(chunk_size=2000):
        digest.update(b"\0%s\0%s" % (path.encode(), sha256.encode()))
        if published_at is not None and (latest is None or published_at > latest):
            latest = published_at
    return Validators(digest.hexdigest(), latest)


@dataclass(frozen=True)
class OutFile:
    """One agent's file as it is handed out: where it goes, its bytes, what it could not keep."""

    name: str  # the agent's published name
    path: str  # relative to the assistant's folder (.claude/agents, .github/agents, ...)
    data: bytes
    warnings: tuple[agentfile.Notice, ...] = ()


def out_files(rows: Iterable[tuple[str, str, str]], format_id: str) -> Iterator[OutFile]:
    """Each ``(name, path, text)`` as written for ``format_id`` (``formats.FORMATS``): Claude
    Code's files keep their path and bytes; another assistant's go where that assistant looks
    for them (``formats.convert``), numbered when two agents' file names would collide."""
    if format_id == "claude":
        for name, path, text in rows:
            yield OutFile(name, path, text.encode())
        return
    taken: set[str] = set()
    for name, path, text in rows:
        converted = formats.convert(text, format_id, filename=path)
        out = converted.path
        stem, dot, suffix = out.partition(".")
        n = 1
        while out.lower() in taken:
            n += 1
            out = f"{stem}-{n}{dot}{suffix}"
        taken.add(out.lower())
        yield OutFile(name, out, converted.text.encode(), converted.warnings)


def zip_files(
    agents: models.QuerySet[Agent], format_id: str = "claude"
) -> Iterator[tuple[str, bytes]]:
    """``(name in the zip, bytes)`` of each agent's published file, in path order, read a few
    at a time; for another assistant, in its folder, with a README.md listing what each agent
    could not keep."""
    rows = _by_path(agents).values_list(
        "published_revision__name", "path", "published_revision__text"
    )
    folder = formats.FORMATS[format_id].folder + "/"
    notes: list[str] = []
    for out in out_files(rows.iterator(chunk_size=CHUNK), format_id):
        notes += [f"- `{out.path}`: {warning.message}" for warning in out.warnings]
        yield folder + out.path, out.data
    if format_id != "claude":
        label = formats.FORMATS[format_id].label
        lines = [
            f"# Agents for {label}",
            "",
            f"Written by Agent Portal from the published Claude Code agents, into `{folder}`.",
            "",
            "What could not be carried over:" if notes else "Every agent was carried over whole.",
            *([""] + notes if notes else []),
        ]
        yield folder + "README.md", ("\n".join(lines) + "\n").encode()


def zip_stream(agents: models.QuerySet[Agent], format_id: str = "claude") -> Iterator[bytes]:
    """The download zip, as a stream: ``<the assistant's folder>/<path>`` for each agent."""
    return zips.stream(zip_files(agents, format_id))
