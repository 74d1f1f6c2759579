"""Bringing agent files into the portal: files, folders and zip archives, with limits.

Used by ``manage.py import_agents`` and the admin's import page: each file is read with
``agentfile.parse``, checked with ``agentfile.validate`` and saved with ``Agent.apply_file``. A file
that fails saves nothing of itself; ``import_batch`` makes a whole batch all-or-nothing.
"""

from __future__ import annotations

import secrets
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from pathlib import Path, PurePosixPath

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import agentfile, filebridge, permissions, workflow
from .models import Agent, Event, StagedFile, StagedImport, Tool
from .workflow import WorkflowError

MAX_FILES_PER_BATCH = 500
MAX_BATCH_BYTES = 10 * 1024 * 1024  # uncompressed, all files of a batch or an archive together
MAX_COMPRESSION_RATIO = 100  # a zip entry that inflates more than this is treated as a bomb
STAGED_IMPORT_MAX_AGE = timedelta(hours=1)  # a preview can be confirmed for this long


class BatchError(ValueError):
    """The batch as a whole is refused (too many files, too big, an archive that is not one)."""


@dataclass
class Entry:
    """One file of a batch: its bytes, or why it could not be read."""

    source: str
    data: bytes = b""
    error: agentfile.AgentFileError | None = None


def read_zip(source: str, data: bytes) -> list[Entry]:
    """The ``.md`` files in a zip archive, checked before anything is inflated.

    Entries with absolute paths, ``..`` segments or symlinks are refused one by one; an archive
    with too many files, too many bytes or a suspicious compression ratio is refused whole.
    """
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise BatchError(f"{source}: not a readable zip archive") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        markdown = [info for info in members if info.filename.lower().endswith(".md")]
        if len(markdown) > MAX_FILES_PER_BATCH:
            raise BatchError(
                f"{source}: {len(markdown)} .md files; a batch may hold at most "
                f"{MAX_FILES_PER_BATCH}"
            )
        total = sum(info.file_size for info in markdown)
        if total > MAX_BATCH_BYTES:
            raise BatchError(
                f"{source}: {total:,} bytes once uncompressed; a batch may hold at most "
                f"{MAX_BATCH_BYTES:,}"
            )
        entries = []
        for info in markdown:
            name = f"{source}:{info.filename}"
            problem = _zip_entry_problem(info)
            if problem:
                entries.append(Entry(name, error=agentfile.AgentFileError(problem)))
                continue
            with archive.open(info) as member:
                # Never trust the sizes in the header: read at most one byte past the limit.
                content = member.read(agentfile.MAX_FILE_BYTES + 1)
            if len(content) > agentfile.MAX_FILE_BYTES:
                entries.append(Entry(name, error=_too_large(info.file_size)))
            else:
                entries.append(Entry(name, content))
        return entries


def _zip_entry_problem(info: zipfile.ZipInfo) -> str:
    path = PurePosixPath(info.filename.replace("\\", "/"))
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        return "absolute path in the archive; only relative paths are accepted"
    if ".." in path.parts:
        return "the path escapes the archive's folder ('..'); refused"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link; only regular files are accepted"
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
            entries.append(Entry(source, data))
    if len(entries) > MAX_FILES_PER_BATCH:
        raise BatchError(
            f"{len(entries)} files; a batch may hold at most {MAX_FILES_PER_BATCH} files"
        )
    total = sum(len(entry.data) for entry in entries)
    if total > MAX_BATCH_BYTES:
        raise BatchError(f"{total:,} bytes in all; a batch may hold at most {MAX_BATCH_BYTES:,}")
    return entries


def read_path(path: Path) -> list[Entry]:
    """A file from disk for the command line: ``.zip`` archives are opened, others read."""
    source = str(path)
    try:
        size = path.stat().st_size
        if path.suffix.lower() == ".zip":
            if size > MAX_BATCH_BYTES:
                raise BatchError(
                    f"{source}: {size:,} bytes; an archive may be at most {MAX_BATCH_BYTES:,}"
                )
            return read_zip(source, path.read_bytes())
        if size > agentfile.MAX_FILE_BYTES:
            return [Entry(source, error=_too_large(size))]
        return [Entry(source, path.read_bytes())]
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
            return f"error: {self.source}:{self.error.line or 1}: {self.error.message}"
        return f"{self.outcome}: {self.source} ({self.name})"


def find_agent_files(paths: list[str]) -> list[Path]:
    """The files named, and every ``*.md`` and ``*.zip`` under the folders named, in order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".md", ".zip"))
            )
        else:
            found.append(path)
    return found


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
) -> ImportResult:
    """Create or update the agent a file describes, as a new draft revision (published at once
    with ``publish``). Saves nothing when the file has an error.

    ``actor`` is who imports: a person on the import page, or None for the operator at the
    command line. ``owner`` owns agents the import creates.
    """
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
    existing = Agent.objects.for_export().filter(name=name).first()
    result = ImportResult(source, Outcome.CREATED, name=name, warnings=warnings, new_text=new_text)
    clash = (existing or Agent()).published_name_clash(name)
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
    if dry_run:
        return result

    agent = existing or Agent(owner=owner)
    try:
        with transaction.atomic():
            filebridge.apply_file(agent, parsed)
            workflow.record_revision(agent, actor, note=f"Imported from {source}")
            if publish:
                workflow.transition(
                    agent, Event.Action.PUBLISH, actor, comment="Published on import (--publish)"
                )
    except IntegrityError:
        # Someone created the same name between our check and our save.
        result.outcome = Outcome.CONFLICT
    except (WorkflowError, PermissionDenied) as exc:
        result.outcome, result.error = Outcome.ERROR, agentfile.AgentFileError(str(exc))
    return result


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
    return import_file(entry.source, entry.data, **options)  # type: ignore[arg-type]


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
            StagedFile(batch=batch, position=position, source=entry.source, data=entry.data)
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
    entries = [Entry(file.source, bytes(file.data)) for file in batch.files.all()]
    return entries, batch.update


def unstage(key: str, user: AbstractBaseUser) -> None:
    StagedImport.objects.filter(key=key, user=user).delete()
