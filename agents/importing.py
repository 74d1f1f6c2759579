"""Bringing agent files into the portal: files, folders and zip archives, with limits.

Used by ``manage.py import_agents`` and the admin's import page: each file is read with
``agentfile.parse``, checked with ``agentfile.validate`` and saved with ``Agent.apply_file``. A file
that fails saves nothing of itself; ``import_batch`` makes a whole batch all-or-nothing.

Files come from anyone: every name shown goes through ``printable`` (a member named
``x.md\nerror: y.md`` must not forge a line of the report), a damaged archive member is one
error among the others, and a value the database would refuse is refused before saving.
"""

from __future__ import annotations

import re
import secrets
import stat
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from itertools import islice
from pathlib import Path, PurePosixPath

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import agentfile, filebridge, permissions, workflow
from .distribution import paths
from .distribution.files import path_for_import
from .models import RESERVED_SLUGS, Agent, Revision, StagedFile, StagedImport, Tool
from .workflow import WorkflowError

MAX_FILES_PER_BATCH = 500
MAX_BATCH_BYTES = 10 * 1024 * 1024  # uncompressed, all files of a batch or an archive together
MAX_COMPRESSION_RATIO = 100  # a zip entry that inflates more than this is treated as a bomb
STAGED_IMPORT_MAX_AGE = timedelta(hours=1)  # a preview can be confirmed for this long


class BatchError(ValueError):
    """The batch as a whole is refused (too many files, too big, an archive that is not one)."""


# Control characters, line and paragraph separators (NEL, U+2028...), bidirectional overrides
# and lone surrogates (undecodable bytes in a file name on Linux).
_UNPRINTABLE_RE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
NAME_WARNING = "the file name contains control characters; they are shown escaped (\\n, ...)"


def printable(text: str) -> str:
    """``text`` with control characters escaped as Python writes them (``\\n``, ``\\u2028``):
    one line, shown as it is, whatever a file or archive member is called."""
    return _UNPRINTABLE_RE.sub(lambda match: repr(match.group())[1:-1], text)


@dataclass
class Entry:
    """One file of a batch: its bytes, or why it could not be read.

    ``path`` is where the file was, relative to the folder or archive imported (an uploaded
    file's name): the path the agent keeps (``Agent.path``) so that it is exported there again.
    """

    source: str
    data: bytes = b""
    error: agentfile.AgentFileError | None = None
    path: str = ""


def read_zip(source: str, data: bytes) -> list[Entry]:
    """The ``.md`` files in a zip archive, checked before anything is inflated.

    Entries with absolute paths, ``..`` segments or symlinks are refused one by one, and so is
    a member that cannot be read (damaged, encrypted, an unknown compression, a size that is not
    the one its header gives); an archive with too many files, too many bytes or a suspicious
    compression ratio is refused whole, and one without ``.md`` files is an error that says so.
    """
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise BatchError(f"{printable(source)}: not a readable zip archive") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        markdown = [info for info in members if info.filename.lower().endswith(".md")]
        if not markdown:
            return [Entry(source, error=agentfile.AgentFileError(_no_markdown(members)))]
        if len(markdown) > MAX_FILES_PER_BATCH:
            raise BatchError(
                f"{printable(source)}: {len(markdown)} .md files; a batch may hold at most "
                f"{MAX_FILES_PER_BATCH}"
            )
        total = sum(info.file_size for info in markdown)
        if total > MAX_BATCH_BYTES:
            raise BatchError(
                f"{printable(source)}: {total:,} bytes once uncompressed; a batch may hold at "
                f"most {MAX_BATCH_BYTES:,}"
            )
        entries = []
        for info in markdown:
            name = f"{source}:{info.filename}"
            problem = _zip_entry_problem(info) or _read_member(archive, info)
            if isinstance(problem, str):
                entries.append(Entry(name, error=agentfile.AgentFileError(problem)))
            elif len(problem) > agentfile.MAX_FILE_BYTES:
                entries.append(Entry(name, error=_too_large(info.file_size)))
            else:
                entries.append(Entry(name, problem, path=info.filename))
        return entries


ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".7z", ".rar")


def _no_markdown(members: list[zipfile.ZipInfo]) -> str:
    inner = [info.filename for info in members if info.filename.lower().endswith(ARCHIVE_SUFFIXES)]
    if inner:
        names = ", ".join(printable(name) for name in inner[:3]) + (", ..." if inner[3:] else "")
        return f"no .md files in the archive; it holds another archive ({names}): unzip it first"
    return "no .md files in the archive: nothing to import"


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | str:
    """The member's bytes, or why they cannot be read."""
    try:
        with archive.open(info) as member:
            # Never trust the sizes in the header: read at most one byte past the limit.
            content = member.read(agentfile.MAX_FILE_BYTES + 1)
    except NotImplementedError:
        return (
            f"compressed with a method the portal cannot read (number {info.compress_type}); "
            "zip it again with the usual compression (deflate)"
        )
    except zipfile.BadZipFile as exc:
        detail = "its CRC-32 checksum does not match" if "CRC" in str(exc) else str(exc)
        return f"damaged in the archive ({detail}); nothing of it was read"
    except zlib.error:
        return "damaged in the archive (its compressed data cannot be inflated)"
    except EOFError:
        return "damaged in the archive (its data ends early)"
    except (RuntimeError, OSError, ValueError) as exc:
        return f"cannot be read from the archive ({exc})"
    if len(content) != info.file_size and len(content) <= agentfile.MAX_FILE_BYTES:
        return (
            f"damaged in the archive: its header says {info.file_size:,} bytes, it holds "
            f"{len(content):,}"
        )
    return content


def _zip_entry_problem(info: zipfile.ZipInfo) -> str:
    path = PurePosixPath(info.filename.replace("\\", "/"))
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        return "absolute path in the archive; only relative paths are accepted"
    if ".." in path.parts:
        return "the path escapes the archive's folder ('..'); refused"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link; only regular files are accepted"
    if info.flag_bits & 0x1:
        return "encrypted (password-protected); zip it again without a password"
    if info.file_size > agentfile.MAX_FILE_BYTES:
        return str(_too_large(info.file_size).message)
    if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
        return (
            f"compressed {info.file_size / info.compress_size:,.0f} to 1, more than "
            f"{MAX_COMPRESSION_RATIO} to 1: refused as a possible zip bomb"
        )
    return ""


def _too_large(size: int) -> agentfile.AgentFileError:
    return agentfile.AgentFileError(
        f"file too large: {size:,} bytes; an agent file may be at most "
        f"{agentfile.MAX_FILE_BYTES:,} bytes"
    )


def expand(uploads: list[tuple[str, bytes]]) -> list[Entry]:
    """Uploaded files (``.md`` or ``.zip``) as one batch of entries, within the batch limits."""
    entries: list[Entry] = []
    for source, data in uploads:
        if source.lower().endswith(".zip"):
            entries.extend(read_zip(source, data))
        elif len(data) > agentfile.MAX_FILE_BYTES:
            entries.append(Entry(source, error=_too_large(len(data))))
        else:
            entries.append(Entry(source, data, path=source))
    if len(entries) > MAX_FILES_PER_BATCH:
        raise BatchError(
            f"{len(entries)} files; a batch may hold at most {MAX_FILES_PER_BATCH} files"
        )
    total = sum(len(entry.data) for entry in entries)
    if total > MAX_BATCH_BYTES:
        raise BatchError(f"{total:,} bytes in all; a batch may hold at most {MAX_BATCH_BYTES:,}")
    return entries


def read_path(path: Path, relative: str | None = None) -> list[Entry]:
    """A file from disk for the command line: ``.zip`` archives are opened, others read.

    ``relative`` is the file's path relative to the folder it was found in (default: its name);
    an archive's members keep their paths inside the archive.
    """
    source = str(path)
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            problem = "not a regular file (a device, a pipe or a socket); only files are read"
            return [Entry(source, error=agentfile.AgentFileError(problem))]
        size = status.st_size
        if path.suffix.lower() == ".zip":
            if size > MAX_BATCH_BYTES:
                raise BatchError(
                    f"{printable(source)}: {size:,} bytes; an archive may be at most "
                    f"{MAX_BATCH_BYTES:,}"
                )
            return read_zip(source, path.read_bytes())
        if size > agentfile.MAX_FILE_BYTES:
            return [Entry(source, error=_too_large(size))]
        return [Entry(source, path.read_bytes(), path=relative or path.name)]
    except OSError as exc:
        return [Entry(source, error=agentfile.AgentFileError(f"cannot read: {exc.strerror}"))]


class Outcome:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    ERROR = "error"


@dataclass
class ImportResult:
    """What happened (or, in a dry run, would happen) to one file."""

    source: str
    outcome: str
    name: str = ""
    error: agentfile.AgentFileError | None = None
    warnings: list[agentfile.Notice] = field(default_factory=list)
    skipped: bool = False  # refused, and left out of a batch that saved the others
    old_text: str = ""
    new_text: str = ""
    path: str = ""  # the agent's path once imported

    def __post_init__(self) -> None:
        # Every place that shows a result shows this source: escaped once, here.
        shown = printable(self.source)
        if shown != self.source:
            self.source = shown
            self.warnings.insert(0, agentfile.Notice(NAME_WARNING, 1))

    @property
    def failed(self) -> bool:
        return self.outcome == Outcome.ERROR

    @property
    def diff(self) -> str:
        """What the file changes in the agent of its name (updated) or would (conflict)."""
        if self.outcome not in (Outcome.UPDATED, Outcome.CONFLICT):
            return ""
        return agentfile.unified_diff(
            self.old_text, self.new_text, f"{self.name} (in the portal now)", f"{self.source}"
        )

    def line(self) -> str:
        """The one-line report the command prints for this file."""
        if self.error is not None:
            message = printable(self.error.message)
            return f"error: {self.source}:{self.error.line or 1}: {message}"
        return f"{self.outcome}: {self.source} ({printable(self.name)})"


def find_agent_files(paths: list[str]) -> tuple[list[tuple[Path, str]], list[str]]:
    """The files named, and every ``*.md`` and ``*.zip`` under the folders named, in order,
    each with its path relative to the folder named (a file named: its name); then warnings
    about files skipped.

    Folders are searched without following links to other folders; a link to a file is
    followed only when the file is inside the folder named (a link to ``/etc/passwd`` in a
    folder of agents is skipped, with a warning).
    """
    found: list[tuple[Path, str]] = []
    skipped: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            found.append((path, path.name))
            continue
        root = path.resolve()
        for candidate in sorted(path.rglob("*")):
            if candidate.suffix not in (".md", ".zip") or not candidate.is_file():
                continue
            if candidate.is_symlink() and not candidate.resolve().is_relative_to(root):
                skipped.append(
                    f"{printable(str(candidate))}: a symbolic link to a file outside "
                    f"{printable(str(path))}; skipped"
                )
                continue
            found.append((candidate, candidate.relative_to(path).as_posix()))
    return found, skipped


def import_file(
    source: str,
    data: bytes,
    *,
    update: bool = False,
    dry_run: bool = False,
    owner: AbstractBaseUser | None = None,
    actor: AbstractBaseUser | None = None,
    publish: bool = False,
    registry: dict[str, str | None] | None = None,
    path: str = "",
) -> ImportResult:
    """Create or update the agent a file describes, as a new draft revision (published at once
    with ``publish``). Saves nothing when the file has an error.

    ``actor`` is who imports: a person on the import page, or None for the operator at the
    command line. ``owner`` owns agents the import creates. ``path`` is where the file was,
    relative to the folder or archive imported: the path an agent created keeps (an agent
    updated keeps its own unless it had the default; ``distribution.files.path_for_import``).
    """
    read = _read(source, data, registry)
    if isinstance(read, ImportResult):
        return read
    parsed, result = read
    return _import_read(
        parsed,
        result,
        Agent.objects.for_export().filter(name=result.name).first(),
        registry=registry,
        update=update,
        dry_run=dry_run,
        owner=owner,
        actor=actor,
        publish=publish,
        path=path,
    )


def _import_read(
    parsed: agentfile.ParsedFile,
    result: ImportResult,
    existing: Agent | None,
    *,
    registry: dict[str, str | None] | None = None,
    update: bool = False,
    dry_run: bool = False,
    owner: AbstractBaseUser | None = None,
    actor: AbstractBaseUser | None = None,
    publish: bool = False,
    path: str = "",
    published_elsewhere: bool = True,
) -> ImportResult:
    """``import_file`` once the file is read (``_read``) and the agent of its name loaded
    (``existing``, with ``for_export()``; None when there is none). ``published_elsewhere``
    False: the caller knows that no agent publishes a file under this name, so there is no
    clash to look up."""
    name, new_text = result.name, result.new_text
    clash = (existing or Agent()).published_name_clash(name) if published_elsewhere else ""
    if clash:
        line = parsed.line_of("name") or 1
        result.outcome, result.error = Outcome.ERROR, agentfile.AgentFileError(clash, line)
        return result
    if existing is not None:
        result.old_text = filebridge.render(existing)
        if result.old_text == new_text:
            result.outcome = Outcome.UNCHANGED
            return result
        if not update:
            result.outcome = Outcome.CONFLICT
            return result
        result.outcome = Outcome.UPDATED
    refusal = _refusal(existing, actor)
    if refusal:
        result.outcome, result.error = Outcome.ERROR, agentfile.AgentFileError(refusal)
        return result
    agent = existing or Agent(owner=owner, name=name)
    result.path, path_warning = path_for_import(agent, path)
    if path_warning:
        result.warnings.append(agentfile.Notice(path_warning, 1))
    if dry_run:
        return result

    try:
        with transaction.atomic():
            agent.path = result.path
            filebridge.apply_file(agent, parsed)
            # The file is already rendered (new_text, from the parsed file, as the rows now
            # render it): the revision and its publication are written without reading the
            # agent back.
            workflow.record_revision(
                agent,
                actor,
                note=_revision_note(result.source),
                text=new_text,
                tools=agentfile.split_tools(parsed.frontmatter.get("tools")),
                publish="Published on import (--publish)" if publish else None,
                registry=registry,
            )
    except IntegrityError:
        # Someone created the same name between our check and our save.
        result.outcome = Outcome.CONFLICT
    except (WorkflowError, PermissionDenied) as exc:
        result.outcome, result.error = Outcome.ERROR, agentfile.AgentFileError(str(exc))
    except (DatabaseError, OverflowError) as exc:
        # validate() knows the columns' limits; this is the net for whatever it does not know
        # (SQLite refuses a too large integer with an OverflowError). The savepoint is rolled
        # back; the next file goes on.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        result.outcome = Outcome.ERROR
        result.error = agentfile.AgentFileError(f"the database refused this file: {reason}")
    return result


def _read(
    source: str, data: bytes, registry: dict[str, str | None] | None
) -> ImportResult | tuple[agentfile.ParsedFile, ImportResult]:
    """The file parsed and checked, with the result of creating its agent (its name, warnings
    and the text it renders to); or the result saying why it cannot be imported. No query but
    the registry's, when none is given."""
    try:
        parsed = agentfile.parse(data, filename=source)
    except agentfile.AgentFileError as exc:
        return ImportResult(source, Outcome.ERROR, error=exc)

    errors, warnings = agentfile.validate(
        parsed.frontmatter, registry if registry is not None else Tool.registry(), strict=False
    )
    warnings = parsed.warnings + [
        agentfile.Notice(w.message, w.line or parsed.line_of(w.field), w.field) for w in warnings
    ]
    if errors:
        first = errors[0]
        error = agentfile.AgentFileError(first.message, parsed.line_of(first.field) or 1)
        return ImportResult(source, Outcome.ERROR, error=error, warnings=warnings)

    name = parsed.frontmatter["name"]
    new_text = agentfile.render(parsed.frontmatter, parsed.body, parsed.sources, parsed.prefix)
    return parsed, ImportResult(
        source, Outcome.CREATED, name=name, warnings=warnings, new_text=new_text
    )


def _revision_note(source: str) -> str:
    """``Imported from <source>``, the source shortened in the middle to fit the note."""
    limit = Revision._meta.get_field("note").max_length
    note = f"Imported from {source}"
    if len(note) <= limit:
        return note
    keep = limit - len("Imported from ") - 1
    return f"Imported from {source[: keep // 2]}…{source[len(source) - (keep - keep // 2) :]}"


def _refusal(existing: Agent | None, actor: AbstractBaseUser | None) -> str:
    """Why this actor may not import over ``existing`` (or create a new agent), or ''."""
    if existing is None:
        return "" if permissions.can_author(actor) else "You may not create agents."
    if not permissions.can_edit(actor, existing):
        return f"You may not change {existing.name}: it belongs to someone else."
    try:
        workflow.check_editable(existing)
    except WorkflowError as exc:
        return str(exc)
    return ""


def import_entry(entry: Entry, **options: object) -> ImportResult:
    if entry.error is not None:
        return ImportResult(entry.source, Outcome.ERROR, error=entry.error)
    return import_file(entry.source, entry.data, path=entry.path, **options)  # type: ignore[arg-type]


COMMIT_EVERY = 100  # files saved in one transaction by import_many


def import_many(
    entries: Iterable[Entry],
    *,
    commit_every: int = COMMIT_EVERY,
    registry: dict[str, str | None] | None = None,
    **options: object,
) -> Iterator[ImportResult]:
    """Import files one after the other, each saved or refused on its own, committing every
    ``commit_every`` files: a transaction per file costs a commit each (on SQLite, a write to
    disk), which was most of an import's time. A failing file still saves nothing of itself
    and the others are kept.

    Within a batch, the files that create new agents (the usual case of a first import) are
    saved together (``_create_together``); the others one by one, as ``import_file`` does. The
    results come out, in the files' order, once their batch is committed.
    """
    registry = registry if registry is not None else Tool.registry()
    pending = iter(entries)
    while chunk := list(islice(pending, commit_every)):
        with transaction.atomic():
            results = _import_chunk(chunk, registry, options)
        yield from results


@dataclass
class _NewAgent:
    """A file of a batch that creates a new agent, with the slug and path it will have."""

    position: int
    parsed: agentfile.ParsedFile
    result: ImportResult
    slug: str = ""
    as_rendered: bool = False  # the file's bytes are its rendered text: ``parsed`` parses that


def _import_chunk(
    chunk: list[Entry], registry: dict[str, str | None], options: dict[str, object]
) -> list[ImportResult]:
    results: list[ImportResult | None] = [None] * len(chunk)
    reads = {
        n: _read(entry.source, entry.data, registry)
        for n, entry in enumerate(chunk)
        if entry.error is None
    }
    if not options.get("dry_run"):
        new = [
            _NewAgent(n, *read, as_rendered=chunk[n].data == read[1].new_text.encode())
            for n, read in reads.items()
            if isinstance(read, tuple)
        ]
        new = _creatable(chunk, new, options.get("actor"))  # type: ignore[arg-type]
        if new and _create_together(new, registry, options):
            for file in new:
                results[file.position] = file.result
    # The others one by one, in order, each on its own savepoint (import_file's way), with the
    # agents of their names loaded together beforehand. Only files of a name can change the
    # agent of that name: once a file of the batch may have created or changed it, the later
    # files of that name look it up again. A conflict or an unchanged file saves nothing.
    wanted = {
        read[1].name for n, read in reads.items() if isinstance(read, tuple) and results[n] is None
    }
    loaded = {agent.name: agent for agent in Agent.objects.for_export().filter(name__in=wanted)}
    # The agents publishing their file under each of these names (Agent.published_name_clash,
    # for all of them at once). Until a file of the name saves, the batch's own files cannot
    # make another agent publish it (publishing gives an agent its current name, the name of
    # the file published): a name no agent but the file's own publishes needs no lookup; the
    # others are looked up again, one by one.
    published: dict[str, set[int]] = defaultdict(set)
    for published_name, pk in Agent.objects.filter(published_revision__name__in=wanted).values_list(
        "published_revision__name", "pk"
    ):
        published[published_name].add(pk)
    changed: set[str] = set()  # the names whose agent a file of the batch may have saved
    for n, entry in enumerate(chunk):
        if results[n] is not None:
            continue
        read = reads.get(n)
        if not isinstance(read, tuple):
            results[n] = read or import_entry(entry, registry=registry, **options)  # type: ignore[arg-type]
            continue
        parsed, result = read
        again = result.name in changed
        existing = (
            Agent.objects.for_export().filter(name=result.name).first()
            if again
            else loaded.get(result.name)
        )
        results[n] = _import_read(
            parsed,
            result,
            existing,
            registry=registry,
            path=entry.path,
            published_elsewhere=again
            or bool(published[result.name] - {existing.pk if existing else None}),
            **options,  # type: ignore[arg-type]
        )
        if existing is None or results[n].outcome == Outcome.UPDATED:
            changed.add(result.name)
    return results  # type: ignore[return-value]


def _creatable(
    chunk: list[Entry], files: list[_NewAgent], actor: AbstractBaseUser | None
) -> list[_NewAgent]:
    """The files that create a new agent with nothing to decide one by one: a name that no
    agent has or publishes and no earlier file of the batch has, an actor who may create
    agents, and the slug and the path the agent would get (its name's stem; the file's path,
    else ``<name>.md``) free, so taken without numbering or a warning. One query.

    Of files sharing a name, a slug or a path, the first is created here and the later ones are
    left to the one-by-one import, which finds its agent (a conflict, or an update): what
    importing them in order would do. A file sharing any of them with a file left out is left
    out too, so nothing created here takes a value an earlier file would have had."""
    if not files or _refusal(None, actor):
        return []
    for file in files:
        given = paths.normalised(chunk[file.position].path)
        # A path that cannot be kept is said in a warning: import_file does that, one by one.
        problem = bool(given) and bool(paths.path_problem(given))
        file.result.path = "" if problem else given or paths.default_path(file.result.name)
        file.slug = agentfile.file_stem(file.result.name)
        if file.slug in RESERVED_SLUGS:
            file.slug = f"{file.slug}-agent"
    first: list[_NewAgent] = []
    claimed: set[str] = set()
    for file in files:
        values = {file.result.name, file.slug, file.result.path}
        if file.result.path and not values & claimed and not paths.path_problem(file.result.path):
            first.append(file)
        claimed |= values
    files = first
    if not files:
        return []
    names = [file.result.name for file in files]
    taken = Agent.objects.filter(
        Q(name__in=names)
        | Q(published_revision__name__in=names)
        | Q(slug__in=[file.slug for file in files])
        | Q(path__in=[file.result.path for file in files])
    ).values_list("name", "published_revision__name", "slug", "path")
    busy = {value for row in taken for value in row if value}
    return [file for file in files if not {file.result.name, file.slug, file.result.path} & busy]


def _create_together(
    files: list[_NewAgent], registry: dict[str, str | None], options: dict[str, object]
) -> bool:
    """Create the agents of these files in a few queries for all of them (their rows, first
    revisions, events and, with ``publish``, their publication), on one savepoint; False when
    the database refused any of them: nothing of the batch is saved then, and the files are
    imported one by one (each saving nothing of itself if it fails)."""
    pairs = [
        (
            Agent(
                owner=options.get("owner"),
                name=file.result.name,
                slug=file.slug,
                path=file.result.path,
            ),
            file.parsed,
        )
        for file in files
    ]
    new_files = [
        workflow.NewFile(
            agent,
            file.result.new_text,
            agentfile.split_tools(parsed.frontmatter.get("tools")),
            _revision_note(file.result.source),
            parsed if file.as_rendered else None,
        )
        for (agent, parsed), file in zip(pairs, files, strict=True)
    ]
    publish = "Published on import (--publish)" if options.get("publish") else None
    try:
        with transaction.atomic():
            filebridge.create_agents(pairs)
            workflow.record_new_agents(
                new_files, options.get("actor"), publish=publish, registry=registry
            )
    except (DatabaseError, OverflowError, WorkflowError, PermissionDenied):
        return False
    return True


def import_batch(
    entries: list[Entry],
    *,
    update: bool = False,
    dry_run: bool = False,
    owner: AbstractBaseUser | None = None,
    actor: AbstractBaseUser | None = None,
    skip_refused: bool = False,
) -> tuple[list[ImportResult], bool]:
    """Import a batch: (results, saved).

    All or nothing by default: nothing is saved if any entry fails (a file that cannot be read,
    is refused, or names an agent another entry of the batch names too). With ``skip_refused``
    the entries that fail are skipped (``result.skipped``; nothing of them is saved) and the
    others are saved. A dry run saves nothing either way and says what would happen.
    """
    registry = Tool.registry()
    results: list[ImportResult] = []
    seen: dict[str, str] = {}
    with transaction.atomic():
        for entry in entries:
            # Each file on its own savepoint, so that a duplicate can be undone alone.
            with transaction.atomic():
                result = import_entry(
                    entry,
                    update=update,
                    dry_run=dry_run,
                    owner=owner,
                    actor=actor,
                    registry=registry,
                )
                if result.name and not result.failed:
                    if result.name in seen:
                        result.outcome = Outcome.ERROR
                        result.error = agentfile.AgentFileError(
                            f"the agent {result.name!r} is also in {seen[result.name]}; "
                            "a batch may hold each agent once"
                        )
                        transaction.set_rollback(True)
                    seen.setdefault(result.name, result.source)
            results.append(result)
        failed = any(result.failed for result in results)
        if skip_refused:
            for result in results:
                result.skipped = result.failed
        saved = not dry_run and (skip_refused or not failed)
        if not saved:
            transaction.set_rollback(True)
    return results, saved


# --- a batch between its preview and its confirmation (the web import pages) -----------------


def stage(entries: list[Entry], user: AbstractBaseUser, *, update: bool) -> str:
    """Keep a previewed batch for its confirmation; the key to confirm it with.

    Only ``user`` can confirm it (``staged``). Batches older than ``STAGED_IMPORT_MAX_AGE`` are
    dropped here, so abandoned previews do not pile up.
    """
    with transaction.atomic():
        StagedImport.objects.filter(created_at__lt=timezone.now() - STAGED_IMPORT_MAX_AGE).delete()
        batch = StagedImport.objects.create(key=secrets.token_urlsafe(32), user=user, update=update)
        StagedFile.objects.bulk_create(
            StagedFile(
                batch=batch,
                position=position,
                source=entry.source,
                data=entry.data,
                path=entry.path,
            )
            for position, entry in enumerate(entries, 1)
        )
    return batch.key


def staged(key: str, user: AbstractBaseUser) -> tuple[list[Entry], bool] | None:
    """The entries and the update flag of a batch this user previewed, or None when there is no
    such batch (expired, confirmed already, or someone else's)."""
    batch = StagedImport.objects.filter(
        key=key, user=user, created_at__gte=timezone.now() - STAGED_IMPORT_MAX_AGE
    ).first()
    if batch is None:
        return None
    entries = [Entry(file.source, bytes(file.data), path=file.path) for file in batch.files.all()]
    return entries, batch.update


def unstage(key: str, user: AbstractBaseUser) -> None:
    StagedImport.objects.filter(key=key, user=user).delete()
