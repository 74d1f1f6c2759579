"""Where an agent's file lives: a path relative to the folder or archive it came from
(``engineering/sre.md``), kept so that a tree imported and exported again comes back with every
file in its place. Claude Code scans ``.claude/agents/`` recursively and goes by the ``name``
inside each file, so any path that ends in ``.md`` loads.

Pure functions: no ORM. Uniqueness across agents is ``files.path_refusal``, which starts here.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from .. import agentfile

MAX_PATH_LENGTH = 500  # the column's length (Agent.path)
MAX_SEGMENT_BYTES = 255  # a file or folder name, on every common file system

# Control characters, line and paragraph separators, bidirectional overrides, lone surrogates:
# nothing a person types into a path, everything that could make a listing lie.
_UNPRINTABLE_RE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_DRIVE_RE = re.compile(r"^[A-Za-z]:")


def default_path(name: str) -> str:
    """The path of an agent that came from no file: ``<name>.md``, the name made safe."""
    return f"{agentfile.file_stem(name)}.md"


def numbered(path: str, n: int) -> str:
    """``engineering/sre.md`` -> ``engineering/sre-2.md``: another path in the same folder."""
    return f"{path[: -len('.md')]}-{n}.md"


def normalised(path: str) -> str:
    """A path as an archive or a file system gave it, written the portal's way: ``/`` between
    folders (Windows zips use ``\\``), no ``./`` and no doubled ``/``."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    return "/".join(parts)


def path_problem(path: str) -> str:
    """Why ``path`` cannot be where an agent's file lives, for a person; or ''."""
    if not path:
        return "Give a path, e.g. engineering/code-reviewer.md."
    if len(path) > MAX_PATH_LENGTH:
        return f"A path may be at most {MAX_PATH_LENGTH} characters long; this one has {len(path)}."
    if _UNPRINTABLE_RE.search(path):
        return "A path may not contain control characters (a newline, a tab, ...)."
    if "\\" in path:
        return "Separate folders with / (not \\), e.g. engineering/code-reviewer.md."
    if path.startswith("/"):
        return "The path must be relative (no / at the start): it goes under .claude/agents/."
    if _DRIVE_RE.match(path):
        return "The path must be relative (no drive letter): it goes under .claude/agents/."
    segments = path.split("/")
    if "" in segments:
        return "The path has an empty folder name (// or a / at the end)."
    if ".." in segments:
        return "The path may not contain '..': it must stay inside .claude/agents/."
    if "." in segments:
        return "Write the path without './' segments."
    too_long = [s for s in segments if len(s.encode()) > MAX_SEGMENT_BYTES]
    if too_long:
        return (
            f"A file or folder name may be at most {MAX_SEGMENT_BYTES} bytes long; "
            f"{too_long[0][:40]}... is longer."
        )
    if not path.endswith(".md") or PurePosixPath(path).name == ".md":
        return "The path must end in .md (a file name, then .md): Claude Code loads *.md files."
    return ""
